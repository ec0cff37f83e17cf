"""Chronic visits and chronic-disease registrations through the SDK, sync and async, against
the engine and the whole in-process mock: med_type 14 only with its disease, the disease in
2203 and on every 2204 line, a refused disease never settled as an ordinary visit, and the
same journal, reversal and refund guarantees as any charge."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import httpx
import orjson
import pytest

from nhsa.client import (
    BusinessError,
    Certificate,
    ChronicDisease,
    ChronicRegistration,
    ClientConfig,
    InvalidInputError,
    NeedsManualDecision,
    OutcomeUnknownError,
    Registration,
    Reversed,
    UnusableAnswerError,
)
from tests.client.conftest import CLINIC, DIAGNOSES, WINDOW, Twin, card, fees
from tests.client.platform import EnginePlatform, MockView

MakeTwin = Callable[..., Twin]
ConfigFor = Callable[..., ClientConfig]
HYPERTENSION = ChronicDisease.of("M03900")
DIABETES = ChronicDisease.of("M01600")
# P53010000000016: M03900 recognised since 2022-03-01, M01600 ended 2025-12-31 (fixtures).
RETIREE = Certificate.social_security_card("TA5300016", "530100D15600000500000000A1B2C3DB")


@pytest.fixture
def platform(any_platform: EnginePlatform | MockView) -> EnginePlatform | MockView:
    return any_platform


@pytest.fixture
def twin(platform: Any, config_for: ConfigFor, make_twin: MakeTwin) -> Twin:
    return make_twin(config_for(platform), WINDOW, platform)


def _sent(platform: Any, infno: str) -> list[dict[str, Any]]:
    return platform.requests_of(infno)  # type: ignore[no-any-return]


def test_a_chronic_visit_sends_med_type_14_with_its_disease(platform: Any, twin: Twin) -> None:
    visit = twin.register(RETIREE, insutype="310", clinic=CLINIC)
    paid = twin.charge(visit, fees(), diagnoses=DIAGNOSES, chronic=HYPERTENSION)
    (info,) = _sent(platform, "2203")
    mdtrtinfo = info["input"]["mdtrtinfo"]
    assert (mdtrtinfo["med_type"], mdtrtinfo["dise_codg"], mdtrtinfo["dise_name"]) == (
        "14",
        "M03900",
        "高血压病",
    )
    lines = [line for request in _sent(platform, "2204") for line in request["input"]["feedetail"]]
    assert {line["dise_codg"] for line in lines} == {"M03900"}
    assert [
        r["input"]["data"]["med_type"] for r in _sent(platform, "2206") + _sent(platform, "2207")
    ] == ["14", "14"]
    assert (paid.med_type, paid.chronic, paid.setlinfo.med_type) == ("14", HYPERTENSION, "14")
    assert paid.totals == paid.pre_settlement
    assert twin.journal.get(paid.msgid).state == "succeeded"


@pytest.mark.parametrize(
    ("kwargs", "field", "rule"),
    [
        ({"med_type": "14"}, "chronic", "required-for-med_type-14"),
        ({"med_type": "11", "chronic": HYPERTENSION}, "med_type", "chronic-is-14"),
        ({"chronic": "M03900"}, "chronic", "type"),
    ],
)
def test_med_type_14_cannot_be_sent_without_its_disease(
    platform: Any, twin: Twin, kwargs: dict[str, Any], field: str, rule: str
) -> None:
    visit = twin.register(RETIREE, insutype="310", clinic=CLINIC)
    before = platform.infnos()
    with pytest.raises(InvalidInputError) as refused:
        twin.charge(visit, fees(), diagnoses=DIAGNOSES, **kwargs)
    assert (refused.value.field, refused.value.rule) == (field, rule)
    assert platform.infnos() == before  # nothing was sent


@pytest.mark.parametrize("code", ["I10", "m03900", "M0390", "M039000", ""])
def test_a_disease_code_of_the_wrong_shape_is_refused_naming_the_field(code: str) -> None:
    with pytest.raises(InvalidInputError) as refused:
        ChronicDisease(code, "高血压病")
    assert (refused.value.field, refused.value.rule) == ("chronic.code", "pattern")


def test_an_unrecognised_disease_is_refused_and_not_settled_as_an_ordinary_visit(
    platform: Any, twin: Twin
) -> None:
    visit = twin.register(RETIREE, insutype="310", clinic=CLINIC)
    with pytest.raises(BusinessError) as refused:
        twin.charge(visit, fees(), diagnoses=DIAGNOSES, chronic=DIABETES)
    assert refused.value.infno == "2203"
    assert "2025-12-31 到期" in str(refused.value)
    assert [r["input"]["mdtrtinfo"]["med_type"] for r in _sent(platform, "2203")] == ["14"]
    assert not {"2204", "2206", "2207"} & set(platform.infnos())  # no ordinary fallback
    entries = twin.journal.entries("H53010100001", infno=["2203"])
    assert [e.state for e in entries] == ["rejected"]


def test_a_partial_refund_settles_the_kept_lines_under_the_same_disease(
    platform: Any, twin: Twin
) -> None:
    visit = twin.register(RETIREE, insutype="310", clinic=CLINIC)
    paid = twin.charge(visit, fees(), diagnoses=DIAGNOSES, chronic=HYPERTENSION)
    refund = twin.refund(paid, lines=[paid.lines[2].feedetl_sn])
    assert refund.recharge is not None
    assert (refund.recharge.med_type, refund.recharge.chronic) == ("14", HYPERTENSION)
    last_upload = _sent(platform, "2204")[-1]["input"]["feedetail"]
    assert {line["dise_codg"] for line in last_upload} == {"M03900"}
    assert refund.recharge.totals.medfee_sumamt == Decimal("62.00")


def test_an_unknown_chronic_settlement_is_reversed_as_any(platform: Any, twin: Twin) -> None:
    visit = twin.register(RETIREE, insutype="310", clinic=CLINIC)
    _arm(platform, "2207", "drop")
    with pytest.raises(OutcomeUnknownError) as lost:
        twin.charge(visit, fees(), diagnoses=DIAGNOSES, chronic=HYPERTENSION)
    assert isinstance(lost.value.resolution, Reversed)
    assert (lost.value.resolution.by_infno, lost.value.resolution.original_found) == ("2601", True)
    assert platform.settlements() == []  # voided by 2601: no row, not even a negative one


def test_register_query_and_cancel_a_chronic_disease(platform: Any, twin: Twin) -> None:
    assert twin.recognitions(card(), insutype="310") == ()
    done = twin.register_chronic(card(), DIABETES, insutype="310", clinic=CLINIC,
                                 begndate=date(2026, 1, 1))  # fmt: skip
    (sent,) = _sent(platform, "2503")
    data = sent["input"]["data"]
    assert (data["opsp_dise_code"], data["insu_optins"], data["ide_fixmedins_no"]) == (
        "M01600",
        "530100",
        "H53010100001",
    )
    assert (data["diag_dr_codg"], data["begndate"], data.get("enddate")) == (
        "D530100000101",
        "2026-01-01",
        None,
    )
    visit = twin.register(card(), insutype="310", clinic=CLINIC)
    (on_record,) = twin.recognitions(visit)  # a visit: no 1101 needed
    assert (on_record.disease, on_record.begndate) == (DIABETES, date(2026, 1, 1))
    paid = twin.charge(visit, fees(), diagnoses=DIAGNOSES, chronic=on_record.disease)
    assert paid.setlinfo.med_type == "14"
    cancelled = twin.cancel_chronic(done, reason="病种录入错误")
    assert twin.journal.get(cancelled).state == "succeeded"
    assert twin.recognitions(visit) == ()


def test_the_insured_places_own_recognition_is_not_the_hospitals_to_cancel(
    twin: Twin,
) -> None:
    (on_record, _) = twin.recognitions(RETIREE, insutype="310")
    assert on_record.disease == HYPERTENSION
    visit = twin.register(RETIREE, insutype="310", clinic=CLINIC)
    theirs = ChronicRegistration(
        "RF00P53010000000016", visit.psn_no, "310", "530100", HYPERTENSION, date(2022, 3, 1),
        None, "",
    )  # fmt: skip
    with pytest.raises(BusinessError, match="由参保地 530100 经办机构认定"):
        twin.cancel_chronic(theirs, reason="试图撤销")


def test_an_unknown_registration_is_left_for_a_person(platform: Any, twin: Twin) -> None:
    _arm(platform, "2503", "drop")
    with pytest.raises(OutcomeUnknownError) as lost:
        twin.register_chronic(card(), DIABETES, insutype="310", clinic=CLINIC)
    assert isinstance(lost.value.resolution, NeedsManualDecision)
    assert "2504 needs identifiers only the lost answer carried" in lost.value.resolution.reason
    (entry,) = twin.journal.entries("H53010100001", infno=["2503"])
    assert entry.state == "manual"
    assert [r.opsp_dise_code for r in twin.recognitions(card(), insutype="310")] == ["M01600"]


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda t: t.register_chronic(card(), "M01600", insutype="310", clinic=CLINIC), "disease"),
        (lambda t: t.recognitions(card()), "insutype"),
        (lambda t: t.recognitions("P53010000000001", insutype="310"), "person"),
        (
            lambda t: t.register_chronic(
                card(),
                DIABETES,
                insutype="310",
                clinic=CLINIC,
                begndate=date(2026, 2, 1),
                enddate=date(2026, 1, 1),
            ),
            "enddate",
        ),
        (
            lambda t: t.register_chronic(
                card(), DIABETES, insutype="310", clinic=CLINIC, identified_on=date(2999, 1, 1)
            ),
            "identified_on",
        ),
    ],
)
def test_bad_chronic_input_is_refused_before_sending(
    platform: Any, twin: Twin, call: Callable[[Twin], Any], field: str
) -> None:
    with pytest.raises(InvalidInputError) as refused:
        call(twin)
    assert refused.value.field == field
    assert platform.infnos() in ([], ["9001"])


def test_a_5301_row_without_its_code_is_unusable_not_guessed(
    config_for: ConfigFor, make_twin: MakeTwin
) -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        infno = orjson.loads(request.content)["infno"]
        outputs: dict[str, Any] = {
            "9001": {"signinoutb": {"sign_time": "2026-11-23 09:00:00", "sign_no": "S1"}},
            "5301": {"feedetail": [{"opsp_dise_name": "高血压病", "begndate": "2022-03-01"}]},
            "9002": {},  # the sign-out when the client closes
        }
        body = {"infcode": 0, "inf_refmsgid": "530100202611230900000000000001",
                "refmsg_time": "20261123090000000", "respond_time": "20261123090000001",
                "err_msg": None, "warn_msg": None, "output": outputs[infno]}  # fmt: skip
        return httpx.Response(200, content=orjson.dumps(body))

    twin = make_twin(config_for(), WINDOW, _Both(httpx.MockTransport(answer)))
    with pytest.raises(UnusableAnswerError, match=r"feedetail\[0\]\.opsp_dise_code: missing"):
        twin.recognitions(_registration())


class _Both:
    """One MockTransport for both twins (httpx's MockTransport serves sync and async)."""

    def __init__(self, transport: httpx.MockTransport) -> None:
        self._transport = transport

    def sync_transport(self) -> httpx.MockTransport:
        return self._transport

    def async_transport(self) -> httpx.MockTransport:
        return self._transport


def _registration() -> Registration:
    return Registration(
        "P53010000000001", "张晓峰", "M1", "MZ1", "310", "530100", card(), CLINIC,
        datetime(2026, 11, 23, 9, 0), None, "",
    )  # fmt: skip


def _arm(platform: Any, infno: str, action: str) -> None:
    if isinstance(platform, MockView):
        platform.arm(infno, action)
    else:
        platform.script.on(infno, action)

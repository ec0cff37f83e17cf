"""Every workflow in both modes, sync and async, against the mock's engine and fixtures."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from nhsa.client import (
    AlreadySettledError,
    Certificate,
    ClientConfig,
    InvalidInputError,
    OutcomeUnknownError,
)
from nhsa.envelope import china_now
from nhsa.mock import MockPlatform
from nhsa.models import Input9002, Input9002SignOut
from nhsa.spec import contract
from tests.client.conftest import (
    CLINIC,
    DIAGNOSES,
    KIOSK,
    WINDOW,
    Twin,
    card,
    e_voucher,
    fees,
    id_card,
)
from tests.client.platform import EnginePlatform, MockView

MakeTwin = Callable[..., Twin]
ConfigFor = Callable[..., ClientConfig]
MODES = {"window": (WINDOW, id_card), "kiosk": (KIOSK, e_voucher)}


@pytest.fixture(params=sorted(MODES))
def mode_name(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def platform(any_platform: EnginePlatform | MockView) -> EnginePlatform | MockView:
    """Every test here runs against the engine and against the whole in-process mock."""
    return any_platform


def _twin(platform: Any, config_for: ConfigFor, make_twin: MakeTwin, mode: str) -> Twin:
    return make_twin(config_for(platform), MODES[mode][0], platform)


def test_register_picks_the_insurance_row_and_its_insured_place(
    platform: Any, config_for: ConfigFor, make_twin: MakeTwin, mode_name: str
) -> None:
    twin = _twin(platform, config_for, make_twin, mode_name)
    certificate = MODES[mode_name][1]()

    visit = twin.register(certificate, insutype="310", clinic=CLINIC)

    assert platform.infnos() == ["9001", "1101", "2201"]
    (registration,) = platform.requests_of("2201")
    assert registration["insuplc_admdvs"] == visit.insuplc_admdvs == "530100"
    assert registration["input"]["data"]["mdtrt_cert_type"] == certificate.mdtrt_cert_type
    assert visit.mdtrt_id
    assert visit.psn_no == "P53010000000001"
    expected_type = "1" if mode_name == "window" else "2"
    assert {r["opter_type"] for r in platform.seen} == {expected_type}
    assert "张晓峰" not in repr(visit)


def test_cross_province_patient_is_registered_under_his_insured_place(
    platform: Any, config_for: ConfigFor, make_twin: MakeTwin, mode_name: str
) -> None:
    twin = _twin(platform, config_for, make_twin, mode_name)
    shenzhen_card = Certificate.social_security_card(
        "TC4403009", "440300D15600000500000000C1D2E3F4"
    )

    visit = twin.register(shenzhen_card, insutype="310", clinic=CLINIC)
    charge = twin.charge(visit, fees(), diagnoses=DIAGNOSES)

    assert visit.insuplc_admdvs == "440300"
    assert all(
        r["insuplc_admdvs"] == "440300" for r in platform.seen if r["infno"] in ("2204", "2207")
    )
    assert charge.totals.medfee_sumamt == sum(line.total for line in charge.lines)


def test_register_refuses_an_insurance_the_person_does_not_hold(
    platform: Any, config_for: ConfigFor, make_twin: MakeTwin
) -> None:
    twin = _twin(platform, config_for, make_twin, "window")

    with pytest.raises(InvalidInputError) as raised:
        twin.register(id_card(), insutype="390", clinic=CLINIC)

    assert (raised.value.field, raised.value.rule) == ("insutype", "held-by-person")
    assert "2201" not in platform.infnos()


def test_charge_echoes_the_pre_settlement_and_journals_it(
    platform: Any, config_for: ConfigFor, make_twin: MakeTwin, mode_name: str
) -> None:
    twin = _twin(platform, config_for, make_twin, mode_name)
    visit = twin.register(MODES[mode_name][1](), insutype="310", clinic=CLINIC)

    charge = twin.charge(visit, fees(), diagnoses=DIAGNOSES)

    assert platform.infnos()[3:] == ["2203", "2204", "2206", "2207"]
    (settle,) = platform.requests_of("2207")
    sent = settle["input"]["data"]
    pre = charge.pre_settlement
    for name in ("fulamt_ownpay_amt", "overlmt_selfpay", "preselfpay_amt", "inscp_scp_amt"):
        assert Decimal(str(sent[name])) == getattr(pre, name)
    assert Decimal(str(sent["medfee_sumamt"])) == Decimal("74.80")
    assert charge.totals == pre
    assert charge.setlinfo.medins_setl_id == settle["msgid"] == charge.msgid
    entry = twin.journal.get(charge.msgid)
    assert entry.state == "succeeded"
    assert entry.result["setl_id"] == charge.setl_id
    assert entry.amounts["medfee_sumamt"] == Decimal("74.80")


def test_a_settled_visit_is_not_charged_twice(
    platform: Any, config_for: ConfigFor, make_twin: MakeTwin
) -> None:
    twin = _twin(platform, config_for, make_twin, "kiosk")
    visit = twin.register(card(), insutype="310", clinic=CLINIC)
    twin.charge(visit, fees(), diagnoses=DIAGNOSES)
    sent = len(platform.seen)

    with pytest.raises(AlreadySettledError):
        twin.charge(visit, fees(), diagnoses=DIAGNOSES)

    assert len(platform.seen) == sent
    assert len(platform.settlements()) == 1


def test_full_refund_reverses_the_settlement_and_cancels_the_lines(
    platform: Any, config_for: ConfigFor, make_twin: MakeTwin, mode_name: str
) -> None:
    twin = _twin(platform, config_for, make_twin, mode_name)
    visit = twin.register(MODES[mode_name][1](), insutype="310", clinic=CLINIC)
    charge = twin.charge(visit, fees(), diagnoses=DIAGNOSES)

    refund = twin.refund(charge)

    assert platform.infnos()[-2:] == ["2208", "2205"]
    assert refund.refunded.medfee_sumamt == -charge.totals.medfee_sumamt
    assert refund.fee_batch_cancelled
    assert refund.recharge is None
    assert sum(row.medfee_sumamt for row in platform.settlements()) == 0
    # Refunded, so the visit may be charged again.
    again = twin.charge(visit, fees()[:1], diagnoses=DIAGNOSES)
    assert again.totals.medfee_sumamt == Decimal("25.00")


def test_partial_refund_reverses_and_settles_the_kept_lines_again(
    platform: Any, config_for: ConfigFor, make_twin: MakeTwin, mode_name: str
) -> None:
    twin = _twin(platform, config_for, make_twin, mode_name)
    visit = twin.register(MODES[mode_name][1](), insutype="310", clinic=CLINIC)
    charge = twin.charge(visit, fees(), diagnoses=DIAGNOSES)
    dropped = charge.lines[2]

    refund = twin.refund(charge, lines=[dropped.feedetl_sn])

    assert platform.infnos()[-5:] == ["2208", "2205", "2204", "2206", "2207"]
    assert refund.recharge is not None
    kept = refund.recharge.lines
    assert [line.med_list_codg for line in kept] == [
        line.med_list_codg for line in charge.lines[:2]
    ]
    assert refund.recharge.chrg_bchno != charge.chrg_bchno
    assert refund.recharge.totals.medfee_sumamt == charge.totals.medfee_sumamt - dropped.total
    live = sum(row.medfee_sumamt for row in platform.settlements())
    assert live == refund.recharge.totals.medfee_sumamt


def test_partial_refund_names_only_lines_of_the_charge(
    platform: Any, config_for: ConfigFor, make_twin: MakeTwin
) -> None:
    twin = _twin(platform, config_for, make_twin, "window")
    visit = twin.register(id_card(), insutype="310", clinic=CLINIC)
    charge = twin.charge(visit, fees(), diagnoses=DIAGNOSES)
    sent = len(platform.seen)

    with pytest.raises(InvalidInputError) as raised:
        twin.refund(charge, lines=["NOT-A-SERIAL"])

    assert raised.value.field == "lines"
    assert len(platform.seen) == sent


def test_cancel_registration(
    platform: Any, config_for: ConfigFor, make_twin: MakeTwin, mode_name: str
) -> None:
    twin = _twin(platform, config_for, make_twin, mode_name)
    visit = twin.register(MODES[mode_name][1](), insutype="310", clinic=CLINIC)

    msgid = twin.cancel_registration(visit)

    (cancel,) = platform.requests_of("2202")
    assert cancel["msgid"] == msgid
    assert cancel["input"]["data"] == {
        "psn_no": visit.psn_no,
        "mdtrt_id": visit.mdtrt_id,
        "ipt_otp_no": visit.ipt_otp_no,
    }


def test_reconcile_balances_a_day_of_charges_refunds_and_reversals(
    platform: Any, config_for: ConfigFor, make_twin: MakeTwin, mode_name: str
) -> None:
    twin = _twin(platform, config_for, make_twin, mode_name)
    certificate = MODES[mode_name][1]()
    first = twin.charge(
        twin.register(certificate, insutype="310", clinic=CLINIC), fees(), diagnoses=DIAGNOSES
    )
    twin.refund(first, lines=[first.lines[0].feedetl_sn])
    lost = twin.register(certificate, insutype="310", clinic=CLINIC)
    platform.arm("2207", "drop")  # the platform commits this settlement, the answer is lost
    with pytest.raises(OutcomeUnknownError):
        twin.charge(lost, fees(), diagnoses=DIAGNOSES)

    report = twin.reconcile(china_now().date())

    assert report.balanced, report
    (group,) = report.groups
    assert (group.insutype, group.clr_type) == ("310", "11")
    # first + its refund + the re-settlement; the lost one was voided by 2601: no row anywhere
    assert group.his.count == 3
    assert "3202" not in platform.infnos()
    standing = twin.reconcile(china_now().date(), include_refunds=False, details=True)
    assert standing.balanced, standing
    assert [g.his.count for g in standing.groups] == [1]  # the re-settlement alone
    assert platform.infnos()[-4:] == ["3201", "9101", "3202", "9102"]


def test_reconcile_details_name_what_the_hospital_does_not_know(
    platform: Any, config_for: ConfigFor, make_twin: MakeTwin, tmp_path: Any
) -> None:
    twin = _twin(platform, config_for, make_twin, "window")
    twin.charge(
        twin.register(id_card(), insutype="310", clinic=CLINIC), fees(), diagnoses=DIAGNOSES
    )
    unknown = twin.charge(
        twin.register(card(), insutype="310", clinic=CLINIC), fees(), diagnoses=DIAGNOSES
    )
    # The journal loses that settlement's row (restored from a backup taken before it).
    with sqlite3.connect(tmp_path / "journal.sqlite3") as db:
        db.execute("DELETE FROM journal WHERE msgid = ?", (unknown.msgid,))

    report = twin.reconcile(china_now().date())

    assert not report.balanced
    assert platform.infnos()[-4:] == ["3201", "9101", "3202", "9102"]
    (row,) = report.mismatches
    assert (row.setl_id, row.stmt_rslt, row.msgid) == (unknown.setl_id, "1", unknown.msgid)


def test_an_expired_sign_in_is_renewed_and_the_call_repeated_once(
    platform: Any, config_for: ConfigFor, make_twin: MakeTwin
) -> None:
    twin = _twin(platform, config_for, make_twin, "window")
    visit = twin.register(card(), insutype="310", clinic=CLINIC)
    core = twin.client._core
    stale = core.session.sign_no(core.operator)
    assert stale is not None
    # The same operator signs out elsewhere (another workstation, the night job, …).
    elsewhere = _twin(platform, config_for, make_twin, "window")
    elsewhere.sign_out(Input9002(signOut=Input9002SignOut(sign_no=stale, opter_no="C0001")))

    charge = twin.charge(visit, fees(), diagnoses=DIAGNOSES)

    refused, repeated = platform.requests_of("2203")
    assert refused["sign_no"] == stale
    assert repeated["sign_no"] not in (stale, None)
    assert repeated["msgid"] != refused["msgid"]
    assert twin.journal.get(refused["msgid"]).state == "rejected"
    assert charge.setl_id


def test_sign_in_at_the_start_of_a_shift_is_reused(
    platform: Any, config_for: ConfigFor, make_twin: MakeTwin, mode_name: str
) -> None:
    twin = _twin(platform, config_for, make_twin, mode_name)

    signed = twin.sign_in()
    twin.register(MODES[mode_name][1](), insutype="310", clinic=CLINIC)

    assert platform.infnos() == ["9001", "1101", "2201"]
    assert {r["sign_no"] for r in platform.requests_of("2201")} == {signed.signinoutb.sign_no}
    twin.close()
    assert platform.infnos()[-1] == "9002"  # closing signs out


def test_the_per_transaction_route_posts_to_each_transactions_path(
    config_for: ConfigFor, make_twin: MakeTwin
) -> None:
    with MockPlatform(profile="tif+sm2") as served:
        mock = MockView(served, "tif+sm2")
        twin = make_twin(config_for(mock, route="per-transaction"), WINDOW, mock)
        twin.register(card(), insutype="310", clinic=CLINIC)
        records = mock.records
        twin.close()

    contract_paths = {
        infno: contract().transaction(infno).path for infno in ("9001", "1101", "2201")
    }
    assert [(r["route"], r["path"]) for r in records] == [
        ("per-transaction", contract_paths[r["infno"]]) for r in records
    ]

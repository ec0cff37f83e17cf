"""Exact fault timing around the real engine: what the SDK sends, and never sends, after each fault.

respx intercepts the clients' real HTTP transport and hands each request to the mock's engine
through a script that strikes at an exact request — before the engine sees it (never sent) or
after it committed (answer lost). Every test runs against the sync and the async client
(``kind``) and asserts the same sequence of requests, so the two drivers are shown to apply one
policy.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
import respx

from nhsa.client import (
    BusinessError,
    ClientConfig,
    Held,
    NotSentError,
    OutcomeUnknownError,
    Reversed,
    SettlementMismatchError,
    VisitBusyError,
    WindowMode,
)
from nhsa.client._config import SINGLE_ENTRY_PATH
from tests.client.conftest import CLINIC, DIAGNOSES, KIOSK, WINDOW, Twin, card, e_voucher, fees
from tests.client.platform import EnginePlatform

MakeTwin = Callable[..., Twin]
ConfigFor = Callable[..., ClientConfig]


@pytest.fixture(autouse=True)
def routed(platform: EnginePlatform) -> Iterator[respx.MockRouter]:
    """Route the clients' real transport to the scripted engine (``transport=None`` below)."""
    with respx.mock(base_url="http://platform.test", assert_all_called=False) as router:
        router.post(SINGLE_ENTRY_PATH, name="platform").mock(side_effect=platform.handle)
        yield router


def _visit(twin: Twin) -> Any:
    return twin.register(card(), insutype="310", clinic=CLINIC)


def _only(platform: EnginePlatform, infno: str) -> list[dict[str, Any]]:
    return platform.requests_of(infno)


@pytest.mark.parametrize("fault", ["drop", "reset", "read-error", "http-502-after", "garble"])
def test_unknown_2207_is_reversed_by_2601_and_never_resent(
    platform: EnginePlatform, config_for: ConfigFor, make_twin: MakeTwin, fault: str
) -> None:
    twin = make_twin(config_for(), WINDOW, None)
    visit = _visit(twin)
    platform.script.on("2207", fault)

    with pytest.raises(OutcomeUnknownError) as raised:
        twin.charge(visit, fees(), diagnoses=DIAGNOSES)

    settle = _only(platform, "2207")
    assert len(settle) == 1, "a 2207 whose outcome is unknown must never be sent again"
    (reversal,) = _only(platform, "2601")
    assert reversal["input"]["data"]["omsgid"] == settle[0]["msgid"]
    assert reversal["input"]["data"]["oinfno"] == "2207"
    assert reversal["input"]["data"]["psn_no"] == visit.psn_no
    assert platform.infnos()[-2:] == ["2601", "2205"]  # then the fee batch is cancelled
    resolution = raised.value.resolution
    assert isinstance(resolution, Reversed)
    assert resolution.by_infno == "2601"
    assert resolution.original_found is True  # the engine had committed the settlement
    assert platform.settlements() == []  # voided: no row stands, not even a negative one
    entry = twin.journal.get(settle[0]["msgid"])
    assert (entry.state, entry.resolved_by) == ("reversed", reversal["msgid"])


def test_bad_answer_signature_is_unknown_and_reversed(
    config_for: ConfigFor, make_twin: MakeTwin, routed: respx.MockRouter
) -> None:
    platform = EnginePlatform(profile="tif+sm2")
    routed["platform"].side_effect = platform.handle
    twin = make_twin(config_for(platform), WINDOW, None)
    visit = _visit(twin)
    platform.script.on("2207", "bad-signature")

    with pytest.raises(OutcomeUnknownError) as raised:
        twin.charge(visit, fees(), diagnoses=DIAGNOSES)

    assert "signature" in str(raised.value.outcome.reason)
    assert len(_only(platform, "2207")) == 1
    assert (
        _only(platform, "2601")[0]["input"]["data"]["omsgid"] == _only(platform, "2207")[0]["msgid"]
    )
    assert isinstance(raised.value.resolution, Reversed)


@pytest.mark.parametrize("fault", ["connect-error", "connect-timeout"])
def test_reset_before_send_is_retried_with_the_same_msgid(
    platform: EnginePlatform, config_for: ConfigFor, make_twin: MakeTwin, fault: str
) -> None:
    twin = make_twin(config_for(), WINDOW, None)
    visit = _visit(twin)
    platform.script.on("2207", fault)

    charge = twin.charge(visit, fees(), diagnoses=DIAGNOSES)

    first, second = _only(platform, "2207")
    assert first["msgid"] == second["msgid"] == charge.msgid
    assert platform.processed_infnos().count("2207") == 1
    assert not _only(platform, "2601")
    assert twin.journal.get(charge.msgid).state == "succeeded"


def test_not_sent_after_every_attempt_books_nothing_and_cancels_the_batch(
    platform: EnginePlatform, config_for: ConfigFor, make_twin: MakeTwin
) -> None:
    twin = make_twin(config_for(), WINDOW, None)
    visit = _visit(twin)
    for attempt in range(1, 5):
        platform.script.on("2207", "connect-error", nth=attempt)

    with pytest.raises(NotSentError) as raised:
        twin.charge(visit, fees(), diagnoses=DIAGNOSES)

    assert raised.value.attempts == 4
    assert len({r["msgid"] for r in _only(platform, "2207")}) == 1
    assert "2207" not in platform.processed_infnos()
    assert not _only(platform, "2601")
    assert platform.infnos()[-1] == "2205"
    assert platform.settlements() == []


@pytest.mark.parametrize("fault", ["busy", "busy-envelope"])
def test_busy_answer_is_retried_under_a_new_msgid(
    platform: EnginePlatform, config_for: ConfigFor, make_twin: MakeTwin, fault: str
) -> None:
    twin = make_twin(config_for(), WINDOW, None)
    visit = _visit(twin)
    platform.script.on("2207", fault)

    charge = twin.charge(visit, fees(), diagnoses=DIAGNOSES)

    first, second = _only(platform, "2207")
    assert first["msgid"] != second["msgid"] == charge.msgid
    assert twin.journal.get(first["msgid"]).state == "rejected"
    assert len(platform.settlements()) == 1


def test_unknown_query_is_simply_retried(
    platform: EnginePlatform, config_for: ConfigFor, make_twin: MakeTwin
) -> None:
    twin = make_twin(config_for(), WINDOW, None)
    platform.script.on("1101", "drop")

    visit = _visit(twin)

    first, second = _only(platform, "1101")
    assert first["msgid"] != second["msgid"]  # the platform saw the first: a new msgid
    assert visit.psn_no == "P53010000000001"
    assert not _only(platform, "2601")


def test_lost_2601_is_repeated_with_a_new_msgid_until_definite(
    platform: EnginePlatform, config_for: ConfigFor, make_twin: MakeTwin
) -> None:
    twin = make_twin(config_for(), WINDOW, None)
    visit = _visit(twin)
    platform.script.on("2207", "drop").on("2601", "drop")

    with pytest.raises(OutcomeUnknownError) as raised:
        twin.charge(visit, fees(), diagnoses=DIAGNOSES)

    first, second = _only(platform, "2601")
    assert first["msgid"] != second["msgid"]
    assert first["input"]["data"] == second["input"]["data"]
    resolution = raised.value.resolution
    assert isinstance(resolution, Reversed)
    assert resolution.msgid == second["msgid"]
    # The first 2601 was committed, so the second one is answered "already reversed".
    assert resolution.note is not None


def test_kiosk_reverses_at_once_and_tells_the_patient(
    platform: EnginePlatform, config_for: ConfigFor, make_twin: MakeTwin
) -> None:
    twin = make_twin(config_for(), KIOSK, None)
    visit = twin.register(e_voucher(), insutype="310", clinic=CLINIC)
    platform.script.on("2207", "drop")

    with pytest.raises(OutcomeUnknownError) as raised:
        twin.charge(visit, fees(), diagnoses=DIAGNOSES)

    assert isinstance(raised.value.resolution, Reversed)
    message = raised.value.patient_message
    assert "未扣款" in message.zh
    assert "nothing was charged" in message.en
    assert all(r["opter_type"] == "2" for r in platform.seen)
    assert all(r["dev_no"] == "K01" for r in platform.seen)


def test_window_hold_leaves_the_decision_to_the_cashier(
    platform: EnginePlatform, config_for: ConfigFor, make_twin: MakeTwin
) -> None:
    twin = make_twin(config_for(), WindowMode("C0001", "收费员甲", on_unknown="hold"), None)
    visit = _visit(twin)
    platform.script.on("2207", "drop")

    with pytest.raises(OutcomeUnknownError) as raised:
        twin.charge(visit, fees(), diagnoses=DIAGNOSES)

    assert isinstance(raised.value.resolution, Held)
    assert not _only(platform, "2601")
    held_msgid = _only(platform, "2207")[0]["msgid"]
    assert twin.journal.get(held_msgid).state == "held"
    with pytest.raises(VisitBusyError):  # a held settlement blocks a second charge
        twin.charge(visit, fees(), diagnoses=DIAGNOSES)

    resolution = twin.reverse_held(held_msgid)

    assert isinstance(resolution, Reversed)
    assert _only(platform, "2601")[0]["input"]["data"]["omsgid"] == held_msgid
    assert twin.journal.get(held_msgid).state == "reversed"


def test_sign_in_refusal_signs_in_again_and_repeats_once(
    platform: EnginePlatform, config_for: ConfigFor, make_twin: MakeTwin
) -> None:
    twin = make_twin(config_for(), WINDOW, None)
    visit = _visit(twin)
    platform.script.on("2204", "sign-in-expired")

    charge = twin.charge(visit, fees(), diagnoses=DIAGNOSES)

    first, second = _only(platform, "2204")
    assert first["msgid"] != second["msgid"]
    sign_ins = _only(platform, "9001")
    assert len(sign_ins) == 2
    assert second["sign_no"] != first["sign_no"]
    assert charge.setl_id


def test_settled_totals_that_differ_from_the_pre_settlement_are_refunded(
    platform: EnginePlatform, config_for: ConfigFor, make_twin: MakeTwin
) -> None:
    twin = make_twin(config_for(), WINDOW, None)
    visit = _visit(twin)
    platform.script.on("2207", "tamper-amount")

    with pytest.raises(SettlementMismatchError) as raised:
        twin.charge(visit, fees(), diagnoses=DIAGNOSES)

    assert raised.value.refunded is True
    assert set(raised.value.differences) == {"acct_pay", "psn_cash_pay"}
    (refund,) = _only(platform, "2208")
    rows = platform.settlements()
    assert refund["input"]["data"]["setl_id"] == rows[0].setl_id
    assert sum(row.medfee_sumamt for row in rows) == 0


def test_rejected_settlement_is_a_business_error_and_cleans_up(
    platform: EnginePlatform, config_for: ConfigFor, make_twin: MakeTwin
) -> None:
    twin = make_twin(config_for(), WINDOW, None)
    visit = _visit(twin)
    twin.cancel_registration(visit)

    with pytest.raises(BusinessError) as raised:
        twin.charge(visit, fees(), diagnoses=DIAGNOSES)

    assert raised.value.infcode == -1
    assert raised.value.err_msg
    assert not _only(platform, "2601")

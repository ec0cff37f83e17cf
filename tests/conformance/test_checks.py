"""Every built-in check against hand-made transcripts: one that passes, one that must fail."""

from __future__ import annotations

import inspect
import sys
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from nhsa.conformance import (
    CheckOutcome,
    DriverResult,
    Status,
    StepRun,
    bundled_requirements,
    default_registry,
)
from nhsa.conformance._mock_handle import PlatformTotals
from tests.conformance.builders import (
    CODE,
    PERSON,
    TranscriptBuilder,
    example_output,
    example_request,
    fault_member,
    setl_id_of,
    signature_member,
)

Run = Callable[..., CheckOutcome]


def step(
    name: str,
    action: str,
    result: DriverResult | None,
    records: list[dict[str, Any]],
    request: dict[str, Any] | None = None,
    patient: str | None = None,
) -> StepRun:
    return StepRun(
        name=name,
        action=action,
        request=request or {},
        result=result,
        status=Status.PASS,
        message="",
        records=tuple(r["seq"] for r in records),
        patient=patient,
    )


def records_since(b: TranscriptBuilder, start: int) -> list[dict[str, Any]]:
    return b.records[start:]


def charged_visit(b: TranscriptBuilder, total: str = "25.00") -> tuple[str, dict[str, Any]]:
    b.sign_in()
    b.lookup()
    visit = b.register()
    return visit, b.charge(visit, "B1", total)


def assert_status(outcome: CheckOutcome, status: Status) -> None:
    assert outcome.status is status, outcome


def test_every_builtin_check_names_known_requirements_and_can_be_listed() -> None:
    registry = default_registry()
    registry.validate_against(bundled_requirements())
    assert len(registry) >= 25
    assert all(spec.title and spec.verifies for spec in registry.values())


# -- envelope -----------------------------------------------------------------------------------


def test_requests_valid_per_contract(run_check: Run) -> None:
    b = TranscriptBuilder()
    charged_visit(b)
    assert_status(run_check("requests_valid_per_contract", b.records), Status.PASS)

    b.records[2]["request"]["input"]["data"]["mdtrt_cert_type"] = "09"
    b.records[5]["request"] = None
    outcome = run_check("requests_valid_per_contract", b.records)
    assert_status(outcome, Status.FAIL)
    assert [e.records for e in outcome.evidence] == [(3,), (6,)]
    assert "mdtrt_cert_type" in outcome.evidence[0].seen
    assert "not a JSON object" in outcome.evidence[1].seen


def test_requests_valid_per_contract_does_not_apply_to_silence(run_check: Run) -> None:
    assert_status(run_check("requests_valid_per_contract", []), Status.SKIP)


def test_msgid_format(run_check: Run) -> None:
    b = TranscriptBuilder()
    charged_visit(b)
    assert_status(run_check("msgid_format", b.records), Status.PASS)

    b.records[1]["request"]["msgid"] = "H53010199999" + b.records[1]["request"]["msgid"][12:]
    b.records[3]["request"]["msgid"] = CODE + "20261124090000" + "0001"  # a day late
    b.records[4]["request"]["msgid"] = "short"
    outcome = run_check("msgid_format", b.records)
    assert_status(outcome, Status.FAIL)
    seen = [e.seen for e in outcome.evidence]
    assert "not the institution's code" in seen[0]
    assert "more than 600 s" in seen[1]
    assert "expected fixmedins_code(12)" in seen[2]


def test_msgid_format_skew_is_an_argument(run_check: Run) -> None:
    b = TranscriptBuilder()
    b.sign_in()
    b.records[0]["received_at"] = "2026-11-23T09:05:01.000+08:00"  # 5 minutes after the msgid
    assert_status(run_check("msgid_format", b.records), Status.PASS)
    outcome = run_check("msgid_format", b.records, args={"max_skew_seconds": 60})
    assert_status(outcome, Status.FAIL)


def test_msgid_unique(run_check: Run) -> None:
    b = TranscriptBuilder()
    charged_visit(b)
    assert_status(run_check("msgid_unique", b.records), Status.PASS)

    reused = b.records[2]["msgid"]
    b.add("2201", b.records[2]["request"]["input"], insuplc=b.area, msgid=reused)
    outcome = run_check("msgid_unique", b.records)
    assert_status(outcome, Status.FAIL)
    assert outcome.evidence[0].records == (3, len(b.records))


def test_msgid_resent_after_a_gateway_rejection_is_not_a_reuse(run_check: Run) -> None:
    b = TranscriptBuilder()
    first = b.sign_in()
    first["gateway"] = {"scheme": "tif", "ok": False, "error": "签名时间戳超时"}
    b.add("9001", first["request"]["input"], first["response"]["output"], msgid=first["msgid"])
    assert_status(run_check("msgid_unique", b.records), Status.PASS)


def test_envelope_names_own_institution(run_check: Run) -> None:
    b = TranscriptBuilder()
    charged_visit(b)
    assert_status(run_check("envelope_names_own_institution", b.records), Status.PASS)
    b.records[2]["request"]["mdtrtarea_admvs"] = "530102"
    outcome = run_check("envelope_names_own_institution", b.records)
    assert_status(outcome, Status.FAIL)
    assert "530102" in outcome.evidence[0].seen


def test_requests_signed(run_check: Run) -> None:
    b = TranscriptBuilder(profile="tif+sm2")
    charged_visit(b)
    assert_status(run_check("requests_signed", b.records, profile="tif+sm2"), Status.PASS)
    assert_status(run_check("requests_signed", b.records, profile="none"), Status.SKIP)

    b.records[4]["signature"] = signature_member(present=False, ok=None, error="无签名")
    b.records[5]["gateway"] = {"scheme": "tif", "ok": False, "error": "签名不一致"}
    outcome = run_check("requests_signed", b.records, profile="tif+sm2")
    assert_status(outcome, Status.FAIL)
    assert {e.seen for e in outcome.evidence} == {"无签名", "签名不一致"}


# -- session ------------------------------------------------------------------------------------


def test_sign_in_first(run_check: Run) -> None:
    b = TranscriptBuilder()
    charged_visit(b)
    assert_status(run_check("sign_in_first", b.records), Status.PASS)

    skipped = TranscriptBuilder()
    skipped.lookup()
    skipped.sign_in()
    outcome = run_check("sign_in_first", skipped.records)
    assert_status(outcome, Status.FAIL)
    assert outcome.evidence[0].records == (1,)


def test_sign_in_first_needs_a_successful_sign_in(run_check: Run) -> None:
    b = TranscriptBuilder()
    b.sign_in()["infcode"] = -1
    b.lookup()
    assert_status(run_check("sign_in_first", b.records), Status.FAIL)


def test_sign_no_carried(run_check: Run) -> None:
    b = TranscriptBuilder()
    charged_visit(b)
    assert_status(run_check("sign_no_carried", b.records), Status.PASS)
    b.records[3]["request"]["sign_no"] = "SN-FORGED"
    outcome = run_check("sign_no_carried", b.records)
    assert_status(outcome, Status.FAIL)
    assert outcome.evidence[0].seen == "SN-FORGED"


def test_re_sign_in_after_rejection(run_check: Run) -> None:
    b = TranscriptBuilder()
    b.sign_in()
    b.lookup()
    b.register()
    b.records[-1].update(infcode=-1, err_msg="签到已失效，请重新调用【9001】签到")
    b.sign_in()
    b.register()
    assert_status(run_check("re_sign_in_after_rejection", b.records), Status.PASS)

    stale = TranscriptBuilder()
    stale.sign_in()
    stale.register()
    stale.records[-1].update(infcode=-1, err_msg="签到已失效，请重新调用【9001】签到")
    stale.register()
    outcome = run_check("re_sign_in_after_rejection", stale.records)
    assert_status(outcome, Status.FAIL)
    assert "2201 next" in outcome.evidence[0].seen


# -- modes --------------------------------------------------------------------------------------


def test_opter_type_matches_mode(run_check: Run) -> None:
    kiosk = TranscriptBuilder(opter_type="2", dev_no="DEV-1")
    charged_visit(kiosk)
    assert_status(run_check("opter_type_matches_mode", kiosk.records, mode="kiosk"), Status.PASS)
    outcome = run_check("opter_type_matches_mode", kiosk.records, mode="window")
    assert_status(outcome, Status.FAIL)
    assert outcome.evidence[0].expected == "opter_type 1 (window)"


def test_kiosk_sends_dev_no(run_check: Run) -> None:
    kiosk = TranscriptBuilder(opter_type="2", dev_no="DEV-1")
    charged_visit(kiosk)
    assert_status(run_check("kiosk_sends_dev_no", kiosk.records, mode="kiosk"), Status.PASS)
    assert_status(run_check("kiosk_sends_dev_no", kiosk.records, mode="window"), Status.SKIP)
    kiosk.records[4]["request"]["dev_no"] = None
    assert_status(run_check("kiosk_sends_dev_no", kiosk.records, mode="kiosk"), Status.FAIL)


def test_kiosk_certificate_types(run_check: Run) -> None:
    kiosk = TranscriptBuilder(opter_type="2", dev_no="DEV-1")
    kiosk.sign_in()
    refused = step(
        "with_id_card",
        "register",
        DriverResult("rejected"),
        [],
        {"certificate": {"cert_type": "02"}},
    )
    assert_status(
        run_check("kiosk_certificate_types", kiosk.records, [refused], mode="kiosk"), Status.PASS
    )

    accepted = step(
        "with_id_card", "register", DriverResult("ok"), [], {"certificate": {"cert_type": "02"}}
    )
    kiosk.register(mdtrt_cert_type="02")
    outcome = run_check("kiosk_certificate_types", kiosk.records, [accepted], mode="kiosk")
    assert_status(outcome, Status.FAIL)
    assert len(outcome.evidence) == 2


def test_kiosk_tells_patient(run_check: Run) -> None:
    told = step(
        "charge", "charge", DriverResult("rejected", patient_message="请到人工窗口办理"), []
    )
    assert_status(run_check("kiosk_tells_patient", [], [told], mode="kiosk"), Status.PASS)
    silent = step("charge", "charge", DriverResult("unknown"), [])
    assert_status(run_check("kiosk_tells_patient", [], [silent], mode="kiosk"), Status.FAIL)
    fine = step("charge", "charge", DriverResult("ok"), [])
    assert_status(run_check("kiosk_tells_patient", [], [fine], mode="kiosk"), Status.SKIP)


# -- amounts and areas --------------------------------------------------------------------------


def test_insuplc_from_1101(run_check: Run) -> None:
    b = TranscriptBuilder()
    b.sign_in()
    b.lookup(insured={"310": "440300"})
    b.register(insuplc="440300")
    assert_status(run_check("insuplc_from_1101", b.records), Status.PASS)

    own_area = TranscriptBuilder()
    own_area.sign_in()
    own_area.lookup(insured={"310": "440300"})
    own_area.register(insuplc=own_area.area)  # the classic bug: the hospital's own area
    outcome = run_check("insuplc_from_1101", own_area.records)
    assert_status(outcome, Status.FAIL)
    assert outcome.evidence[0].expected == "insuplc_admdvs 440300 (from 1101)"


def test_insuplc_without_a_lookup_fails(run_check: Run) -> None:
    b = TranscriptBuilder()
    b.sign_in()
    b.register()
    outcome = run_check("insuplc_from_1101", b.records)
    assert_status(outcome, Status.FAIL)
    assert "without one" in outcome.evidence[0].seen


def test_settle_echoes_presettle(run_check: Run) -> None:
    b = TranscriptBuilder()
    charged_visit(b)
    assert_status(run_check("settle_echoes_presettle", b.records), Status.PASS)

    tampered = TranscriptBuilder()
    tampered.sign_in()
    visit = tampered.register()
    tampered.upload(visit, "B1", [("1", "25.00", "25.00")])
    tampered.presettle(visit, "B1", "25.00")
    tampered.settle(visit, "B1", "25.00", echo={"preselfpay_amt": Decimal("1.00")})
    outcome = run_check("settle_echoes_presettle", tampered.records)
    assert_status(outcome, Status.FAIL)
    assert outcome.evidence[0].seen == "preselfpay_amt 1.00 (2207)"


def test_settle_without_presettlement_fails(run_check: Run) -> None:
    b = TranscriptBuilder()
    b.sign_in()
    visit = b.register()
    b.upload(visit, "B1", [("1", "25.00", "25.00")])
    b.settle(visit, "B1", "25.00")
    assert_status(run_check("settle_echoes_presettle", b.records), Status.FAIL)


def test_settled_total_matches_fees(run_check: Run) -> None:
    b = TranscriptBuilder()
    b.sign_in()
    visit = b.register()
    b.upload(visit, "B1", [("2", "3.50", "7.00"), ("1", "25.00", "25.00")])
    b.presettle(visit, "B1", "32.00")
    b.settle(visit, "B1", "32.00")
    assert_status(run_check("settled_total_matches_fees", b.records), Status.PASS)

    wrong = TranscriptBuilder()
    wrong.sign_in()
    visit = wrong.register()
    wrong.upload(visit, "B1", [("2", "3.50", "7.10"), ("1", "25.00", "25.00")])
    wrong.presettle(visit, "B1", "30.00")
    wrong.settle(visit, "B1", "30.00")
    outcome = run_check("settled_total_matches_fees", wrong.records)
    assert_status(outcome, Status.FAIL)
    seen = [e.seen for e in outcome.evidence]
    assert seen == ["medfee_sumamt 30.00", "det_item_fee_sumamt 7.10"]


def test_cancelled_fee_lines_do_not_count(run_check: Run) -> None:
    b = TranscriptBuilder()
    b.sign_in()
    visit = b.register()
    b.upload(visit, "B1", [("1", "25.00", "25.00")])
    b.cancel_fees(visit, "B1")
    b.upload(visit, "B1", [("1", "10.00", "10.00")])
    b.presettle(visit, "B1", "10.00")
    b.settle(visit, "B1", "10.00")
    assert_status(run_check("settled_total_matches_fees", b.records), Status.PASS)


# -- reversal -----------------------------------------------------------------------------------


def test_reversal_after_unknown_2207(run_check: Run) -> None:
    b = TranscriptBuilder()
    visit, lost = charged_visit(b)
    lost.update(delivered=False, fault=fault_member("commit-then-drop"))
    b.reverse(lost["msgid"])
    b.presettle(visit, "B1", "25.00")
    b.settle(visit, "B1", "25.00")
    assert_status(run_check("reversal_after_unknown_2207", b.records), Status.PASS)
    assert_status(run_check("no_resend_after_unknown", b.records), Status.PASS)


def test_resend_instead_of_reversal_fails(run_check: Run) -> None:
    b = TranscriptBuilder()
    visit, lost = charged_visit(b)
    lost.update(delivered=False, fault=fault_member("commit-then-drop"))
    b.settle(visit, "B1", "25.00")  # same input, new msgid, no reversal: a double charge
    outcome = run_check("reversal_after_unknown_2207", b.records)
    assert_status(outcome, Status.FAIL)
    assert "no 2601 naming it" in outcome.evidence[0].seen
    assert_status(run_check("no_resend_after_unknown", b.records), Status.FAIL)


def test_resend_of_the_same_msgid_fails(run_check: Run) -> None:
    b = TranscriptBuilder()
    visit, lost = charged_visit(b)
    lost.update(delivered=False, fault=fault_member("hang"))
    b.settle(visit, "B1", "25.00", msgid=lost["msgid"])
    outcome = run_check("no_resend_after_unknown", b.records)
    assert_status(outcome, Status.FAIL)
    assert any("sent 2 times" in e.seen for e in outcome.evidence)


def test_settling_again_before_the_reversal_fails(run_check: Run) -> None:
    b = TranscriptBuilder()
    visit, lost = charged_visit(b)
    lost.update(fault=fault_member("bad-signature"))
    b.settle(visit, "B2", "25.00")
    b.reverse(lost["msgid"])
    outcome = run_check("reversal_after_unknown_2207", b.records)
    assert_status(outcome, Status.FAIL)
    assert "sent before it" in outcome.evidence[0].seen


def test_reversal_that_never_succeeds_fails(run_check: Run) -> None:
    b = TranscriptBuilder()
    _, lost = charged_visit(b)
    lost.update(delivered=False, fault=fault_member("reset"))
    b.reverse(lost["msgid"], delivered=False, fault="hang")
    outcome = run_check("reversal_after_unknown_2207", b.records)
    assert_status(outcome, Status.FAIL)
    assert "without a definite success" in outcome.evidence[0].seen


def test_reversal_check_does_not_apply_without_an_unknown_2207(run_check: Run) -> None:
    b = TranscriptBuilder()
    charged_visit(b)
    assert_status(run_check("reversal_after_unknown_2207", b.records), Status.SKIP)


def test_no_reversal_after_definite_failure(run_check: Run) -> None:
    b = TranscriptBuilder()
    _, refused = charged_visit(b)
    refused.update(infcode=-1, err_msg="结算失败", state_changed=False)
    assert_status(run_check("no_reversal_after_definite_failure", b.records), Status.PASS)
    b.reverse(refused["msgid"])
    outcome = run_check("no_reversal_after_definite_failure", b.records)
    assert_status(outcome, Status.FAIL)
    assert outcome.evidence[0].records == (refused["seq"], refused["seq"] + 1)


def test_error_answers_handled(run_check: Run) -> None:
    b = TranscriptBuilder()
    b.sign_in()
    b.lookup()
    start = len(b.records)
    visit = b.register()
    refused = b.charge(visit, "B1", infcode=-1, err_msg="结算失败", state_changed=False)
    clean = step("charge", "charge", DriverResult("rejected"), records_since(b, start))
    assert_status(run_check("error_answers_handled", b.records, [clean]), Status.PASS)

    crashed = step("charge", "charge", None, records_since(b, start))
    assert_status(run_check("error_answers_handled", b.records, [crashed]), Status.FAIL)

    b.settle(visit, "B1", "25.00", msgid=refused["msgid"])
    outcome = run_check("error_answers_handled", b.records, [clean])
    assert_status(outcome, Status.FAIL)
    assert "not sent again" in outcome.evidence[0].expected


# -- visits -------------------------------------------------------------------------------------


def test_cancel_after_reversal(run_check: Run) -> None:
    b = TranscriptBuilder()
    visit, settled = charged_visit(b)
    b.refund(setl_id_of(settled), visit)
    b.cancel_fees(visit, "B1")
    b.cancel_registration(visit)
    assert_status(run_check("cancel_after_reversal", b.records), Status.PASS)

    early = TranscriptBuilder()
    early_visit, settled = charged_visit(early)
    early.cancel_registration(early_visit, infcode=-1, err_msg="当前状态不允许此操作")
    outcome = run_check("cancel_after_reversal", early.records)
    assert_status(outcome, Status.FAIL)
    assert setl_id_of(settled) in outcome.evidence[0].seen


def test_full_refund_sequence(run_check: Run) -> None:
    b = TranscriptBuilder()
    visit, settled = charged_visit(b)
    start = len(b.records)
    b.refund(setl_id_of(settled), visit)
    b.cancel_fees(visit, "B1")
    request = {"setl_id": setl_id_of(settled), "mdtrt_id": visit}
    good = step("refund", "refund", DriverResult("ok"), records_since(b, start), request)
    assert_status(run_check("full_refund_sequence", b.records, [good]), Status.PASS)

    bad = TranscriptBuilder()
    visit, settled = charged_visit(bad)
    start = len(bad.records)
    bad.cancel_fees(visit, "B1", infcode=-1, err_msg="当前状态不允许此操作")
    bad.refund(setl_id_of(settled), visit)
    request = {"setl_id": setl_id_of(settled), "mdtrt_id": visit}
    wrong = step("refund", "refund", DriverResult("ok"), records_since(bad, start), request)
    outcome = run_check("full_refund_sequence", bad.records, [wrong])
    assert_status(outcome, Status.FAIL)
    assert [e.seen for e in outcome.evidence] == [
        "2205 sent before the settlement was reversed",
        "no committed 2205",
    ]


def test_partial_refund_resettles(run_check: Run) -> None:
    b = TranscriptBuilder()
    b.sign_in()
    visit = b.register()
    b.upload(visit, "B1", [("1", "25.00", "25.00"), ("2", "3.50", "7.00")])
    b.presettle(visit, "B1", "32.00")
    original = b.settle(visit, "B1", "32.00")
    start = len(b.records)
    b.refund(setl_id_of(original), visit)
    b.cancel_fees(visit, "B1")
    b.upload(visit, "B2", [("1", "25.00", "25.00"), ("1", "3.50", "3.50")])
    b.presettle(visit, "B2", "28.50")
    again = b.settle(visit, "B2", "28.50")
    request = {
        "setl_id": setl_id_of(original),
        "mdtrt_id": visit,
        "items": [{"code": "X", "qty": Decimal("1"), "price": Decimal("3.50")}],
    }
    ok = DriverResult("ok", setl_id=setl_id_of(again))
    good = step("partial_refund", "partial_refund", ok, records_since(b, start), request)
    assert_status(run_check("partial_refund_resettles", b.records, [good]), Status.PASS)

    request["items"] = [{"code": "X", "qty": Decimal("2"), "price": Decimal("3.50")}]
    outcome = run_check("partial_refund_resettles", b.records, [good])
    assert_status(outcome, Status.FAIL)
    assert outcome.evidence[0].expected == "medfee_sumamt 25.00 (32.00 − 7.00)"


# -- ledger -------------------------------------------------------------------------------------


def test_driver_outcome_matches_platform(run_check: Run) -> None:
    b = TranscriptBuilder()
    b.sign_in()
    start = len(b.records)
    visit = b.register()
    settled = b.charge(visit, "B1", "25.00")
    amounts = {"medfee_sumamt": Decimal("25.00"), "acct_pay": Decimal("7.50")}
    ok = DriverResult("ok", mdtrt_id=visit, setl_id=setl_id_of(settled), amounts=amounts)
    charge = step("charge", "charge", ok, records_since(b, start))
    assert_status(run_check("driver_outcome_matches_platform", b.records, [charge]), Status.PASS)

    lying = DriverResult("ok", setl_id=setl_id_of(settled), amounts={"acct_pay": Decimal("9.99")})
    outcome = run_check(
        "driver_outcome_matches_platform",
        b.records,
        [step("charge", "charge", lying, records_since(b, start))],
    )
    assert_status(outcome, Status.FAIL)
    assert outcome.evidence[0].seen == "acct_pay: HIS recorded 9.99, platform holds 7.50"

    denial = DriverResult("rejected", patient_message="结算失败")
    outcome = run_check(
        "driver_outcome_matches_platform",
        b.records,
        [step("charge", "charge", denial, records_since(b, start))],
    )
    assert_status(outcome, Status.FAIL)
    assert "stands" in outcome.evidence[0].seen


def test_nothing_lost_or_doubled(run_check: Run) -> None:
    b = TranscriptBuilder()
    b.sign_in()
    start = len(b.records)
    visit = b.register()
    settled = b.charge(visit, "B1")
    known = step(
        "charge", "charge", DriverResult("ok", setl_id=setl_id_of(settled)), records_since(b, start)
    )
    assert_status(run_check("nothing_lost_or_doubled", b.records, [known]), Status.PASS)

    unaware = step("charge", "charge", DriverResult("rejected"), records_since(b, start))
    outcome = run_check("nothing_lost_or_doubled", b.records, [unaware])
    assert_status(outcome, Status.FAIL)
    assert outcome.evidence[0].seen.startswith("lost:")

    doubled = b.settle(visit, "B1", "25.00")
    both = step(
        "charge", "charge", DriverResult("ok", setl_id=setl_id_of(doubled)), records_since(b, start)
    )
    outcome = run_check("nothing_lost_or_doubled", b.records, [both])
    assert_status(outcome, Status.FAIL)
    assert any(e.seen.startswith("doubled:") for e in outcome.evidence)


# -- reconciliation -----------------------------------------------------------------------------


def test_reconciliation_balanced(run_check: Run) -> None:
    b = TranscriptBuilder()
    charged_visit(b)
    start = len(b.records)
    b.reconcile("25.00", "17.50", "7.50", 1)
    ledger = PlatformTotals(1, Decimal("25.00"), Decimal("17.50"), Decimal("7.50"))
    recon = step(
        "reconcile",
        "reconcile",
        DriverResult("ok", balanced=True),
        records_since(b, start),
        {"day": "2026-11-23"},
    )
    assert_status(
        run_check("reconciliation_balanced", b.records, [recon], ledger=ledger), Status.PASS
    )

    more = PlatformTotals(2, Decimal("50.00"), Decimal("35.00"), Decimal("15.00"))
    outcome = run_check("reconciliation_balanced", b.records, [recon], ledger=more)
    assert_status(outcome, Status.FAIL)
    assert len(outcome.evidence) == 4  # three totals and the count


def test_unbalanced_answer_fails_reconciliation(run_check: Run) -> None:
    b = TranscriptBuilder()
    start = len(b.records)
    b.reconcile("0.00", "0.00", "0.00", 0, stmt_rslt="1")
    recon = step(
        "reconcile", "reconcile", DriverResult("ok"), records_since(b, start), {"day": "2026-11-23"}
    )
    outcome = run_check("reconciliation_balanced", b.records, [recon])
    assert_status(outcome, Status.FAIL)
    assert outcome.evidence[0].seen.startswith("stmt_rslt 1")


def test_detail_reconciliation_when_unbalanced(run_check: Run) -> None:
    b = TranscriptBuilder()
    b.reconcile("0.00", "0.00", "0.00", 0, stmt_rslt="1")
    assert_status(run_check("detail_reconciliation_when_unbalanced", b.records), Status.FAIL)
    b.add("9101", {"fsUploadIn": {}}, {"file_qury_no": "F1"})
    detail = b.add(
        "3202", {"data": {"setl_optins": b.records[0]["request"]["input"]["data"]["setl_optins"]}}
    )
    assert detail["infno"] == "3202"
    assert_status(run_check("detail_reconciliation_when_unbalanced", b.records), Status.PASS)


# -- downtime -----------------------------------------------------------------------------------

DOWNTIME = '[{area: "440300", minutes: 30}]'


def down_answer(b: TranscriptBuilder) -> dict[str, Any]:
    record = b.register(psn_no="P44030000000009", insuplc="440300")
    return b.records[-1] if record else {}


def test_no_pile_on_during_downtime(run_check: Run) -> None:
    b = TranscriptBuilder()
    b.sign_in()
    for _ in range(2):
        down_answer(b).update(
            infcode=-1,
            err_msg="参保地医保系统停机维护，暂不能办理：440300，至 09:30",
            state_changed=False,
        )
    assert_status(
        run_check("no_pile_on_during_downtime", b.records, downtime=DOWNTIME), Status.PASS
    )
    for _ in range(2):
        down_answer(b).update(infcode=-1, err_msg="参保地医保系统停机维护", state_changed=False)
    outcome = run_check("no_pile_on_during_downtime", b.records, downtime=DOWNTIME)
    assert_status(outcome, Status.FAIL)
    assert outcome.evidence[0].seen == "4 calls"
    assert_status(
        run_check(
            "no_pile_on_during_downtime", b.records, downtime=DOWNTIME, args={"max_calls": 4}
        ),
        Status.PASS,
    )
    assert_status(run_check("no_pile_on_during_downtime", b.records), Status.SKIP)


def test_patient_told_when_to_return(run_check: Run) -> None:
    b = TranscriptBuilder()
    answer = down_answer(b)
    answer.update(
        infcode=-1,
        err_msg="参保地医保系统停机维护，暂不能办理：440300，预计 09:30 恢复",
        state_changed=False,
    )
    told = DriverResult("rejected", patient_message="深圳医保系统维护中，请于09:30后再来")
    good = step("register", "register", told, [answer], patient="other")
    assert_status(
        run_check("patient_told_when_to_return", b.records, [good], downtime=DOWNTIME), Status.PASS
    )
    vague = DriverResult("rejected", patient_message="系统维护，请稍后再试")
    bad = step("register", "register", vague, [answer], patient="other")
    outcome = run_check("patient_told_when_to_return", b.records, [bad], downtime=DOWNTIME)
    assert_status(outcome, Status.FAIL)
    assert outcome.evidence[0].expected == "a patient message naming 09:30"


# -- privacy ------------------------------------------------------------------------------------


def test_no_personal_data_exposed(run_check: Run) -> None:
    clean = step(
        "register", "register", DriverResult("ok", patient_message="挂号成功，请到3诊室就诊"), []
    )
    assert_status(run_check("no_personal_data_exposed", [], [clean]), Status.PASS)
    leaky = step(
        "register", "register", DriverResult("ok", message="身份证 530102198503150018 已挂号"), []
    )
    outcome = run_check("no_personal_data_exposed", [], [leaky])
    assert_status(outcome, Status.FAIL)
    assert outcome.evidence[0].seen == "identity number of patient patient"
    token = step(
        "register", "register", DriverResult("ok", message="ECTEST-530100-0001-4F2A9C1E"), []
    )
    assert_status(run_check("no_personal_data_exposed", [], [token]), Status.FAIL)
    stranger = step("register", "register", DriverResult("ok", message="110105195006060174"), [])
    assert (
        run_check("no_personal_data_exposed", [], [stranger]).evidence[0].seen
        == "a resident identity number"
    )


@pytest.mark.parametrize("name", sorted(default_registry()))
def test_every_check_can_fail_or_is_covered_above(name: str) -> None:
    """Guard: each registered check has a test in this module that makes it fail."""
    source = inspect.getsource(sys.modules[__name__])
    assert f'"{name}"' in source, f"no test in this module exercises check {name}"
    assert PERSON


def test_calls_before_the_downtime_began_do_not_count(run_check: Run) -> None:
    b = TranscriptBuilder()
    b.sign_in()
    for _ in range(4):
        b.register(psn_no="P44030000000009", insuplc="440300")
    earlier = step("earlier", "register", DriverResult("ok"), b.records[:])
    arm = StepRun(
        "schedule_downtime",
        "schedule_downtime",
        {"area": "440300", "minutes": 30},
        None,
        Status.PASS,
        "",
    )
    start = len(b.records)
    down_answer(b).update(
        infcode=-1, err_msg="参保地医保系统停机维护，至 10:00", state_changed=False
    )
    told = DriverResult("rejected", patient_message="请10:00后再来")
    later = step("later", "register", told, records_since(b, start), patient="other")
    steps = [earlier, arm, later]
    assert_status(run_check("no_pile_on_during_downtime", b.records, steps), Status.PASS)
    assert_status(run_check("patient_told_when_to_return", b.records, steps), Status.PASS)
    outcome = run_check("no_pile_on_during_downtime", b.records, steps, args={"max_calls": 0})
    assert outcome.evidence[0].seen == "1 calls"


# -- chronic care (门慢/门特) --------------------------------------------------------------------


def chronic_info(
    b: TranscriptBuilder, visit: str, dise_codg: str | None, med_type: str = "14", **kw: Any
) -> dict[str, Any]:
    """A 2203 of ``visit`` naming ``dise_codg``; ``error_id`` makes it a refusal of that kind."""
    error_id = kw.pop("error_id", None)
    nodes = example_request("2203")["input"]
    nodes["mdtrtinfo"].update(mdtrt_id=visit, psn_no=PERSON, med_type=med_type, dise_codg=dise_codg)
    if error_id is not None:
        kw.update(infcode=-1, err_msg="门慢门特病种未备案或不在有效期内", state_changed=False)
    record = b.add("2203", nodes, {}, **kw)
    record["error_id"] = error_id
    return record


def chronic_charge(
    b: TranscriptBuilder, visit: str, batch: str, disease: str, med_type: str
) -> None:
    b.charge(visit, batch, "75.00")
    upload, presettle, settle = b.records[-3:]
    for line in upload["request"]["input"]["feedetail"]:
        line["dise_codg"] = disease
    for record in (presettle, settle):
        record["request"]["input"]["data"]["med_type"] = med_type


def test_chronic_visit_names_its_disease(run_check: Run) -> None:
    assert_status(run_check("chronic_visit_names_its_disease", []), Status.SKIP)
    b = TranscriptBuilder()
    b.sign_in()
    b.lookup()
    visit = b.register()
    start = len(b.records)
    chronic_info(b, visit, "M03900")
    chronic_charge(b, visit, "B1", "M03900", "14")
    request = {"mdtrt_id": visit, "dise_codg": "M03900"}
    good = step("charge", "charge", DriverResult("ok"), records_since(b, start), request)
    assert_status(run_check("chronic_visit_names_its_disease", b.records, [good]), Status.PASS)

    b = TranscriptBuilder()
    b.sign_in()
    b.lookup()
    visit = b.register()
    start = len(b.records)
    chronic_info(b, visit, "M01600")  # another disease than the one asked for
    chronic_charge(b, visit, "B1", "M01600", "11")
    bad = step("charge", "charge", DriverResult("ok"), records_since(b, start), request)
    outcome = run_check("chronic_visit_names_its_disease", b.records, [bad])
    assert_status(outcome, Status.FAIL)
    assert [e.seen for e in outcome.evidence] == [
        "med_type 14, dise_codg M01600",
        "lines of M01600",
        "med_type 11",
        "med_type 11",
    ]


def test_no_ordinary_fallback(run_check: Run) -> None:
    b = TranscriptBuilder()
    b.sign_in()
    b.lookup()
    visit = b.register()
    start = len(b.records)
    chronic_info(b, visit, "M01600", error_id="business.chronic_not_recognised")
    request = {"mdtrt_id": visit, "dise_codg": "M01600"}
    refused = step("charge", "charge", DriverResult("rejected"), records_since(b, start), request)
    assert_status(run_check("no_ordinary_fallback", b.records, [refused]), Status.PASS)

    chronic_info(b, visit, None, med_type="11")  # the flaw: the same visit, now ordinary
    chronic_charge(b, visit, "B1", "", "11")
    downgraded = step("charge", "charge", DriverResult("ok"), records_since(b, start), request)
    outcome = run_check("no_ordinary_fallback", b.records, [downgraded])
    assert_status(outcome, Status.FAIL)
    assert (
        outcome.evidence[0].seen
        == "sent again as 2203 med_type 11, 2206 med_type 11, 2207 med_type 11"
    )
    assert outcome.evidence[1].seen == "the HIS reported it ok"
    elsewhere = chronic_info(
        TranscriptBuilder(), visit, "M01600", error_id="business.visit_not_found"
    )
    other = step("charge", "charge", DriverResult("rejected"), [elsewhere], request)
    assert_status(run_check("no_ordinary_fallback", [elsewhere], [other]), Status.SKIP)


def chronic_registration(
    b: TranscriptBuilder, serial: str, *, insu_optins: str = "530100", ide: str = CODE
) -> dict[str, Any]:
    nodes = example_request("2503")["input"]
    nodes["data"].update(psn_no=PERSON, insutype="310", insu_optins=insu_optins,
                         ide_fixmedins_no=ide)  # fmt: skip
    return b.add("2503", nodes, {"result": {"trt_dcla_detl_sn": serial}})


def chronic_cancel(b: TranscriptBuilder, serial: str) -> dict[str, Any]:
    nodes = example_request("2504")["input"]
    nodes["data"].update(psn_no=PERSON, trt_dcla_detl_sn=serial)
    return b.add("2504", nodes, {})


def test_chronic_registration_names_its_parties(run_check: Run) -> None:
    b = TranscriptBuilder()
    b.sign_in()
    assert_status(run_check("chronic_registration_names_its_parties", b.records), Status.SKIP)
    b.lookup()
    chronic_registration(b, "9000000000001")
    chronic_cancel(b, "9000000000001")
    assert_status(run_check("chronic_registration_names_its_parties", b.records), Status.PASS)

    chronic_registration(b, "9000000000002", insu_optins="440300", ide="H53010199999")
    chronic_cancel(b, f"RF00{PERSON}")  # the insured place's own recognition
    outcome = run_check("chronic_registration_names_its_parties", b.records)
    assert_status(outcome, Status.FAIL)
    assert [e.seen for e in outcome.evidence] == [
        "insu_optins 440300",
        "ide_fixmedins_no H53010199999",
        f"2504 of RF00{PERSON}",
    ]


# -- inpatient stays ------------------------------------------------------------------------------

STAY = "530100000000003001"  # the contract examples' stay


def _stay_settle(
    b: TranscriptBuilder, infno: str, *, mid: str = "0", medfee: str = "3000.00", **kw: Any
) -> dict[str, Any]:
    """A 2303 or 2304 of the examples' stay answered with its own example (medfee 3000.00)."""
    nodes = example_request(infno)["input"]
    nodes["data"].update(mid_setl_flag=mid, medfee_sumamt=Decimal(medfee))
    output = example_output(infno)
    return b.add(infno, nodes, output, insuplc="510100", **kw)


def _refused(record: dict[str, Any], error_id: str) -> dict[str, Any]:
    record.update(
        infcode=-1, err_msg=f"{error_id}: refused", state_changed=False, error_id=error_id
    )
    record["response"].update(infcode=-1, output=None)
    return record


def test_stay_fees_within_the_stay(run_check: Run) -> None:
    b = TranscriptBuilder()
    b.add("2401", example_request("2401")["input"], example_output("2401"), insuplc="510100")
    b.add("2301", example_request("2301")["input"], example_output("2301"), insuplc="510100")
    assert_status(run_check("stay_fees_within_the_stay", b.records), Status.PASS)
    late = b.add("2301", example_request("2301")["input"], {}, insuplc="510100")
    _refused(late, "business.stay_discharged")
    outcome = run_check("stay_fees_within_the_stay", b.records)
    assert_status(outcome, Status.FAIL)
    assert "business.stay_discharged" in outcome.evidence[0].seen


def test_stay_total_matches_the_platforms_lines(run_check: Run) -> None:
    b = TranscriptBuilder()
    _stay_settle(b, "2303")
    assert_status(run_check("stay_total_matches_the_platforms_lines", b.records), Status.PASS)
    _stay_settle(b, "2303", medfee="3100.00")  # answered 3000.00: the HIS counted more
    refused = _refused(_stay_settle(b, "2303", medfee="90.00"), "business.amount_mismatch")
    outcome = run_check("stay_total_matches_the_platforms_lines", b.records)
    assert_status(outcome, Status.FAIL)
    assert [e.records for e in outcome.evidence] == [(2,), (refused["seq"],)]


def test_final_settlement_after_discharge_and_presettlement(run_check: Run) -> None:
    b = TranscriptBuilder()
    _stay_settle(b, "2303")
    _stay_settle(b, "2304")
    name = "final_settlement_after_discharge_and_presettlement"
    assert_status(run_check(name, b.records), Status.PASS)
    _stay_settle(b, "2304", mid="1")  # a mid-way 2304 with no mid-way 2303
    _refused(_stay_settle(b, "2304"), "business.not_discharged")
    outcome = run_check(name, b.records)
    assert_status(outcome, Status.FAIL)
    assert [e.expected for e in outcome.evidence] == [
        "a successful 2303 of the stay (same mid_setl_flag) first",
        "discharge (2402) and pre-settlement (2303) first",
    ]


def test_stay_settlements_cancelled_newest_first(run_check: Run) -> None:
    b = TranscriptBuilder()
    first = _stay_settle(b, "2304", mid="1")
    second = _stay_settle(b, "2304", mid="1")
    second["response"]["output"]["setlinfo"]["setl_id"] = "S2"
    first["response"]["output"]["setlinfo"]["setl_id"] = "S1"
    cancel = example_request("2305")["input"]
    cancel["data"].update(setl_id="S1")
    b.add("2305", cancel, example_output("2305"), insuplc="510100")
    outcome = run_check("stay_settlements_cancelled_newest_first", b.records)
    assert_status(outcome, Status.FAIL)
    assert outcome.evidence[0].seen == "2305 of S1"
    in_order = TranscriptBuilder()
    for record in (first, second):
        in_order.records.append(record)
    newest = example_request("2305")["input"]
    newest["data"].update(setl_id="S2")
    in_order.add("2305", newest, example_output("2305"), insuplc="510100")
    assert_status(
        run_check("stay_settlements_cancelled_newest_first", in_order.records), Status.PASS
    )


def test_stay_settlement_carries_the_password_medium(run_check: Run) -> None:
    b = TranscriptBuilder()
    name = "stay_settlement_carries_the_password_medium"
    assert_status(run_check(name, b.records), Status.SKIP)
    local = _stay_settle(b, "2304")
    local["request"]["insuplc_admdvs"] = "530100"
    outcome = run_check(name, b.records)
    assert_status(outcome, Status.FAIL)
    assert outcome.evidence[0].seen == "no password medium"
    local["request"]["input"]["data"]["exp_content"] = '{"card_token": "***"}'
    assert_status(run_check(name, b.records), Status.PASS)


def test_reversal_after_unknown_2304(run_check: Run) -> None:
    b = TranscriptBuilder()
    lost = _stay_settle(b, "2304", fault="commit-then-drop", delivered=False)
    outcome = run_check("reversal_after_unknown_2304", b.records)
    assert_status(outcome, Status.FAIL)
    assert outcome.evidence[0].expected.endswith("oinfno=2304 answered successfully")
    reversal = example_request("2601")["input"]
    reversal["data"].update(omsgid=lost["msgid"], oinfno="2304")
    b.add("2601", reversal, {})
    assert_status(run_check("reversal_after_unknown_2304", b.records), Status.PASS)

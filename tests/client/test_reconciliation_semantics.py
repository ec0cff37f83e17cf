"""One day of every way a settlement ends, reconciled both ways: the SDK, the mock and the suite
count it alike (issue 11, deliverable 3; ``x-counting`` of 3201).

A harness found 3201 unbalanced after a chaos run (count 7893 vs 7895, every amount equal):
the platform counted a 2207 and the 2601 that reversed it as two rows, the journal did not.
Public HIS code says a reversed settlement is void on the platform: now nobody counts it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from decimal import Decimal

import pytest

from nhsa.client import (
    Certificate,
    Client,
    ClientConfig,
    FeeLine,
    NeedsManualDecision,
    OutcomeUnknownError,
    Reversed,
    StaySettlement,
    WindowMode,
)
from nhsa.conformance._mock_adapters import ledger_totals_of
from nhsa.envelope import china_now
from nhsa.mock import MockPlatform
from tests.client.conftest import CARD_SN, CLINIC, DIAGNOSES, card, fees
from tests.client.platform import TENANT, MockView
from tests.client.test_journal_postgres import PEOPLE
from tests.client.test_stays import DRUG, PNEUMONIA, WARD

WINDOW = WindowMode("C0001", "收费员甲")  # on_unknown="reverse": lost answers reversed at once


@pytest.fixture
def mock() -> Iterator[MockView]:
    with MockPlatform(profile="tif") as platform:
        yield MockView(platform, "tif")


def test_a_day_of_settlements_reversals_and_refunds_balances_both_ways(
    mock: MockView, config_for: Callable[..., ClientConfig]
) -> None:
    with Client(config_for(mock), WINDOW, transport=mock.sync_transport()) as client:
        visits = [
            client.register(Certificate.id_card(number), insutype=insutype, clinic=CLINIC)
            for number, insutype in PEOPLE
        ]
        settled, refunded, partly, lost, never, kept = visits
        client.charge(settled, fees(), diagnoses=DIAGNOSES)
        client.refund(client.charge(refunded, fees(), diagnoses=DIAGNOSES))
        partial = client.charge(partly, fees(), diagnoses=DIAGNOSES)
        client.refund(partial, lines=[partial.lines[0].feedetl_sn])
        for visit, fault in ((lost, "drop"), (never, "http-503")):
            mock.arm("2207", fault)  # booked then the answer lost / refused before booking
            with pytest.raises(OutcomeUnknownError) as unknown:
                client.charge(visit, fees(), diagnoses=DIAGNOSES)
            assert isinstance(unknown.value.resolution, Reversed)
        keep = client.charge(kept, fees(), diagnoses=DIAGNOSES)
        mock.arm("2208", "drop")  # the refund's answer is lost: 2601 undoes the refund
        with pytest.raises(OutcomeUnknownError):
            client.refund(keep)

        day = china_now().date()
        ledger = mock.mock.settlements(TENANT)
        for include_refunds, rows in ((True, 7), (False, 3)):
            report = client.reconcile(day, include_refunds=include_refunds, details=True)
            assert report.balanced, report  # 3201 on both sides
            assert report.mismatches == ()  # 3202, row by row
            assert report.unresolved == ()
            assert sum(group.his.count for group in report.groups) == rows
            # the suite counts the platform's ledger by the same rule
            platform = ledger_totals_of(ledger, day, day, "1" if include_refunds else "0")
            assert platform.setl_cnt == rows
            assert platform.medfee_sumamt == sum(g.his.medfee_sumamt for g in report.groups)
            assert platform.fund_pay_sumamt == sum(g.his.fund_pay_sumamt for g in report.groups)
            assert platform.acct_pay == sum(g.his.acct_pay for g in report.groups)

    statuses = sorted((row["refd_setl_flag"], row["status"]) for row in ledger)
    # settled, refunded (+ refund row), partly (+ refund row + the kept lines), lost (voided),
    # kept (+ its refund row, voided by the 2601 of the 2208); "never" left nothing
    assert statuses == [("0", "active")] * 5 + [("0", "voided")] + [("1", "active")] * 2 + [
        ("1", "voided")
    ]


def test_a_refund_left_manual_is_confirmed_by_3202_and_the_day_balances(
    mock: MockView, config_for: Callable[..., ClientConfig]
) -> None:
    # The chaos drill's two lost refunds: the 2208 was booked, its answer lost, and the 2601
    # refused (there: the account no longer held what restoring the settlement takes), so the
    # SDK could only leave it manual. 3202 lists the platform's row under the 2208's msgid.
    number, insutype = PEOPLE[0]
    with Client(config_for(mock), WINDOW, transport=mock.sync_transport()) as client:
        visit = client.register(Certificate.id_card(number), insutype=insutype, clinic=CLINIC)
        paid = client.charge(visit, fees(), diagnoses=DIAGNOSES)
        mock.arm("2208", "drop")
        mock.mock.arm_fault(TENANT, "business-error", infno="2601")
        with pytest.raises(OutcomeUnknownError) as lost:
            client.refund(paid)
        assert isinstance(lost.value.resolution, NeedsManualDecision)
        (refund,) = client.journal.entries(TENANT, infno=["2208"])
        assert refund.state == "manual"

        report = client.reconcile(china_now().date())

        assert report.confirmed == (refund.msgid,)
        assert report.balanced, report
        assert (report.unresolved, report.mismatches) == ((), ())
        confirmed = client.journal.get(refund.msgid)
        assert confirmed is not None
        assert confirmed.state == "succeeded"
        (row,) = [r for r in mock.mock.settlements(TENANT) if r["refd_setl_flag"] == "1"]
        assert confirmed.result["setl_id"] == row["setl_id"]
        assert confirmed.result["medfee_sumamt"] == f"{-paid.setlinfo.medfee_sumamt:.2f}"
        # the evidence is kept; a second day-end changes nothing more
        assert "3202" in (confirmed.detail or "")
        assert client.reconcile(china_now().date()).confirmed == ()


def test_a_platform_row_does_not_close_an_entry_the_sdk_is_still_resolving(
    mock: MockView, config_for: Callable[..., ClientConfig]
) -> None:
    hold = WindowMode("C0001", "收费员甲", on_unknown="hold")
    number, insutype = PEOPLE[1]
    with Client(config_for(mock), hold, transport=mock.sync_transport()) as client:
        visit = client.register(Certificate.id_card(number), insutype=insutype, clinic=CLINIC)
        mock.arm("2207", "drop")
        with pytest.raises(OutcomeUnknownError):
            client.charge(visit, fees(), diagnoses=DIAGNOSES)
        (held,) = client.journal.entries(TENANT, infno=["2207"])

        report = client.reconcile(china_now().date(), extra_groups=[(insutype, "11")])

        # held for the cashier: the platform's row stays a mismatch, the entry stays held
        assert report.confirmed == ()
        assert report.unresolved == (held.msgid,)
        assert [row.msgid for row in report.mismatches] == [held.msgid]
        still = client.journal.get(held.msgid)
        assert still is not None
        assert still.state == "held"


def test_a_day_of_stay_settlements_reversals_and_cancellations_balances_both_ways(
    mock: MockView, config_for: Callable[..., ClientConfig]
) -> None:
    """The same rule for inpatient settlements: a 2304 reversed by 2601 is void, counted by
    neither side; a 2305 is a refund row of its own; a 2305 reversed by 2601 is void and its
    2304 counts again."""
    day = timedelta(days=1)
    with Client(config_for(mock), WINDOW, transport=mock.sync_transport()) as client:
        begin = china_now().replace(microsecond=0) - 3 * day
        stay = client.admit(card(), insutype="310", ward=WARD, diagnoses=PNEUMONIA, begntime=begin)
        client.upload_stay_fees(
            stay,
            [
                FeeLine(
                    DRUG,
                    "HIS-YP-0001",
                    cnt=cnt,
                    pric=Decimal("100"),
                    fee_ocur_time=begin + offset * day,
                )
                for offset, cnt in enumerate((6, 2, 5))
            ],
        )

        def midway(total: str, until: int) -> StaySettlement:
            return client.settle_midway(
                stay, Decimal(total), until=(begin + until * day).date(), card_token=CARD_SN
            )

        midway("600.00", 0)  # stands
        mock.arm("2304", "drop")  # booked, the answer lost: 2601 voids it
        with pytest.raises(OutcomeUnknownError) as unknown:
            midway("200.00", 1)
        assert isinstance(unknown.value.resolution, Reversed)
        cancelled = midway("200.00", 1)
        client.cancel_stay_settlement(cancelled)  # a refund row
        kept = midway("200.00", 1)
        mock.arm("2305", "drop")  # the cancellation's answer lost: 2601 undoes it
        with pytest.raises(OutcomeUnknownError) as lost_cancel:
            client.cancel_stay_settlement(kept)
        assert isinstance(lost_cancel.value.resolution, Reversed)
        stay = client.discharge(stay, diagnoses=PNEUMONIA)
        final = client.settle_stay(stay, Decimal("500.00"), card_token=CARD_SN)

        today = final.setlinfo.setl_time.date()
        ledger = mock.mock.settlements(TENANT)
        # model B: the first, the cancelled one and its refund row, the kept one, the final one
        # model A: the settlements that stand — the first, the kept one, the final one
        for include_refunds, rows in ((True, 5), (False, 3)):
            report = client.reconcile(today, include_refunds=include_refunds, details=True)
            assert report.balanced, report
            assert report.mismatches == ()
            assert report.unresolved == ()
            (group,) = report.groups
            assert (group.clr_type, group.his.count) == ("21", rows)
            assert group.his.medfee_sumamt == Decimal("1300.00")  # 600 + 200 + 500 either way
            platform = ledger_totals_of(ledger, today, today, "1" if include_refunds else "0")
            assert (platform.setl_cnt, platform.medfee_sumamt) == (rows, Decimal("1300.00"))
            assert platform.fund_pay_sumamt == group.his.fund_pay_sumamt
            assert platform.acct_pay == group.his.acct_pay

    statuses = sorted((row["refd_setl_flag"], row["status"]) for row in ledger)
    # no row for the 2601 of the lost 2304: it is voided; the undone 2305's row is voided
    assert statuses == [("0", "active")] * 4 + [("0", "voided")] + [("1", "active")] + [
        ("1", "voided")
    ]

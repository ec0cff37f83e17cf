"""One day of every way a settlement ends, reconciled both ways: the SDK, the mock and the suite
count it alike (issue 11, deliverable 3; ``x-counting`` of 3201).

A harness found 3201 unbalanced after a chaos run (count 7893 vs 7895, every amount equal):
the platform counted a 2207 and the 2601 that reversed it as two rows, the journal did not.
Public HIS code says a reversed settlement is void on the platform: now nobody counts it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from nhsa.client import (
    Certificate,
    Client,
    ClientConfig,
    OutcomeUnknownError,
    Reversed,
    WindowMode,
)
from nhsa.conformance._mock_adapters import ledger_totals_of
from nhsa.envelope import china_now
from nhsa.mock import MockPlatform
from tests.client.conftest import CLINIC, DIAGNOSES, fees
from tests.client.platform import TENANT, MockView
from tests.client.test_journal_postgres import PEOPLE

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

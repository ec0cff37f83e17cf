"""A window visit: a cashier registers a patient by ID card, charges the visit, prints the bill.

Run it as is — it starts the mock national platform in-process, with gateway headers and SM2
message signatures on (profile ``tif+sm2``) — or point it at a running ``nhsa mock serve``
(each run registers an institution of its own there, see ``platform_session.py``); the
server's admin token comes from ``--admin-token`` or ``$NHSA_MOCK_ADMIN_TOKEN``:

    python examples/window_visit.py
    python examples/window_visit.py --url http://127.0.0.1:8700

The patient is invented (fixture person P53010000000001, insured in Kunming, 530100). The
clinic, diagnoses, fee lines and bill printing here are shared by the other examples.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from decimal import Decimal

from platform_session import ExampleError, Platform, enrolled_client, run_example

from nhsa.client import (
    Certificate,
    Charge,
    Clinic,
    Diagnosis,
    FeeLine,
    ReconcileReport,
    WindowMode,
)
from nhsa.envelope import china_now

CLINIC = Clinic("0301", "内科门诊", "D530100000101", "医师丁", "A03")
DIAGNOSES = [Diagnosis("J06.900", "急性上呼吸道感染")]


def fee_lines() -> list[FeeLine]:
    """Three lines of the Kunming catalogue: 甲 consultation, 乙 antibiotic, 丙 vitamin D."""
    return [
        FeeLine("110200001000000", "HIS-ZC-0001", cnt=1, pric=Decimal("25.00")),
        FeeLine("XJ01DCC035A001010100002", "HIS-YP-0002", cnt=2, pric=Decimal("18.50")),
        FeeLine("XA11CCA001A001010100007", "HIS-YP-0007", cnt=1, pric=Decimal("12.80")),
    ]


def print_bill(charge: Charge) -> None:
    """The patient's bill: who paid what."""
    totals = charge.totals
    print(f"结算 setl_id {charge.setl_id}  (msgid {charge.msgid})")
    for line in charge.lines:
        print(f"  {line.med_list_codg:<24} {line.cnt} × {line.pric} = {line.total}")
    print(f"  医疗费总额 medfee_sumamt   {totals.medfee_sumamt:>10}")
    print(f"  基金支付   fund_pay_sumamt {totals.fund_pay_sumamt:>10}")
    print(f"  个人账户   acct_pay        {totals.acct_pay:>10}")
    print(f"  现金       psn_cash_pay    {totals.psn_cash_pay:>10}")


def expect_balanced(day: ReconcileReport) -> None:
    """The day's reconciliation (3201, 3202 where it differs) must balance: say so, or fail."""
    if not day.balanced:
        raise ExampleError(
            f"对账 3201/3202 did not balance: {len(day.mismatches)} rows differ, "
            f"{len(day.unresolved)} settlements unresolved"
        )
    print("对账 3201/3202: 对平 balanced")


def visit(_: argparse.Namespace, platform: Platform) -> None:
    """Register, charge, reconcile."""
    with enrolled_client(platform, WindowMode("C0001", "收费员甲")) as (institution, client):
        report = client.recover()  # first thing at start-up: close what a crash left open
        print(f"institution {institution.code}; recover(): {len(report.resolved)} entries resolved")
        visit = client.register(
            Certificate.id_card("530102198503150018"), insutype="310", clinic=CLINIC
        )
        print(f"挂号 mdtrt_id {visit.mdtrt_id}, insured in {visit.insuplc_admdvs}")
        charge = client.charge(visit, fee_lines(), diagnoses=DIAGNOSES)
        print_bill(charge)
        day = client.reconcile(china_now().date())
        expect_balanced(day)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the window visit; returns the exit code."""
    return run_example(__doc__.splitlines()[0] if __doc__ else None, visit, argv)


if __name__ == "__main__":
    raise SystemExit(main())

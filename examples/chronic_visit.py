"""Chronic-disease outpatient visits (门诊慢特病, med_type 14): the recognised disease decides.

A cashier looks up which chronic diseases a patient has on record with the insured place
(5301), charges the visit under the one in force (2203 ``dise_codg``, med_type 14), sees the
platform refuse a disease whose recognition has expired — and does not charge that visit as an
ordinary one behind the patient's back —, registers the disease the hospital has identified
anew (2503), charges under it, and cancels that registration again (2504) so the run leaves
nothing behind. A dialysis patient with a medical-assistance identity then pays one bill with
the pooling fund, serious-illness insurance (大病保险, hifmi_pay) and medical assistance
(医疗救助, maf_pay). The day must balance.

    python examples/chronic_visit.py
    python examples/chronic_visit.py --url http://127.0.0.1:8700      # token: see window_visit.py

The patients are invented (fixture persons P53010000000016, a retiree with hypertension on
record since 2022 and a diabetes recognition that ended 2025-12-31; P53010000000017, a resident
on dialysis with the 低保 identity), insured in Kunming.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from decimal import Decimal

from platform_session import ExampleError, Platform, enrolled_client, run_example
from window_visit import CLINIC, expect_balanced, print_bill

from nhsa.client import (
    BusinessError,
    Certificate,
    Charge,
    ChronicDisease,
    Client,
    Diagnosis,
    FeeLine,
    WindowMode,
)
from nhsa.envelope import china_now
from nhsa.money import cents

RETIREE = Certificate.social_security_card("TA5300016", "530100D15600000500000000A1B2C3DB")
DIALYSIS = Certificate.social_security_card("TA5300017", "530100D15600000500000000A1B2C3DC")
HYPERTENSION = [Diagnosis("I10.x00", "原发性高血压")]
DIABETES = [Diagnosis("E11.900", "2型糖尿病")]
RENAL = [Diagnosis("N18.500", "慢性肾脏病5期")]


def monthly_drugs() -> list[FeeLine]:
    """A consultation and a month of captopril (甲类)."""
    return [
        FeeLine("110200001000000", "HIS-ZC-0001", cnt=1, pric=Decimal("25.00")),
        FeeLine("XC09AAB001A001010100004", "HIS-YP-0004", cnt=4, pric=Decimal("12.50")),
    ]


def print_funds(charge: Charge) -> None:
    """Who paid the chronic bill: the pooling fund and the one-bill funds after it."""
    info = charge.setlinfo
    disease = charge.chronic.code if charge.chronic else "—"
    print(f"  门慢门特病种 {disease}; med_type {charge.med_type}")
    for label, amount in (
        ("统筹基金 hifp_pay", info.hifp_pay),
        ("大病保险 hifmi_pay", info.hifmi_pay),
        ("医疗救助 maf_pay", info.maf_pay),
    ):
        print(f"  {label:<22} {cents(amount or Decimal(0)):>10}")


def refused_as_chronic(client: Client, disease: ChronicDisease) -> None:
    """A visit under a disease whose recognition has ended: refused, and left unsettled."""
    visit = client.register(RETIREE, insutype="310", clinic=CLINIC)
    try:
        client.charge(visit, monthly_drugs(), diagnoses=DIABETES, chronic=disease)
    except BusinessError as refused:
        print(f"\n拒绝 refused ({refused.infno}): {refused.err_msg}")
    else:
        raise ExampleError(f"a visit under the expired {disease.code} recognition was settled")
    # Charging it now as an ordinary visit (med_type 11) is the patient's decision, not the
    # HIS's: the visit stays as it is, and its registration is cancelled.
    client.cancel_registration(visit)
    print("  挂号已撤销 registration cancelled; the visit was not charged as an ordinary one")


def visits(_: argparse.Namespace, platform: Platform) -> None:
    """Look up, charge, be refused, register, charge, cancel; one bill; reconcile."""
    with enrolled_client(platform, WindowMode("C0003", "收费员丙")) as (institution, client):
        client.recover()
        print(f"institution {institution.code}")
        today = china_now().date()
        on_record = client.recognitions(RETIREE, insutype="310")
        for row in on_record:
            state = "有效 in force" if row.valid_on(today) else "已失效 not in force"
            print(f"备案 {row.opsp_dise_code} {row.opsp_dise_name} from {row.begndate}: {state}")
        in_force = [row.disease for row in on_record if row.valid_on(today)]
        expired = [row.disease for row in on_record if not row.valid_on(today)]
        if not in_force or not expired:
            raise ExampleError("5301 did not list the fixtures' recognitions of P53010000000016")

        visit = client.register(RETIREE, insutype="310", clinic=CLINIC)
        charge = client.charge(visit, monthly_drugs(), diagnoses=HYPERTENSION, chronic=in_force[0])
        print_bill(charge)
        print_funds(charge)

        refused_as_chronic(client, expired[0])

        registered = client.register_chronic(RETIREE, expired[0], insutype="310", clinic=CLINIC)
        print(f"\n备案 registered {registered.disease.code}: {registered.trt_dcla_detl_sn}")
        visit = client.register(RETIREE, insutype="310", clinic=CLINIC)
        again = client.charge(visit, monthly_drugs(), diagnoses=DIABETES, chronic=expired[0])
        print_bill(again)
        client.cancel_chronic(registered, reason="示例结束，撤销备案")
        print(f"备案撤销 cancelled {registered.trt_dcla_detl_sn}")

        (dialysis,) = client.recognitions(DIALYSIS, insutype="390")
        visit = client.register(DIALYSIS, insutype="390", clinic=CLINIC)
        sessions = [FeeLine("311000006000000", "HIS-ZL-0006", cnt=12, pric=Decimal("400.00"))]
        bill = client.charge(visit, sessions, diagnoses=RENAL, chronic=dialysis.disease)
        print()
        print_bill(bill)
        print_funds(bill)
        if not (bill.setlinfo.hifmi_pay and bill.setlinfo.maf_pay):
            raise ExampleError("the dialysis bill was not paid by 大病保险 and 医疗救助 as well")

        expect_balanced(client.reconcile(today))


def main(argv: Sequence[str] | None = None) -> int:
    """Run the chronic visits; returns the exit code."""
    return run_example(__doc__.splitlines()[0] if __doc__ else None, visits, argv)


if __name__ == "__main__":
    raise SystemExit(main())

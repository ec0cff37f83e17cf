"""An inpatient stay: admission, daily fee batches, two mid-way settlements (one of them
cancelled), discharge, the final settlement, and a day end that balances.

Run it as is — it starts the mock national platform in-process (profile ``tif+sm2``) — or
point it at a running ``nhsa mock serve`` (each run registers an institution of its own
there); the server's admin token comes from ``--admin-token`` or ``$NHSA_MOCK_ADMIN_TOKEN``:

    python examples/inpatient_stay.py
    python examples/inpatient_stay.py --url http://127.0.0.1:8700

The patient is invented (fixture person P53010000000001, insured in Kunming). She presents
her social-security card; reading it with her PIN gives the medium (card_token) an
in-province settlement needs (住院结算（验密）). The stay began three days ago, so the
mid-way settlements (中途结算) cut it by fee day: Kunming's employee rule takes the 900.00
deductible once for the whole stay.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal

from platform_session import ExampleError, Platform, enrolled_client, run_example
from window_visit import expect_balanced

from nhsa.client import Certificate, Diagnosis, FeeLine, StaySettlement, Ward, WindowMode
from nhsa.envelope import china_now
from nhsa.money import cents

CARD_NO, CARD_SN = "TA5300001", "530100D15600000500000000A1B2C3D4"
WARD = Ward("0302", "呼吸内科病区", "12床", "D530100000412", "医师庚")
PNEUMONIA = [Diagnosis("J18.900", "肺炎")]
DAY = timedelta(days=1)


def day_of_care(day: int, when: datetime) -> list[FeeLine]:
    """One day of a pneumonia stay: bed, nursing, amoxicillin; a CT on the first day and a
    laparoscopic cholecystectomy (the gallbladder found on the CT) on the second."""
    items = [
        ("110900001000000", f"HIS-CW-{day}", 1, "50.00"),
        ("120100002000000", f"HIS-HL-{day}", 1, "30.00"),
        ("XJ01CRA001A001010100001", f"HIS-YP-{day}", 6, "12.50"),
    ]
    if day == 0:
        items.append(("210300001000000", "HIS-CT-0", 1, "240.00"))
    if day == 1:
        items.append(("331303001000000", "HIS-SS-1", 1, "1800.00"))
    return [
        FeeLine(code, own, cnt=cnt, pric=Decimal(price), fee_ocur_time=when)
        for code, own, cnt, price in items
    ]


def show(title: str, settlement: StaySettlement) -> None:
    """One settlement: what it covered and who paid."""
    info, totals = settlement.setlinfo, settlement.totals
    print(
        f"{title} setl_id {settlement.setl_id}: medfee {totals.medfee_sumamt}, deductible "
        f"{cents(info.act_pay_dedc)}, fund {totals.fund_pay_sumamt}, account {totals.acct_pay}, "
        f"cash {totals.psn_cash_pay}"
    )


def stay(_: argparse.Namespace, platform: Platform) -> None:
    """Admit, upload a batch a day, settle mid-way twice, cancel one, discharge, settle."""
    with enrolled_client(platform, WindowMode("C0002", "住院处乙")) as (institution, client):
        client.recover()
        begin = china_now().replace(microsecond=0) - 3 * DAY
        admitted = client.admit(
            Certificate.social_security_card(CARD_NO, CARD_SN),
            insutype="310",
            ward=WARD,
            diagnoses=PNEUMONIA,
            begntime=begin,
        )
        print(f"institution {institution.code}; 入院 mdtrt_id {admitted.mdtrt_id}")
        days = [
            client.upload_stay_fees(admitted, day_of_care(n, begin + n * DAY)) for n in range(3)
        ]
        totals = [sum(batch.total for batch in batches) for batches in days]
        print(f"费用上传 2301: {len(days)} days, totals {', '.join(map(str, totals))}")
        first = client.settle_midway(
            admitted, totals[0] + totals[1], until=(begin + DAY).date(), card_token=CARD_SN
        )
        show("中途结算 1", first)
        second = client.settle_midway(
            admitted, totals[2], until=(begin + 2 * DAY).date(), card_token=CARD_SN
        )
        show("中途结算 2", second)
        cancelled = client.cancel_stay_settlement(second)
        print(f"撤销中途结算 2 (2305): {cancelled.refunded.medfee_sumamt}")
        last = client.upload_stay_fees(admitted, day_of_care(3, begin + 3 * DAY))
        discharged = client.discharge(admitted, diagnoses=PNEUMONIA)
        assert discharged.endtime is not None
        print(f"出院 2402 at {discharged.endtime:%Y-%m-%d %H:%M:%S}")
        rest = totals[2] + sum(batch.total for batch in last)
        final = client.settle_stay(discharged, rest, card_token=CARD_SN)
        show("出院结算", final)
        if cents(first.setlinfo.act_pay_dedc + final.setlinfo.act_pay_dedc) != Decimal("900.00"):
            raise ExampleError("the stay's settlements did not share one 900.00 deductible")
        expect_balanced(client.reconcile(china_now().date()))


def main(argv: Sequence[str] | None = None) -> int:
    """Run the stay; returns the exit code."""
    return run_example(__doc__.splitlines()[0] if __doc__ else None, stay, argv)


if __name__ == "__main__":
    raise SystemExit(main())

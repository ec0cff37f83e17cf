"""Refunds at the window: one line returned (partial refund), then the rest (full refund).

The platform has no "refund these lines" call, so a partial refund reverses the whole
settlement (2208), cancels the charge's fee lines (2205), uploads the kept lines again as a new
batch and settles them (2204, 2206, 2207) — what hospitals do. A full refund is 2208 + 2205.

    python examples/refund.py
    python examples/refund.py --url http://127.0.0.1:8700      # token: see window_visit.py
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from platform_session import ExampleError, Platform, enrolled_client, run_example
from window_visit import CLINIC, DIAGNOSES, expect_balanced, fee_lines, print_bill

from nhsa.client import Certificate, WindowMode
from nhsa.envelope import china_now


def refunds(_: argparse.Namespace, platform: Platform) -> None:
    """Charge, refund one line, refund the rest, reconcile."""
    with enrolled_client(platform, WindowMode("C0002", "收费员乙")) as (_, client):
        client.recover()
        card = Certificate.social_security_card("TA5300002", "530100D15600000500000000A1B2C3D5")
        visit = client.register(card, insutype="310", clinic=CLINIC)
        charge = client.charge(visit, fee_lines(), diagnoses=DIAGNOSES)
        print_bill(charge)

        returned = charge.lines[2]  # the patient returns the vitamin D drops
        partial = client.refund(charge, lines=[returned.feedetl_sn or ""])
        if partial.recharge is None:
            raise ExampleError("the partial refund settled nothing again for the kept lines")
        print(f"\n部分退费 partial refund of {returned.med_list_codg} ({returned.total}):")
        print(f"  2208 refunded {partial.refunded.medfee_sumamt} (setl_id {partial.setl_id})")
        print_bill(partial.recharge)

        full = client.refund(partial.recharge)
        print(f"\n全额退费 full refund: {full.refunded.medfee_sumamt}, lines cancelled: "
              f"{full.fee_batch_cancelled}")  # fmt: skip
        day = client.reconcile(china_now().date())
        expect_balanced(day)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the refunds; returns the exit code."""
    return run_example(__doc__.splitlines()[0] if __doc__ else None, refunds, argv)


if __name__ == "__main__":
    raise SystemExit(main())

"""Refunds at the window: one line returned (partial refund), then the rest (full refund).

The platform has no "refund these lines" call, so a partial refund reverses the whole
settlement (2208), cancels the charge's fee lines (2205), uploads the kept lines again as a new
batch and settles them (2204, 2206, 2207) — what hospitals do. A full refund is 2208 + 2205.

    python examples/refund.py
    python examples/refund.py --url http://127.0.0.1:8700      # a running `nhsa mock serve`
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from window_visit import CLINIC, DIAGNOSES, fee_lines, platform_session, print_bill

from nhsa.client import Certificate, WindowMode
from nhsa.envelope import china_now


def main(argv: Sequence[str] | None = None) -> int:
    """Charge, refund one line, refund the rest; returns the exit code."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--url", help="a running `nhsa mock serve` (default: in-process mock)")
    args = parser.parse_args(argv)
    with platform_session(args.url, WindowMode("C0002", "收费员乙")) as (client, _):
        client.recover()
        card = Certificate.social_security_card("TA5300002", "530100D15600000500000000A1B2C3D5")
        visit = client.register(card, insutype="310", clinic=CLINIC)
        charge = client.charge(visit, fee_lines(), diagnoses=DIAGNOSES)
        print_bill(charge)

        returned = charge.lines[2]  # the patient returns the vitamin D drops
        partial = client.refund(charge, lines=[returned.feedetl_sn or ""])
        assert partial.recharge is not None
        print(f"\n部分退费 partial refund of {returned.med_list_codg} ({returned.total}):")
        print(f"  2208 refunded {partial.refunded.medfee_sumamt} (setl_id {partial.setl_id})")
        print_bill(partial.recharge)

        full = client.refund(partial.recharge)
        print(f"\n全额退费 full refund: {full.refunded.medfee_sumamt}, lines cancelled: "
              f"{full.fee_batch_cancelled}")  # fmt: skip
        day = client.reconcile(china_now().date())
        print(f"对账 3201/3202: {'对平 balanced' if day.balanced else 'rows differ'}")
        return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""A kiosk visit: the patient scans the e-voucher, registers and pays at a self-service terminal.

Shows what only a kiosk needs: the terminal identifies itself (``dev_no``, ``dev_safe_info``,
``opter_type`` 2); an ID number typed on the screen is refused before anything is sent; a
second tap on "pay" while the first payment runs is refused; and when the settlement's answer is
lost (``--lose-answer``: the in-process mock commits and never answers), the kiosk reverses it
at once and tells the patient, in Chinese and English.

    python examples/kiosk_visit.py
    python examples/kiosk_visit.py --lose-answer
    python examples/kiosk_visit.py --url http://127.0.0.1:8700     # a running `nhsa mock serve`
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from window_visit import CLINIC, DIAGNOSES, fee_lines, platform_session

from nhsa.client import (
    AlreadySettledError,
    Certificate,
    ForbiddenCertificateError,
    KioskMode,
    OutcomeUnknownError,
)

KIOSK = KioskMode(
    dev_no="KIOSK-0301-01",
    dev_safe_info="SAFE-KIOSK-0301-01",
    terminal_id="K0301",
    terminal_name="门诊一楼自助机1号",
)
E_VOUCHER = "ECTEST-530100-0001-4F2A9C1E"  # the fixtures' static test token of P53010000000001


def main(argv: Sequence[str] | None = None) -> int:
    """Register and pay at a kiosk; returns the exit code."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--url", help="a running `nhsa mock serve` (default: in-process mock)")
    parser.add_argument(
        "--lose-answer", action="store_true", help="in-process: the mock drops the 2207 answer"
    )
    args = parser.parse_args(argv)
    with platform_session(args.url, KIOSK) as (kiosk, mock):
        kiosk.recover()
        try:
            kiosk.register(Certificate.id_card("530102198503150018"), insutype="310", clinic=CLINIC)
        except ForbiddenCertificateError as refused:
            print(f"屏幕提示 / screen: {refused.patient_message}")
        visit = kiosk.register(Certificate.e_voucher(E_VOUCHER), insutype="310", clinic=CLINIC)
        print(f"挂号 mdtrt_id {visit.mdtrt_id}")
        if args.lose_answer and mock is not None:
            mock.arm_fault("H53010100001", "commit-then-drop", infno="2207")
        try:
            charge = kiosk.charge(visit, fee_lines(), diagnoses=DIAGNOSES)
        except OutcomeUnknownError as lost:
            print(f"结算结果丢失，已自动冲正 / answer lost, reversed: {lost.resolution}")
            print(f"屏幕提示 / screen: {lost.patient_message}")
            return 0
        print(f"已缴费 paid: setl_id {charge.setl_id}, 现金 cash {charge.totals.psn_cash_pay}")
        try:
            kiosk.charge(visit, fee_lines(), diagnoses=DIAGNOSES)  # the patient taps again
        except AlreadySettledError as twice:
            print(f"再次点击 / second tap: {twice.patient_message}")
        return 0


if __name__ == "__main__":
    raise SystemExit(main())

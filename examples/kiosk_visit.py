"""A kiosk visit: the patient scans the e-voucher, registers and pays at a self-service terminal.

Shows what only a kiosk needs: the terminal identifies itself (``dev_no``, ``dev_safe_info``,
``opter_type`` 2); an ID number typed on the screen is refused before anything is sent; a
second tap on "pay" while the first payment runs is refused; and when the settlement's answer is
lost (``--lose-answer``: the platform books the 2207 and drops the connection), the kiosk
reverses it at once and tells the patient, in Chinese and English.

    python examples/kiosk_visit.py
    python examples/kiosk_visit.py --lose-answer
    python examples/kiosk_visit.py --lose-answer --url http://127.0.0.1:8700   # see window_visit
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from platform_session import ExampleError, Platform, enrolled_client, run_example
from window_visit import CLINIC, DIAGNOSES, expect_balanced, fee_lines

from nhsa.client import (
    AlreadySettledError,
    Certificate,
    Client,
    ForbiddenCertificateError,
    KioskMode,
    OutcomeUnknownError,
    Registration,
    Reversed,
)
from nhsa.envelope import china_now

KIOSK = KioskMode(
    dev_no="KIOSK-0301-01",
    dev_safe_info="SAFE-KIOSK-0301-01",
    terminal_id="K0301",
    terminal_name="门诊一楼自助机1号",
)
E_VOUCHER = "ECTEST-530100-0001-4F2A9C1E"  # the fixtures' static test token of P53010000000001


def kiosk_visit(args: argparse.Namespace, platform: Platform) -> None:
    """Register and pay at a kiosk, losing the settlement's answer on request."""
    with enrolled_client(platform, KIOSK) as (institution, kiosk):
        kiosk.recover()
        try:
            kiosk.register(Certificate.id_card("530102198503150018"), insutype="310", clinic=CLINIC)
        except ForbiddenCertificateError as refused:
            print(f"屏幕提示 / screen: {refused.patient_message}")
        else:
            raise ExampleError("the kiosk accepted an ID number typed on its screen")
        visit = kiosk.register(Certificate.e_voucher(E_VOUCHER), insutype="310", clinic=CLINIC)
        print(f"挂号 mdtrt_id {visit.mdtrt_id}")
        if args.lose_answer:
            # reset: the platform commits the 2207, then drops the connection without a word.
            platform.arm_fault(institution.code, "commit-then-drop", infno="2207", mode="reset")
            try:
                lose_the_answer(kiosk, visit)
            finally:
                platform.clear_faults(institution.code)
        else:
            pay_and_tap_again(kiosk, visit)
        expect_balanced(kiosk.reconcile(china_now().date()))


def lose_the_answer(kiosk: Client, visit: Registration) -> None:
    """The 2207's answer never comes: the kiosk must reverse it (2601) and tell the patient."""
    try:
        charge = kiosk.charge(visit, fee_lines(), diagnoses=DIAGNOSES)
    except OutcomeUnknownError as lost:
        print(f"结算结果丢失，已自动冲正 / answer lost, reversed: {lost.resolution}")
        print(f"屏幕提示 / screen: {lost.patient_message}")
        if not isinstance(lost.resolution, Reversed):
            raise ExampleError(f"the lost settlement was not reversed: {lost.resolution}") from None
        return
    raise ExampleError(
        f"--lose-answer: the platform answered the 2207 (setl_id {charge.setl_id}) although its "
        "answer was to be dropped"
    )


def pay_and_tap_again(kiosk: Client, visit: Registration) -> None:
    """Pay; a second tap on "pay" for the same visit is refused."""
    charge = kiosk.charge(visit, fee_lines(), diagnoses=DIAGNOSES)
    print(f"已缴费 paid: setl_id {charge.setl_id}, 现金 cash {charge.totals.psn_cash_pay}")
    try:
        kiosk.charge(visit, fee_lines(), diagnoses=DIAGNOSES)  # the patient taps again
    except AlreadySettledError as twice:
        print(f"再次点击 / second tap: {twice.patient_message}")
        return
    raise ExampleError("the kiosk charged the same visit twice")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the kiosk visit; returns the exit code."""
    return run_example(
        __doc__.splitlines()[0] if __doc__ else None,
        kiosk_visit,
        argv,
        configure=lambda parser: parser.add_argument(
            "--lose-answer", action="store_true", help="the platform drops the 2207's answer"
        ),
    )


if __name__ == "__main__":
    raise SystemExit(main())

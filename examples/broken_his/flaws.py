"""Flaws a broken HIS can be given — DELIBERATELY WRONG behaviour — and where each is caught.

Each flaw is a mistake found in real hospital integrations. :data:`NEGATIVE_CONTROLS` names,
for each, the bundled scenario that exposes it, the requirement it breaks and the check that
must fail — and the other checks that fail with it because the flaw makes them fail too
(``collateral``): a HIS that resends an unknown settlement instead of reversing it has, by
that very act, not reversed it and lost track of a settlement. Everything else in the
scenario must still pass, which proves the failure comes from the flaw and from nothing else.

Example:
    >>> NEGATIVE_CONTROLS[Flaw.REUSE_MSGID].requirement
    'HIS-MSG-003'
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Final

__all__ = ["NEGATIVE_CONTROLS", "Flaw", "NegativeControl"]


class Flaw(StrEnum):
    """One deliberate mistake (the value is its command-line name).

    Example:
        >>> Flaw("skip-sign-in") is Flaw.SKIP_SIGN_IN
        True
    """

    RESEND_AFTER_TIMEOUT = "resend-after-timeout"
    """(a) A 2207 whose answer never came is sent again (new msgid, same input) — not reversed."""
    SKIP_SIGN_IN = "skip-sign-in"
    """(b) No sign-in before business calls; it signs in only once the platform refuses one."""
    KIOSK_AS_WINDOW = "kiosk-opter-type-1"
    """(c) A kiosk sends opter_type 1 (经办人) instead of 2 (自助终端)."""
    WRONG_TOTAL = "wrong-total"
    """(d) The settlement total is Σ unit prices (quantities forgotten), not Σ of the fee lines;
    the HIS settles it even though the pre-settlement was refused."""
    CANCEL_SETTLED_VISIT = "cancel-settled-visit"
    """(e) A refund is done by cancelling the registration (2202) — no 2208 first."""
    REUSE_MSGID = "reuse-msgid"
    """(f) One msgid for a pre-settlement and its settlement ("one msgid per business step")."""
    CHRONIC_AS_ORDINARY = "chronic-as-ordinary"
    """(g) When the platform refuses a chronic visit's disease, the visit is quietly charged as
    an ordinary one (med_type 11) instead of the charge ending refused."""
    UNMATCHED_STAY_FEES = "unmatched-stay-fees"
    """(h) The last line of each inpatient fee batch never reaches the platform (an item not
    mapped to the catalogue), yet the HIS settles the stay on its own total."""
    SETTLE_WITHOUT_PRESETTLEMENT = "settle-without-presettlement"
    """(i) A stay is settled (2304) on the HIS's own figures, with no pre-settlement (2303)."""
    CANCEL_OUT_OF_ORDER = "cancel-stay-settlement-out-of-order"
    """(j) Asked to cancel an older settlement of a stay, the HIS sends the 2305 while a newer
    one stands (the platform cancels a stay's settlements newest first)."""


@dataclass(frozen=True)
class NegativeControl:
    """Where the suite must catch one flaw.

    Attributes:
        scenario: id of the bundled scenario that exposes it.
        requirement: the requirement it breaks.
        check: the check that must fail, naming that requirement.
        collateral: other checks the flaw necessarily fails as well.
        failed_steps: steps whose outcome the flaw necessarily changes.
    """

    scenario: str
    requirement: str
    check: str
    collateral: tuple[str, ...] = ()
    failed_steps: tuple[str, ...] = ()


NEGATIVE_CONTROLS: Final[dict[Flaw, NegativeControl]] = {
    Flaw.RESEND_AFTER_TIMEOUT: NegativeControl(
        "lab/unknown-settlement",
        "HIS-REV-001",
        "no_resend_after_unknown",
        # Resending *instead of* reversing: no 2601, and the committed settlement is lost.
        collateral=(
            "reversal_after_unknown_2207",
            "driver_outcome_matches_platform",
            "nothing_lost_or_doubled",
        ),
    ),
    Flaw.SKIP_SIGN_IN: NegativeControl(
        "lab/every-transaction",
        "HIS-SES-001",
        "sign_in_first",
        # The first business call necessarily carries no sign_no either.
        collateral=("sign_no_carried",),
    ),
    Flaw.KIOSK_AS_WINDOW: NegativeControl(
        "self-test/kiosk-01-e-voucher", "HIS-MOD-002", "opter_type_matches_mode"
    ),
    Flaw.WRONG_TOTAL: NegativeControl(
        "district/district-area-codes",
        "HIS-AMT-002",
        "settled_total_matches_fees",
        # The platform refuses the wrong total at 2206, so no 2207 can echo a pre-settlement.
        collateral=("settle_echoes_presettle",),
        failed_steps=("kunming_charge", "qujing_charge"),
    ),
    Flaw.CANCEL_SETTLED_VISIT: NegativeControl(
        "self-test/window-01-e-voucher",
        "HIS-REG-001",
        "cancel_after_reversal",
        # The platform refuses both 2202s of the settled visit: refund and cancel end rejected.
        failed_steps=("refund", "cancel_registration_2"),
    ),
    Flaw.REUSE_MSGID: NegativeControl(
        "lab/every-transaction",
        "HIS-MSG-003",
        "msgid_unique",
        # The platform refuses the reused msgid: the charge fails, the refunds have nothing to
        # refund (skipped).
        failed_steps=("charge",),
    ),
    Flaw.CHRONIC_AS_ORDINARY: NegativeControl(
        "lab/chronic-disease-refused",
        "HIS-CHR-002",
        "no_ordinary_fallback",
        # The charge the scenario expects refused ends ok: that step fails with the check.
        failed_steps=("charge",),
    ),
    Flaw.UNMATCHED_STAY_FEES: NegativeControl(
        "self-test/inpatient-01-stay",
        "HIS-INP-002",
        "stay_total_matches_the_platforms_lines",
        # The platform refuses every 2303 of the stay (its total is not the HIS's): nothing
        # settles, and the cancellation has no settlement to name (skipped).
        failed_steps=("first_part", "second_part", "settle_stay"),
    ),
    Flaw.SETTLE_WITHOUT_PRESETTLEMENT: NegativeControl(
        "self-test/inpatient-01-stay",
        "HIS-INP-003",
        "final_settlement_after_discharge_and_presettlement",
        # The platform refuses every 2304 without its 2303: nothing settles.
        failed_steps=("first_part", "second_part", "settle_stay"),
    ),
    Flaw.CANCEL_OUT_OF_ORDER: NegativeControl(
        "self-test/inpatient-02-cancel-order",
        "HIS-INP-004",
        "stay_settlements_cancelled_newest_first",
    ),
}
"""Flaw → where the suite catches it (asserted by tests/conformance/test_negative_controls.py)."""

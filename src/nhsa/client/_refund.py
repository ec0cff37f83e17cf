"""The refund workflow, as hospitals do it.

- **Full**: 2208 (the platform books the negative settlement and pays the funds and the
  account back), then 2205 to cancel the charge's fee lines.
- **Partial**: the platform has no "refund these lines" call, so the whole settlement is
  reversed (2208 + 2205) and the lines the patient keeps are uploaded again as a new batch and
  settled (2204, 2206, 2207) — every step journaled.

An unknown 2208 is reversed with 2601, so the original settlement stands again and the refund
can simply be tried once more.

Example:
    >>> kept_lines(("A", "B", "C"), ["B"])
    ('A', 'C')
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, TypeVar

from nhsa.client._charge import cancel_batch_input, check_visit_held, settle_lines
from nhsa.client._flow import Flow
from nhsa.client._inputs import FeeLine
from nhsa.client._load_bearing import loaded
from nhsa.client._outcomes import Succeeded
from nhsa.client._results import Charge, Refund, SettlementTotals
from nhsa.client._unwrap import error_for, unwrap
from nhsa.client.errors import InvalidInputError, NhsaClientError
from nhsa.models import Input2208, Input2208Data
from nhsa.redaction import get_logger

if TYPE_CHECKING:
    from nhsa.client._core import Core

T = TypeVar("T")
_log = get_logger("nhsa.client")


def kept_lines(serials: Sequence[T], refunded: Sequence[T]) -> tuple[T, ...]:
    """The serials not refunded, in their original order."""
    gone = set(refunded)
    return tuple(serial for serial in serials if serial not in gone)


def refund(core: Core, charge: Charge, *, lines: Sequence[str] | None = None) -> Flow[Refund]:
    """Refund ``charge`` fully, or only the fee lines whose serials are in ``lines``."""
    serials = [line.feedetl_sn or "" for line in charge.lines]
    if lines is not None:
        unknown = sorted(set(lines) - set(serials))
        if unknown:
            raise InvalidInputError(
                f"lines: {', '.join(unknown)} are not fee lines of this charge "
                f"(its serials: {', '.join(serials)})",
                field="lines",
                rule="serial-of-charge",
            )
        if not lines:
            raise InvalidInputError(
                "lines: name at least one fee line to refund", field="lines", rule="minItems"
            )
    keep = kept_lines(serials, lines) if lines is not None else ()
    registration = charge.registration
    area = registration.insuplc_admdvs
    check_visit_held(core, registration.mdtrt_id, "refund", "2208")
    with core.journal.visit_guard(core.tenant, registration.mdtrt_id):
        reverse = Input2208(
            data=Input2208Data(
                setl_id=charge.setl_id, mdtrt_id=registration.mdtrt_id, psn_no=registration.psn_no
            )
        )
        outcome = yield from core.call("2208", reverse, insuplc_admdvs=area)
        if isinstance(outcome, Succeeded) and not outcome.usable:
            # Refunded (definite) though the answer lacks what the journal needs: the fee
            # lines are cancelled all the same, then the error says what is missing.
            unusable = error_for(outcome)
            cancelled = yield from _cancel_lines(core, charge)
            unusable.add_note(
                f"the refund stands; fee batch {charge.chrg_bchno} was "
                + ("cancelled (2205)" if cancelled else "not cancelled: cancel it with 2205")
            )
            raise unusable
        output = unwrap(outcome)
        refunded = SettlementTotals.of(output.setlinfo)
        cancelled = yield from _cancel_lines(core, charge)
        result = Refund(
            charge=charge,
            msgid=outcome.msgid,
            setl_id=loaded(output, "setlinfo.setl_id"),
            refunded=refunded,
            fee_batch_cancelled=cancelled,
        )
        if not keep:
            return result
        kept = [_fresh(line) for line in charge.lines if (line.feedetl_sn or "") in keep]
        try:
            recharge = yield from settle_lines(
                core,
                registration,
                kept,
                med_type=charge.med_type,
                chronic=charge.chronic,
                psn_setlway=charge.psn_setlway,
                acct_used_flag=charge.acct_used_flag,
                invono=None,
            )
        except NhsaClientError as error:
            error.add_note(
                f"the refund itself succeeded (2208 {outcome.msgid}, setl_id {result.setl_id}); "
                f"the {len(kept)} kept line(s) were not charged again — charge them anew"
            )
            raise
        return Refund(
            charge=charge,
            msgid=result.msgid,
            setl_id=result.setl_id,
            refunded=refunded,
            fee_batch_cancelled=cancelled,
            recharge=recharge,
        )


def _cancel_lines(core: Core, charge: Charge) -> Flow[bool]:
    registration = charge.registration
    try:
        outcome = yield from core.call(
            "2205",
            cancel_batch_input(registration, charge.chrg_bchno),
            insuplc_admdvs=registration.insuplc_admdvs,
        )
    except NhsaClientError as error:
        _log.warning("fee batch %s not cancelled after refund: %s", charge.chrg_bchno, error)
        return False
    if not isinstance(outcome, Succeeded):
        _log.warning("fee batch %s not cancelled after refund: %s", charge.chrg_bchno, outcome.kind)
        return False
    return True


def _fresh(line: FeeLine) -> FeeLine:
    """The line without its serial: re-uploaded lines get new serials in the new batch."""
    return replace(line, feedetl_sn=None)

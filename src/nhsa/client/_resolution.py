"""Resolution: closing a state-changing call whose outcome is unknown, without ever resending it.

The path is read from the contract — ``reversible_by_2601`` first, then ``undone_by`` — never
from a list in code. 5203 (settlement query) would need the ``setl_id`` that only the lost
answer carried, so it cannot resolve a lost 2207; 2601 can, by the msgid we journaled before
sending. The resulting path per transaction of the contract:

=======  ===========================  ====================================================
infno    path                         notes
=======  ===========================  ====================================================
2207     2601 (冲正)                  repeated, new msgid each time, until definite; the
                                      answer tells whether the platform had booked it
2208     2601                         undoes the refund: the settlement stands again
2304     2601                         inpatient settlement
2305     2601                         inpatient settlement cancel
2401     2601                         admission
2204     2205 with its chrg_bchno     cancels the batch; "nothing to cancel" means the
                                      upload never arrived: closed as well
2402     2405 (mdtrt_id, psn_no)      undoes the discharge
2201     manual decision              2202 needs the mdtrt_id only the lost answer had
2301     manual decision              2302 needs feedetl_sn serials
2503     manual decision              2504 needs the trt_dcla_detl_sn only the lost answer
                                      had; 5301 shows whether the disease is on record
2202, 2203, 2203A, 2205, 2206,        no undo exists; 2206 books nothing (a charge stops
2302, 2303, 2404, 2405, 2504,         before 2207); the others are cancellations or
9101     manual decision              uploads a person confirms (9101: an orphan file)
9001, 9002, 2601, queries             never resolved: safe to repeat, so simply retried
=======  ===========================  ====================================================

``WindowMode(on_unknown="hold")`` skips all of this and leaves the entry ``held`` for the
cashier (:meth:`nhsa.client.Client.reverse_held`). A reversal that cannot reach the platform
within ``retry.resolution_deadline`` leaves the entry in ``reversing`` — :class:`StillPending`
— and ``recover()`` finishes it.

Example:
    >>> undo_input("2205", {"mdtrt_id": "V1", "chrg_bchno": "B1", "psn_no": "P1"}).data.chrg_bchno
    'B1'
    >>> undo_input("2202", {"psn_no": "P1", "ipt_otp_no": "MZ1"}) is None
    True
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from pydantic import ValidationError

from nhsa.client._flow import Flow
from nhsa.client._journal import JournalEntry
from nhsa.client._outcomes import (
    Held,
    NeedsManualDecision,
    NotSent,
    Outcome,
    Rejected,
    Resolution,
    Reversed,
    StillPending,
    Succeeded,
)
from nhsa.client.errors import NhsaClientError
from nhsa.models import Input2601, Input2601Data, InputModel, models_for

if TYPE_CHECKING:
    from nhsa.client._core import Core

REVERSAL = "2601"


def resolve(core: Core, msgid: str, *, hold: bool | None = None) -> Flow[Resolution]:
    """Close the journal entry ``msgid`` (state ``unknown``/``reversing``/``held``).

    Args:
        hold: leave it ``held`` for a person; ``None`` follows the client's mode.
    """
    entry = core.journal.get(msgid)
    if entry is None:
        return NeedsManualDecision(f"{msgid} is not in the journal")
    if hold if hold is not None else core.mode.on_unknown == "hold":
        reason = "held for the cashier's decision (WindowMode on_unknown='hold')"
        core.journal.mark(msgid, "held", detail=reason)
        return Held(reason)
    transaction = core.transaction(entry.infno)
    if transaction.reversible_by_2601:
        return (yield from _reverse(core, entry))
    undo_infno = transaction.undone_by
    undo = undo_input(undo_infno, entry.facts) if undo_infno else None
    if undo_infno and undo is not None:
        return (yield from _undo(core, entry, undo_infno, undo))
    reason = (
        f"{entry.infno} has no automatic undo"
        + (f" ({undo_infno} needs identifiers only the lost answer carried)" if undo_infno else "")
        + "; check the platform (reconciliation 3202, or ask the agency) and correct by hand"
    )
    core.journal.mark(msgid, "manual", detail=reason)
    return NeedsManualDecision(reason)


def undo_input(infno: str, facts: Mapping[str, str]) -> InputModel | None:
    """The input of business cancel ``infno`` built from journaled identifiers, if they suffice.

    Only transactions whose input is one object node qualify; every required field of that
    node must be among ``facts``.
    """
    model = models_for(infno).input
    if len(model.model_fields) != 1:
        return None
    ((node_name, node_field),) = model.model_fields.items()
    node_type = node_field.annotation
    if not (isinstance(node_type, type) and issubclass(node_type, InputModel)):
        return None
    values = {}
    for name, field in node_type.model_fields.items():
        key = field.alias or name
        if key in facts:
            values[key] = facts[key]
        elif field.is_required():
            return None
    try:
        return model.model_validate({node_name: values})
    except ValidationError:
        return None


def _reverse(core: Core, entry: JournalEntry) -> Flow[Resolution]:
    """2601 naming the entry's msgid, in rounds until definite or out of time (``undo=True``)."""
    if not entry.psn_no:
        reason = f"{entry.infno} {entry.msgid}: 2601 needs psn_no, which the journal lacks"
        core.journal.mark(entry.msgid, "manual", detail=reason)
        return NeedsManualDecision(reason)
    reversal = Input2601(
        data=Input2601Data(psn_no=entry.psn_no, omsgid=entry.msgid, oinfno=entry.infno)
    )
    outcome = yield from _send_undo(core, entry, REVERSAL, reversal, until_definite=True)
    if isinstance(outcome, StillPending):
        return outcome
    if isinstance(outcome, Succeeded):
        not_found = core.config.patterns.matches("original_not_found", outcome.warn_msg)
        note = outcome.warn_msg or "reversed by 2601"
        core.journal.mark(
            entry.msgid,
            "reversed",
            detail=note,
            resolved_by=outcome.msgid,
            original_found=not not_found,
        )
        return Reversed(REVERSAL, outcome.msgid, not not_found, outcome.warn_msg)
    if isinstance(outcome, Rejected) and not outcome.downtime:
        reason = f"2601 refused (infcode {outcome.infcode}): {outcome.err_msg}"
        core.journal.mark(entry.msgid, "manual", detail=reason)
        return NeedsManualDecision(reason, outcome.err_msg)
    last = outcome.err_msg if isinstance(outcome, Rejected) else outcome.reason
    tries = len(outcome.attempts)
    return _still_pending(core, entry, f"2601 not definite after {tries} attempt(s): {last}")


def _undo(core: Core, entry: JournalEntry, infno: str, undo: InputModel) -> Flow[Resolution]:
    """The business cancel (``undone_by``) of the entry, once."""
    outcome = yield from _send_undo(core, entry, infno, undo, until_definite=False)
    if isinstance(outcome, StillPending):
        return outcome
    if isinstance(outcome, Succeeded):
        core.journal.mark(
            entry.msgid, "reversed", detail=f"undone by {infno}", resolved_by=outcome.msgid
        )
        return Reversed(infno, outcome.msgid, None, outcome.warn_msg)
    if isinstance(outcome, NotSent):
        return _still_pending(core, entry, f"{infno} not sent: {outcome.reason}")
    if isinstance(outcome, Rejected) and core.config.patterns.matches(
        "nothing_to_undo", outcome.err_msg
    ):
        # A definite "there is nothing to cancel": the original never took effect.
        core.journal.mark(
            entry.msgid, "reversed", detail=outcome.err_msg, resolved_by=outcome.msgid,
            original_found=False,
        )  # fmt: skip
        return Reversed(infno, outcome.msgid, False, outcome.err_msg)
    if isinstance(outcome, Rejected):
        reason = f"{infno} refused (infcode {outcome.infcode}): {outcome.err_msg}"
        core.journal.mark(entry.msgid, "manual", detail=reason)
        return NeedsManualDecision(reason, outcome.err_msg)
    reason = f"the undo {infno} {outcome.msgid} has an unknown outcome too: {outcome.reason}"
    core.journal.mark(entry.msgid, "manual", detail=reason)
    return NeedsManualDecision(reason)


def _send_undo(
    core: Core, entry: JournalEntry, infno: str, undo: InputModel, *, until_definite: bool
) -> Flow[Outcome | StillPending]:
    """Send the undo of ``entry`` (even when its insured place is down), entry ``reversing``."""
    core.journal.mark(entry.msgid, "reversing")
    try:
        return (
            yield from core.call(
                infno,
                undo,
                insuplc_admdvs=entry.insuplc_admdvs,
                resolve=False,
                reverses=entry.msgid,
                check_breaker=False,
                undo=until_definite,
            )
        )
    except NhsaClientError as error:  # e.g. sign-in refused: the undo is not done yet
        return _still_pending(core, entry, f"{infno} could not be sent: {error}")


def _still_pending(core: Core, entry: JournalEntry, reason: str) -> StillPending:
    core.journal.mark(entry.msgid, "reversing", detail=reason)
    return StillPending(reason)

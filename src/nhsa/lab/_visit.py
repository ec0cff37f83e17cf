"""One visit out of an institution's transcript: its messages, and those it depends on.

A visit is every record naming its ``mdtrt_id`` (the 2201 that opened it, its 2203/2204/2206/
2207, refunds and cancellations — or, for an inpatient stay, the 2401 that admitted the patient,
its fee batches, settlements, discharge and cancellations) plus the 2601s that reverse one of
them. To understand — or re-run — it one also needs what came before: the sign-in (9001) whose
``sign_no`` its calls carry, the person lookups (1101) of its patient, and the patient's earlier
visits and stays at the same institution (they moved the personal account and the
year-to-date counters the settlement started from). :func:`visit_records` returns all of them
in order, each with its role.

Example::

    for part in visit_records(records, "3000000000042"):
        print(part.role, part.record.seq, part.record.infno)
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Final, Literal

from nhsa.conformance import TranscriptRecord

__all__ = ["ROLES", "Role", "VisitPart", "visit_ids", "visit_records", "visit_verdict"]

Role = Literal["visit", "sign-in", "person", "history"]
ROLES: Final[dict[str, str]] = {
    "visit": "a message of this visit",
    "sign-in": "the sign-in whose sign_no the visit's calls carry",
    "person": "a lookup of the visit's patient",
    "history": "an earlier visit or stay of the same patient at this institution",
}
"""Each role, as the console and the replay explain it."""
_SETTLING: Final = ("2207", "2304")
"""A visit's settlement and a stay's (mid-way or final)."""
_OPENING: Final = ("2201", "2401")
"""What opens a visit (registration) and a stay (admission)."""


@dataclass(frozen=True)
class VisitPart:
    """One record of a visit's story and why it belongs to it."""

    role: Role
    record: TranscriptRecord


def visit_ids(records: Iterable[TranscriptRecord]) -> list[str]:
    """Every ``mdtrt_id`` the records name, in the order each first appears.

    Example:
        >>> visit_ids([])
        []
    """
    seen: dict[str, None] = {}
    for record in records:
        if record.mdtrt_id:
            seen.setdefault(record.mdtrt_id, None)
    return list(seen)


def visit_records(records: Sequence[TranscriptRecord], mdtrt_id: str) -> list[VisitPart]:
    """The visit's records and those it depends on, oldest first (``[]``: no such visit)."""
    own = _with_reversals(records, {r.seq for r in records if r.mdtrt_id == mdtrt_id})
    if not own:
        return []
    first = min(own)
    patient = _patient(records, own)
    earlier = {
        seq
        for seq in _with_reversals(records, _visits_of(records, patient, before=first))
        if seq not in own
    }
    chosen = own | earlier
    lookups = {
        r.seq
        for r in records
        if r.infno == "1101" and r.seq < max(own) and patient is not None and _about(r, patient)
    }
    sign_ins = _sign_ins(records, chosen | lookups)
    roles: dict[int, Role] = dict.fromkeys(earlier, "history")
    roles |= dict.fromkeys(lookups, "person")
    roles |= dict.fromkeys(sign_ins, "sign-in")
    roles |= dict.fromkeys(own, "visit")
    return [VisitPart(roles[r.seq], r) for r in records if r.seq in roles]


def visit_verdict(records: Iterable[TranscriptRecord]) -> str:
    """What became of the visit's settlements (2207, a stay's 2304), in words that carry no
    platform id.

    The same behaviour gives the same words, on any platform and any day: the replay compares
    these lines to say whether it reached the original's verdict.

    Example:
        >>> visit_verdict([])
        'no settlement (2207 or 2304) was attempted'
    """
    lines: list[str] = []
    settled: dict[str, int] = {}  # msgid of a committed 2207 or 2304 -> its line
    booked: dict[str, str] = {}  # setl_id -> msgid of the 2207 or 2304 that booked it
    for record in records:
        msgid = record.msgid or "?"
        if record.infno in _SETTLING:
            lines.append(f"{record.infno} {msgid}: {_settle_outcome(record)}")
            if record.state_changed:
                settled[msgid] = len(lines) - 1
                setl_id = record.output_node("setlinfo").get("setl_id")
                booked[str(setl_id or record.effects.get("setl_id"))] = msgid
        elif record.state_changed and record.infno in ("2208", "2305", "2601"):
            target = (
                str(record.data.get("omsgid"))
                if record.infno == "2601"
                else booked.get(str(record.data.get("setl_id")))
            )
            if target in settled:
                lines[settled[target]] += f"; reversed by {record.infno} {msgid}"
    return "\n".join(lines) or "no settlement (2207 or 2304) was attempted"


def _settle_outcome(record: TranscriptRecord) -> str:
    fault = f" ({record.fault_kind.value} fault)" if record.fault_kind else ""
    if record.state_changed and record.answer_trusted:
        return "settled"
    if record.state_changed:
        return f"booked by the platform, but the answer did not reach the HIS{fault}"
    if record.definite_failure:
        return f"refused (infcode -1{fault}): {record.err_msg}"
    return f"not booked, answer not delivered{fault}"


def _with_reversals(records: Sequence[TranscriptRecord], seqs: set[int]) -> set[int]:
    msgids = {r.msgid for r in records if r.seq in seqs and r.msgid}
    return seqs | {r.seq for r in records if r.infno == "2601" and r.data.get("omsgid") in msgids}


def _patient(records: Sequence[TranscriptRecord], seqs: set[int]) -> str | None:
    return next((r.psn_no for r in records if r.seq in seqs and r.psn_no), None)


def _visits_of(
    records: Sequence[TranscriptRecord], patient: str | None, *, before: int
) -> set[int]:
    if patient is None:
        return set()
    earlier = {
        r.mdtrt_id
        for r in records
        if r.infno in _OPENING and r.psn_no == patient and r.seq < before
    }
    return {r.seq for r in records if r.seq < before and r.mdtrt_id in earlier}


def _about(record: TranscriptRecord, patient: str) -> bool:
    answered = record.output_node("baseinfo").get("psn_no")
    return patient in (record.psn_no, answered)


def _sign_ins(records: Sequence[TranscriptRecord], seqs: set[int]) -> set[int]:
    """For each sign_no the chosen records carry, the latest 9001 before it that issued it."""
    found: set[int] = set()
    for sign_no in {r.sign_no for r in records if r.seq in seqs and r.sign_no}:
        first_use = min(r.seq for r in records if r.seq in seqs and r.sign_no == sign_no)
        issuing = [r.seq for r in records if r.seq < first_use and r.sign_no_issued == sign_no]
        if issuing:
            found.add(issuing[-1])
    return found

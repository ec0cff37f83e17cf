"""Small helpers the built-in checks share: evidence for a record, verdicts, transaction kinds.

Example:
    >>> is_state_changing("2207"), is_state_changing("1101"), is_state_changing("2601")
    (True, False, False)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import cache
from typing import Any

from nhsa import spec
from nhsa.conformance._context import CheckContext, CheckOutcome, Evidence, failed, passed
from nhsa.conformance._transcript import TranscriptRecord

__all__ = ["evidence_for", "is_state_changing", "learn_areas", "show", "verdict"]


@cache
def is_state_changing(infno: str | None) -> bool:
    """Whether the contract marks ``infno`` as a write that is not safe to repeat.

    2601 (reversal), 9001 and 9002 are writes the contract declares safe to repeat; they are
    not state-changing in the sense of the resend rules.

    Example:
        >>> is_state_changing("2201"), is_state_changing("9001")
        (True, False)
    """
    if infno is None:
        return False
    try:
        transaction = spec.contract().transaction(infno)
    except spec.UnknownTransactionError:
        return False
    return transaction.kind == "write" and not transaction.safe_to_repeat


def evidence_for(
    ctx: CheckContext,
    records: TranscriptRecord | Sequence[TranscriptRecord],
    expected: str,
    seen: str,
) -> Evidence:
    """Evidence pointing at one record or several, with the step of the first one.

    Example::

        evidence_for(ctx, record, "opter_type 2", "opter_type 1")
    """
    items = [records] if isinstance(records, TranscriptRecord) else list(records)
    seqs = tuple(r.seq for r in items)
    return Evidence(expected, seen, seqs, ctx.step_name(seqs[0]) if seqs else None)


def verdict(problems: Sequence[Evidence], ok: str, bad: str) -> CheckOutcome:
    """Pass with ``ok`` when there are no problems, else fail with ``bad`` and the evidence.

    Example:
        >>> verdict([], "all good", "bad things").status
        <Status.PASS: 'pass'>
    """
    if problems:
        return failed(f"{bad}: {len(problems)} found", *problems)
    return passed(ok)


def show(value: Any) -> str:
    """A value as a short string for evidence (``None`` shown as 'nothing').

    Example:
        >>> show(None), show("530100")
        ('nothing', '530100')
    """
    if value is None or value == "":
        return "nothing"
    return str(value)


def learn_areas(record: TranscriptRecord, areas: dict[str, dict[str, str]]) -> None:
    """Add what a 1101 answer that reached the HIS says: psn_no → insutype → insured area.

    Example::

        areas: dict[str, dict[str, str]] = {}
        for record in ctx.records_of("1101"):
            learn_areas(record, areas)
    """
    if not record.definite_success:
        return
    rows = record.output.get("insuinfo")
    psn_no = record.output_node("baseinfo").get("psn_no")
    if not isinstance(rows, list) or not isinstance(psn_no, str):
        return
    learned = areas.setdefault(psn_no, {})
    for row in rows:
        if isinstance(row, Mapping) and row.get("insutype") and row.get("insuplc_admdvs"):
            learned[str(row["insutype"])] = str(row["insuplc_admdvs"])

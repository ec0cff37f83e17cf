"""After a drill: the HIS's journal against the platform's ledger, row by row.

- **lost**: a settlement (2207) or refund (2208) acknowledged by one side and missing on the
  other — the journal holds it ``succeeded`` but the ledger has no active row of that
  ``setl_id``, or the ledger holds an active row whose msgid the journal does not hold as
  ``succeeded`` (a settlement booked that the HIS does not know about, or a refund it thinks
  failed);
- **doubled**: a visit (``mdtrt_id``) with more than one live settlement;
- **unresolved**: journal entries still ``sending``, ``unknown``, ``reversing`` or ``held``,
  and settlements or refunds left ``manual``; the other ``manual`` entries — a registration,
  an upload or a pre-settlement whose outcome was lost, which the SDK leaves to a person by
  design (``nhsa.client._resolution``) and which move no money — are counted apart
  (``to_a_person``);
- **balanced**: every 3201 group of the day's reconciliation answered ``stmt_rslt`` 0.

Example::

    found = audit(journal_entries(folder / "journal.sqlite3", code), admin.settlements(code),
                  report)
    found.lost, found.doubled, found.balanced
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from nhsa.client import Journal, JournalEntry, ReconcileReport

from ._workflows import Tally

__all__ = ["Audit", "Part", "Run", "audit", "journal_entries"]

LEDGER_WRITES: Final = ("2207", "2208")
UNRESOLVED: Final = ("sending", "unknown", "reversing", "held")


@dataclass
class Audit:
    """What the journal and the ledger say together (see the module docstring)."""

    settlements: int = 0
    refunds: int = 0
    lost: int = 0
    doubled: int = 0
    unresolved: int = 0
    to_a_person: Counter[str] = field(default_factory=Counter)
    retried_by_hand: Counter[str] = field(default_factory=Counter)
    balanced: bool | None = None
    reconcile_groups: list[dict[str, Any]] = field(default_factory=list)
    examples: list[str] = field(default_factory=list)

    def merge(self, other: Audit) -> None:
        """Add another shard's audit to this one (balanced only if both are)."""
        for name in ("settlements", "refunds", "lost", "doubled", "unresolved"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.to_a_person.update(other.to_a_person)
        self.retried_by_hand.update(other.retried_by_hand)
        if other.balanced is not None:
            self.balanced = other.balanced if self.balanced is None else (
                self.balanced and other.balanced
            )  # fmt: skip
        self.reconcile_groups += other.reconcile_groups
        self.examples = (self.examples + other.examples)[:8]

    def note(self, text: str) -> None:
        """Keep the first few examples of what went wrong."""
        if len(self.examples) < 8:
            self.examples.append(text)

    def as_json(self) -> dict[str, Any]:
        """Plain data for the JSON results."""
        return {
            "settlements": self.settlements,
            "refunds": self.refunds,
            "lost": self.lost,
            "doubled": self.doubled,
            "unresolved": self.unresolved,
            "to_a_person": dict(self.to_a_person),
            "retried_by_hand": dict(self.retried_by_hand),
            "balanced": self.balanced,
            "reconcile_groups": self.reconcile_groups,
            "examples": self.examples,
        }


@dataclass
class Part:
    """One part of a drill that runs visits: what the counters did, the audit, the time."""

    name: str
    visits: Tally = field(default_factory=Tally)
    audit: Audit = field(default_factory=Audit)
    seconds: float = 0.0
    note: str = ""

    def as_json(self) -> dict[str, Any]:
        """Plain data for the JSON results."""
        return {
            "name": self.name,
            "seconds": round(self.seconds, 1),
            "note": self.note,
            "visits": self.visits.as_json(),
            "audit": self.audit.as_json(),
        }


@dataclass
class Run:
    """The parts of one drill run, its seed and time."""

    parts: Sequence[Part]
    seed: int
    seconds: float

    def as_json(self) -> dict[str, Any]:
        """Plain data for the JSON results."""
        return {
            "seed": self.seed,
            "seconds": round(self.seconds, 1),
            "parts": [part.as_json() for part in self.parts],
        }


def journal_entries(paths: Iterable[Path], tenant: str) -> list[JournalEntry]:
    """Every entry of ``tenant`` in the journals at ``paths``."""
    entries: list[JournalEntry] = []
    for path in paths:
        journal = Journal(path)
        try:
            entries += journal.entries(tenant)
        finally:
            journal.close()
    return entries


def audit(
    entries: Sequence[JournalEntry],
    ledger: Sequence[Mapping[str, Any]],
    reports: Sequence[ReconcileReport] = (),
) -> Audit:
    """Compare the journal ``entries`` with the platform's ``ledger`` (admin settlements)."""
    found = Audit()
    succeeded = {e.msgid: e for e in entries if e.infno in LEDGER_WRITES and e.state == "succeeded"}
    active = [row for row in ledger if row["status"] == "active"]
    by_setl_id = {row["setl_id"]: row for row in active}
    for entry in succeeded.values():
        setl_id = entry.result.get("setl_id")
        row = by_setl_id.get(setl_id)
        if row is None or (row["reversed_by"] and not _refunded(row, by_setl_id)):
            found.lost += 1
            found.note(f"journal: {entry.infno} {entry.msgid} succeeded (setl_id {setl_id}), "
                       "no active ledger row or one a 2601 voided")  # fmt: skip
    for row in active:
        if row["infno"] not in LEDGER_WRITES:
            continue  # a 2601 reversal row: it pairs with its original
        if row["infno"] == "2207" and row["reversed_by"] and not _refunded(row, by_setl_id):
            continue  # a settlement voided by 2601 nets to nothing
        if row["msgid"] not in succeeded:
            found.lost += 1
            found.note(f"ledger: {row['infno']} {row['msgid']} (setl_id {row['setl_id']}) "
                       "active, not succeeded in the journal")  # fmt: skip
    live = [row for row in ledger if row.get("live")]
    found.settlements = len(live)
    found.refunds = sum(1 for row in active if row["infno"] == "2208")
    per_visit = Counter(row["mdtrt_id"] for row in live)
    for mdtrt_id, count in per_visit.items():
        if count > 1:
            found.doubled += 1
            found.note(f"visit {mdtrt_id}: {count} live settlements")
    for entry in entries:
        money = entry.infno in LEDGER_WRITES
        if entry.state in UNRESOLVED or (entry.state == "manual" and money):
            found.unresolved += 1
            found.note(f"journal: {entry.infno} {entry.msgid} left {entry.state}")
        elif entry.state == "manual":
            found.to_a_person[entry.infno] += 1
    if reports:
        found.balanced = all(r.balanced for r in reports)
        found.reconcile_groups = [
            {
                "insutype": g.insutype, "clr_type": g.clr_type, "stmt_rslt": g.stmt_rslt,
                "stmt_rslt_dscr": g.stmt_rslt_dscr, "his_count": g.his.count,
                "mismatches": len(g.mismatches),
            }
            for r in reports
            for g in r.groups
        ]  # fmt: skip
        for group in found.reconcile_groups:
            if group["stmt_rslt"] != "0":
                found.note(
                    f"3201 {group['insutype']}/{group['clr_type']}: {group['stmt_rslt_dscr']}"
                )
    return found


def _refunded(row: Mapping[str, Any], by_setl_id: Mapping[str, Mapping[str, Any]]) -> bool:
    """Whether the settlement ``row`` was reversed by a refund (2208) rather than a 2601."""
    reversal = by_setl_id.get(row["reversed_by"])
    return reversal is not None and reversal["infno"] == "2208"

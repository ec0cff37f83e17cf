"""What the console keeps in the mock's database, and what it reads there for a lab.

Every read is for one lab: runs are keyed by ``(lab, run_id)`` and an institution is a lab's
only when a :class:`~nhsa.mock.store.LabInstitution` row says so, so a session of another lab
finds nothing (the console answers 404, as for a code that does not exist).

Example::

    books = LabBooks(platform)
    books.claim("H53010112345", lab="lab-km", run_id=run_id, scenario="lab/every-transaction")
    books.owns("lab-km", "H53010112345")   # True; any other lab: False
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from nhsa.conformance import TranscriptRecord
from nhsa.conformance._mock_adapters import ledger_totals_of
from nhsa.conformance._mock_handle import InstitutionTakenError
from nhsa.conformance._transcript import parse_records
from nhsa.mock import MockPlatform
from nhsa.mock.store import EcToken, FilingOverride, LabInstitution, LabReport, LabRun

__all__ = ["DayTotal", "InstitutionView", "LabBooks", "ReportFile", "report_file"]


@dataclass(frozen=True)
class ReportFile:
    """A stored report file, ready to download."""

    name: str
    media_type: str
    content: bytes
    sha256: str


@dataclass(frozen=True)
class DayTotal:
    """One day of an institution's ledger, as 3201 would count it."""

    day: date
    setl_cnt: int
    medfee_sumamt: Any
    fund_pay_sumamt: Any
    acct_pay: Any


@dataclass(frozen=True)
class InstitutionView:
    """Everything the institution page shows, read in one go."""

    code: str
    registration: Mapping[str, Any]
    records: tuple[TranscriptRecord, ...]
    ledger: tuple[Mapping[str, Any], ...]
    days: tuple[DayTotal, ...]
    filings: tuple[FilingOverride, ...]
    tokens: tuple[EcToken, ...]
    downtime: tuple[Mapping[str, Any], ...]
    faults: tuple[Mapping[str, Any], ...]


class LabBooks:
    """The console's reads and writes over one mock platform (see the module docstring)."""

    def __init__(self, platform: MockPlatform) -> None:
        """Keep the books of ``platform``'s database."""
        self.platform = platform

    # -- institutions ---------------------------------------------------------------------

    def claim(self, code: str, *, lab: str, run_id: str, scenario: str) -> None:
        """Bind ``code`` to ``lab`` (durably, before it is registered); a code anyone has
        claimed is :class:`InstitutionTakenError` (the runner then picks another)."""
        with self.platform.store.transaction() as tx:
            if tx.get(LabInstitution, code) is not None:
                raise InstitutionTakenError(f"{code} belongs to a console run already")
            now = self.platform.core.clock()
            tx.put(LabInstitution(code, lab, run_id, scenario, now))

    def owns(self, lab: str, code: str) -> bool:
        """Whether ``code`` is one of ``lab``'s institutions."""
        with self.platform.store.snapshot() as tx:
            found = tx.get(LabInstitution, code)
        return found is not None and found.lab == lab

    def institutions(self, lab: str) -> list[LabInstitution]:
        """``lab``'s institutions, oldest first."""
        with self.platform.store.snapshot() as tx:
            return tx.find(LabInstitution, lab=lab)

    def institution(self, code: str) -> InstitutionView:
        """What the institution page shows (the caller checked :meth:`owns`)."""
        admin = self.platform.admin
        ledger = tuple(admin.settlements(code))
        with self.platform.store.snapshot() as tx:
            filings = tuple(tx.find(FilingOverride, tenant=code))
            tokens = tuple(tx.find(EcToken, tenant=code))
        days = sorted({date.fromisoformat(str(row["setl_date"])) for row in ledger})
        totals = []
        for day in days:
            summed = ledger_totals_of(ledger, day, day)
            totals.append(
                DayTotal(day, summed.setl_cnt, summed.medfee_sumamt, summed.fund_pay_sumamt,
                         summed.acct_pay)
            )  # fmt: skip
        return InstitutionView(
            code=code,
            registration=admin.institution(code),
            records=tuple(parse_records(admin.transcript(code))),
            ledger=ledger,
            days=tuple(totals),
            filings=filings,
            tokens=tokens,
            downtime=tuple(admin.notices(code, include_past=True)),
            faults=tuple(admin.faults(code)),
        )

    # -- runs -----------------------------------------------------------------------------

    def store_run(self, run: LabRun, files: list[ReportFile]) -> None:
        """Write a finished run and its report files in one transaction."""
        with self.platform.store.transaction() as tx:
            tx.put(run)
            for file in files:
                tx.put(
                    LabReport(run.lab, run.run_id, file.name, file.media_type, file.content,
                              file.sha256)
                )  # fmt: skip

    def runs(self, lab: str) -> list[LabRun]:
        """``lab``'s finished runs, newest first."""
        with self.platform.store.snapshot() as tx:
            found = tx.find(LabRun, lab=lab)
        return sorted(found, key=lambda run: run.started_at, reverse=True)

    def run(self, lab: str, run_id: str) -> LabRun | None:
        """One finished run of ``lab``."""
        with self.platform.store.snapshot() as tx:
            return tx.get(LabRun, lab, run_id)

    def report(self, lab: str, run_id: str, name: str) -> ReportFile | None:
        """One report file of one of ``lab``'s runs."""
        with self.platform.store.snapshot() as tx:
            found = tx.get(LabReport, lab, run_id, name)
        if found is None:
            return None
        return ReportFile(found.name, found.media_type, found.content, found.sha256)


def report_file(name: str, media_type: str, content: bytes) -> ReportFile:
    """A report file with its digest.

    Example:
        >>> stored = report_file("junit.xml", "application/xml", b"<x/>")
        >>> stored.sha256 == hashlib.sha256(b"<x/>").hexdigest()
        True
    """
    return ReportFile(name, media_type, content, hashlib.sha256(content).hexdigest())

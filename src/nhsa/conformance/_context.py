"""What a check sees and what it returns.

A check is a plain function ``(CheckContext) -> CheckOutcome``. The context holds the
scenario, its resolved plan (institution code, mode, profile, patients), every transcript
record of the scenario's tenant in order (each a :class:`~nhsa.conformance.TranscriptRecord`),
every step the runner drove with the driver's result and the records that arrived during it,
the check's arguments from the scenario, and a way to ask the mock for its ledger totals.
Outcomes carry evidence: which records (by ``seq``), what was expected, what was seen — the
lines a lab assessor reads first.

Example:
    >>> outcome = failed("msgid reused", Evidence("unique msgids", "m1 twice", records=(3, 9)))
    >>> outcome.status, outcome.evidence[0].records
    (<Status.FAIL: 'fail'>, (3, 9))
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, Protocol

from nhsa.conformance._driver import DriverResult
from nhsa.conformance._mock_handle import PlatformTotals
from nhsa.conformance._results import Status
from nhsa.conformance._transcript import TranscriptRecord

if TYPE_CHECKING:
    from nhsa.conformance._plan import ScenarioPlan
    from nhsa.conformance._scenario import Scenario

__all__ = [
    "CheckContext",
    "CheckOutcome",
    "Evidence",
    "LedgerReader",
    "StepRun",
    "failed",
    "not_applicable",
    "passed",
]

MAX_EVIDENCE = 20
"""Evidence items kept per outcome; the rest are counted in the message."""


class LedgerReader(Protocol):
    """The platform's own totals for days ``begin``..``end``, counted as 3201 counts them when
    sent ``refd_setl_flag`` (``None``: the default, refunds counted in)."""

    def __call__(
        self, begin: date, end: date, refd_setl_flag: str | None = None
    ) -> PlatformTotals: ...


@dataclass(frozen=True)
class StepRun:
    """One step as it ran: the request sent to the driver, its result, and what the mock saw.

    ``records`` are the ``seq`` numbers of transcript records that arrived while the step ran.
    ``result`` is ``None`` when the driver raised, timed out or the step was not run.
    ``patient`` is the alias of the patient the step acts for (``None`` for sign-in, reconcile).

    Example:
        >>> s = StepRun("charge", "charge", {}, DriverResult("ok"), Status.PASS, "ok", (5, 6))
        >>> s.outcome, s.last_seq
        ('ok', 6)
    """

    name: str
    action: str
    request: Mapping[str, Any]
    result: DriverResult | None
    status: Status
    message: str
    records: tuple[int, ...] = ()
    expected: tuple[str, ...] = ("ok",)
    timed_out: bool = False
    duration_s: float = 0.0
    started_at: datetime | None = None
    line: int | None = None
    patient: str | None = None

    @property
    def outcome(self) -> str | None:
        """The driver's status for the step, or ``None`` when there was no result."""
        return self.result.status if self.result is not None else None

    @property
    def last_seq(self) -> int | None:
        """The last record of the step, or ``None`` when the mock saw nothing."""
        return self.records[-1] if self.records else None


@dataclass(frozen=True, slots=True)
class Evidence:
    """Why a check decided as it did: expected vs seen, and where (records, step).

    Example:
        >>> Evidence("opter_type 2", "opter_type 1", records=(4,), step="charge").as_dict()
        {'expected': 'opter_type 2', 'seen': 'opter_type 1', 'records': [4], 'step': 'charge'}
    """

    expected: str
    seen: str
    records: tuple[int, ...] = ()
    step: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready view."""
        return {
            "expected": self.expected,
            "seen": self.seen,
            "records": list(self.records),
            "step": self.step,
        }


@dataclass(frozen=True)
class CheckOutcome:
    """A check's verdict: pass, fail, skip (not applicable, with the reason) or error.

    Built with :func:`passed`, :func:`failed` or :func:`not_applicable`; an exception a check
    raises becomes an ``error`` result in the runner.
    """

    status: Status
    message: str
    evidence: tuple[Evidence, ...] = ()


def passed(message: str, *evidence: Evidence) -> CheckOutcome:
    """A passing outcome (evidence optional: what was verified).

    Example:
        >>> passed("all 3 msgids unique").status
        <Status.PASS: 'pass'>
    """
    return CheckOutcome(Status.PASS, message, evidence[:MAX_EVIDENCE])


def failed(message: str, *evidence: Evidence) -> CheckOutcome:
    """A failing outcome; ``message`` says what the HIS did wrong, evidence says where.

    Example:
        >>> failed("msgid reused", Evidence("once", "twice", (3, 9))).message
        'msgid reused'
    """
    extra = len(evidence) - MAX_EVIDENCE
    suffix = f" (and {extra} more)" if extra > 0 else ""
    return CheckOutcome(Status.FAIL, message + suffix, evidence[:MAX_EVIDENCE])


def not_applicable(reason: str) -> CheckOutcome:
    """A skip: the check does not apply to what this scenario did (say why).

    Example:
        >>> not_applicable("applies to kiosk scenarios only").status
        <Status.SKIP: 'skip'>
    """
    return CheckOutcome(Status.SKIP, reason)


@dataclass(frozen=True)
class CheckContext:
    """Everything a check may look at (see the module docstring).

    Example::

        @check("kiosk_sends_dev_no", verifies=["HIS-MOD-002"])
        def kiosk_sends_dev_no(ctx: CheckContext) -> CheckOutcome:
            missing = [r for r in ctx.records if not r.envelope.get("dev_no")]
            ...
    """

    scenario: Scenario
    plan: ScenarioPlan
    records: tuple[TranscriptRecord, ...]
    steps: tuple[StepRun, ...]
    args: Mapping[str, Any] = field(default_factory=dict)
    ledger: LedgerReader | None = None

    @property
    def fixmedins_code(self) -> str:
        """The scenario's institution code (fresh for this run)."""
        return self.plan.configuration.fixmedins_code

    @property
    def mode(self) -> str:
        """``window`` or ``kiosk``."""
        return self.plan.configuration.mode.kind

    def records_of(self, *infnos: str) -> list[TranscriptRecord]:
        """Records of these transactions, in order."""
        return [r for r in self.records if r.infno in infnos]

    def records_in(self, step: StepRun) -> list[TranscriptRecord]:
        """Records that arrived while ``step`` ran."""
        wanted = set(step.records)
        return [r for r in self.records if r.seq in wanted]

    def record(self, seq: int) -> TranscriptRecord | None:
        """The record with this ``seq``, or ``None``."""
        return next((r for r in self.records if r.seq == seq), None)

    def steps_of(self, *actions: str) -> list[StepRun]:
        """Steps of these actions, in order."""
        return [s for s in self.steps if s.action in actions]

    def step_of(self, seq: int) -> StepRun | None:
        """The step during which record ``seq`` arrived."""
        return next((s for s in self.steps if seq in s.records), None)

    def step_name(self, seq: int) -> str | None:
        """The name of the step during which record ``seq`` arrived."""
        step = self.step_of(seq)
        return step.name if step is not None else None

    def iter_results(self) -> Iterator[tuple[StepRun, DriverResult]]:
        """(step, result) for every step that has a driver result."""
        for step in self.steps:
            if step.result is not None:
                yield step, step.result

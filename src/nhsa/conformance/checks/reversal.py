"""Unknown outcomes: reverse (2601) an unknown 2207 or 2304, never resend it; never reverse a
failure.

An answer the HIS could not trust — none arrived (commit-then-drop, hang, reset), or it came
garbled, as a 5xx, or with a bad signature — leaves the outcome unknown. Reference §5.2: the
HIS then reverses with 2601 naming ``omsgid``/``oinfno`` until the reversal is definite, and
only then may settle the visit again, with a new msgid. A definite failure (an intact
``infcode -1``) is the opposite case: nothing happened, so there is nothing to reverse.

Example:
    >>> from nhsa.conformance import default_registry
    >>> default_registry()["no_reversal_after_definite_failure"].verifies
    ('HIS-REV-004',)
"""

from __future__ import annotations

from collections import defaultdict

from nhsa import spec
from nhsa.conformance._context import CheckContext, CheckOutcome, Evidence, not_applicable
from nhsa.conformance._registry import check
from nhsa.conformance._transcript import TranscriptRecord
from nhsa.conformance.checks._common import evidence_for, is_state_changing, show, verdict

__all__ = [
    "error_answers_handled",
    "no_resend_after_unknown",
    "no_reversal_after_definite_failure",
    "reversal_after_unknown_2207",
    "reversal_after_unknown_2304",
]


def _msgid(record: TranscriptRecord) -> str:
    return record.msgid or ""


def _reversals_of(ctx: CheckContext, original: TranscriptRecord) -> list[TranscriptRecord]:
    """2601 records naming ``original`` (omsgid and oinfno), in order."""
    msgid, infno = _msgid(original), original.infno
    return [
        r
        for r in ctx.records_of("2601")
        if r.seq > original.seq and r.data.get("omsgid") == msgid and r.data.get("oinfno") == infno
    ]


def _why_unknown(record: TranscriptRecord) -> str:
    if record.fault_kind is not None:
        return f"fault {record.fault_kind.value}"
    return "the answer was not delivered"


@check("no_resend_after_unknown", verifies=["HIS-REV-001"])
def no_resend_after_unknown(ctx: CheckContext) -> CheckOutcome:
    """A state-changing request is never resent: not its msgid, nor its input after an unknown.

    After a reversal (2601) of the original answered successfully, the same input may be
    settled again with a new msgid (reference §5.2 step 5).

    Example::

        expect:
          checks: [no_resend_after_unknown]
    """
    problems: list[Evidence] = []
    by_msgid: dict[str, list[TranscriptRecord]] = defaultdict(list)
    changing = [r for r in ctx.records if is_state_changing(r.infno)]
    for record in changing:
        by_msgid[_msgid(record)].append(record)
    for msgid, records in by_msgid.items():
        if msgid and len(records) > 1:
            problems.append(
                evidence_for(ctx, records, f"{msgid} sent once", f"sent {len(records)} times")
            )
    unknown = [r for r in changing if not r.answer_trusted]
    for original in unknown:
        closed_at = _closed_at(ctx, original)
        for later in changing:
            if later.seq <= original.seq or _msgid(later) == _msgid(original):
                continue
            if closed_at is not None and later.seq > closed_at:
                break
            if later.infno == original.infno and later.input == original.input:
                problems.append(
                    evidence_for(
                        ctx,
                        [original, later],
                        "no resend after an unknown outcome",
                        f"{later.infno} resent after {_why_unknown(original)}",
                    )
                )
    if not changing:
        return not_applicable("the HIS sent no state-changing request")
    return verdict(
        problems, "no state-changing request was sent twice", "state-changing requests sent again"
    )


def _closed_at(ctx: CheckContext, original: TranscriptRecord) -> int | None:
    """The seq of the first definite successful reversal of ``original``, if any."""
    closing = [r for r in _reversals_of(ctx, original) if r.definite_success]
    return closing[0].seq if closing else None


@check("reversal_after_unknown_2207", verifies=["HIS-REV-002", "HIS-REV-003", "HIS-SIG-002"])
def reversal_after_unknown_2207(ctx: CheckContext) -> CheckOutcome:
    """An unknown 2207 is reversed (2601 omsgid/oinfno 2207) before the visit is settled again.

    Example::

        expect:
          checks: [reversal_after_unknown_2207]
    """
    return _reversed_before_settling_again(ctx, "2207", "visit")


@check("reversal_after_unknown_2304", verifies=["HIS-INP-005"])
def reversal_after_unknown_2304(ctx: CheckContext) -> CheckOutcome:
    """An unknown 2304 is reversed (2601 omsgid/oinfno 2304) before the stay is settled again.

    Example::

        expect:
          checks: [reversal_after_unknown_2304]
    """
    return _reversed_before_settling_again(ctx, "2304", "stay")


def _reversed_before_settling_again(ctx: CheckContext, infno: str, what: str) -> CheckOutcome:
    unknown = [r for r in ctx.records_of(infno) if not r.answer_trusted]
    if not unknown:
        return not_applicable(
            f"no {infno} had an unknown outcome (no fault spoiled a {infno} answer)"
        )
    problems: list[Evidence] = []
    for original in unknown:
        msgid, visit = _msgid(original), original.mdtrt_id
        reversals = _reversals_of(ctx, original)
        definite = [r for r in reversals if r.definite_success]
        if not definite:
            seen = (
                f"{len(reversals)} 2601 without a definite success"
                if reversals
                else "no 2601 naming it"
            )
            problems.append(
                evidence_for(
                    ctx,
                    [original, *reversals],
                    f"2601 omsgid={msgid} oinfno={infno} answered successfully",
                    f"{seen} ({_why_unknown(original)})",
                )
            )
            continue
        closed = definite[0].seq
        early = [
            r
            for r in ctx.records_of(infno)
            if original.seq < r.seq < closed and r.mdtrt_id == visit
        ]
        if early:
            problems.append(
                evidence_for(
                    ctx,
                    [original, *early],
                    f"no {infno} for {what} {visit} before the reversal",
                    f"{len(early)} sent before it",
                )
            )
    return verdict(
        problems,
        f"all {len(unknown)} unknown {infno} outcomes were reversed before settling again",
        f"unknown {infno} outcomes not reversed properly",
    )


@check("no_reversal_after_definite_failure", verifies=["HIS-REV-004"])
def no_reversal_after_definite_failure(ctx: CheckContext) -> CheckOutcome:
    """No 2601 names a request the platform definitely refused (an intact infcode -1 answer).

    Example::

        expect:
          checks: [no_reversal_after_definite_failure]
    """
    reversible = {
        infno for infno, t in spec.contract().transactions.items() if t.reversible_by_2601
    }
    refused = [r for r in ctx.records if r.infno in reversible and r.definite_failure]
    if not refused:
        return not_applicable("no reversible request was definitely refused")
    problems = [
        evidence_for(
            ctx,
            [original, *reversals],
            "no 2601 after a definite failure",
            f"{len(reversals)} 2601 naming {_msgid(original)}",
        )
        for original in refused
        if (reversals := _reversals_of(ctx, original))
    ]
    return verdict(
        problems,
        f"none of {len(refused)} refused requests was reversed",
        "definite failures reversed",
    )


@check("error_answers_handled", verifies=["HIS-ERR-001"])
def error_answers_handled(ctx: CheckContext) -> CheckOutcome:
    """An error answer ends the action cleanly (no driver error) and its msgid is never resent.

    Example::

        expect:
          checks: [error_answers_handled]
    """
    refused = [r for r in ctx.records if r.definite_failure]
    if not refused:
        return not_applicable("the platform answered no request with an error")
    problems: list[Evidence] = []
    for record in refused:
        step = ctx.step_of(record.seq)
        if step is not None and step.outcome in (None, "error"):
            problems.append(
                evidence_for(
                    ctx,
                    record,
                    "the action ends ok, rejected or unknown",
                    f"driver {show(step.outcome)}: {step.message}",
                )
            )
        again = [r for r in ctx.records if r.seq > record.seq and _msgid(r) == _msgid(record)]
        if again:
            problems.append(
                evidence_for(
                    ctx,
                    [record, *again],
                    f"{_msgid(record)} not sent again",
                    f"sent {len(again)} more times",
                )
            )
    return verdict(
        problems,
        f"all {len(refused)} error answers were handled without a crash or resend",
        "error answers mishandled",
    )

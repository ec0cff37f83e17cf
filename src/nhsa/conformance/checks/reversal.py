"""Unknown outcomes: reverse (2601) an unknown 2207, never resend it; never reverse a failure.

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
from nhsa.conformance._transcript import (
    Record,
    answer_trusted,
    data_of,
    definite_failure,
    fault_kind,
    infno_of,
    input_of,
    mdtrt_id_of,
    request_of,
    seq_of,
)
from nhsa.conformance.checks._common import evidence_for, is_state_changing, show, verdict

__all__ = [
    "error_answers_handled",
    "no_resend_after_unknown",
    "no_reversal_after_definite_failure",
    "reversal_after_unknown_2207",
]


def _msgid(record: Record) -> str:
    return str(record.get("msgid") or request_of(record).get("msgid") or "")


def _reversals_of(ctx: CheckContext, original: Record) -> list[Record]:
    """2601 records naming ``original`` (omsgid and oinfno), in order."""
    msgid, infno = _msgid(original), infno_of(original)
    return [
        r
        for r in ctx.records_of("2601")
        if seq_of(r) > seq_of(original)
        and data_of(r).get("omsgid") == msgid
        and data_of(r).get("oinfno") == infno
    ]


def _definite_success(record: Record) -> bool:
    return record.get("infcode") == 0 and answer_trusted(record)


def _why_unknown(record: Record) -> str:
    kind = fault_kind(record)
    if kind:
        return f"fault {kind}"
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
    by_msgid: dict[str, list[Record]] = defaultdict(list)
    changing = [r for r in ctx.records if is_state_changing(infno_of(r))]
    for record in changing:
        by_msgid[_msgid(record)].append(record)
    for msgid, records in by_msgid.items():
        if msgid and len(records) > 1:
            problems.append(
                evidence_for(ctx, records, f"{msgid} sent once", f"sent {len(records)} times")
            )
    unknown = [r for r in changing if not answer_trusted(r)]
    for original in unknown:
        closed_at = _closed_at(ctx, original)
        for later in changing:
            if seq_of(later) <= seq_of(original) or _msgid(later) == _msgid(original):
                continue
            if closed_at is not None and seq_of(later) > closed_at:
                break
            if infno_of(later) == infno_of(original) and input_of(later) == input_of(original):
                problems.append(
                    evidence_for(
                        ctx,
                        [original, later],
                        "no resend after an unknown outcome",
                        f"{infno_of(later)} resent after {_why_unknown(original)}",
                    )
                )
    if not changing:
        return not_applicable("the HIS sent no state-changing request")
    return verdict(
        problems, "no state-changing request was sent twice", "state-changing requests sent again"
    )


def _closed_at(ctx: CheckContext, original: Record) -> int | None:
    """The seq of the first definite successful reversal of ``original``, if any."""
    closing = [r for r in _reversals_of(ctx, original) if _definite_success(r)]
    return seq_of(closing[0]) if closing else None


@check("reversal_after_unknown_2207", verifies=["HIS-REV-002", "HIS-REV-003", "HIS-SIG-002"])
def reversal_after_unknown_2207(ctx: CheckContext) -> CheckOutcome:
    """An unknown 2207 is reversed (2601 omsgid/oinfno 2207) before the visit is settled again.

    Example::

        expect:
          checks: [reversal_after_unknown_2207]
    """
    unknown = [r for r in ctx.records_of("2207") if not answer_trusted(r)]
    if not unknown:
        return not_applicable("no 2207 had an unknown outcome (no fault spoiled a 2207 answer)")
    problems: list[Evidence] = []
    for original in unknown:
        msgid, visit = _msgid(original), mdtrt_id_of(original)
        reversals = _reversals_of(ctx, original)
        definite = [r for r in reversals if _definite_success(r)]
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
                    f"2601 omsgid={msgid} oinfno=2207 answered successfully",
                    f"{seen} ({_why_unknown(original)})",
                )
            )
            continue
        closed = seq_of(definite[0])
        early = [
            r
            for r in ctx.records_of("2207")
            if seq_of(original) < seq_of(r) < closed and mdtrt_id_of(r) == visit
        ]
        if early:
            problems.append(
                evidence_for(
                    ctx,
                    [original, *early],
                    f"no 2207 for visit {visit} before the reversal",
                    f"{len(early)} sent before it",
                )
            )
    return verdict(
        problems,
        f"all {len(unknown)} unknown 2207 outcomes were reversed before settling again",
        "unknown 2207 outcomes not reversed properly",
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
    refused = [r for r in ctx.records if infno_of(r) in reversible and definite_failure(r)]
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
    refused = [r for r in ctx.records if r.get("infcode") == -1 and answer_trusted(r)]
    if not refused:
        return not_applicable("the platform answered no request with an error")
    problems: list[Evidence] = []
    for record in refused:
        step = ctx.step_of(seq_of(record))
        if step is not None and step.outcome in (None, "error"):
            problems.append(
                evidence_for(
                    ctx,
                    record,
                    "the action ends ok, rejected or unknown",
                    f"driver {show(step.outcome)}: {step.message}",
                )
            )
        again = [
            r for r in ctx.records if seq_of(r) > seq_of(record) and _msgid(r) == _msgid(record)
        ]
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

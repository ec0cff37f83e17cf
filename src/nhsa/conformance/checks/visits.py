"""Visits: a registration is cancelled only after its settlement is reversed; refunds done right.

Example:
    >>> from nhsa.conformance import default_registry
    >>> default_registry()["cancel_after_reversal"].verifies
    ('HIS-REG-001',)
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from nhsa.conformance._context import CheckContext, CheckOutcome, Evidence, StepRun, not_applicable
from nhsa.conformance._money import cents
from nhsa.conformance._registry import check
from nhsa.conformance._transcript import SettlementTrace, settlements
from nhsa.conformance.checks._common import evidence_for, show, verdict

__all__ = ["cancel_after_reversal", "full_refund_sequence", "partial_refund_resettles"]


@check("cancel_after_reversal", verifies=["HIS-REG-001"])
def cancel_after_reversal(ctx: CheckContext) -> CheckOutcome:
    """A registration is cancelled (2202) only while its visit holds no settlement.

    Example::

        expect:
          checks: [cancel_after_reversal]
    """
    cancels = ctx.records_of("2202")
    if not cancels:
        return not_applicable("the HIS cancelled no registration")
    problems: list[Evidence] = []
    for record in cancels:
        visit = record.data.get("mdtrt_id")
        live = [
            t
            for t in settlements(ctx.records, until_seq=record.seq - 1)
            if t.live and t.mdtrt_id == visit
        ]
        if live:
            ids = ", ".join(show(t.setl_id) for t in live)
            problems.append(
                evidence_for(
                    ctx,
                    record,
                    f"settlement of {visit} reversed (2208) before 2202",
                    f"2202 sent while settlement {ids} stood",
                )
            )
    return verdict(
        problems,
        f"all {len(cancels)} cancellations came after reversal",
        "registrations cancelled over a standing settlement",
    )


@check("full_refund_sequence", verifies=["HIS-RFD-001"])
def full_refund_sequence(ctx: CheckContext) -> CheckOutcome:
    """A full refund reverses the settlement (2208), then cancels the visit's fee lines (2205).

    Example::

        expect:
          checks: [full_refund_sequence]
    """
    refunds = ctx.steps_of("refund")
    if not refunds:
        return not_applicable("the scenario has no refund step")
    problems: list[Evidence] = []
    for step in refunds:
        problems.extend(_refund_problems(ctx, step))
    return verdict(
        problems,
        f"all {len(refunds)} refunds were 2208 then 2205",
        "refunds done out of order or incompletely",
    )


def _refund_problems(ctx: CheckContext, step: StepRun) -> list[Evidence]:
    setl_id, visit = step.request.get("setl_id"), step.request.get("mdtrt_id")
    records = ctx.records_in(step)
    reversal = next(
        (
            r
            for r in records
            if r.infno == "2208" and r.data.get("setl_id") == setl_id and r.state_changed
        ),
        None,
    )
    cancels = [r for r in records if r.infno == "2205" and r.data.get("mdtrt_id") == visit]
    early = [r for r in cancels if reversal is None or r.seq < reversal.seq]
    problems = []
    if early:
        problems.append(
            evidence_for(
                ctx,
                early,
                f"2208 of {setl_id} before 2205",
                "2205 sent before the settlement was reversed",
            )
        )
    if step.outcome != "ok":
        return problems
    if reversal is None:
        problems.append(
            Evidence(f"2208 of {setl_id} committed", "no committed 2208", step.records, step.name)
        )
    elif not any(r.state_changed and r.seq > reversal.seq for r in cancels):
        problems.append(
            evidence_for(ctx, reversal, f"2205 of {visit} after the 2208", "no committed 2205")
        )
    return problems


@check("partial_refund_resettles", verifies=["HIS-RFD-002"])
def partial_refund_resettles(ctx: CheckContext) -> CheckOutcome:
    """A partial refund reverses the settlement and settles the rest: old total − refunded.

    Example::

        expect:
          checks: [partial_refund_resettles]
    """
    steps = [s for s in ctx.steps_of("partial_refund") if s.outcome == "ok"]
    if not steps:
        return not_applicable("no partial refund succeeded in this scenario")
    problems: list[Evidence] = []
    for step in steps:
        problems.extend(_partial_problems(ctx, step))
    return verdict(
        problems,
        f"all {len(steps)} partial refunds settled exactly the remaining lines",
        "partial refunds that did not settle the remaining lines",
    )


def _partial_problems(ctx: CheckContext, step: StepRun) -> list[Evidence]:
    setl_id, visit = step.request.get("setl_id"), step.request.get("mdtrt_id")
    end = step.last_seq if step.last_seq is not None else 0
    traces = settlements(ctx.records, until_seq=end)
    original = next((t for t in traces if t.setl_id == setl_id), None)
    if original is None:
        return [
            Evidence(f"settlement {setl_id} on the platform", "not found", step.records, step.name)
        ]
    problems = []
    if original.live:
        problems.append(
            Evidence(f"settlement {setl_id} reversed", "it still stands", step.records, step.name)
        )
    fresh = [t for t in traces if t.live and t.mdtrt_id == visit and t.seq in step.records]
    refunded = _refunded_total(step.request.get("items", ()))
    before = original.amount("medfee_sumamt")
    if not fresh:
        problems.append(
            Evidence(
                "a new settlement of the remaining lines", "none stands", step.records, step.name
            )
        )
    elif before is not None:
        expected = cents(before - refunded)
        settled = fresh[-1].amount("medfee_sumamt")
        if settled != expected:
            problems.append(
                _trace_evidence(
                    ctx,
                    fresh[-1],
                    f"medfee_sumamt {expected} ({before} − {refunded})",
                    f"medfee_sumamt {show(settled)}",
                )
            )
    return problems


def _refunded_total(items: Any) -> Decimal:
    total = Decimal("0.00")
    for item in items if isinstance(items, list | tuple) else ():
        if isinstance(item, Mapping):
            total += cents(Decimal(str(item.get("qty"))) * Decimal(str(item.get("price"))))
    return total


def _trace_evidence(
    ctx: CheckContext, trace: SettlementTrace, expected: str, seen: str
) -> Evidence:
    record = ctx.record(trace.seq)
    if record is None:
        return Evidence(expected, seen, (trace.seq,))
    return evidence_for(ctx, record, expected, seen)

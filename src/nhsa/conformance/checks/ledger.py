"""The driver's account against the platform's truth: outcomes, ids, amounts; nothing lost.

The platform's truth is the transcript replayed (:func:`~nhsa.conformance._transcript.settlements`):
every settlement committed — including under commit-then-drop, where the HIS never heard of it —
and every reversal. A HIS that reports ``ok`` must point at a settlement that stands with the
amounts it recorded; one that reports ``rejected`` must leave nothing standing; ``unknown`` is
an honest answer that matches any truth (whether money was lost is ``nothing_lost_or_doubled``'s
question).

Example:
    >>> from nhsa.conformance import default_registry
    >>> default_registry()["nothing_lost_or_doubled"].verifies
    ('HIS-LED-001',)
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import Final

from nhsa.conformance._context import CheckContext, CheckOutcome, Evidence, StepRun, not_applicable
from nhsa.conformance._driver import DriverResult
from nhsa.conformance._registry import check
from nhsa.conformance._transcript import SettlementTrace, settlements
from nhsa.conformance.checks._common import show, verdict
from nhsa.conformance.checks.reconciliation import final_per_group

__all__ = ["driver_outcome_matches_platform", "nothing_lost_or_doubled"]

REPORTED_AMOUNTS: Final = ("medfee_sumamt", "fund_pay_sumamt", "acct_pay", "psn_cash_pay")

_Judge = Callable[[CheckContext, StepRun, DriverResult], list[str]]


@check("driver_outcome_matches_platform", verifies=["HIS-AMT-003", "HIS-SIG-002"])
def driver_outcome_matches_platform(ctx: CheckContext) -> CheckOutcome:
    """What the HIS reports for each action (outcome, ids, amounts) matches the platform.

    Example::

        expect:
          checks: [driver_outcome_matches_platform]
    """
    problems: list[Evidence] = []
    judged = 0
    for step, result in ctx.iter_results():
        judge = _JUDGES.get(step.action)
        if judge is None or result.status in ("error", "pending"):
            continue
        judged += 1
        problems.extend(
            Evidence(
                f"the platform agrees with '{result.status}'", problem, step.records, step.name
            )
            for problem in judge(ctx, step, result)
        )
    if not judged:
        return not_applicable("no step ended with a result to compare")
    return verdict(
        problems,
        f"all {judged} reported outcomes match the platform",
        "reported outcomes that differ from the platform",
    )


def _at_end(ctx: CheckContext, step: StepRun) -> list[SettlementTrace]:
    """The platform's settlements as they stood when ``step`` ended."""
    end = step.last_seq if step.last_seq is not None else _start(ctx, step) - 1
    return settlements(ctx.records, until_seq=end)


def _start(ctx: CheckContext, step: StepRun) -> int:
    """The first seq after every record of earlier steps (where this step would begin)."""
    index = next(i for i, s in enumerate(ctx.steps) if s is step)
    before = [seq for s in ctx.steps[:index] for seq in s.records]
    return max(before, default=0) + 1


def _sign_in(ctx: CheckContext, step: StepRun, result: DriverResult) -> list[str]:
    issued = any(r.sign_no_issued for r in ctx.records_in(step))
    if result.status == "ok" and not issued:
        return ["ok, but no 9001 was answered successfully during the step"]
    return []


def _register(ctx: CheckContext, step: StepRun, result: DriverResult) -> list[str]:
    visits = [
        str(r.output_node("data").get("mdtrt_id"))
        for r in ctx.records_in(step)
        if r.infno == "2201" and r.definite_success
    ]
    if result.status == "ok" and result.mdtrt_id not in visits:
        return [
            f"ok with mdtrt_id {show(result.mdtrt_id)},"
            f" platform registered {', '.join(visits) or 'nothing'}"
        ]
    if result.status != "ok" and visits:
        return [f"{result.status}, but the platform registered {', '.join(visits)} and said so"]
    return []


def _charge(ctx: CheckContext, step: StepRun, result: DriverResult) -> list[str]:
    created = [t for t in _at_end(ctx, step) if t.seq in step.records and t.live]
    if result.status == "unknown":
        return []  # an honest "I do not know" matches any truth; nothing_lost_or_doubled judges
    if result.status == "rejected":
        return [f"rejected, but settlement {show(t.setl_id)} stands" for t in created]
    match = next((t for t in created if t.setl_id == result.setl_id), None)
    if match is None:
        standing = ", ".join(show(t.setl_id) for t in created) or "none"
        return [
            f"ok with setl_id {show(result.setl_id)};"
            f" settlements standing from this step: {standing}"
        ]
    return _amount_problems(result, match)


def _amount_problems(result: DriverResult, trace: SettlementTrace) -> list[str]:
    problems = []
    for name in REPORTED_AMOUNTS:
        reported = result.amounts.get(name)
        if reported is None:
            continue
        held = trace.amount(name)
        if held is None or reported.compare(held) != 0:
            problems.append(f"{name}: HIS recorded {reported}, platform holds {show(held)}")
    return problems


def _refund(ctx: CheckContext, step: StepRun, result: DriverResult) -> list[str]:
    setl_id = step.request.get("setl_id")
    trace = next((t for t in _at_end(ctx, step) if t.setl_id == setl_id), None)
    if trace is None:
        return [f"settlement {show(setl_id)} is unknown to the platform"]
    if result.status == "ok" and trace.live:
        return [f"ok, but settlement {setl_id} still stands"]
    if result.status == "rejected" and not trace.live:
        return [f"rejected, but settlement {setl_id} was reversed"]
    return []


def _partial_refund(ctx: CheckContext, step: StepRun, result: DriverResult) -> list[str]:
    problems = _refund(ctx, step, result)
    if result.status == "ok":
        created = [t for t in _at_end(ctx, step) if t.seq in step.records and t.live]
        if not any(t.setl_id == result.setl_id for t in created):
            problems.append(
                f"ok with new setl_id {show(result.setl_id)}, which the platform does not hold"
            )
        match = next((t for t in created if t.setl_id == result.setl_id), None)
        if match is not None:
            problems.extend(_amount_problems(result, match))
    return problems


def _cancel(ctx: CheckContext, step: StepRun, result: DriverResult) -> list[str]:
    visit = step.request.get("mdtrt_id")
    done = [
        r
        for r in ctx.records_in(step)
        if r.infno == "2202" and r.data.get("mdtrt_id") == visit and r.state_changed
    ]
    if result.status == "ok" and not done:
        return [f"ok, but the platform cancelled no registration of {visit}"]
    if result.status == "rejected" and any(r.answer_trusted for r in done):
        return [f"rejected, but the platform cancelled {visit} and said so"]
    return []


def _reconcile(ctx: CheckContext, step: StepRun, result: DriverResult) -> list[str]:
    answers = [r for r in ctx.records_in(step) if r.infno == "3201" and r.definite_success]
    if result.status != "ok":
        return []
    if not answers:
        return ["ok, but no 3201 was answered during the step"]
    balanced = all(
        str(r.output_node("stmtinfo").get("stmt_rslt")) == "0" for r in final_per_group(answers)
    )
    if result.balanced is not None and result.balanced != balanced:
        return [f"balanced={result.balanced}, the platform's last 3201 answers say {balanced}"]
    return []


def _admit(ctx: CheckContext, step: StepRun, result: DriverResult) -> list[str]:
    stays = [
        str(r.mdtrt_id) for r in ctx.records_in(step) if r.infno == "2401" and r.definite_success
    ]
    if result.status == "ok" and result.mdtrt_id not in stays:
        return [
            f"ok with mdtrt_id {show(result.mdtrt_id)},"
            f" platform admitted {', '.join(stays) or 'nobody'}"
        ]
    if result.status != "ok" and stays:
        return [f"{result.status}, but the platform admitted {', '.join(stays)} and said so"]
    return []


_JUDGES: Final[dict[str, _Judge]] = {
    "sign_in": _sign_in,
    "register": _register,
    "charge": _charge,
    "refund": _refund,
    "partial_refund": _partial_refund,
    "cancel_registration": _cancel,
    "reconcile": _reconcile,
    "admit": _admit,
    "settle_midway": _charge,
    "settle_stay": _charge,
    "cancel_stay_settlement": _refund,
}
SETTLING_ACTIONS: Final = ("charge", "partial_refund", "settle_midway", "settle_stay")
"""Actions whose ``ok`` reports a settlement that stands."""
CANCELLING_ACTIONS: Final = ("refund", "partial_refund", "cancel_stay_settlement")
"""Actions whose ``ok`` reports a settlement taken back."""


@check("nothing_lost_or_doubled", verifies=["HIS-LED-001"])
def nothing_lost_or_doubled(ctx: CheckContext) -> CheckOutcome:
    """At the end every standing settlement is known to the HIS and no charge is settled twice.

    Lost: a settlement stands on the platform that no successful charge reported (the patient
    paid, the hospital does not know), or one the HIS reported no longer stands although no
    refund step took it back. Doubled: two standing settlements of one batch (mdtrt_id +
    chrg_bchno), or two from one charge action.

    Example::

        expect:
          checks: [nothing_lost_or_doubled]
    """
    traces = settlements(ctx.records)
    if not traces and not ctx.steps_of(*SETTLING_ACTIONS):
        return not_applicable("the scenario settled nothing")
    problems = _lost(ctx, traces) + _doubled(ctx, traces)
    standing = sum(t.live for t in traces)
    return verdict(
        problems,
        f"{standing} standing settlements, all known to the HIS, none doubled",
        "settlements lost or doubled",
    )


def _lost(ctx: CheckContext, traces: list[SettlementTrace]) -> list[Evidence]:
    results = list(ctx.iter_results())
    known = {
        r.setl_id
        for s, r in results
        if s.action in SETTLING_ACTIONS and r.status == "ok" and r.setl_id
    }
    refunded = {
        s.request.get("setl_id")
        for s, r in results
        if s.action in CANCELLING_ACTIONS and r.status == "ok"
    }
    problems = [
        Evidence(
            "every standing settlement known to the HIS",
            f"lost: {show(t.setl_id)} (msgid {t.msgid}) stands; the HIS never reported it",
            (t.seq,),
            ctx.step_name(t.seq),
        )
        for t in traces
        if t.live and t.setl_id not in known
    ]
    for setl_id in sorted(s for s in known - refunded if s is not None):
        reported = next((t for t in traces if t.setl_id == setl_id), None)
        if reported is None or not reported.live:
            problems.append(
                Evidence(
                    f"settlement {setl_id}, reported by the HIS, stands",
                    "the platform holds no such standing settlement",
                    (reported.seq,) if reported else (),
                )
            )
    return problems


def _doubled(ctx: CheckContext, traces: list[SettlementTrace]) -> list[Evidence]:
    groups: dict[tuple[str, str | None, str | None], list[SettlementTrace]] = defaultdict(list)
    for trace in traces:
        if not trace.live:
            continue
        if trace.chrg_bchno is not None:
            groups[("batch", trace.mdtrt_id, trace.chrg_bchno)].append(trace)
        step = ctx.step_of(trace.seq)
        if step is not None and step.action in SETTLING_ACTIONS:
            groups[("step", step.name, None)].append(trace)
    problems = []
    for (kind, first, second), standing in groups.items():
        if len(standing) < 2:
            continue
        where = f"batch {second} of visit {first}" if kind == "batch" else f"step {first}"
        ids = ", ".join(show(t.setl_id) for t in standing)
        problems.append(
            Evidence(
                f"one standing settlement for {where}",
                f"doubled: {ids}",
                tuple(t.seq for t in standing),
                ctx.step_name(standing[0].seq),
            )
        )
    return problems

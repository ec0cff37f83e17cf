"""Insured-place downtime (停机): no pile-on, and the patient is told when to come back.

Example:
    >>> end_time_in("参保地医保系统停机维护，暂不能办理：440300，预计 18:30 恢复")
    '18:30'
"""

from __future__ import annotations

import re
from typing import Final

from nhsa.conformance._context import CheckContext, CheckOutcome, Evidence, not_applicable
from nhsa.conformance._registry import check
from nhsa.conformance._transcript import TranscriptRecord
from nhsa.conformance.checks._common import evidence_for, verdict

__all__ = ["end_time_in", "no_pile_on_during_downtime", "patient_told_when_to_return"]

_DOWN_WORDS: Final = ("停机", "downtime")
_TIME = re.compile(r"(?<![0-9])([0-2]?[0-9]:[0-5][0-9])(?::[0-5][0-9])?(?![0-9])")


def end_time_in(text: str) -> str | None:
    """The last HH:MM in ``text`` (where a downtime answer says when service returns).

    Example:
        >>> end_time_in("停机维护至 2026-11-23 09:05:00"), end_time_in("停机")
        ('09:05', None)
    """
    found = _TIME.findall(text)
    if not found:
        return None
    hours, minutes = found[-1].split(":")
    return f"{int(hours):02d}:{minutes}"


def is_downtime_answer(record: TranscriptRecord) -> bool:
    """An intact infcode -1 answer saying the insured place is down.

    Example::

        turned_away = [r for r in ctx.records if is_downtime_answer(r)]
    """
    message = record.err_msg or ""
    return record.definite_failure and any(w in message for w in _DOWN_WORDS)


def _down_since(ctx: CheckContext) -> dict[str, int]:
    """Each down insured area and the last seq before its downtime began (0: from the start)."""
    since: dict[str, int] = {}
    for downtime in ctx.plan.downtimes:
        since.setdefault(downtime.area, 0)
    earlier: list[int] = []
    for step in ctx.steps:
        if step.action == "schedule_downtime":
            area = str(step.request.get("area"))
            since.setdefault(area, max(earlier, default=0))
        earlier.extend(step.records)
    return since


@check("no_pile_on_during_downtime", verifies=["HIS-DWN-001"], args={"max_calls": int})
def no_pile_on_during_downtime(ctx: CheckContext) -> CheckOutcome:
    """While an insured place is down, the HIS sends at most ``max_calls`` (default 3) calls for it.

    A HIS that reads the downtime notice board sends none; one with a breaker stops after a
    few downtime answers. Counted: requests whose insuplc_admdvs is the down area.

    Example::

        expect:
          checks: [{name: no_pile_on_during_downtime, args: {max_calls: 3}}]
    """
    down = _down_since(ctx)
    if not down:
        return not_applicable("the scenario schedules no downtime")
    limit = int(ctx.args.get("max_calls", 3))
    problems = []
    for area, since in down.items():
        calls = [
            r for r in ctx.records if r.seq > since and r.envelope.get("insuplc_admdvs") == area
        ]
        if len(calls) > limit:
            problems.append(
                evidence_for(
                    ctx,
                    calls,
                    f"at most {limit} calls for {area} while it is down",
                    f"{len(calls)} calls",
                )
            )
    return verdict(
        problems, f"at most {limit} calls per down insured area", "pile-on during downtime"
    )


@check("patient_told_when_to_return", verifies=["HIS-DWN-002"])
def patient_told_when_to_return(ctx: CheckContext) -> CheckOutcome:
    """A patient turned away by downtime is told when service returns (the platform's time).

    Example::

        expect:
          checks: [patient_told_when_to_return]
    """
    down = _down_since(ctx)
    if not down:
        return not_applicable("the scenario schedules no downtime")
    answers = [r for r in ctx.records if is_downtime_answer(r)]
    announced = next(
        (t for r in reversed(answers) if (t := end_time_in(str(r.err_msg))) is not None),
        None,
    )
    problems: list[Evidence] = []
    turned_away = 0
    for step, result in ctx.iter_results():
        patient = ctx.plan.patients.get(step.patient or "")
        if patient is None or patient.insured_area not in down or result.status == "ok":
            continue
        if step.records and step.records[-1] <= down[patient.insured_area]:
            continue  # turned away before the downtime began: another story
        turned_away += 1
        message = result.patient_message or ""
        own = [r for r in ctx.records_in(step) if is_downtime_answer(r)]
        wanted = end_time_in(str(own[-1].err_msg)) if own else announced
        if not message.strip() or (wanted is not None and wanted not in message):
            expected = f"a patient message naming {wanted}" if wanted else "a patient message"
            problems.append(
                Evidence(
                    expected, repr(message) if message else "no message", step.records, step.name
                )
            )
    if not turned_away:
        return not_applicable("no patient of a down insured area was turned away")
    return verdict(
        problems,
        f"all {turned_away} patients turned away were told when to return",
        "patients not told when to return",
    )

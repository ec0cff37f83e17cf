"""Chronic and special outpatient care (门慢/门特): the disease travels with the visit, a refused
disease is not settled as an ordinary visit, registrations (2503/2504) name the right parties.

Example:
    >>> from nhsa.conformance import default_registry
    >>> default_registry()["no_ordinary_fallback"].verifies
    ('HIS-CHR-002',)
"""

from __future__ import annotations

from typing import Any, Final

from nhsa.conformance._context import CheckContext, CheckOutcome, Evidence, StepRun, not_applicable
from nhsa.conformance._registry import check
from nhsa.conformance._transcript import TranscriptRecord
from nhsa.conformance.checks._common import evidence_for, learn_areas, show, verdict

__all__ = ["chronic_registration_names_its_parties", "chronic_visit_names_its_disease",
           "no_ordinary_fallback"]  # fmt: skip

CHRONIC: Final = "14"
"""med_type 门诊慢特病."""
VISIT_INFO: Final = ("2203", "2203A")
DISEASE_REFUSALS: Final = frozenset(
    {"business.chronic_not_recognised", "business.chronic_disease_unknown"}
)
"""errors.json entries of a platform refusing a chronic visit's disease."""


@check("chronic_visit_names_its_disease", verifies=["HIS-CHR-001"])
def chronic_visit_names_its_disease(ctx: CheckContext) -> CheckOutcome:
    """A chronic visit is med_type 14 with its disease in 2203 ``dise_codg`` and on every
    2204 line (or none there), and is pre-settled and settled as med_type 14.

    Example::

        expect:
          checks: [chronic_visit_names_its_disease]
    """
    steps = _chronic_charges(ctx)
    if not steps:
        return not_applicable("the scenario charges no chronic visit")
    problems: list[Evidence] = []
    for step in steps:
        problems.extend(_disease_problems(ctx, step))
    return verdict(
        problems,
        f"all {len(steps)} chronic visits named their disease in 2203, 2204, 2206 and 2207",
        "chronic visits that did not carry their disease",
    )


@check("no_ordinary_fallback", verifies=["HIS-CHR-002"])
def no_ordinary_fallback(ctx: CheckContext) -> CheckOutcome:
    """When the platform refuses a chronic visit's disease, the HIS does not settle the visit
    under another medical category (an ordinary visit, med_type 11) on its own.

    Example::

        expect:
          outcomes: {charge: rejected}
          checks: [no_ordinary_fallback]
    """
    refusals = [
        (step, refusal)
        for step in _chronic_charges(ctx)
        if (refusal := _disease_refusal(ctx, step)) is not None
    ]
    if not refusals:
        return not_applicable("the platform refused no chronic visit's disease")
    problems: list[Evidence] = []
    for step, refusal in refusals:
        visit = step.request.get("mdtrt_id")
        later = [
            r
            for r in ctx.records_in(step)
            if r.seq > refusal.seq and r.mdtrt_id == visit and _med_type(r) not in (None, CHRONIC)
        ]
        if later:
            kinds = ", ".join(f"{r.infno} med_type {_med_type(r)}" for r in later)
            problems.append(
                evidence_for(
                    ctx,
                    later,
                    f"the refused chronic visit {visit} left unsettled (the patient decides)",
                    f"sent again as {kinds}",
                )
            )
        if step.outcome == "ok":
            problems.append(
                Evidence(
                    f"charge of {visit} reported rejected after {refusal.error_id}",
                    "the HIS reported it ok",
                    step.records,
                    step.name,
                )
            )
    return verdict(
        problems,
        f"all {len(refusals)} refused chronic visits were left unsettled",
        "refused chronic visits settled as something else",
    )


@check("chronic_registration_names_its_parties", verifies=["HIS-CHR-003"])
def chronic_registration_names_its_parties(ctx: CheckContext) -> CheckOutcome:
    """A registration (2503) names the person's insured place from 1101 (``insu_optins``) and
    the hospital itself as the identifying institution; a cancel (2504) names a serial the
    platform issued to this HIS.

    Example::

        expect:
          checks: [chronic_registration_names_its_parties]
    """
    records = ctx.records_of("1101", "2503", "2504")
    if not any(r.infno != "1101" for r in records):
        return not_applicable("the HIS registered and cancelled no chronic disease")
    areas: dict[str, dict[str, str]] = {}
    issued: set[str] = set()
    problems: list[Evidence] = []
    for record in records:
        if record.infno == "1101":
            learn_areas(record, areas)
        elif record.infno == "2503":
            problems.extend(_registration_problems(ctx, record, areas))
            if record.definite_success:
                issued.add(str(record.output_node("result").get("trt_dcla_detl_sn")))
        elif record.data.get("trt_dcla_detl_sn") not in issued:
            serial = show(record.data.get("trt_dcla_detl_sn"))
            problems.append(
                evidence_for(
                    ctx, record, "a serial one of this HIS's 2503 answers gave", f"2504 of {serial}"
                )
            )
    return verdict(
        problems,
        "every 2503 named the insured place and the hospital; every 2504 its own registration",
        "chronic-disease registrations naming the wrong parties",
    )


def _chronic_charges(ctx: CheckContext) -> list[StepRun]:
    return [s for s in ctx.steps_of("charge") if s.request.get("dise_codg")]


def _disease_problems(ctx: CheckContext, step: StepRun) -> list[Evidence]:
    wanted, visit = step.request.get("dise_codg"), step.request.get("mdtrt_id")
    records = [r for r in ctx.records_in(step) if r.mdtrt_id == visit]
    infos = [r for r in records if r.infno in VISIT_INFO]
    if not infos:
        return [
            Evidence(
                f"a 2203 of {visit} with med_type 14 and dise_codg {wanted}",
                "no 2203 sent",
                step.records,
                step.name,
            )
        ]
    problems = []
    for record in infos:
        info = _node(record.input.get("mdtrtinfo"))
        sent = (info.get("med_type"), info.get("dise_codg"))
        if sent != (CHRONIC, wanted):
            problems.append(
                evidence_for(
                    ctx,
                    record,
                    f"med_type 14, dise_codg {wanted}",
                    f"med_type {show(sent[0])}, dise_codg {show(sent[1])}",
                )
            )
    for record in (r for r in records if r.infno == "2204"):
        others = {
            str(line.get("dise_codg"))
            for line in record.input.get("feedetail") or ()
            if isinstance(line, dict) and line.get("dise_codg") not in (None, "", wanted)
        }
        if others:
            seen = ", ".join(sorted(others))
            problems.append(
                evidence_for(ctx, record, f"fee lines of {wanted} (or none)", f"lines of {seen}")
            )
    for record in (r for r in records if r.infno in ("2206", "2207")):
        if record.data.get("med_type") != CHRONIC:
            problems.append(
                evidence_for(
                    ctx, record, "med_type 14", f"med_type {show(record.data.get('med_type'))}"
                )
            )
    return problems


def _disease_refusal(ctx: CheckContext, step: StepRun) -> TranscriptRecord | None:
    visit = step.request.get("mdtrt_id")
    return next(
        (
            r
            for r in ctx.records_in(step)
            if r.mdtrt_id == visit and r.definite_failure and r.error_id in DISEASE_REFUSALS
        ),
        None,
    )


def _registration_problems(
    ctx: CheckContext, record: TranscriptRecord, areas: dict[str, dict[str, str]]
) -> list[Evidence]:
    data = record.data
    problems = []
    known = areas.get(str(data.get("psn_no")), {})
    expected = known.get(str(data.get("insutype")))
    if expected is None or data.get("insu_optins") != expected:
        want = f"insu_optins {expected} (from 1101)" if expected else "a 1101 lookup first"
        problems.append(
            evidence_for(ctx, record, want, f"insu_optins {show(data.get('insu_optins'))}")
        )
    if data.get("ide_fixmedins_no") != ctx.plan.tenant:
        problems.append(
            evidence_for(
                ctx,
                record,
                f"ide_fixmedins_no {ctx.plan.tenant} (the hospital that identified it)",
                f"ide_fixmedins_no {show(data.get('ide_fixmedins_no'))}",
            )
        )
    return problems


def _med_type(record: TranscriptRecord) -> str | None:
    if record.infno in VISIT_INFO:
        value = _node(record.input.get("mdtrtinfo")).get("med_type")
    else:
        value = record.data.get("med_type")
    return value if isinstance(value, str) else None


def _node(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}

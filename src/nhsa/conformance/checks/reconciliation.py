"""Day-end reconciliation: 3201 balanced against the platform's ledger; 3202 when it is not.

Example:
    >>> from nhsa.conformance import default_registry
    >>> default_registry()["reconciliation_balanced"].verifies
    ('HIS-REC-001',)
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from typing import Any, Final

from nhsa.conformance._context import CheckContext, CheckOutcome, Evidence, StepRun, not_applicable
from nhsa.conformance._money import amount
from nhsa.conformance._registry import check
from nhsa.conformance._transcript import TranscriptRecord
from nhsa.conformance.checks._common import evidence_for, show, verdict
from nhsa.envelope import counting_model

__all__ = ["detail_reconciliation_when_unbalanced", "reconciliation_balanced"]

GROUP_KEYS: Final = ("insutype", "clr_type", "setl_optins", "stmt_begndate", "stmt_enddate")
TOTALS: Final = (
    ("medfee_sumamt", "medfee_sumamt"),
    ("fund_pay_sumamt", "fund_pay_sumamt"),
    ("acct_pay", "acct_pay"),
)


def stmt_rslt(record: TranscriptRecord) -> str | None:
    """The 3201 answer's stmt_rslt as text ("0" = balanced), or ``None``.

    Example::

        balanced = stmt_rslt(record) == "0"
    """
    value = record.output_node("stmtinfo").get("stmt_rslt")
    return None if value is None else str(value)


def final_per_group(records: list[TranscriptRecord]) -> list[TranscriptRecord]:
    """The last 3201 of each (insutype, clr_type, setl_optins, date range), in order.

    Example:
        >>> final_per_group([])
        []
    """
    last: dict[tuple[Any, ...], TranscriptRecord] = {}
    for record in records:
        last[tuple(record.data.get(k) for k in GROUP_KEYS)] = record
    return sorted(last.values(), key=lambda record: record.seq)


@check("reconciliation_balanced", verifies=["HIS-REC-001"])
def reconciliation_balanced(ctx: CheckContext) -> CheckOutcome:
    """Each reconcile ends with every 3201 group balanced, and the HIS's totals equal the ledger's.

    The sum of the HIS's final 3201 totals (one per insutype/clr_type) must equal the
    platform's own totals for the day, counted as those 3201 asked (``refd_setl_flag``; the
    contract's ``x-counting``), so a HIS cannot balance by leaving an insutype out.

    Example::

        expect:
          checks: [reconciliation_balanced]
    """
    steps = ctx.steps_of("reconcile")
    if not steps:
        return not_applicable("the scenario has no reconcile step")
    problems: list[Evidence] = []
    for step in steps:
        problems.extend(_step_problems(ctx, step))
    return verdict(
        problems,
        f"all {len(steps)} reconciliations balanced against the platform's ledger",
        "reconciliations not balanced",
    )


def _step_problems(ctx: CheckContext, step: StepRun) -> list[Evidence]:
    sent = [r for r in ctx.records_in(step) if r.infno == "3201"]
    if not sent:
        return [Evidence("a 3201 for the day", "no 3201 sent", step.records, step.name)]
    problems = []
    finals = final_per_group(sent)
    for record in finals:
        result = stmt_rslt(record) if record.definite_success else None
        if result != "0":
            detail = record.output.get("stmtinfo")
            why = detail.get("stmt_rslt_dscr") if isinstance(detail, Mapping) else record.err_msg
            problems.append(
                evidence_for(
                    ctx, record, "stmt_rslt 0 (balanced)", f"stmt_rslt {show(result)}: {show(why)}"
                )
            )
    if ctx.ledger is None:
        return problems
    day = _day(step.request.get("day"))
    if day is None:
        return problems
    # The platform counts as each 3201 asked (refd_setl_flag); the day's totals only add up
    # when every group asked the same way.
    models = {counting_model(_text(r.data.get("refd_setl_flag"))) for r in finals}
    if len(models) > 1:
        return [
            *problems,
            evidence_for(
                ctx,
                finals,
                "one refd_setl_flag for every group of the day (x-counting of 3201)",
                f"counting models {', '.join(sorted(models))} in one day's 3201 calls",
            ),
        ]
    flags = [_text(r.data.get("refd_setl_flag")) for r in finals]
    ledger = ctx.ledger(day, day, flags[0] if flags else None)
    for his_name, ledger_name in TOTALS:
        his_total = sum((_amount(r.data.get(his_name)) for r in finals), Decimal("0.00"))
        held = getattr(ledger, ledger_name)
        if his_total != held:
            problems.append(
                evidence_for(
                    ctx,
                    finals,
                    f"{his_name} {held} (platform ledger {day})",
                    f"{his_total} in the HIS's 3201",
                )
            )
    his_count = sum(int(_amount(r.data.get("fixmedins_setl_cnt"))) for r in finals)
    if his_count != ledger.setl_cnt:
        problems.append(
            evidence_for(
                ctx,
                finals,
                f"fixmedins_setl_cnt {ledger.setl_cnt} (platform ledger {day})",
                f"{his_count} in the HIS's 3201",
            )
        )
    return problems


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _day(value: object) -> date | None:
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            return None
    return None


def _amount(value: object) -> Decimal:
    try:
        return amount(value)
    except ValueError:
        return Decimal("0.00")


@check("detail_reconciliation_when_unbalanced", verifies=["HIS-REC-002"])
def detail_reconciliation_when_unbalanced(ctx: CheckContext) -> CheckOutcome:
    """After an unbalanced 3201 the HIS uploads its detail (9101) and reconciles it (3202).

    Example::

        expect:
          checks: [detail_reconciliation_when_unbalanced]
    """
    unbalanced = [
        r for r in ctx.records_of("3201") if r.definite_success and stmt_rslt(r) not in (None, "0")
    ]
    if not unbalanced:
        return not_applicable("no 3201 answer was unbalanced; no detail reconciliation was needed")
    problems = []
    for record in unbalanced:
        optins = record.data.get("setl_optins")
        later = [r for r in ctx.records if r.seq > record.seq]
        upload = next((r for r in later if r.infno == "9101" and r.infcode == 0), None)
        detail = next(
            (
                r
                for r in later
                if r.infno == "3202"
                and r.data.get("setl_optins") == optins
                and (upload is None or r.seq > upload.seq)
            ),
            None,
        )
        if upload is None or detail is None:
            seen = "no 9101 upload" if upload is None else "no 3202"
            problems.append(
                evidence_for(ctx, record, f"9101 then 3202 for setl_optins {optins}", seen)
            )
    return verdict(
        problems,
        f"all {len(unbalanced)} unbalanced 3201 answers were followed by 9101 and 3202",
        "unbalanced reconciliations not followed up",
    )

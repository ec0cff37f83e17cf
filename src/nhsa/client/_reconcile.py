"""Day-end reconciliation from the journal: 3201 per group, 3202 where a group does not balance.

The HIS side of the ledger is the journal: every settlement (2207, 2304) and refund (2208,
2305) that succeeded, with the amounts the platform answered. What counts is the contract's rule
(``x-counting`` of 3201, :func:`nhsa.envelope.counting_model`), the one the platform applies:
a refund is a row of its own with negated amounts; a settlement 2601 reversed is void and counts
nowhere (nothing of it is on the platform's books either); ``include_refunds`` sends the switch
``refd_setl_flag`` 1 (every row, refund rows too) or 0 (the settlements that stand: a refunded
settlement and its refund both left out). Groups are insutype × clr_type × setl_optins (the
clearing agency the answer named).

Where 3201 does not balance (or ``details`` asks), the group's rows go to the platform as a
detail file — TAB-separated ``setl_id, mdtrt_id, psn_no, medfee_sumamt, fund_pay_sumamt,
acct_pay, refd_setl_flag`` in a ZIP, uploaded with 9101 — then 3202 compares them, and the
result file (9102, ``result.txt``: ``psn_no, mdtrt_id, setl_id, msgid, stmt_rslt, refd_setl_flag,
memo, medfee_sumamt, fund_pay_sumamt, acct_pay``) names every row that differs.

A row only the platform has (``stmt_rslt`` 1) whose msgid is a journal entry the SDK had to
leave ``manual`` (its outcome unknown and its 2601 refused, e.g. a refund whose settlement can no
longer be restored) is the platform's own word that the request was booked: the entry is marked
``succeeded`` with the platform's row (setl_id and amounts), listed in the report's ``confirmed``,
and the day is compared once more. Nothing else is closed this way: an entry still ``unknown``,
``reversing`` or ``held`` is the SDK's or the cashier's to finish, and a row with a msgid the
journal does not know stays a mismatch.

Example:
    >>> row = DetailRow("S1", "V1", "P1", Decimal("120.00"), Decimal("72.80"),
    ...                 Decimal("47.20"), "0")
    >>> book = Ledger((LedgerRow(row, ("310", "11", "530100")),), ())
    >>> book.totals(("310", "11", "530100")).acct_pay
    Decimal('47.20')
"""

from __future__ import annotations

import base64
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from nhsa.client._flow import Flow
from nhsa.client._journal import JournalEntry
from nhsa.client._load_bearing import loaded
from nhsa.client._results import GroupReconciliation, LedgerTotals, ReconcileReport
from nhsa.client.errors import BusinessError
from nhsa.envelope import (
    REFUND_ROW,
    SETTLEMENT_ROW,
    DetailFileError,
    DetailRow,
    ResultRow,
    counted,
    counting_model,
    read_result_file,
    write_detail_file,
)
from nhsa.models import (
    Input3201,
    Input3202,
    Input9101,
    Input9102,
    Output3201,
    Output3202,
    Output9101,
)
from nhsa.money import cents

if TYPE_CHECKING:
    from nhsa.client._core import Core

Group = tuple[str, str, str]
"""(insutype, clr_type, setl_optins)."""
BALANCED = "0"
PLATFORM_ONLY = "1"  # 3202's 中心多: only the platform has the row
_UNRESOLVED = ("sending", "unknown", "reversing", "held", "manual")


@dataclass(frozen=True)
class LedgerRow:
    """One settlement row as the HIS knows it: the row of the 3202 detail file, and its group."""

    detail: DetailRow
    group: Group


@dataclass(frozen=True)
class Ledger:
    """The day's rows the counting model counts, and what is still unresolved."""

    rows: tuple[LedgerRow, ...]
    unresolved: tuple[str, ...]

    def groups(self) -> list[Group]:
        """Every group with a row, sorted."""
        return sorted({row.group for row in self.rows})

    def totals(self, group: Group) -> LedgerTotals:
        """The HIS totals of ``group``."""
        return _totals([row for row in self.rows if row.group == group])


def ledger(core: Core, day: date, *, include_refunds: bool = True) -> Ledger:
    """The HIS ledger of ``day`` read from the journal (see the module docstring)."""
    model = counting_model(_switch(include_refunds))
    entries = core.journal.entries(core.tenant, infno=_ledger_writes(core))
    standing = [e for e in entries if e.state == "succeeded"]
    # A refund names the settlement it refunds (its setl_id column); a 2601 of that refund
    # leaves it "reversed", and the settlement counts again.
    refunded = {e.setl_id for e in standing if _is_refund(core, e.infno)}
    by_setl_id = {e.setl_id: e for e in standing if not _is_refund(core, e.infno)}
    rows: list[LedgerRow] = []
    unresolved: list[str] = []
    for entry in entries:
        if entry.state == "succeeded":
            refund = _is_refund(core, entry.infno)
            if _day_of(entry) == day and counted(
                model, refund_row=refund, refunded=not refund and entry.setl_id in refunded
            ):
                rows.append(_row(core, entry, by_setl_id))
        elif entry.state in _UNRESOLVED and entry.created_at.date() == day:
            unresolved.append(entry.msgid)
        # "reversed" (2601): void on the platform as here; it counts nowhere.
    return Ledger(tuple(rows), tuple(unresolved))


def reconcile(
    core: Core,
    day: date,
    *,
    extra_groups: Iterable[tuple[str, str]] = (),
    include_refunds: bool = True,
    details: bool = False,
) -> Flow[ReconcileReport]:
    """3201 for every group of ``day`` (plus ``extra_groups`` of insutype × clr_type with no
    HIS rows), and 3202 for each clearing category × agency with a group that does not
    balance (every one with ``details``); once more after 3202 confirmed ``manual`` entries."""
    report = yield from _compare(core, day, extra_groups, include_refunds, details)
    confirmed = _confirm(core, report)
    if not confirmed:
        return report
    again = yield from _compare(core, day, extra_groups, include_refunds, details)
    return replace(again, confirmed=confirmed)


def _compare(
    core: Core,
    day: date,
    extra_groups: Iterable[tuple[str, str]],
    include_refunds: bool,
    details: bool,
) -> Flow[ReconcileReport]:
    book = ledger(core, day, include_refunds=include_refunds)
    switch = _switch(include_refunds)
    groups = set(book.groups())
    groups.update(
        (insutype, clr_type, core.config.mdtrtarea_admvs) for insutype, clr_type in extra_groups
    )
    answers: dict[Group, Output3201] = {}
    for group in sorted(groups):
        totals = book.totals(group)
        insutype, clr_type, setl_optins = group
        total_check = Input3201.model_validate(
            {
                "data": {
                    "insutype": insutype,
                    "clr_type": clr_type,
                    "setl_optins": setl_optins,
                    "stmt_begndate": day,
                    "stmt_enddate": day,
                    "medfee_sumamt": totals.medfee_sumamt,
                    "fund_pay_sumamt": totals.fund_pay_sumamt,
                    "acct_pay": totals.acct_pay,
                    "fixmedins_setl_cnt": totals.count,
                    "refd_setl_flag": switch,
                }
            }
        )
        answers[group] = yield from core.typed("3201", total_check)
    verdicts: dict[Group, str] = {g: loaded(a, "stmtinfo.stmt_rslt") for g, a in answers.items()}
    wanted = [g for g in sorted(groups) if details or verdicts[g] != BALANCED]
    mismatches: dict[Group, tuple[ResultRow, ...]] = {}
    # 3202 names no insutype: one file per clearing category and agency carries the rows of
    # every insutype; a row the HIS does not know goes to the first group that asked.
    for key in sorted({(g[1], g[2]) for g in wanted}):
        rows = [row for row in book.rows if row.group[1:] == key]
        found = yield from _detail(core, day, key, rows, switch)
        owner = {row.detail.setl_id: row.group for row in rows}
        first = next(g for g in wanted if g[1:] == key)
        for result in found:
            group = owner.get(result.setl_id, first)
            mismatches[group] = (*mismatches.get(group, ()), result)
    results = [
        GroupReconciliation(
            group[0],
            group[1],
            group[2],
            book.totals(group),
            verdicts[group],
            answer.stmtinfo.stmt_rslt_dscr if answer.stmtinfo else None,
            mismatches.get(group, ()),
        )
        for group, answer in answers.items()
    ]
    return ReconcileReport(day, tuple(results), book.unresolved)


def _confirm(core: Core, report: ReconcileReport) -> tuple[str, ...]:
    """Mark ``succeeded`` each ``manual`` entry a platform-only 3202 row names by its msgid."""
    writes = _ledger_writes(core)
    confirmed: list[str] = []
    # 3202 compared one clearing category and agency: the row's group names both.
    found = [(group, row) for group in report.groups for row in group.mismatches]
    for group, row in found:
        if row.stmt_rslt != PLATFORM_ONLY or not row.msgid:
            continue
        entry = core.journal.get(row.msgid)
        if entry is None or entry.state != "manual" or entry.infno not in writes:
            continue
        booked = {
            "setl_id": row.setl_id,
            "mdtrt_id": row.mdtrt_id,
            "psn_no": row.psn_no,
            "medfee_sumamt": str(row.medfee_sumamt),
            "fund_pay_sumamt": str(row.fund_pay_sumamt),
            "acct_pay": str(row.acct_pay),
            "clr_type": group.clr_type,
            "clr_optins": group.setl_optins,
        }
        note = (
            f"booked on the platform: 3202 of {report.day.isoformat()} lists it "
            f"(setl_id {row.setl_id}); was manual: {entry.detail or ''}"
        )
        core.journal.mark(entry.msgid, "succeeded", detail=note, result=booked)
        confirmed.append(entry.msgid)
    return tuple(confirmed)


def _detail(
    core: Core, day: date, key: tuple[str, str], rows: Sequence[LedgerRow], switch: str
) -> Flow[tuple[ResultRow, ...]]:
    """9101 + 3202 + 9102 for the rows of one clearing category and agency; the rows 3202
    found unbalanced."""
    clr_type, setl_optins = key
    # 3202's totals describe the uploaded file.
    totals = _totals(rows)
    base = f"{core.tenant}_{day:%Y%m%d}_{clr_type}_{setl_optins}"
    archive = write_detail_file([row.detail for row in rows], member=f"{base}.txt")
    upload = Input9101.model_validate(
        {
            "fsUploadIn": {
                "in": base64.b64encode(archive).decode("ascii"),
                "filename": f"{base}.zip",
                "fixmedins_code": core.tenant,
            }
        }
    )
    uploaded: Output9101 = yield from core.typed("9101", upload)
    compare = Input3202.model_validate(
        {
            "data": {
                "setl_optins": setl_optins,
                "file_qury_no": loaded(uploaded, "file_qury_no"),
                "stmt_begndate": day,
                "stmt_enddate": day,
                "medfee_sumamt": totals.medfee_sumamt,
                "fund_pay_sumamt": totals.fund_pay_sumamt,
                "cash_payamt": totals.cash_payamt,
                "fixmedins_setl_cnt": totals.count,
                "clr_type": clr_type,
                "refd_setl_flag": switch,
            }
        }
    )
    compared: Output3202 = yield from core.typed("3202", compare)
    download = Input9102.model_validate(
        {
            "fsDownloadIn": {
                "file_qury_no": loaded(compared, "fileinfo.file_qury_no"),
                "filename": loaded(compared, "fileinfo.filename"),
                "fixmedins_code": core.tenant,
            }
        }
    )
    content: bytes = yield from core.typed("9102", download)
    try:
        result = read_result_file(content)
    except DetailFileError as error:
        raise BusinessError(f"3202 result file: {error}", infno="9102") from None
    return tuple(row for row in result if row.stmt_rslt != BALANCED)


def _ledger_writes(core: Core) -> list[str]:
    # Ledger rows come from the transactions that book a settlement or its cancellation:
    # writes answering a setlinfo that 2601 can reverse (2207, 2208; inpatient 2304, 2305).
    # A pre-settlement (2206) answers a setlinfo too, but books nothing.
    return [
        infno
        for infno, transaction in core.contract.transactions.items()
        if transaction.kind == "write"
        and transaction.reversible_by_2601
        and "setlinfo" in _output_nodes(transaction.output_schema)
    ]


def _row(core: Core, entry: JournalEntry, by_setl_id: Mapping[Any, JournalEntry]) -> LedgerRow:
    result = entry.result
    detail = DetailRow(
        setl_id=str(result.get("setl_id") or ""),
        mdtrt_id=str(result.get("mdtrt_id") or entry.facts.get("mdtrt_id") or ""),
        psn_no=str(result.get("psn_no") or entry.facts.get("psn_no") or ""),
        medfee_sumamt=_decimal(result.get("medfee_sumamt")),
        fund_pay_sumamt=_decimal(result.get("fund_pay_sumamt")),
        acct_pay=_decimal(result.get("acct_pay")),
        refd_setl_flag=REFUND_ROW if _is_refund(core, entry.infno) else SETTLEMENT_ROW,
    )
    return LedgerRow(detail, _group(core, entry, result, by_setl_id))


def _totals(rows: Sequence[LedgerRow]) -> LedgerTotals:
    details = [row.detail for row in rows]
    return LedgerTotals(
        sum((d.medfee_sumamt for d in details), Decimal(0)),
        sum((d.fund_pay_sumamt for d in details), Decimal(0)),
        sum((d.acct_pay for d in details), Decimal(0)),
        len(details),
    )


def _group(
    core: Core,
    entry: JournalEntry,
    result: Mapping[str, Any],
    by_setl_id: Mapping[Any, JournalEntry],
) -> Group:
    # A refund's answer carries neither insutype nor clr_type: take them from the settlement
    # it refunds (its input named that setl_id, kept in the journal's setl_id column).
    original = by_setl_id.get(entry.setl_id) if _is_refund(core, entry.infno) else None
    source = original.result if original is not None else result
    insutype = str(source.get("insutype") or entry.facts.get("insutype") or "")
    clr_type = str(source.get("clr_type") or core.config.outpatient_clr_type)
    setl_optins = str(
        result.get("clr_optins") or source.get("clr_optins") or core.config.mdtrtarea_admvs
    )
    return (insutype, clr_type, setl_optins)


def _switch(include_refunds: bool) -> str:
    """The ``refd_setl_flag`` that asks 3201 and 3202 to count refunds in, or to leave them out."""
    return REFUND_ROW if include_refunds else SETTLEMENT_ROW


def _is_refund(core: Core, infno: str) -> bool:
    """Whether ``infno`` is the business cancel of another transaction (2208 of 2207, …)."""
    return any(t.undone_by == infno for t in core.contract.transactions.values())


def _day_of(entry: JournalEntry) -> date:
    when = entry.result.get("setl_time")
    if isinstance(when, str) and when:
        return datetime.fromisoformat(when).date()
    return entry.created_at.date()


def _output_nodes(schema: Mapping[str, Any]) -> set[str]:
    return set(schema.get("properties", {}))


def _decimal(value: object) -> Decimal:
    # The journal keeps answers as JSON, so an amount may come back as 25.0: to the cent again.
    if value is None or value == "":
        return Decimal("0.00")
    return cents(Decimal(str(value)))

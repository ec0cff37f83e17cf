"""Day-end reconciliation from the journal: 3201 per group, 3202 where a group does not balance.

The HIS side of the ledger is the journal: every settlement (2207) and refund (2208) that
succeeded, with the amounts the platform answered; refunds are negative rows (reference §5.4).
A settlement whose answer was lost and that 2601 then reversed left two rows on the platform —
the settlement and its reversal, amounts cancelling — when the 2601 answer says the original
had arrived, and none when it says it had not; both count. Groups are insutype × clr_type ×
setl_optins (the clearing agency the answer named).

Where 3201 does not balance, the group's rows go to the platform as a detail file — TAB-
separated ``setl_id, mdtrt_id, psn_no, medfee_sumamt, fund_pay_sumamt, acct_pay,
refd_setl_flag`` in a ZIP, uploaded with 9101 — then 3202 compares them, and the result file
(9102, ``result.txt``: ``psn_no, mdtrt_id, setl_id, msgid, stmt_rslt, refd_setl_flag, memo,
medfee_sumamt, fund_pay_sumamt, acct_pay``) names every row that differs.

Example:
    >>> row = DetailRow("S1", "V1", "P1", Decimal("120.00"), Decimal("72.80"),
    ...                 Decimal("47.20"), "0")
    >>> book = Ledger((LedgerRow(row, ("310", "11", "530100")),), {}, ())
    >>> book.totals(("310", "11", "530100")).acct_pay
    Decimal('47.20')
"""

from __future__ import annotations

import base64
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from nhsa.client._flow import Flow
from nhsa.client._journal import JournalEntry
from nhsa.client._load_bearing import loaded
from nhsa.client._results import GroupReconciliation, LedgerTotals, ReconcileReport
from nhsa.client.errors import BusinessError
from nhsa.envelope import (
    DetailFileError,
    DetailRow,
    ResultRow,
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
_UNRESOLVED = ("sending", "unknown", "reversing", "held")


@dataclass(frozen=True)
class LedgerRow:
    """One settlement row as the HIS knows it: the row of the 3202 detail file, and its group."""

    detail: DetailRow
    group: Group


@dataclass(frozen=True)
class Ledger:
    """The day's rows, the cancelling pairs per group, and what is still unresolved."""

    rows: tuple[LedgerRow, ...]
    pairs: Mapping[Group, int]
    unresolved: tuple[str, ...]

    def groups(self) -> list[Group]:
        """Every group with a row or a pair, sorted."""
        return sorted({row.group for row in self.rows} | set(self.pairs))

    def totals(self, group: Group) -> LedgerTotals:
        """The HIS totals of ``group`` (a cancelling pair adds two rows and no money)."""
        rows = [row for row in self.rows if row.group == group]
        return _totals(rows, count=len(rows) + 2 * self.pairs.get(group, 0))


def ledger(core: Core, day: date) -> Ledger:
    """The HIS ledger of ``day`` read from the journal (see the module docstring)."""
    # Ledger rows come from the transactions that book a settlement or its cancellation:
    # writes answering a setlinfo that 2601 can reverse (2207, 2208; inpatient 2304, 2305).
    # A pre-settlement (2206) answers a setlinfo too, but books nothing.
    writes = [
        infno
        for infno, transaction in core.contract.transactions.items()
        if transaction.kind == "write"
        and transaction.reversible_by_2601
        and "setlinfo" in _output_nodes(transaction.output_schema)
    ]
    entries = core.journal.entries(core.tenant, infno=writes)
    by_setl_id = {e.result.get("setl_id"): e for e in entries if e.state == "succeeded"}
    rows: list[LedgerRow] = []
    pairs: dict[Group, int] = {}
    unresolved: list[str] = []
    for entry in entries:
        if entry.state == "succeeded":
            if _day_of(entry) == day:
                rows.append(_row(core, entry, by_setl_id))
        elif entry.state in _UNRESOLVED or (
            entry.state == "reversed" and entry.original_found is None and entry.reverses is None
        ):
            if entry.created_at.date() == day:
                unresolved.append(entry.msgid)
        elif (
            entry.state == "reversed"
            and entry.original_found
            and not _is_refund(core, entry.infno)
            and entry.created_at.date() == day
        ):
            # A lost settlement that 2601 found and voided: a row and its reversal row. (A
            # reversed refund restores the settlement it cancelled: no row of its own.)
            group = _group(core, entry, {}, by_setl_id)
            pairs[group] = pairs.get(group, 0) + 1
    return Ledger(tuple(rows), pairs, tuple(unresolved))


def reconcile(
    core: Core, day: date, *, extra_groups: Iterable[tuple[str, str]] = ()
) -> Flow[ReconcileReport]:
    """3201 for every group of ``day`` (plus ``extra_groups`` of insutype × clr_type with no
    HIS rows), and 3202 for each that does not balance."""
    book = ledger(core, day)
    groups = set(book.groups())
    groups.update(
        (insutype, clr_type, core.config.mdtrtarea_admvs) for insutype, clr_type in extra_groups
    )
    results = []
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
                }
            }
        )
        answer: Output3201 = yield from core.typed("3201", total_check)
        stmt_rslt: str = loaded(answer, "stmtinfo.stmt_rslt")
        mismatches: tuple[ResultRow, ...] = ()
        if stmt_rslt != BALANCED:
            rows = [row for row in book.rows if row.group == group]
            mismatches = yield from _detail(core, day, group, rows)
        results.append(
            GroupReconciliation(
                insutype,
                clr_type,
                setl_optins,
                totals,
                stmt_rslt,
                answer.stmtinfo.stmt_rslt_dscr if answer.stmtinfo else None,
                mismatches,
            )
        )
    return ReconcileReport(day, tuple(results), book.unresolved)


def _detail(
    core: Core, day: date, group: Group, rows: Sequence[LedgerRow]
) -> Flow[tuple[ResultRow, ...]]:
    insutype, clr_type, setl_optins = group
    # 3202's totals describe the uploaded file, so they count its rows only.
    totals = _totals(rows, count=len(rows))
    base = f"{core.tenant}_{day:%Y%m%d}_{insutype}_{clr_type}"
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
                "refd_setl_flag": _file_flag(rows),
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


def _row(core: Core, entry: JournalEntry, by_setl_id: Mapping[Any, JournalEntry]) -> LedgerRow:
    result = entry.result
    detail = DetailRow(
        setl_id=str(result.get("setl_id") or ""),
        mdtrt_id=str(result.get("mdtrt_id") or entry.facts.get("mdtrt_id") or ""),
        psn_no=str(result.get("psn_no") or entry.facts.get("psn_no") or ""),
        medfee_sumamt=_decimal(result.get("medfee_sumamt")),
        fund_pay_sumamt=_decimal(result.get("fund_pay_sumamt")),
        acct_pay=_decimal(result.get("acct_pay")),
        refd_setl_flag="1" if _is_refund(core, entry.infno) else "0",
    )
    return LedgerRow(detail, _group(core, entry, result, by_setl_id))


def _totals(rows: Sequence[LedgerRow], *, count: int) -> LedgerTotals:
    details = [row.detail for row in rows]
    return LedgerTotals(
        sum((d.medfee_sumamt for d in details), Decimal(0)),
        sum((d.fund_pay_sumamt for d in details), Decimal(0)),
        sum((d.acct_pay for d in details), Decimal(0)),
        count,
    )


def _group(
    core: Core,
    entry: JournalEntry,
    result: Mapping[str, Any],
    by_setl_id: Mapping[Any, JournalEntry],
) -> Group:
    # A refund's answer carries neither insutype nor clr_type: take them from the settlement
    # it refunds (its input named that setl_id).
    original = by_setl_id.get(entry.facts.get("setl_id")) if entry.facts.get("setl_id") else None
    source = original.result if original is not None else result
    insutype = str(source.get("insutype") or entry.facts.get("insutype") or "")
    clr_type = str(source.get("clr_type") or core.config.outpatient_clr_type)
    setl_optins = str(
        result.get("clr_optins") or source.get("clr_optins") or core.config.mdtrtarea_admvs
    )
    return (insutype, clr_type, setl_optins)


def _file_flag(rows: Sequence[LedgerRow]) -> str:
    """3202's refd_setl_flag for a file: 0 (正常) unless every row is a refund row. Each row
    carries its own flag; the header's meaning is not documented (contract, 3202)."""
    flags = {row.detail.refd_setl_flag for row in rows}
    return "1" if flags == {"1"} else "0"


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

"""The settlement ledger: booking a settlement, refunding or voiding it, restoring it after a 冲正.

Each operation changes, in the caller's transaction, everything that must move together: the
ledger row(s), the account balance, the year-to-date counters and the fee lines' status. The
calculator's full result is kept on the row, so a reversal is computed from exactly what was
booked (:func:`nhsa.mock.settlement.reverse`) and restores the counters to the cent.

Example::

    row = book(ctx, visit=visit, person=person, record=record, calculation=calc,
               lines=lines, chrg_bchno="B1", setlinfo_node=node)
    negative = reverse(ctx, row, person=person)       # 2208: a refund row of its own
    restore(ctx, negative, person=person)             # 2601 of that 2208
    void(ctx, row, person=person)                     # 2601 of the 2207: no row at all
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import date
from typing import Any

from nhsa.mock.engine._accounts import add_year_to_date, balance, set_balance
from nhsa.mock.engine._context import Context
from nhsa.mock.engine._errors import BusinessError
from nhsa.mock.engine._setlinfo import DATETIME
from nhsa.mock.fixtures import InsuranceRecord, InsuredPerson
from nhsa.mock.settlement import Settlement as Calculation
from nhsa.mock.settlement import reverse as reverse_calculation
from nhsa.mock.store import (
    ACTIVE,
    SETTLED,
    UNSETTLED,
    VOIDED,
    PreSettlement,
    Settlement,
    Stay,
    UnitOfWork,
    UploadedFeeLine,
    Visit,
)


def book(
    ctx: Context,
    *,
    visit: Visit | Stay,
    person: InsuredPerson,
    record: InsuranceRecord,
    calculation: Calculation,
    lines: Sequence[UploadedFeeLine],
    chrg_bchno: str,
    setlinfo_node: Mapping[str, Any],
    mid_setl_flag: str | None = None,
) -> Settlement:
    """Write a settlement (2207, 2304): ledger row, balance, counters, lines settled, at once.

    ``visit`` is the outpatient visit or the stay; ``mid_setl_flag`` marks an inpatient
    settlement (``1`` mid-way, ``0`` final).
    """
    setl_id = str(setlinfo_node["setl_id"])
    row = Settlement(
        tenant=ctx.tenant,
        setl_id=setl_id,
        mdtrt_id=visit.mdtrt_id,
        psn_no=person.psn_no,
        insutype=record.insutype,
        insuplc_admdvs=visit.insuplc_admdvs,
        clr_type=str(setlinfo_node["clr_type"]),
        clr_optins=str(setlinfo_node["clr_optins"]),
        setl_time=ctx.now,
        setl_date=ctx.today,
        year=ctx.now.year,
        medfee_sumamt=calculation.medfee_sumamt,
        fund_pay_sumamt=calculation.fund_pay_sumamt,
        acct_pay=calculation.acct_pay,
        psn_cash_pay=calculation.psn_cash_pay,
        refd_setl_flag="0",
        status=ACTIVE,
        msgid=ctx.call.msgid,
        infno=ctx.call.infno,
        chrg_bchno=chrg_bchno,
        line_ids=tuple(line.line_id for line in lines),
        calculation=calculation.to_record(),
        setlinfo=dict(setlinfo_node),
        mid_setl_flag=mid_setl_flag,
    )
    ctx.tx.put(row)
    set_balance(ctx, person.psn_no, record.insutype, calculation.balc)
    add_year_to_date(
        ctx,
        person.psn_no,
        row.year,
        row.insuplc_admdvs,
        calculation.benefit_id,
        delta=calculation.delta,
    )
    for line in lines:
        ctx.tx.put(replace(line, status=SETTLED, setl_id=setl_id))
    ctx.tx.delete(PreSettlement, ctx.tenant, visit.mdtrt_id, chrg_bchno)
    return row


def reverse(ctx: Context, original: Settlement, *, person: InsuredPerson) -> Settlement:
    """Refund a live settlement (2208): a negative row of its own, the original marked as
    refunded (it stays in the ledger: both rows are records, see ``x-counting`` of 3201).

    The account gets back what the settlement took, the counters of the settlement's own year
    lose its delta, and its fee lines are unsettled again (to be cancelled with 2205 or settled
    anew).
    """
    undo = _give_back(ctx, original, person=person)
    setl_id = ctx.new_id("setl_id")
    node = {
        **original.setlinfo,
        **undo.setlinfo_amounts(),
        "setl_id": setl_id,
        "setl_time": ctx.now.strftime(DATETIME),
        "medins_setl_id": ctx.call.msgid,
    }
    negative = replace(
        original,
        setl_id=setl_id,
        setl_time=ctx.now,
        setl_date=ctx.today,
        medfee_sumamt=undo.medfee_sumamt,
        fund_pay_sumamt=undo.fund_pay_sumamt,
        acct_pay=undo.acct_pay,
        psn_cash_pay=undo.psn_cash_pay,
        refd_setl_flag="1",
        status=ACTIVE,
        msgid=ctx.call.msgid,
        infno=ctx.call.infno,
        calculation=undo.to_record(),
        setlinfo=node,
        reverses=original.setl_id,
        reversed_by=None,
    )
    ctx.tx.put(negative)
    ctx.tx.put(replace(original, reversed_by=setl_id))
    return negative


def void(ctx: Context, original: Settlement, *, person: InsuredPerson) -> Settlement:
    """Void a live settlement (2601 of its 2207): as if it had never been booked.

    The account, the counters and the fee lines are given back exactly as a refund gives them
    back, but no row is written: the platform marks the settlement invalid (its ``VALI_FLAG``
    0), so neither 3201 nor 3202 counts it, on either side, and the visit may be settled again.
    """
    _give_back(ctx, original, person=person)
    voided = replace(original, status=VOIDED)
    ctx.tx.put(voided)
    return voided


def _give_back(ctx: Context, original: Settlement, *, person: InsuredPerson) -> Calculation:
    """Undo what a settlement took: account, year-to-date counters, settled fee lines."""
    calculation = Calculation.from_record(original.calculation)
    undo = reverse_calculation(calculation, balance_now=balance(ctx, person, original.insutype))
    set_balance(ctx, person.psn_no, original.insutype, undo.balc)
    add_year_to_date(
        ctx,
        person.psn_no,
        original.year,
        original.insuplc_admdvs,
        undo.benefit_id,
        delta=undo.delta,
    )
    for line in _lines(ctx.tx, ctx.tenant, original.line_ids):
        if line.status == SETTLED and line.setl_id == original.setl_id:
            ctx.tx.put(replace(line, status=UNSETTLED, setl_id=None))
    return undo


def restore(ctx: Context, negative: Settlement, *, person: InsuredPerson) -> Settlement:
    """Undo a reversal (2601 of a 2208): void the negative row and re-apply the original.

    Refused when the visit moved on since the reversal (lines cancelled or settled again, the
    registration or admission cancelled) or the account no longer holds what the original
    took.
    """
    original = ctx.tx.get(Settlement, ctx.tenant, str(negative.reverses))
    if original is None:  # pragma: no cover - a reversal row always names its original
        raise RuntimeError(f"reversal row {negative.setl_id} names no original settlement")
    visit = ctx.tx.get(Visit, ctx.tenant, original.mdtrt_id) or ctx.tx.get(
        Stay, ctx.tenant, original.mdtrt_id
    )
    lines = _lines(ctx.tx, ctx.tenant, original.line_ids)
    moved = [line.feedetl_sn for line in lines if line.status != UNSETTLED]
    if (visit is not None and visit.cancelled_at is not None) or moved:
        why_zh = "挂号已撤销" if not moved else f"费用明细 {', '.join(moved)} 已撤销或已重新结算"
        why_en = (
            "the registration was cancelled"
            if not moved
            else (f"fee lines {', '.join(moved)} were cancelled or settled again")
        )
        raise BusinessError(
            "illegal_state",
            f"当前状态不允许此操作：结算撤销(2208，setl_id={negative.setl_id})之后{why_zh}，"
            "无法冲正恢复原结算；请按现状重新结算(2206/2207)",
            f"after the settlement reversal (2208, setl_id {negative.setl_id}) {why_en}, so the "
            "original settlement cannot be restored: settle the visit again (2206/2207)",
        )
    calculation = Calculation.from_record(original.calculation)
    available = balance(ctx, person, original.insutype)
    if calculation.acct_pay > available:
        raise BusinessError(
            "illegal_state",
            f"当前状态不允许此操作：个人账户余额 {available} 不足以恢复原结算的账户支付 "
            f"{calculation.acct_pay}（setl_id={original.setl_id}）；请重新结算",
            f"the personal account holds {available}, less than the {calculation.acct_pay} "
            f"the original settlement {original.setl_id} paid: settle the visit again",
        )
    set_balance(ctx, person.psn_no, original.insutype, available - calculation.acct_pay)
    add_year_to_date(
        ctx,
        person.psn_no,
        original.year,
        original.insuplc_admdvs,
        calculation.benefit_id,
        delta=calculation.delta,
    )
    for line in lines:
        ctx.tx.put(replace(line, status=SETTLED, setl_id=original.setl_id))
    ctx.tx.put(replace(negative, status=VOIDED))
    restored = replace(original, reversed_by=None)
    ctx.tx.put(restored)
    ctx.tx.delete(PreSettlement, ctx.tenant, original.mdtrt_id, original.chrg_bchno)
    return restored


def ledger(tx: UnitOfWork, tenant: str, begin: date, end: date) -> list[Settlement]:
    """Every ledger row of the tenant booked between two days (inclusive), voided rows left out.

    Refund rows are on the day of the refund, with negative amounts.
    """
    rows = tx.between(Settlement, "setl_date", begin, end, tenant=tenant)
    return [row for row in rows if row.status == ACTIVE]


def is_refunded(tx: UnitOfWork, row: Settlement) -> bool:
    """Whether ``row`` is a settlement a live refund row has refunded (2601 of that 2208 voids
    the refund row and clears the mark)."""
    if row.reversed_by is None:
        return False
    refund = tx.get(Settlement, row.tenant, row.reversed_by)
    return refund is not None and refund.status == ACTIVE


def _lines(tx: UnitOfWork, tenant: str, line_ids: Sequence[str]) -> list[UploadedFeeLine]:
    found = (tx.get(UploadedFeeLine, tenant, line_id) for line_id in line_ids)
    return [line for line in found if line is not None]

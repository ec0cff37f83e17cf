"""3201 对总账 and 3202 对明细账: the hospital's figures against the platform's ledger.

The ledger holds each settlement (2207, 2304) as a row and each refund (2208, 2305) as a row of
its own, with negated amounts and ``refd_setl_flag`` 1, on the day it was booked; a settlement
2601 reversed is voided and is no row at all. What 3201 and 3202 count of it is the contract's rule
(``x-counting`` of 3201, :func:`nhsa.envelope.counting_model`): the request's
``refd_setl_flag`` is a switch — 0 counts the settlements that stand (a refunded settlement and
its refund both left out), 1, empty or absent every row, refund rows included.

3201 answers ``stmt_rslt`` 0 when the four totals agree; otherwise 1 (中心多: the platform has
more rows), 2 (医药机构多: the hospital reports more), or 3 (same count, different amounts),
with ``stmt_rslt_dscr`` naming each total that differs, both values and the difference.

3202 compares the uploaded detail file row by row (by ``setl_id``) with the ledger rows of its
``clr_type`` that its ``refd_setl_flag`` counts, and produces a result file for 9102 in which
both "only at the platform" (1) and "only at the hospital" (2) rows appear.

Example::

    answer = reconcile_totals(ctx, node)  # output {"stmtinfo": {"stmt_rslt": "0", …}}
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from nhsa.envelope import (
    REFUND_ROW,
    CountingModel,
    DetailFileError,
    DetailRow,
    ResultRow,
    counted,
    counting_model,
    read_detail_file,
    write_result_file,
)
from nhsa.mock.engine._context import Context
from nhsa.mock.engine._errors import BusinessError
from nhsa.mock.engine._ledger import is_refunded, ledger
from nhsa.mock.engine._setlinfo import DATETIME
from nhsa.mock.engine._types import Answer
from nhsa.mock.store import Settlement, StoredFile
from nhsa.models import Input3201, Input3202

BALANCED, CENTRE_MORE, HOSPITAL_MORE, DIFFERENT = "0", "1", "2", "3"
_DSCR_LIMIT = 200  # stmt_rslt_dscr is 字符型(200)


@dataclass(frozen=True)
class Totals:
    """The four figures 3201 compares.

    Example:
        >>> Totals.of([]).count
        0
    """

    medfee_sumamt: Decimal
    fund_pay_sumamt: Decimal
    acct_pay: Decimal
    count: int

    @classmethod
    def of(cls, rows: Sequence[Settlement]) -> Totals:
        """The totals of ledger rows (reversal rows subtract)."""
        zero = Decimal("0.00")
        return cls(
            sum((row.medfee_sumamt for row in rows), zero),
            sum((row.fund_pay_sumamt for row in rows), zero),
            sum((row.acct_pay for row in rows), zero),
            len(rows),
        )


def compare_totals(centre: Totals, hospital: Totals) -> tuple[str, str]:
    """``stmt_rslt`` and ``stmt_rslt_dscr`` for the platform's and the hospital's totals.

    Example:
        >>> same = Totals(Decimal("10.00"), Decimal("6.00"), Decimal("4.00"), 1)
        >>> compare_totals(same, same)[0]
        '0'
        >>> compare_totals(same, Totals(Decimal("8.00"), Decimal("6.00"), Decimal("4.00"), 1))
        ('3', '不平/unbalanced: medfee_sumamt 中心10.00 医院8.00 差2.00')
    """
    pairs = (
        ("fixmedins_setl_cnt", Decimal(centre.count), Decimal(hospital.count)),
        ("medfee_sumamt", centre.medfee_sumamt, hospital.medfee_sumamt),
        ("fund_pay_sumamt", centre.fund_pay_sumamt, hospital.fund_pay_sumamt),
        ("acct_pay", centre.acct_pay, hospital.acct_pay),
    )
    differing = [(name, c, h) for name, c, h in pairs if c != h]
    if not differing:
        return BALANCED, f"对平/balanced: {centre.count} 笔, medfee_sumamt {centre.medfee_sumamt}"
    if centre.count > hospital.count:
        result = CENTRE_MORE
    elif hospital.count > centre.count:
        result = HOSPITAL_MORE
    else:
        result = DIFFERENT
    text = "不平/unbalanced: " + "; ".join(
        f"{n} 中心{c} 医院{h} 差{c - h}" for n, c, h in differing
    )
    return result, text if len(text) <= _DSCR_LIMIT else text[: _DSCR_LIMIT - 1] + "…"


def reconcile_totals(ctx: Context, node: Input3201) -> Answer:
    """3201: compare the hospital's totals with the ledger for one insutype and clr_type."""
    data = node.data
    model = counting_model(data.refd_setl_flag)
    rows = [
        row
        for row in _counted_rows(
            ctx, model, data.setl_optins, data.stmt_begndate, data.stmt_enddate
        )
        if row.insutype == data.insutype and row.clr_type == data.clr_type
    ]
    hospital = Totals(
        data.medfee_sumamt, data.fund_pay_sumamt, data.acct_pay, data.fixmedins_setl_cnt
    )
    result, text = compare_totals(Totals.of(rows), hospital)
    output = {
        "stmtinfo": {"setl_optins": data.setl_optins, "stmt_rslt": result, "stmt_rslt_dscr": text}
    }
    return Answer.ok(output, effects={"stmt_rslt": result, "rows": str(len(rows))})


def reconcile_details(ctx: Context, node: Input3202) -> Answer:
    """3202: compare the uploaded detail file with the ledger; store the result file."""
    data = node.data
    upload = ctx.tx.get(StoredFile, ctx.tenant, data.file_qury_no)
    if upload is None or upload.kind != "upload":
        raise BusinessError(
            "envelope.validation_failed",
            f"报文校验失败：file_qury_no={data.file_qury_no} 不是本机构上传(9101)的文件；"
            "请先用【9101】上传明细文件",
            f"file_qury_no {data.file_qury_no} names no file this institution uploaded with "
            "9101: upload the detail file first",
        )
    try:
        his_rows = read_detail_file(upload.content)
    except DetailFileError as bad:
        raise BusinessError(
            "envelope.validation_failed",
            f"报文校验失败：明细文件 {upload.filename} 格式错误：{bad}",
            f"detail file {upload.filename} cannot be read: {bad}",
        ) from None
    _check_header(data.fixmedins_setl_cnt, data.medfee_sumamt, data.fund_pay_sumamt, his_rows)
    model = counting_model(data.refd_setl_flag)
    centre = [
        row
        for row in _counted_rows(
            ctx, model, data.setl_optins, data.stmt_begndate, data.stmt_enddate
        )
        if row.clr_type == data.clr_type
    ]
    results = compare_rows(ctx, centre, his_rows)
    file_qury_no = ctx.new_id("file_qury_no")
    filename = f"{file_qury_no}_result.zip"
    dld_endtime = ctx.now + ctx.options.file_valid_for
    ctx.tx.put(
        StoredFile(
            ctx.tenant,
            file_qury_no,
            filename,
            "result",
            write_result_file(results),
            ctx.now,
            dld_endtime,
        )
    )
    output = {
        "fileinfo": {
            "file_qury_no": file_qury_no,
            "filename": filename,
            "dld_endtime": dld_endtime.strftime(DATETIME),
        }
    }
    unbalanced = sum(1 for row in results if row.stmt_rslt != BALANCED)
    effects = {
        "file_qury_no": file_qury_no,
        "rows": str(len(results)),
        "unbalanced": str(unbalanced),
    }
    return Answer.ok(output, changed=True, effects=effects)


def compare_rows(
    ctx: Context, centre: Sequence[Settlement], his_rows: Sequence[DetailRow]
) -> list[ResultRow]:
    """One result row per settlement either side knows, platform rows first."""
    reported = {row.setl_id: row for row in his_rows}
    results = []
    for row in centre:
        his = reported.pop(row.setl_id, None)
        if his is None:
            results.append(_result(row, CENTRE_MORE, "中心有、医院无 / only at the platform"))
            continue
        differences = _differences(row, his)
        if differences:
            memo = "数据不一致 / differs: " + "; ".join(differences)
            results.append(_result(row, DIFFERENT, memo))
        else:
            results.append(_result(row, BALANCED, "对平 / balanced"))
    for his in reported.values():
        known = ctx.tx.get(Settlement, ctx.tenant, his.setl_id)
        memo = "医院有、中心无 / only at the hospital"
        if known is not None:
            memo += f" (中心该结算记于 {known.setl_date.isoformat()}、状态 {known.status})"
        results.append(
            ResultRow(
                his.psn_no,
                his.mdtrt_id,
                his.setl_id,
                known.msgid if known else "",
                HOSPITAL_MORE,
                his.refd_setl_flag,
                memo,
                his.medfee_sumamt,
                his.fund_pay_sumamt,
                his.acct_pay,
            )
        )
    return results


def _result(row: Settlement, stmt_rslt: str, memo: str) -> ResultRow:
    return ResultRow(
        row.psn_no,
        row.mdtrt_id,
        row.setl_id,
        row.msgid,
        stmt_rslt,
        row.refd_setl_flag,
        memo,
        row.medfee_sumamt,
        row.fund_pay_sumamt,
        row.acct_pay,
    )


def _differences(row: Settlement, his: DetailRow) -> list[str]:
    pairs = (
        ("mdtrt_id", row.mdtrt_id, his.mdtrt_id),
        ("psn_no", row.psn_no, his.psn_no),
        ("medfee_sumamt", row.medfee_sumamt, his.medfee_sumamt),
        ("fund_pay_sumamt", row.fund_pay_sumamt, his.fund_pay_sumamt),
        ("acct_pay", row.acct_pay, his.acct_pay),
        ("refd_setl_flag", row.refd_setl_flag, his.refd_setl_flag),
    )
    return [f"{name} 中心{ours} 医院{theirs}" for name, ours, theirs in pairs if ours != theirs]


def _counted_rows(
    ctx: Context, model: CountingModel, setl_optins: str, begin: date, end: date
) -> list[Settlement]:
    """The agency's ledger rows of the period that ``model`` counts."""
    return [
        row
        for row in _ledger_rows(ctx, setl_optins, begin, end)
        if counted(
            model, refund_row=row.refd_setl_flag == REFUND_ROW, refunded=is_refunded(ctx.tx, row)
        )
    ]


def _ledger_rows(ctx: Context, setl_optins: str, begin: date, end: date) -> list[Settlement]:
    if end < begin:
        raise BusinessError(
            "envelope.validation_failed",
            f"报文校验失败：stmt_enddate={end.isoformat()} 早于 stmt_begndate={begin.isoformat()}",
            f"stmt_enddate {end.isoformat()} is before stmt_begndate {begin.isoformat()}",
        )
    return [row for row in ledger(ctx.tx, ctx.tenant, begin, end) if row.clr_optins == setl_optins]


def _check_header(count: int, medfee: Decimal, fund: Decimal, rows: Sequence[DetailRow]) -> None:
    # The request's totals describe the file; a mismatch means the wrong file was uploaded.
    checks = (
        ("fixmedins_setl_cnt", Decimal(count), Decimal(len(rows))),
        ("medfee_sumamt", medfee, sum((r.medfee_sumamt for r in rows), Decimal("0.00"))),
        ("fund_pay_sumamt", fund, sum((r.fund_pay_sumamt for r in rows), Decimal("0.00"))),
    )
    wrong = [(name, sent, inside) for name, sent, inside in checks if sent != inside]
    if wrong:
        zh = "；".join(f"{n} 请求 {s}，文件合计 {i}" for n, s, i in wrong)
        en = "; ".join(f"{n} sent {s}, the file gives {i}" for n, s, i in wrong)
        raise BusinessError(
            "envelope.validation_failed",
            f"报文校验失败：对账请求的合计与明细文件不符（{zh}）；请上传与请求一致的明细文件",
            f"the request's totals do not describe the uploaded file ({en}): upload the file "
            "that matches the request",
        )

"""2204 门诊费用明细上传 and 2205 门诊费用明细撤销.

Each uploaded line is priced against the treatment place's catalogue (就医地目录) by the
calculator; the answer's ``result`` rows are the calculator's. Rules (reference §3.8, §5.5):
one upload belongs to one visit; ``feedetl_sn`` is unique among the visit's lines that are not
cancelled; every line of a charge batch (``chrg_bchno``) carries the same ``dise_codg``; a batch
that is already settled takes no more lines. 2205 with ``chrg_bchno`` "0000" deletes every
unsettled line of the visit; settled lines need their settlement reversed (2208) first.

Example::

    answer = upload_fees(ctx, node)       # output {"result": [{feedetl_sn, inscp_scp_amt, …}]}
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime
from decimal import Decimal
from typing import Protocol

from nhsa.mock.engine._chronic import CHRONIC_MED_TYPE, check_batch_disease
from nhsa.mock.engine._context import Context
from nhsa.mock.engine._errors import BusinessError
from nhsa.mock.engine._types import Answer
from nhsa.mock.engine._visits import active_lines, open_visit
from nhsa.mock.settlement import (
    Catalogue,
    PricedLine,
    SettlementError,
    UnpricedLine,
    price_line,
)
from nhsa.mock.store import CANCELLED, SETTLED, UNSETTLED, UploadedFeeLine
from nhsa.models import Input2204, Input2204FeedetailItem, Input2205

ALL_BATCHES = "0000"
"""2205 ``chrg_bchno`` that means every unsettled line of the visit."""


def upload_fees(ctx: Context, node: Input2204) -> Answer:
    """2204: price and keep the lines; answer one ``result`` row per line."""
    lines = node.feedetail
    one_visit(lines)
    visit = open_visit(ctx, lines[0].mdtrt_id, lines[0].psn_no, doing="2204")
    if ctx.options.require_visit_info and visit.med_type is None:
        raise BusinessError(
            "illegal_state",
            f"当前状态不允许此操作：就诊 mdtrt_id={visit.mdtrt_id} 尚未上传就诊信息；"
            "请先调用【2203】门诊就诊信息上传",
            f"visit {visit.mdtrt_id} has no visit information yet: upload it with 2203 first",
        )
    if visit.med_type == CHRONIC_MED_TYPE:
        check_batch_disease(visit, visit.dise_codg, lines)
    existing = active_lines(ctx, visit)
    unique_serials(lines, existing, cancel_with="2205", where=_in_batch)
    _consistent_batches(lines, existing)
    catalogue = ctx.catalogue()
    records: list[UploadedFeeLine] = []
    for line in lines:
        priced = price_or_refuse(
            UnpricedLine(
                line.feedetl_sn, line.med_list_codg, line.pric, line.cnt, line.det_item_fee_sumamt
            ),
            catalogue,
        )
        records.append(
            held_line(
                ctx, visit.mdtrt_id, line, priced, chrg_bchno=line.chrg_bchno,
                dise_codg=line.dise_codg or None,
            )
        )  # fmt: skip
    for record in records:
        ctx.tx.put(record)
    output = {"result": [dict(record.result) for record in records]}
    effects = {"mdtrt_id": visit.mdtrt_id, "lines": str(len(records))}
    return Answer.ok(output, changed=True, effects=effects)


def held_line(
    ctx: Context,
    mdtrt_id: str,
    row: _Uploaded,
    priced: PricedLine,
    *,
    chrg_bchno: str,
    dise_codg: str | None = None,
    fee_ocur_time: datetime | None = None,
    init_feedetl_sn: str | None = None,
) -> UploadedFeeLine:
    """The platform's record of an uploaded line (2204, 2301) and the amounts it priced."""
    return UploadedFeeLine(
        tenant=ctx.tenant,
        line_id=ctx.new_id("line_id"),
        mdtrt_id=mdtrt_id,
        feedetl_sn=row.feedetl_sn,
        chrg_bchno=chrg_bchno,
        dise_codg=dise_codg,
        med_list_codg=row.med_list_codg,
        pric=row.pric,
        cnt=row.cnt,
        det_item_fee_sumamt=priced.det_item_fee_sumamt,
        fulamt_ownpay_amt=priced.fulamt_ownpay_amt,
        overlmt_amt=priced.overlmt_amt,
        preselfpay_amt=priced.preselfpay_amt,
        inscp_scp_amt=priced.inscp_scp_amt,
        hosp_part_amt=priced.hosp_part_amt,
        status=UNSETTLED,
        setl_id=None,
        uploaded_at=ctx.now,
        msgid=ctx.call.msgid,
        result=priced.result_row(),
        fee_ocur_time=fee_ocur_time,
        init_feedetl_sn=init_feedetl_sn,
    )


def price_or_refuse(line: UnpricedLine, catalogue: Catalogue) -> PricedLine:
    """The line priced by the catalogue, or the calculator's refusal as an answer."""
    try:
        return price_line(line, catalogue)
    except SettlementError as refused:
        raise BusinessError(
            "envelope.validation_failed",
            f"报文校验失败：{refused}",
            "the fee line was refused as above; correct it and upload the batch again",
        ) from None


def cancel_fees(ctx: Context, node: Input2205) -> Answer:
    """2205: delete the unsettled lines of a batch, or of the whole visit with "0000"."""
    data = node.data
    visit = open_visit(ctx, data.mdtrt_id, data.psn_no, doing="2205")
    every = data.chrg_bchno == ALL_BATCHES
    scope = [
        line for line in active_lines(ctx, visit) if every or line.chrg_bchno == data.chrg_bchno
    ]
    if not scope:
        raise BusinessError(
            "illegal_state",
            f"当前状态不允许此操作：就诊 mdtrt_id={visit.mdtrt_id} 没有收费批次 "
            f"chrg_bchno={data.chrg_bchno} 的费用明细，无可撤销",
            f"visit {visit.mdtrt_id} has no fee lines of chrg_bchno {data.chrg_bchno} to cancel",
        )
    settled = sorted({line.setl_id or "" for line in scope if line.status == SETTLED})
    unsettled = [line for line in scope if line.status == UNSETTLED]
    if settled and (not every or not unsettled):
        raise BusinessError(
            "illegal_state",
            f"当前状态不允许此操作：收费批次 chrg_bchno={data.chrg_bchno} 的费用明细已结算"
            f"(setl_id={', '.join(settled)})，不能撤销；请先撤销结算(2208)",
            f"the fee lines of chrg_bchno {data.chrg_bchno} are settled (setl_id "
            f"{', '.join(settled)}): reverse the settlement (2208) before cancelling them",
        )
    for line in unsettled:
        ctx.tx.put(replace(line, status=CANCELLED))
    effects = {"mdtrt_id": visit.mdtrt_id, "cancelled_lines": str(len(unsettled))}
    return Answer.ok({}, changed=True, effects=effects)


class _Row(Protocol):
    @property
    def mdtrt_id(self) -> str: ...
    @property
    def psn_no(self) -> str: ...


class _Serial(Protocol):
    @property
    def feedetl_sn(self) -> str: ...


class _Uploaded(_Serial, Protocol):
    @property
    def med_list_codg(self) -> str: ...
    @property
    def pric(self) -> Decimal: ...
    @property
    def cnt(self) -> Decimal: ...


def one_visit(rows: Sequence[_Row], node: str = "feedetail") -> None:
    """Refuse rows of one input node (fee lines, lines to cancel) naming several visits."""
    visits = sorted({(row.mdtrt_id, row.psn_no) for row in rows})
    if len(visits) > 1:
        named = "; ".join(f"{mdtrt_id}/{psn_no}" for mdtrt_id, psn_no in visits)
        raise BusinessError(
            "envelope.validation_failed",
            f"报文校验失败：{node} 的各行须属于同一就诊（mdtrt_id/psn_no 出现 {named}）",
            f"every {node} row must belong to one visit; found mdtrt_id/psn_no {named}",
        )


def _in_batch(line: UploadedFeeLine) -> tuple[str, str]:
    return f"收费批次 {line.chrg_bchno}", f"batch {line.chrg_bchno}"


def unique_serials(
    lines: Sequence[_Serial],
    existing: Sequence[UploadedFeeLine],
    *,
    cancel_with: str,
    where: Callable[[UploadedFeeLine], tuple[str, str]],
) -> None:
    """``feedetl_sn`` unique within the upload and among the visit's lines not cancelled;
    ``where`` says where a line already held came from (zh, en), ``cancel_with`` the cancel."""
    kept = {line.feedetl_sn: line for line in existing}
    seen: set[str] = set()
    for index, line in enumerate(lines):
        sn = line.feedetl_sn
        if sn in seen:
            raise BusinessError(
                "envelope.validation_failed",
                f"报文校验失败：/input/feedetail/{index}/feedetl_sn={sn} 在本次上传中重复"
                "（单次就诊内唯一）",
                f"/input/feedetail/{index}/feedetl_sn {sn} appears twice in this upload "
                "(it must be unique within the visit)",
            )
        seen.add(sn)
        if sn in kept:
            state = "已结算" if kept[sn].status == SETTLED else "未结算"
            where_zh, where_en = where(kept[sn])
            raise BusinessError(
                "envelope.validation_failed",
                f"报文校验失败：/input/feedetail/{index}/feedetl_sn={sn} 已上传（{state}，"
                f"{where_zh}）；修改明细请先撤销({cancel_with})后重传",
                f"/input/feedetail/{index}/feedetl_sn {sn} was already uploaded ({where_en}): "
                f"cancel it with {cancel_with} before uploading it again",
            )


def _consistent_batches(
    lines: Sequence[Input2204FeedetailItem], existing: Sequence[UploadedFeeLine]
) -> None:
    codes: dict[str, str | None] = {}
    settled: dict[str, str] = {}
    for kept in existing:
        codes.setdefault(kept.chrg_bchno, kept.dise_codg)
        if kept.status == SETTLED:
            settled[kept.chrg_bchno] = kept.setl_id or ""
    for index, line in enumerate(lines):
        code = line.dise_codg or None
        batch = line.chrg_bchno
        if batch in settled:
            raise BusinessError(
                "illegal_state",
                f"当前状态不允许此操作：收费批次 chrg_bchno={batch} 已结算"
                f"(setl_id={settled[batch]})，不能再上传明细；请使用新的收费批次号",
                f"chrg_bchno {batch} is already settled (setl_id {settled[batch]}): "
                "upload further lines under a new chrg_bchno",
            )
        if batch in codes and codes[batch] != code:
            raise BusinessError(
                "envelope.validation_failed",
                f"报文校验失败：/input/feedetail/{index}/dise_codg={code} 与收费批次 "
                f"chrg_bchno={batch} 的病种编码 {codes[batch]} 不一致"
                "（同一收费批次病种编码必须一致）",
                f"/input/feedetail/{index}/dise_codg {code} differs from {codes[batch]} of "
                f"chrg_bchno {batch}: all lines of one charge batch share one dise_codg",
            )
        codes.setdefault(batch, code)

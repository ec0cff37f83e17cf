"""2301 住院费用明细上传 and 2302 住院费用明细撤销.

Inpatient fees arrive in batches over the stay: one 2301 call is one batch (there is no
``chrg_bchno`` in 2301, so the platform keeps each line's batch as the msgid of its upload).
Each line is priced against the treatment place's catalogue as in 2204. The rules:

- fees only while the stay is admitted (a discharged stay takes none until 2405 undoes the
  discharge) and only for the stay's time: ``fee_ocur_time`` not before ``begntime``;
- ``feedetl_sn`` is unique among the stay's lines that are not cancelled;
- a refund line (退单: negative ``cnt``) names the line it refunds in ``init_feedetl_sn``: an
  unsettled line of the stay with the same item and price, not refunded beyond its quantity
  (a line a mid-way settlement settled is refunded by cancelling that settlement first);
- 2302 cancels unsettled lines by ``feedetl_sn``, or all of them with ``"0000"``, newest batch
  first: a line may be cancelled only while no later batch still holds unsettled lines the same
  call leaves standing — so a refund line never outlives the line it refunds [inference: the
  order is nhsa-kit's rule; no public source shows the platform's].

Example::

    answer = upload_stay_fees(ctx, node)   # output {"result": [{feedetl_sn, inscp_scp_amt, …}]}
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from decimal import Decimal

from nhsa.mock.engine._context import Context
from nhsa.mock.engine._errors import BusinessError
from nhsa.mock.engine._fees import (
    ALL_BATCHES,
    held_line,
    one_visit,
    price_or_refuse,
    unique_serials,
)
from nhsa.mock.engine._registration import china_time
from nhsa.mock.engine._setlinfo import DATETIME
from nhsa.mock.engine._stays import fee_outside_stay, open_stay, stay_lines
from nhsa.mock.engine._types import Answer
from nhsa.mock.settlement import Catalogue, PricedLine, UnpricedLine
from nhsa.mock.store import CANCELLED, DISCHARGED, SETTLED, UNSETTLED, Stay, UploadedFeeLine
from nhsa.models import Input2301, Input2301FeedetailItem, Input2302

_ZERO = Decimal("0")


def upload_stay_fees(ctx: Context, node: Input2301) -> Answer:
    """2301: price and keep one batch of the stay's lines; one ``result`` row per line."""
    rows = node.feedetail
    one_visit(rows)
    stay = open_stay(ctx, rows[0].mdtrt_id, rows[0].psn_no, doing="2301")
    refuse_if_discharged(stay, "上传费用明细", "take fee lines")
    _during_stay(stay, rows)
    existing = stay_lines(ctx, stay)
    unique_serials(rows, existing, cancel_with="2302", where=_in_upload)
    catalogue = ctx.catalogue()
    refunded: dict[str, Decimal] = {}
    records = []
    for index, row in enumerate(rows):
        priced = _price(index, row, existing, refunded, catalogue)
        records.append(
            held_line(
                ctx,
                stay.mdtrt_id,
                row,
                priced,
                chrg_bchno=ctx.call.msgid,
                fee_ocur_time=china_time(row.fee_ocur_time),
                init_feedetl_sn=row.init_feedetl_sn or None,
            )
        )
    for record in records:
        ctx.tx.put(record)
    output = {"result": [dict(record.result) for record in records]}
    effects = {"mdtrt_id": stay.mdtrt_id, "lines": str(len(records))}
    return Answer.ok(output, changed=True, effects=effects)


def cancel_stay_fees(ctx: Context, node: Input2302) -> Answer:
    """2302: cancel unsettled lines of the stay, named or all ("0000"), newest batch first."""
    rows = node.data
    one_visit(rows, "data")
    stay = open_stay(ctx, rows[0].mdtrt_id, rows[0].psn_no, doing="2302")
    refuse_if_discharged(stay, "撤销费用明细", "have fee lines cancelled")
    serials = [row.feedetl_sn for row in rows]
    held = stay_lines(ctx, stay)
    if ALL_BATCHES in serials:
        if len(serials) > 1:
            raise BusinessError(
                "envelope.validation_failed",
                '报文校验失败：/input/data 中 feedetl_sn "0000"（删除全部）须单独传入',
                '/input/data: feedetl_sn "0000" (every line) must be the only row of the call',
            )
        scope = [line for line in held if line.status == UNSETTLED]
        if not scope:
            raise BusinessError(
                "illegal_state",
                f"当前状态不允许此操作：住院 mdtrt_id={stay.mdtrt_id} 没有未结算的费用明细，"
                "无可撤销",
                f"stay {stay.mdtrt_id} holds no unsettled fee lines: nothing to cancel",
            )
    else:
        scope = _named(stay, held, serials)
        _newest_first(held, scope)
    for line in scope:
        ctx.tx.put(replace(line, status=CANCELLED))
    effects = {"mdtrt_id": stay.mdtrt_id, "cancelled_lines": str(len(scope))}
    return Answer.ok({}, changed=True, effects=effects)


def refuse_if_discharged(stay: Stay, doing_zh: str, doing_en: str) -> None:
    """Refuse a fee change of a discharged stay: its fees were closed by the discharge."""
    if stay.status == DISCHARGED:
        when = stay.endtime.strftime(DATETIME) if stay.endtime else "?"
        raise BusinessError(
            "stay_discharged",
            f"住院已出院，不能办理：住院 mdtrt_id={stay.mdtrt_id} 已于 {when} 出院(2402)，"
            f"不能{doing_zh}；如需补录请先撤销出院(2405)",
            f"stay {stay.mdtrt_id} was discharged at {when} (2402), so it cannot {doing_en}: "
            "cancel the discharge (2405) first to change its fees",
        )


def _in_upload(line: UploadedFeeLine) -> tuple[str, str]:
    return f"【2301】msgid={line.msgid}", f"2301 {line.msgid}"


def _during_stay(stay: Stay, rows: Sequence[Input2301FeedetailItem]) -> None:
    early = [
        (row.feedetl_sn, china_time(row.fee_ocur_time))
        for row in rows
        if china_time(row.fee_ocur_time) < stay.begntime
    ]
    if early:
        begin = stay.begntime.strftime(DATETIME)
        raise fee_outside_stay(
            early,
            f"早于入院时间 {begin}",
            f"before the admission ({begin})",
            "按实际发生时间上传，入院前费用不在本次住院结算",
            "upload fees with the time they arose; fees before the admission are not the stay's",
        )
    for index, row in enumerate(rows):
        if row.med_type != stay.med_type:
            raise BusinessError(
                "envelope.validation_failed",
                f"报文校验失败：/input/feedetail/{index}/med_type={row.med_type} 与入院(2401)"
                f"医疗类别 {stay.med_type} 不一致",
                f"/input/feedetail/{index}/med_type {row.med_type} differs from {stay.med_type} "
                "given at admission (2401)",
            )


def _price(
    index: int,
    row: Input2301FeedetailItem,
    existing: Sequence[UploadedFeeLine],
    refunded: dict[str, Decimal],
    catalogue: Catalogue,
) -> PricedLine:
    if row.cnt > 0:
        return price_or_refuse(
            UnpricedLine(
                row.feedetl_sn, row.med_list_codg, row.pric, row.cnt, row.det_item_fee_sumamt
            ),
            catalogue,
        )
    where = f"/input/feedetail/{index}"
    original = _refunded_line(where, row, existing)
    already = refunded.get(original.feedetl_sn, _ZERO) + sum(
        (-line.cnt for line in existing if line.init_feedetl_sn == original.feedetl_sn), _ZERO
    )
    if -row.cnt > original.cnt - already:
        raise BusinessError(
            "envelope.validation_failed",
            f"报文校验失败：{where}/cnt={row.cnt} 超过原明细 {original.feedetl_sn} 可退数量 "
            f"{original.cnt - already}（原数量 {original.cnt}，已退 {already}）",
            f"{where}/cnt {row.cnt} refunds more than line {original.feedetl_sn} has left "
            f"({original.cnt - already} of {original.cnt}; {already} already refunded)",
        )
    refunded[original.feedetl_sn] = refunded.get(original.feedetl_sn, _ZERO) - row.cnt
    positive = UnpricedLine(
        row.feedetl_sn, row.med_list_codg, row.pric, -row.cnt, -row.det_item_fee_sumamt
    )
    return price_or_refuse(positive, catalogue).refund()


def _refunded_line(
    where: str, row: Input2301FeedetailItem, existing: Sequence[UploadedFeeLine]
) -> UploadedFeeLine:
    if row.cnt == 0 or not row.init_feedetl_sn:
        raise BusinessError(
            "envelope.validation_failed",
            f"报文校验失败：{where}/cnt={row.cnt}：数量须大于 0；退单行(数量为负)须在 "
            "init_feedetl_sn 传入被退的费用明细流水号",
            f"{where}/cnt {row.cnt}: a quantity is above 0, and a refund line (negative cnt) "
            "names the line it refunds in init_feedetl_sn",
        )
    original = next(
        (
            line
            for line in existing
            if line.feedetl_sn == row.init_feedetl_sn and line.init_feedetl_sn is None
        ),
        None,
    )
    if original is None:
        raise BusinessError(
            "envelope.validation_failed",
            f"报文校验失败：{where}/init_feedetl_sn={row.init_feedetl_sn} 不是本次住院已上传的"
            "费用明细（退单行须指向原明细）",
            f"{where}/init_feedetl_sn {row.init_feedetl_sn} is no fee line of this stay (a "
            "refund line names the original line)",
        )
    if (original.med_list_codg, original.pric) != (row.med_list_codg, row.pric):
        raise BusinessError(
            "envelope.validation_failed",
            f"报文校验失败：{where} 退单行的项目/单价 {row.med_list_codg}/{row.pric} 与原明细 "
            f"{original.feedetl_sn} 的 {original.med_list_codg}/{original.pric} 不符",
            f"{where}: the refund line's item/price {row.med_list_codg}/{row.pric} differ from "
            f"line {original.feedetl_sn} ({original.med_list_codg}/{original.pric})",
        )
    if original.status == SETTLED:
        raise BusinessError(
            "illegal_state",
            f"当前状态不允许此操作：原明细 {original.feedetl_sn} 已由中途结算 "
            f"setl_id={original.setl_id} 结算，不能退单；请先撤销该结算(2305)",
            f"line {original.feedetl_sn} was settled mid-way (setl_id {original.setl_id}): "
            "cancel that settlement (2305) before refunding it",
        )
    return original


def _named(
    stay: Stay, held: Sequence[UploadedFeeLine], serials: Sequence[str]
) -> list[UploadedFeeLine]:
    by_serial = {line.feedetl_sn: line for line in held}
    scope = []
    for index, serial in enumerate(serials):
        line = by_serial.get(serial)
        if line is None:
            raise BusinessError(
                "illegal_state",
                f"当前状态不允许此操作：/input/data/{index}/feedetl_sn={serial} 不是住院 "
                f"mdtrt_id={stay.mdtrt_id} 在用的费用明细，无可撤销",
                f"/input/data/{index}/feedetl_sn {serial} is no fee line of stay "
                f"{stay.mdtrt_id}: nothing to cancel",
            )
        if line.status == SETTLED:
            raise BusinessError(
                "illegal_state",
                f"当前状态不允许此操作：/input/data/{index}/feedetl_sn={serial} 已结算"
                f"(setl_id={line.setl_id})，不能撤销；请先撤销结算(2305)",
                f"/input/data/{index}/feedetl_sn {serial} is settled (setl_id {line.setl_id}): "
                "cancel the settlement (2305) before the line",
            )
        if line not in scope:
            scope.append(line)
    return scope


def _newest_first(held: Sequence[UploadedFeeLine], scope: Sequence[UploadedFeeLine]) -> None:
    """Refuse when a batch newer than one the call touches keeps unsettled lines standing."""
    order = list(dict.fromkeys(line.chrg_bchno for line in held))  # batches, oldest first
    cancelled = {line.line_id for line in scope}
    oldest = min(order.index(line.chrg_bchno) for line in scope)
    for batch in order[oldest + 1 :]:
        left = [
            line
            for line in held
            if line.chrg_bchno == batch
            and line.status == UNSETTLED
            and line.line_id not in cancelled
        ]
        if left:
            touched = next(
                line for line in scope if order.index(line.chrg_bchno) < order.index(batch)
            )
            serials = ", ".join(line.feedetl_sn for line in left[:5])
            raise BusinessError(
                "cancel_order",
                f"撤销顺序错误：费用明细 {touched.feedetl_sn}（【2301】msgid={touched.msgid}）"
                f"之后上传的批次（【2301】msgid={batch}）尚有未结算明细 {serials}；"
                "请从最近上传的批次开始撤销，或一并撤销",
                f"fee line {touched.feedetl_sn} (2301 {touched.msgid}) has a later batch "
                f"(2301 {batch}) whose unsettled lines {serials} still stand: cancel the newest "
                "batch first, or those lines in the same call",
            )

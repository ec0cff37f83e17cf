"""2401 入院办理, 2404 入院撤销, 2402 出院办理, 2405 出院撤销 — and the stay's state machine.

A stay's state follows from its record, its fee lines and its settlements::

    admitted ──2301/2302──▶ fees ──2303 + 2304 mid_setl_flag 1 (up to dscgTime)──▶ part settled
       │  ▲                  │                                   ▲ │2305 newest first
       │  │2405              │2402                               │ ▼
       │  │          discharged ──2303 + 2304 mid_setl_flag 0──▶ settled (final)
       │2404                 ▲                                    │2305
       ▼                     └────────────────────────────────────┘
    cancelled  (only with no fee line left and no settlement in force)

Fees are uploaded only while the stay is admitted and only for the stay's time (from
``begntime``; a discharge must not precede a fee line); the final settlement needs the
discharge first — C1, C2 and H discharge (2402) before they pre-settle and settle [inference:
no public source shows the platform's own refusal]. A mid-way settlement (中途结算) settles the
unsettled lines up to its ``dscgTime`` and leaves the patient in hospital; the stay's
settlements are cancelled newest first, and they share one deductible. Undoing goes in
reverse: 2305, 2405, 2302, 2404.

Example::

    answer = admit(ctx, node)              # output {"result": {"mdtrt_id": …}}
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from nhsa.mock.engine._context import Context
from nhsa.mock.engine._errors import BusinessError
from nhsa.mock.engine._person import require_certificate_of
from nhsa.mock.engine._registration import china_time
from nhsa.mock.engine._rules import check_networked, require_benefit_rule
from nhsa.mock.engine._setlinfo import DATETIME
from nhsa.mock.engine._types import Answer
from nhsa.mock.engine._visits import same_insured_area
from nhsa.mock.fixtures import Service
from nhsa.mock.settlement import Locality
from nhsa.mock.store import (
    ADMITTED,
    CANCELLED,
    DISCHARGED,
    UNSETTLED,
    Settlement,
    Stay,
    UploadedFeeLine,
)
from nhsa.models import Input2401, Input2402, Input2404, Input2405

FINAL, MID_WAY = "0", "1"
"""``mid_setl_flag``: the final settlement of a stay, or a mid-way one (中途结算)."""

STAY_SETTLING = "2304"
"""The infno that books a stay's settlements (mid-way and final)."""


# -- finding a stay and what it holds ----------------------------------------------------------


def find_stay(ctx: Context, mdtrt_id: str, psn_no: str) -> Stay:
    """The tenant's stay ``mdtrt_id`` of person ``psn_no`` (cancelled or not)."""
    stay = ctx.tx.get(Stay, ctx.tenant, mdtrt_id)
    if stay is None:
        raise BusinessError(
            "visit_not_found",
            f"就诊信息不存在：mdtrt_id={mdtrt_id} 不是本机构【2401】入院办理返回的住院就诊ID",
            f"stay not found: mdtrt_id {mdtrt_id} was not issued to this institution by 2401",
        )
    if stay.psn_no != psn_no:
        raise BusinessError(
            "visit_not_found",
            f"就诊信息不存在：住院 mdtrt_id={mdtrt_id} 不属于人员 psn_no={psn_no}",
            f"stay not found: mdtrt_id {mdtrt_id} belongs to another person, not {psn_no}",
        )
    return stay


def open_stay(ctx: Context, mdtrt_id: str, psn_no: str, *, doing: str) -> Stay:
    """A stay that may still change: not cancelled, named with its own insured area."""
    stay = find_stay(ctx, mdtrt_id, psn_no)
    if stay.status == CANCELLED:
        raise BusinessError(
            "illegal_state",
            f"当前状态不允许此操作：住院 mdtrt_id={mdtrt_id} 的入院已撤销(2404)，"
            f"不能再办理【{doing}】；请重新办理入院(2401)",
            f"the admission of stay {mdtrt_id} was cancelled (2404), so {doing} is not "
            "allowed: admit the patient again (2401)",
        )
    same_insured_area(ctx, mdtrt_id, stay.insuplc_admdvs, opened=("入院", "admission"))
    return stay


def check_insutype(stay: Stay, insutype: str) -> None:
    """The request's insutype must be the one the stay was admitted under."""
    if insutype != stay.insutype:
        raise BusinessError(
            "illegal_state",
            f"当前状态不允许此操作：insutype={insutype} 与入院(2401)险种 {stay.insutype} 不一致",
            f"insutype {insutype} differs from {stay.insutype} given at admission (2401)",
        )


def stay_lines(ctx: Context, stay: Stay) -> list[UploadedFeeLine]:
    """The stay's fee lines that were not cancelled, in upload order."""
    lines = ctx.tx.find(UploadedFeeLine, tenant=ctx.tenant, mdtrt_id=stay.mdtrt_id)
    return sorted((line for line in lines if line.status != CANCELLED), key=_upload_order)


def unsettled_stay_lines(ctx: Context, stay: Stay) -> list[UploadedFeeLine]:
    """The stay's lines waiting for a settlement, in upload order."""
    return [line for line in stay_lines(ctx, stay) if line.status == UNSETTLED]


def stay_settlements(ctx: Context, stay: Stay) -> list[Settlement]:
    """The stay's settlements in force, oldest first."""
    rows = ctx.tx.find(Settlement, tenant=ctx.tenant, mdtrt_id=stay.mdtrt_id)
    return sorted((row for row in rows if row.is_live), key=settled_order)


def settled_order(row: Settlement) -> tuple[datetime, int]:
    """Sort key of settlements: when booked, then the id sequence (two in one second)."""
    return (row.setl_time, int(row.setl_id[1:]))


def settled_stays(ctx: Context, psn_no: str) -> dict[str, list[Settlement]]:
    """The person's settlements in force, by stay (``mdtrt_id``), oldest first — one query.

    Only 2304 books a stay's settlement (a reversal row is never in force), so the query reads
    the person's 2304 rows alone, not their outpatient ledger too.
    """
    by_stay: dict[str, list[Settlement]] = {}
    rows = ctx.tx.find(Settlement, tenant=ctx.tenant, psn_no=psn_no, infno=STAY_SETTLING)
    for row in sorted((row for row in rows if row.is_live), key=settled_order):
        by_stay.setdefault(row.mdtrt_id, []).append(row)
    return by_stay


def final_settlement(ctx: Context, stay: Stay) -> Settlement | None:
    """The stay's final settlement in force (mid_setl_flag 0), if any."""
    return next((row for row in stay_settlements(ctx, stay) if row.mid_setl_flag == FINAL), None)


def fee_time(line: UploadedFeeLine) -> datetime:
    """When a line's fee arose (its upload time for a line stored without it)."""
    return line.fee_ocur_time or line.uploaded_at


def _upload_order(line: UploadedFeeLine) -> tuple[datetime, int]:
    return (line.uploaded_at, int(line.line_id[1:]))


# -- 2401 / 2404 -----------------------------------------------------------------------------


def admit(ctx: Context, node: Input2401) -> Answer:
    """2401: admit the patient and issue the stay's ``mdtrt_id``."""
    info = node.mdtrtinfo
    person = ctx.person(info.psn_no)
    record = ctx.insurance(person, info.insutype)
    ctx.check_insured_area(record)
    require_certificate_of(ctx, person, info.mdtrt_cert_type, info.mdtrt_cert_no)
    if Service.for_visit(Locality.LOCAL, info.med_type) is not Service.INPATIENT:
        raise BusinessError(
            "envelope.validation_failed",
            f"报文校验失败：/input/mdtrtinfo/med_type={info.med_type} 不是住院医疗类别"
            "（21 普通住院、22、23、24、25、26、28、52 等）；门诊请用【2201】挂号",
            f"/input/mdtrtinfo/med_type {info.med_type} is not an inpatient category (21 普通住院, "
            "22 … 28, 52): register an outpatient visit with 2201 instead",
        )
    _same_person(node, info.psn_no)
    check_networked(ctx, record.insuplc_admdvs, info.med_type)
    require_benefit_rule(ctx, record.insuplc_admdvs, record.insutype, info.med_type)
    stays = ctx.tx.find(Stay, tenant=ctx.tenant, psn_no=person.psn_no)
    taken = [
        s for s in ctx.tx.find(Stay, tenant=ctx.tenant, ipt_no=info.ipt_no) if s.status != CANCELLED
    ]
    if taken:
        raise BusinessError(
            "illegal_state",
            f"当前状态不允许此操作：住院号 ipt_no={info.ipt_no} 已用于住院 "
            f"mdtrt_id={taken[0].mdtrt_id}（院内唯一流水）；新入院请使用新的住院号",
            f"ipt_no {info.ipt_no} is already the serial of stay {taken[0].mdtrt_id}: give a "
            "new admission a new serial",
        )
    settled = settled_stays(ctx, person.psn_no)
    inside = [
        s
        for s in stays
        if s.status != CANCELLED
        and not any(row.mid_setl_flag == FINAL for row in settled.get(s.mdtrt_id, ()))
    ]
    if inside:
        since = inside[0].begntime.strftime(DATETIME)
        raise BusinessError(
            "illegal_state",
            f"当前状态不允许此操作：人员 {person.psn_no} 已在院（住院 mdtrt_id="
            f"{inside[0].mdtrt_id}，{since} 入院，尚未出院结算）；请先为该次住院办理出院结算，"
            "或撤销该次入院(2404)",
            f"person {person.psn_no} is already in hospital (stay {inside[0].mdtrt_id}, admitted "
            f"{since}, not finally settled): settle that stay, or cancel its admission (2404)",
        )
    mdtrt_id = ctx.new_id("mdtrt_id")
    ctx.tx.put(
        Stay(
            tenant=ctx.tenant,
            mdtrt_id=mdtrt_id,
            psn_no=person.psn_no,
            insutype=record.insutype,
            insuplc_admdvs=record.insuplc_admdvs,
            ipt_no=info.ipt_no,
            med_type=info.med_type,
            begntime=china_time(info.begntime),
            mdtrt_cert_type=info.mdtrt_cert_type,
            mdtrt_cert_no=info.mdtrt_cert_no,
            status=ADMITTED,
            admitted_at=ctx.now,
            msgid=ctx.call.msgid,
            admission=node.to_wire(),
        )
    )
    return Answer.ok(
        {"result": {"mdtrt_id": mdtrt_id}}, changed=True, effects={"mdtrt_id": mdtrt_id}
    )


def cancel_admission(ctx: Context, node: Input2404) -> Answer:
    """2404: cancel an admission that holds no settlement, no discharge and no fee line."""
    data = node.data
    stay = find_stay(ctx, data.mdtrt_id, data.psn_no)
    if stay.status == CANCELLED:
        raise BusinessError(
            "illegal_state",
            f"当前状态不允许此操作：住院 mdtrt_id={stay.mdtrt_id} 的入院已撤销，无需重复撤销",
            f"the admission of stay {stay.mdtrt_id} is already cancelled",
        )
    stay = open_stay(ctx, data.mdtrt_id, data.psn_no, doing="2404")
    settled = stay_settlements(ctx, stay)
    if settled:
        ids = ", ".join(row.setl_id for row in settled)
        raise BusinessError(
            "illegal_state",
            f"当前状态不允许此操作：住院 mdtrt_id={stay.mdtrt_id} 有在用结算(setl_id={ids})，"
            "不能撤销入院；请先撤销结算(2305)，从最近一次开始",
            f"stay {stay.mdtrt_id} holds settlements in force ({ids}): cancel them (2305), "
            "newest first, before cancelling the admission",
        )
    if stay.status == DISCHARGED:
        raise BusinessError(
            "illegal_state",
            f"当前状态不允许此操作：住院 mdtrt_id={stay.mdtrt_id} 已出院，不能撤销入院；"
            "请先撤销出院(2405)",
            f"stay {stay.mdtrt_id} is discharged: cancel the discharge (2405) before the admission",
        )
    lines = unsettled_stay_lines(ctx, stay)
    if lines:
        raise BusinessError(
            "illegal_state",
            f"当前状态不允许此操作：住院 mdtrt_id={stay.mdtrt_id} 尚有 {len(lines)} 条费用明细，"
            '不能撤销入院；请先撤销费用明细(2302，feedetl_sn 传"0000")',
            f"stay {stay.mdtrt_id} still holds {len(lines)} fee lines: cancel them (2302 with "
            'feedetl_sn "0000") before cancelling the admission',
        )
    ctx.tx.put(replace(stay, status=CANCELLED, cancelled_at=ctx.now))
    return Answer.ok({}, changed=True, effects={"mdtrt_id": stay.mdtrt_id})


def _same_person(node: Input2401, psn_no: str) -> None:
    for index, row in enumerate(node.diseinfo):
        if row.psn_no != psn_no:
            raise BusinessError(
                "envelope.validation_failed",
                f"报文校验失败：/input/diseinfo/{index}/psn_no={row.psn_no} 与入院人员 "
                f"{psn_no} 不符",
                f"/input/diseinfo/{index}/psn_no {row.psn_no} is not the person admitted "
                f"({psn_no})",
            )


# -- 2402 / 2405 -----------------------------------------------------------------------------


def discharge(ctx: Context, node: Input2402) -> Answer:
    """2402: record the discharge; no fee line may have arisen after it."""
    data = node.dscginfo
    stay = open_stay(ctx, data.mdtrt_id, data.psn_no, doing="2402")
    check_insutype(stay, data.insutype)
    if stay.status == DISCHARGED:
        when = stay.endtime.strftime(DATETIME) if stay.endtime else "?"
        raise BusinessError(
            "illegal_state",
            f"当前状态不允许此操作：住院 mdtrt_id={stay.mdtrt_id} 已于 {when} 出院"
            f"(2402 msgid={stay.discharge_msgid})；修改出院信息请先撤销出院(2405)",
            f"stay {stay.mdtrt_id} is already discharged ({when}, 2402 {stay.discharge_msgid}): "
            "cancel the discharge (2405) to record it again",
        )
    endtime = china_time(data.endtime)
    if endtime < stay.begntime:
        raise BusinessError(
            "envelope.validation_failed",
            f"报文校验失败：/input/dscginfo/endtime={endtime.strftime(DATETIME)} 早于入院时间 "
            f"{stay.begntime.strftime(DATETIME)}",
            f"/input/dscginfo/endtime {endtime.strftime(DATETIME)} is before the admission "
            f"({stay.begntime.strftime(DATETIME)})",
        )
    for index, row in enumerate(node.diseinfo):
        if (row.mdtrt_id, row.psn_no) != (stay.mdtrt_id, stay.psn_no):
            raise BusinessError(
                "envelope.validation_failed",
                f"报文校验失败：/input/diseinfo/{index} 的 mdtrt_id/psn_no={row.mdtrt_id}/"
                f"{row.psn_no} 与出院的住院 {stay.mdtrt_id}/{stay.psn_no} 不符",
                f"/input/diseinfo/{index} names mdtrt_id/psn_no {row.mdtrt_id}/{row.psn_no}, "
                f"not the stay discharged ({stay.mdtrt_id}/{stay.psn_no})",
            )
    late = [
        (line.feedetl_sn, fee_time(line))
        for line in stay_lines(ctx, stay)
        if fee_time(line) > endtime
    ]
    if late:
        raise fee_outside_stay(
            late,
            f"晚于出院时间 {endtime.strftime(DATETIME)}",
            f"after the discharge time {endtime.strftime(DATETIME)}",
            "撤销这些明细(2302)或按实际出院时间办理出院",
            "cancel those lines (2302) or discharge at the real discharge time",
        )
    ctx.tx.put(
        replace(
            stay,
            status=DISCHARGED,
            endtime=endtime,
            discharge=node.to_wire(),
            discharged_at=ctx.now,
            discharge_msgid=ctx.call.msgid,
        )
    )
    return Answer.ok({}, changed=True, effects={"mdtrt_id": stay.mdtrt_id})


def cancel_discharge(ctx: Context, node: Input2405) -> Answer:
    """2405: undo a discharge that no final settlement stands on."""
    data = node.data
    stay = open_stay(ctx, data.mdtrt_id, data.psn_no, doing="2405")
    if stay.status != DISCHARGED:
        raise BusinessError(
            "illegal_state",
            f"当前状态不允许此操作：住院 mdtrt_id={stay.mdtrt_id} 未办理出院，无可撤销",
            f"stay {stay.mdtrt_id} is not discharged: nothing to cancel",
        )
    final = final_settlement(ctx, stay)
    if final is not None:
        raise BusinessError(
            "illegal_state",
            f"当前状态不允许此操作：住院 mdtrt_id={stay.mdtrt_id} 已出院结算"
            f"(setl_id={final.setl_id})，不能撤销出院；请先撤销结算(2305)",
            f"stay {stay.mdtrt_id} is finally settled (setl_id {final.setl_id}): cancel the "
            "settlement (2305) before the discharge",
        )
    ctx.tx.put(
        replace(
            stay,
            status=ADMITTED,
            endtime=None,
            discharge=None,
            discharged_at=None,
            discharge_msgid=None,
        )
    )
    return Answer.ok({}, changed=True, effects={"mdtrt_id": stay.mdtrt_id})


def fee_outside_stay(
    lines: Sequence[tuple[str, datetime]], when_zh: str, when_en: str, todo_zh: str, todo_en: str
) -> BusinessError:
    """The refusal of fee lines (serial, fee time) outside the stay (at most five named)."""
    named = ", ".join(f"{sn}@{at.strftime(DATETIME)}" for sn, at in lines[:5])
    more = f" … ({len(lines)})" if len(lines) > 5 else ""
    return BusinessError(
        "fee_outside_stay",
        f"费用发生时间不在住院期间：{named}{more} {when_zh}；请{todo_zh}",
        f"fee lines outside the stay: {named}{more} arose {when_en}: {todo_en}",
    )

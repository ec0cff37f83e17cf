"""2201 门诊挂号, 2202 门诊挂号撤销, 2203/2203A 门诊就诊信息上传.

Registration checks what the insured place and the treatment place would: the person holds
the insutype and is insured (psn_insu_stas 1); the envelope's ``insuplc_admdvs`` is the
person's insured area for that insutype (not the hospital's own area — the classic bug); the
certificate names the same person; the hospital is networked for the service; the hospital's
visit serial ``ipt_otp_no`` is not already in use by another open visit.

Example::

    answer = register(ctx, node)          # output {"data": {"mdtrt_id": …, …}}
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from nhsa.envelope import CHINA_TIME
from nhsa.mock.engine._chronic import CHRONIC_MED_TYPE, check_recognised
from nhsa.mock.engine._context import Context
from nhsa.mock.engine._errors import BusinessError
from nhsa.mock.engine._person import require_certificate_of
from nhsa.mock.engine._rules import check_networked, require_benefit_rule
from nhsa.mock.engine._types import Answer
from nhsa.mock.engine._visits import (
    find_visit,
    open_visit,
    refuse_if_settled,
    unsettled_lines,
)
from nhsa.mock.fixtures import Service
from nhsa.mock.settlement import Locality
from nhsa.mock.store import CANCELLED, REGISTERED, PreSettlement, Visit
from nhsa.models import Input2201, Input2202, Input2203, Input2203A

_GENERAL_OUTPATIENT = "11"  # 2201 carries no med_type; 2203 checks the visit's own


def china_time(moment: datetime) -> datetime:
    """A wire datetime (local, naive) as an aware China-time datetime.

    Example:
        >>> china_time(datetime(2026, 11, 23, 9, 30)).utcoffset().total_seconds()
        28800.0
    """
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=CHINA_TIME)


def register(ctx: Context, node: Input2201) -> Answer:
    """2201: open a visit and issue its ``mdtrt_id``."""
    data = node.data
    person = ctx.person(data.psn_no)
    record = ctx.insurance(person, data.insutype)
    ctx.check_insured_area(record)
    require_certificate_of(ctx, person, data.mdtrt_cert_type, data.mdtrt_cert_no)
    check_networked(ctx, record.insuplc_admdvs, _GENERAL_OUTPATIENT)
    taken = [
        visit
        for visit in ctx.tx.find(Visit, tenant=ctx.tenant, ipt_otp_no=data.ipt_otp_no)
        if visit.status != CANCELLED
    ]
    if taken:
        raise BusinessError(
            "illegal_state",
            f"当前状态不允许此操作：门诊号 ipt_otp_no={data.ipt_otp_no} 已用于就诊 "
            f"mdtrt_id={taken[0].mdtrt_id}（院内唯一流水）；同一就诊请勿重复挂号，"
            "新就诊请使用新的门诊号",
            f"ipt_otp_no {data.ipt_otp_no} is already the serial of visit {taken[0].mdtrt_id}: "
            "do not register the same visit twice; give a new visit a new serial",
        )
    mdtrt_id = ctx.new_id("mdtrt_id")
    ctx.tx.put(
        Visit(
            tenant=ctx.tenant,
            mdtrt_id=mdtrt_id,
            psn_no=person.psn_no,
            insutype=record.insutype,
            insuplc_admdvs=record.insuplc_admdvs,
            ipt_otp_no=data.ipt_otp_no,
            begntime=china_time(data.begntime),
            mdtrt_cert_type=data.mdtrt_cert_type,
            mdtrt_cert_no=data.mdtrt_cert_no,
            status=REGISTERED,
            registered_at=ctx.now,
            msgid=ctx.call.msgid,
            registration=data.to_wire(),
        )
    )
    output = {
        "data": {
            "mdtrt_id": mdtrt_id,
            "psn_no": person.psn_no,
            "ipt_otp_no": data.ipt_otp_no,
            "exp_content": None,
        }
    }
    return Answer.ok(output, changed=True, effects={"mdtrt_id": mdtrt_id})


def cancel_registration(ctx: Context, node: Input2202) -> Answer:
    """2202: cancel a registration; refused while a settlement of the visit is in force."""
    data = node.data
    visit = find_visit(ctx, data.mdtrt_id, data.psn_no)
    if visit.ipt_otp_no != data.ipt_otp_no:
        raise BusinessError(
            "visit_not_found",
            f"就诊信息不存在：mdtrt_id={visit.mdtrt_id} 的门诊号是 {visit.ipt_otp_no}，"
            f"不是 ipt_otp_no={data.ipt_otp_no}",
            f"visit {visit.mdtrt_id} has ipt_otp_no {visit.ipt_otp_no}, not {data.ipt_otp_no}",
        )
    if visit.status == CANCELLED:
        raise BusinessError(
            "illegal_state",
            f"当前状态不允许此操作：就诊 mdtrt_id={visit.mdtrt_id} 的挂号已撤销，无需重复撤销",
            f"the registration of visit {visit.mdtrt_id} is already cancelled",
        )
    open_visit(ctx, data.mdtrt_id, data.psn_no, doing="2202")
    refuse_if_settled(ctx, visit, doing_zh="撤销挂号", doing_en="have its registration cancelled")
    dropped = unsettled_lines(ctx, visit)
    for line in dropped:
        ctx.tx.put(replace(line, status=CANCELLED))
    for presettlement in ctx.tx.find(PreSettlement, tenant=ctx.tenant, mdtrt_id=visit.mdtrt_id):
        ctx.tx.delete(PreSettlement, ctx.tenant, visit.mdtrt_id, presettlement.chrg_bchno)
    ctx.tx.put(replace(visit, status=CANCELLED, cancelled_at=ctx.now))
    effects = {"mdtrt_id": visit.mdtrt_id, "cancelled_lines": str(len(dropped))}
    return Answer.ok({}, changed=True, effects=effects)


def upload_visit_info(ctx: Context, node: Input2203 | Input2203A) -> Answer:
    """2203/2203A: record the visit's medical category, disease and diagnoses."""
    info = node.mdtrtinfo
    visit = open_visit(ctx, info.mdtrt_id, info.psn_no, doing=ctx.call.infno)
    refuse_if_settled(
        ctx, visit, doing_zh="修改就诊信息", doing_en="have its visit information replaced"
    )
    if Service.for_visit(Locality.LOCAL, info.med_type) is Service.INPATIENT:
        raise BusinessError(
            "envelope.validation_failed",
            f"报文校验失败：med_type={info.med_type} 是住院医疗类别；住院请用【2401】入院办理",
            f"med_type {info.med_type} is an inpatient category: admit the patient with 2401, "
            "outpatient visits take 11, 13, 14 …",
        )
    check_networked(ctx, visit.insuplc_admdvs, info.med_type)
    chronic = info.med_type == CHRONIC_MED_TYPE
    if chronic:
        check_recognised(ctx, visit, info.dise_codg, field="mdtrtinfo.dise_codg")
    require_benefit_rule(
        ctx,
        visit.insuplc_admdvs,
        visit.insutype,
        info.med_type,
        disease=info.dise_codg if chronic else None,
    )
    ctx.tx.put(
        replace(
            visit,
            med_type=info.med_type,
            dise_codg=info.dise_codg,
            dise_name=info.dise_name,
            info=node.to_wire(),
        )
    )
    return Answer.ok({}, changed=True, effects={"mdtrt_id": visit.mdtrt_id})

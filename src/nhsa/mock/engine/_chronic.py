"""Chronic and special outpatient care (门慢/门特): a person's recognised diseases and the
med_type 14 rule; 2503 人员慢特病备案, 2504 人员慢特病备案撤销, 5301 人员慢特病备案查询.

A recognition (待遇认定) is the insured place's: a disease of the list
(``codes/opsp_dise_code.json``), under one insurance, from ``begndate`` to ``enddate``. The
fixtures open each person's recognitions; the tenant's store holds what changed since — a
HIS's registrations (2503) and cancels (2504), and what the admin API set — keyed by the
registration serial ``trt_dcla_detl_sn``, so a stored row with a fixture row's serial replaces
it and a tenant reset restores the fixtures.

The med_type 14 rule: the disease a chronic visit names in 2203 ``mdtrtinfo.dise_codg`` must be
one the person has recognised, in force today, by the visit's insured place under the visit's
insutype; 2204 lines may carry only that disease (同一收费批次号病种编号必须一致), and 2206/2207
check again that the recognition still stands. A recognition the insured place made itself
(fixtures, admin API) cannot be cancelled by a hospital's 2504 [inference].

Example::

    check_recognised(ctx, visit, "M03900", field="mdtrtinfo.dise_codg")   # or BusinessError
    rows = recognitions(ctx.tx, ctx.tenant, ctx.fixtures.person(psn_no))
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import date, datetime, time
from typing import Final, Protocol

from nhsa.envelope import CHINA_TIME
from nhsa.mock.engine._context import Context
from nhsa.mock.engine._errors import BusinessError
from nhsa.mock.engine._rules import check_networked
from nhsa.mock.engine._types import Answer
from nhsa.mock.fixtures import InsuredPerson
from nhsa.mock.settlement import pooling_area
from nhsa.mock.store import ACTIVE, CANCELLED, Recognition, UnitOfWork
from nhsa.models import Input2204FeedetailItem, Input2503, Input2504, Input5301
from nhsa.spec import code_table

CHRONIC_MED_TYPE: Final = "14"
"""med_type 门诊慢特病: the visits the recognition rule applies to (16 is 中医特色门诊)."""
HOSPITAL: Final = "hospital"
"""Recognition source: registered by a designated institution with 2503."""
INSURED_PLACE: Final = "insured_place"
"""Recognition source: the insured place's own (fixtures, admin API)."""
DISEASES: Final = "opsp_dise_code"
"""The contract code table that is the mock's disease list (1309)."""


class ChronicVisit(Protocol):
    """What the rule needs of a visit: whose, under which insurance, for which insured place."""

    @property
    def mdtrt_id(self) -> str: ...
    @property
    def psn_no(self) -> str: ...
    @property
    def insutype(self) -> str: ...
    @property
    def insuplc_admdvs(self) -> str: ...


def disease_name(opsp_dise_code: str) -> str | None:
    """The list's name of a disease code, ``None`` for a code the list lacks.

    Example:
        >>> disease_name("M03900"), disease_name("M99999")
        ('高血压病', None)
    """
    table = code_table(DISEASES)
    return table.name_of(opsp_dise_code) if opsp_dise_code in table else None


def recognitions(tx: UnitOfWork, tenant: str, person: InsuredPerson) -> list[Recognition]:
    """The person's recognitions as this tenant holds them, cancelled ones included, oldest
    first: the fixtures' rows overlaid by the tenant's stored rows (same serial), then the
    tenant's own."""
    stored = {row.trt_dcla_detl_sn: row for row in tx.find(Recognition, tenant=tenant)}
    stored = {k: v for k, v in stored.items() if v.psn_no == person.psn_no}
    rows = []
    for index, fixture in enumerate(person.recognitions):
        serial = person.recognition_serial(index)
        record = person.record(fixture.insutype)
        opened = Recognition(
            tenant=tenant,
            trt_dcla_detl_sn=serial,
            psn_no=person.psn_no,
            insutype=fixture.insutype,
            opsp_dise_code=fixture.opsp_dise_code,
            opsp_dise_name=disease_name(fixture.opsp_dise_code) or fixture.opsp_dise_code,
            insu_optins=record.insuplc_admdvs if record is not None else "",
            begndate=fixture.begndate,
            enddate=fixture.enddate,
            source=INSURED_PLACE,
            status=ACTIVE,
            recorded_at=datetime.combine(fixture.begndate, time(), CHINA_TIME),
        )
        rows.append(stored.pop(serial, opened))
    rows.extend(sorted(stored.values(), key=lambda row: (row.recorded_at, row.trt_dcla_detl_sn)))
    return rows


def describe(rows: Sequence[Recognition]) -> tuple[str, str]:
    """Recognitions in one line each language, e.g. ``M03900 高血压病（2022-03-01 起）``.

    Example:
        >>> describe([])
        ('无', 'none')
    """
    if not rows:
        return "无", "none"
    zh = "、".join(f"{r.opsp_dise_code} {r.opsp_dise_name}（{_period_zh(r)}）" for r in rows)
    en = ", ".join(f"{r.opsp_dise_code} ({_period_en(r)})" for r in rows)
    return zh, en


def check_recognised(
    ctx: Context, visit: ChronicVisit, dise_codg: str | None, *, field: str
) -> None:
    """Refuse a med_type 14 step whose disease is not the person's recognised one in force."""
    if not dise_codg:
        raise BusinessError(
            "envelope.validation_failed",
            f"报文校验失败：{field} 为空；医疗类别 med_type=14（门诊慢特病）须传入参保人已备案的"
            "门慢门特病种目录代码",
            f"{field} is empty: a med_type 14 (chronic outpatient) visit must name the chronic "
            "disease the person has recognised (门慢门特病种目录代码)",
        )
    if disease_name(dise_codg) is None:
        raise BusinessError(
            "chronic_disease_unknown",
            f"门慢门特病种目录中无此病种：{field}={dise_codg}；请按【1309】门诊慢特病种目录传值",
            f"{field} {dise_codg} is not in the chronic and special outpatient disease list "
            "(1309): send a code of the list",
        )
    person = ctx.person(visit.psn_no)
    own = [
        row
        for row in recognitions(ctx.tx, ctx.tenant, person)
        if row.insutype == visit.insutype
        and pooling_area(row.insu_optins) == pooling_area(visit.insuplc_admdvs)
    ]
    in_force = [row for row in own if row.valid_on(ctx.today)]
    if any(row.opsp_dise_code == dise_codg for row in in_force):
        return
    reason_zh, reason_en = _why_not(ctx, person, visit, dise_codg)
    listed_zh, listed_en = describe(in_force)
    raise BusinessError(
        "chronic_not_recognised",
        f"门慢门特病种未备案或不在有效期内：{field}={dise_codg}（{reason_zh}）；人员 "
        f"{person.psn_no} 在参保地 {visit.insuplc_admdvs} 险种 {visit.insutype} 的有效备案病种："
        f"{listed_zh}；请按【5301】查询结果选择病种，或先办理备案【2503】",
        f"{field} {dise_codg} is not a chronic disease person {person.psn_no} has recognised "
        f"and in force today by insured area {visit.insuplc_admdvs} under insutype "
        f"{visit.insutype} ({reason_en}); in force: {listed_en}. A med_type 14 visit must name "
        "one of those (query them with 5301) or register the disease first (2503)",
    )


def check_batch_disease(
    visit: ChronicVisit, dise_codg: str | None, lines: Sequence[Input2204FeedetailItem]
) -> None:
    """2204 of a chronic visit: a line may carry only the visit's recognised disease."""
    for index, line in enumerate(lines):
        if line.dise_codg and line.dise_codg != dise_codg:
            raise BusinessError(
                "envelope.validation_failed",
                f"报文校验失败：feedetail[{index}].dise_codg={line.dise_codg} 与就诊 "
                f"mdtrt_id={visit.mdtrt_id} 的门慢门特病种 {dise_codg}（2203）不一致；"
                "同一收费批次号病种编号必须一致",
                f"feedetail[{index}].dise_codg {line.dise_codg} differs from the chronic disease "
                f"{dise_codg} of visit {visit.mdtrt_id} (2203): every line of a batch carries "
                "the visit's disease",
            )


def register_disease(ctx: Context, node: Input2503) -> Answer:
    """2503: record a hospital's registration of a person's chronic disease."""
    data = node.data
    person = ctx.person(data.psn_no)
    record = ctx.insurance(person, data.insutype)
    ctx.check_insured_area(record)
    if data.insu_optins != record.insuplc_admdvs:
        raise BusinessError(
            "illegal_state",
            f"当前状态不允许此操作：insu_optins={data.insu_optins} 不是人员 {person.psn_no} 险种 "
            f"{record.insutype} 的参保地 {record.insuplc_admdvs}；慢特病待遇由参保地认定",
            f"insu_optins {data.insu_optins} is not the insured area {record.insuplc_admdvs} of "
            f"person {person.psn_no}'s insutype {record.insutype}: the insured place recognises "
            "the benefit",
        )
    name = disease_name(data.opsp_dise_code)
    if name is None:
        raise BusinessError(
            "chronic_disease_unknown",
            f"门慢门特病种目录中无此病种：opsp_dise_code={data.opsp_dise_code}；"
            "请按【1309】门诊慢特病种目录传值",
            f"opsp_dise_code {data.opsp_dise_code} is not in the chronic and special outpatient "
            "disease list (1309): send a code of the list",
        )
    _check_dates(ctx, data.begndate, data.enddate, data.hosp_ide_date)
    check_networked(ctx, record.insuplc_admdvs, CHRONIC_MED_TYPE)
    clash = [
        row
        for row in recognitions(ctx.tx, ctx.tenant, person)
        if row.status == ACTIVE
        and row.insutype == record.insutype
        and row.opsp_dise_code == data.opsp_dise_code
        and _overlap(row, data.begndate, data.enddate)
    ]
    if clash:
        row = clash[0]
        raise BusinessError(
            "illegal_state",
            f"当前状态不允许此操作：人员 {person.psn_no} 已有病种 {row.opsp_dise_code} 的有效备案"
            f"（trt_dcla_detl_sn={row.trt_dcla_detl_sn}，{_period_zh(row)}），请勿重复备案；"
            "变更请先撤销【2504】",
            f"person {person.psn_no} already has disease {row.opsp_dise_code} on record for these "
            f"dates (trt_dcla_detl_sn {row.trt_dcla_detl_sn}, {_period_en(row)}): do not register "
            "it twice; cancel it (2504) to change it",
        )
    serial = ctx.new_id("trt_dcla_detl_sn")
    ctx.tx.put(
        Recognition(
            tenant=ctx.tenant,
            trt_dcla_detl_sn=serial,
            psn_no=person.psn_no,
            insutype=record.insutype,
            opsp_dise_code=data.opsp_dise_code,
            opsp_dise_name=name,
            insu_optins=record.insuplc_admdvs,
            begndate=data.begndate,
            enddate=data.enddate,
            source=HOSPITAL,
            status=ACTIVE,
            recorded_at=ctx.now,
            msgid=ctx.call.msgid,
            registration=data.to_wire(),
        )
    )
    effects = {"trt_dcla_detl_sn": serial, "opsp_dise_code": data.opsp_dise_code}
    return Answer.ok({"result": {"trt_dcla_detl_sn": serial}}, changed=True, effects=effects)


def cancel_disease(ctx: Context, node: Input2504) -> Answer:
    """2504: cancel a registration this institution made with 2503."""
    data = node.data
    person = ctx.person(data.psn_no)
    row = next(
        (
            r
            for r in recognitions(ctx.tx, ctx.tenant, person)
            if r.trt_dcla_detl_sn == data.trt_dcla_detl_sn
        ),
        None,
    )
    if row is None or row.status != ACTIVE:
        state = "不存在" if row is None else "已撤销"
        raise BusinessError(
            "chronic_registration_not_found",
            f"慢特病备案信息不存在：trt_dcla_detl_sn={data.trt_dcla_detl_sn}（人员 "
            f"{person.psn_no} 的该备案{state}）",
            f"no registration trt_dcla_detl_sn {data.trt_dcla_detl_sn} of person "
            f"{person.psn_no} is in force ({'unknown' if row is None else 'already cancelled'})",
        )
    if row.source != HOSPITAL:
        raise BusinessError(
            "illegal_state",
            f"当前状态不允许此操作：备案 trt_dcla_detl_sn={row.trt_dcla_detl_sn}"
            f"（{row.opsp_dise_code}）由参保地 {row.insu_optins} 经办机构认定，"
            "定点医疗机构不能撤销；请患者到参保地办理",
            f"registration {row.trt_dcla_detl_sn} ({row.opsp_dise_code}) was recognised by the "
            f"insured place {row.insu_optins} itself: an institution cannot cancel it; the patient "
            "asks the insured place's agency",
        )
    ctx.check_insured_area(ctx.held(person, row.insutype))
    ctx.tx.put(replace(row, status=CANCELLED, cancelled_at=ctx.now, memo=data.memo))
    effects = {"trt_dcla_detl_sn": row.trt_dcla_detl_sn, "opsp_dise_code": row.opsp_dise_code}
    return Answer.ok({}, changed=True, effects=effects)


def query_diseases(ctx: Context, node: Input5301) -> Answer:
    """5301: the person's registrations with the envelope's insured place (expired included)."""
    person = ctx.person(node.data.psn_no)
    area = ctx.envelope_text("insuplc_admdvs")
    held = [r for r in person.insurance if r.insuplc_admdvs == area]
    if not held:
        areas = ", ".join(sorted({r.insuplc_admdvs for r in person.insurance}))
        raise BusinessError(
            "envelope.validation_failed",
            f"报文校验失败：insuplc_admdvs={area} 不是人员 {person.psn_no} 的参保地（{areas}）",
            f"insuplc_admdvs {area} is not an insured area of person {person.psn_no} ({areas}): "
            "send the insuplc_admdvs of a 1101 insuinfo row",
        )
    rows = [
        {
            "opsp_dise_code": row.opsp_dise_code,
            "opsp_dise_name": row.opsp_dise_name,
            "begndate": row.begndate.isoformat(),
            "enddate": row.enddate.isoformat() if row.enddate else None,
        }
        for row in recognitions(ctx.tx, ctx.tenant, person)
        if row.status == ACTIVE and row.insu_optins == area
    ]
    return Answer.ok({"feedetail": rows})


def _why_not(
    ctx: Context, person: InsuredPerson, visit: ChronicVisit, dise_codg: str
) -> tuple[str, str]:
    same = [r for r in recognitions(ctx.tx, ctx.tenant, person) if r.opsp_dise_code == dise_codg]
    for row in reversed(same):
        if row.status != ACTIVE:
            return f"该病种备案已于 {_day(row.cancelled_at)} 撤销", "its registration was cancelled"
        if row.insutype != visit.insutype:
            return (
                f"该病种备案的险种为 {row.insutype}，不是本次就诊的 {visit.insutype}",
                f"it is recognised under insutype {row.insutype}",
            )
        if pooling_area(row.insu_optins) != pooling_area(visit.insuplc_admdvs):
            return (
                f"该病种由参保地 {row.insu_optins} 认定，不是本次就诊的参保地",
                f"it was recognised by insured area {row.insu_optins}",
            )
        if row.enddate is not None and row.enddate < ctx.today:
            return f"该病种备案已于 {row.enddate} 到期", f"it ended on {row.enddate}"
        if row.begndate > ctx.today:
            return f"该病种备案自 {row.begndate} 起生效", f"it begins on {row.begndate}"
    return "该病种未备案", "the disease is not on record"


def _check_dates(ctx: Context, begndate: date, enddate: date | None, identified: date) -> None:
    if enddate is not None and enddate < begndate:
        raise BusinessError(
            "envelope.validation_failed",
            f"报文校验失败：enddate={enddate} 早于 begndate={begndate}",
            f"enddate {enddate} is before begndate {begndate}",
        )
    if identified > ctx.today:
        raise BusinessError(
            "envelope.validation_failed",
            f"报文校验失败：hosp_ide_date={identified} 晚于今天 {ctx.today}；鉴定日期不能在未来",
            f"hosp_ide_date {identified} is after today ({ctx.today}): a disease is identified "
            "before it is registered",
        )


def _overlap(row: Recognition, begndate: date, enddate: date | None) -> bool:
    starts_before_end = enddate is None or row.begndate <= enddate
    ends_after_start = row.enddate is None or begndate <= row.enddate
    return starts_before_end and ends_after_start


def _period_zh(row: Recognition) -> str:
    return f"{row.begndate} 起" if row.enddate is None else f"{row.begndate} 至 {row.enddate}"


def _period_en(row: Recognition) -> str:
    return f"from {row.begndate}" if row.enddate is None else f"{row.begndate} to {row.enddate}"


def _day(moment: datetime | None) -> str:
    return moment.date().isoformat() if moment is not None else "—"

"""2206 门诊预结算, 2207 门诊结算, 2208 门诊结算撤销.

2206 and 2207 settle the unsettled lines of one charge batch with the calculator: the insured
place's policy (参保地政策) for the person's insutype, the visit's med_type and the hospital's
tier, this year's counters, the account balance, and the cross-region access class from the
person's filing. 2206 writes nothing but a marker of what it priced; 2207 recomputes, refuses
when the request's amounts differ from the fees, and books the settlement
(:func:`~nhsa.mock.engine._ledger.book`). 2208 books the negative row and restores the
account and the counters exactly.

Patient passwords (reference §5.7) are never verified: cross-province settlements skip the
check on real platforms too; in-province ones are accepted with ``signtype`` MOCK (the real test
environment's switch) or without a password, and the transcript's effects say which applied.

Example::

    answer = settle_visit(ctx, node)      # output {"setlinfo": {...}, "setldetail": [...]}
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from nhsa.mock.engine._accounts import balance, visit_terms, year_to_date
from nhsa.mock.engine._chronic import CHRONIC_MED_TYPE, check_recognised
from nhsa.mock.engine._context import Context
from nhsa.mock.engine._errors import BusinessError
from nhsa.mock.engine._ledger import book, reverse
from nhsa.mock.engine._person import require_certificate_of
from nhsa.mock.engine._setlinfo import cancellation, person_fields, setlinfo
from nhsa.mock.engine._types import Answer
from nhsa.mock.engine._visits import active_lines, find_visit, open_visit, unsettled_lines
from nhsa.mock.fixtures import InsuranceRecord, InsuredPerson
from nhsa.mock.settlement import (
    Locality,
    NoBenefitRuleError,
    PricedLine,
    StayCounters,
    UnpricedLine,
    locality_of,
    settle,
)
from nhsa.mock.settlement import Settlement as Calculation
from nhsa.mock.store import SETTLED, VOIDED, PreSettlement, Settlement, UploadedFeeLine, Visit
from nhsa.models import Input2206, Input2206Data, Input2207, Input2207Data, Input2208

ECHOED_AMOUNTS = (
    "medfee_sumamt",
    "fulamt_ownpay_amt",
    "overlmt_selfpay",
    "preselfpay_amt",
    "inscp_scp_amt",
)
"""The 2207 input amounts that must equal the platform's own figures for the fee lines."""


@dataclass(frozen=True)
class _Priced:
    visit: Visit
    person: InsuredPerson
    record: InsuranceRecord
    med_type: str
    lines: tuple[UploadedFeeLine, ...]
    calculation: Calculation


def presettle(ctx: Context, node: Input2206) -> Answer:
    """2206: compute the settlement of a batch without booking it."""
    data = node.data
    priced = _price(ctx, data)
    if data.medfee_sumamt != priced.calculation.medfee_sumamt:
        raise amount_mismatch(
            priced.visit.mdtrt_id, priced.calculation, [("medfee_sumamt", data.medfee_sumamt)]
        )
    ctx.tx.put(
        PreSettlement(
            tenant=ctx.tenant,
            mdtrt_id=priced.visit.mdtrt_id,
            chrg_bchno=data.chrg_bchno,
            line_ids=tuple(line.line_id for line in priced.lines),
            msgid=ctx.call.msgid,
            computed_at=ctx.now,
            amounts=priced.calculation.to_record()["amounts"],
        )
    )
    node_out = setlinfo(
        priced.calculation,
        identity=person_fields(priced.person, priced.record, ctx.today),
        mdtrt_id=priced.visit.mdtrt_id,
        med_type=priced.med_type,
        mdtrt_cert_type=data.mdtrt_cert_type,
        setl_id=None,
        setl_time=None,
        medins_setl_id=None,
        clr_optins=None,
    )
    output = {"setlinfo": node_out, "setldetail": priced.calculation.setldetail_rows()}
    return Answer.ok(output, effects={"mdtrt_id": priced.visit.mdtrt_id})


def settle_visit(ctx: Context, node: Input2207) -> Answer:
    """2207: recompute, check the echoed amounts, book the settlement."""
    data = node.data
    priced = _price(ctx, data)
    if ctx.options.require_presettlement:
        _check_presettled(ctx, priced, data.chrg_bchno)
    sent = [(name, getattr(data, name)) for name in ECHOED_AMOUNTS]
    if any(value != getattr(priced.calculation, name) for name, value in sent):
        raise amount_mismatch(priced.visit.mdtrt_id, priced.calculation, sent)
    setl_id = ctx.new_id("setl_id")
    node_out = setlinfo(
        priced.calculation,
        identity=person_fields(priced.person, priced.record, ctx.today),
        mdtrt_id=priced.visit.mdtrt_id,
        med_type=priced.med_type,
        mdtrt_cert_type=data.mdtrt_cert_type,
        setl_id=setl_id,
        setl_time=ctx.now,
        medins_setl_id=ctx.call.msgid,
        clr_optins=ctx.institution.mdtrtarea_admvs,
    )
    book(
        ctx,
        visit=priced.visit,
        person=priced.person,
        record=priced.record,
        calculation=priced.calculation,
        lines=priced.lines,
        chrg_bchno=data.chrg_bchno,
        setlinfo_node=node_out,
    )
    output = {"setlinfo": node_out, "setldetail": priced.calculation.setldetail_rows()}
    effects = {
        "mdtrt_id": priced.visit.mdtrt_id,
        "setl_id": setl_id,
        "password": _password_note(ctx, priced.visit),
    }
    return Answer.ok(output, changed=True, effects=effects)


def cancel_settlement(ctx: Context, node: Input2208) -> Answer:
    """2208: book the negative row of a live settlement and give the money back."""
    data = node.data
    open_visit(ctx, data.mdtrt_id, data.psn_no, doing="2208")
    original = live_settlement(ctx, data.setl_id, data.mdtrt_id, data.psn_no)
    negative = reverse(ctx, original, person=ctx.person(data.psn_no))
    output = {
        "setlinfo": cancellation(negative.setlinfo),
        "setldetail": Calculation.from_record(negative.calculation).setldetail_rows(),
    }
    effects = {
        "mdtrt_id": original.mdtrt_id,
        "setl_id": negative.setl_id,
        "reversed_setl_id": original.setl_id,
    }
    return Answer.ok(output, changed=True, effects=effects)


def live_settlement(
    ctx: Context,
    setl_id: str,
    mdtrt_id: str,
    psn_no: str,
    *,
    find: Callable[[Context, str, str], object] = find_visit,
) -> Settlement:
    """The settlement ``setl_id`` of this visit (or, with ``find``, stay) and person, if it
    may still be reversed."""
    find(ctx, mdtrt_id, psn_no)
    row = ctx.tx.get(Settlement, ctx.tenant, setl_id)
    if row is None or row.mdtrt_id != mdtrt_id or row.psn_no != psn_no:
        raise BusinessError(
            "settlement_not_found",
            f"结算信息不存在：setl_id={setl_id}（就诊 mdtrt_id={mdtrt_id}，人员 psn_no={psn_no}）",
            f"settlement not found: setl_id {setl_id} is not a settlement of visit {mdtrt_id} "
            f"of person {psn_no}",
        )
    if row.status == VOIDED:
        raise BusinessError(
            "settlement_not_found",
            f"结算信息不存在：setl_id={setl_id} 已被冲正(2601)作废，无需撤销",
            f"settlement {setl_id} was voided by a reversal (2601): there is nothing to refund",
        )
    if row.refd_setl_flag == "1":
        raise BusinessError(
            "illegal_state",
            f"当前状态不允许此操作：setl_id={setl_id} 是结算撤销（退费）记录，不能再撤销；"
            f"原结算为 setl_id={row.reverses}",
            f"setl_id {setl_id} is itself a reversal row (of {row.reverses}) and cannot be "
            "reversed",
        )
    if row.reversed_by is not None:
        raise BusinessError(
            "illegal_state",
            f"当前状态不允许此操作：结算 setl_id={setl_id} 已撤销（退费记录 setl_id="
            f"{row.reversed_by}），无需重复撤销",
            f"settlement {setl_id} is already reversed (reversal row {row.reversed_by}): "
            "nothing to do",
        )
    return row


def _price(ctx: Context, data: Input2206Data | Input2207Data) -> _Priced:
    infno = ctx.call.infno
    visit = open_visit(ctx, data.mdtrt_id, data.psn_no, doing=infno)
    person = ctx.person(data.psn_no)
    if data.insutype != visit.insutype:
        raise BusinessError(
            "illegal_state",
            f"当前状态不允许此操作：insutype={data.insutype} 与挂号(2201)险种 "
            f"{visit.insutype} 不一致",
            f"insutype {data.insutype} differs from {visit.insutype} given at registration (2201)",
        )
    record = ctx.insurance(person, visit.insutype)
    require_certificate_of(ctx, person, data.mdtrt_cert_type, data.mdtrt_cert_no)
    med_type = _med_type(ctx, visit, data.med_type)
    disease = visit.dise_codg if med_type == CHRONIC_MED_TYPE else None
    if med_type == CHRONIC_MED_TYPE:
        check_recognised(ctx, visit, disease, field="dise_codg (2203)")
    lines = tuple(unsettled_lines(ctx, visit, data.chrg_bchno))
    if not lines:
        raise _nothing_to_settle(ctx, visit, data.chrg_bchno)
    calculation = calculate(
        ctx,
        person,
        Terms(visit.insutype, visit.insuplc_admdvs, med_type, disease),
        lines,
        acct_used=data.acct_used_flag == "1",
    )
    return _Priced(visit, person, record, med_type, lines, calculation)


@dataclass(frozen=True)
class Terms:
    """What selects the insured place's rule for a bill: insurance, insured area, med_type and,
    for a chronic visit (med_type 14), the recognised disease."""

    insutype: str
    insuplc_admdvs: str
    med_type: str
    disease: str | None = None


def calculate(
    ctx: Context,
    person: InsuredPerson,
    terms: Terms,
    lines: Sequence[UploadedFeeLine],
    *,
    acct_used: bool,
    stay: Callable[[str], StayCounters] | None = None,
) -> Calculation:
    """The calculator over held lines: the insured place's rule, this year's counters, the
    account balance now; ``stay`` gives a stay's counters for the rule (by its id)."""
    policy = ctx.fixtures.policy(terms.insuplc_admdvs)
    if policy is None:
        raise NoBenefitRuleError(
            terms.insuplc_admdvs, terms.insutype, terms.med_type, ctx.institution.level
        )
    rule = policy.rule_for(
        terms.insutype, terms.med_type, ctx.institution.level, disease=terms.disease
    )
    return settle(
        priced_lines(ctx, lines),
        insured=person.insured(
            terms.insutype, on=ctx.today, balance=balance(ctx, person, terms.insutype)
        ),
        visit=visit_terms(
            ctx, person, terms.insuplc_admdvs, terms.med_type, dise_codg=terms.disease
        ),
        policy=policy,
        accumulators=year_to_date(ctx, person.psn_no, ctx.now.year, terms.insuplc_admdvs, rule.id),
        acct_used=acct_used,
        profile=ctx.profile(),
        stay=stay(rule.id) if stay is not None else None,
    )


def _med_type(ctx: Context, visit: Visit, sent: str) -> str:
    if visit.med_type is None:
        if ctx.options.require_visit_info:
            raise BusinessError(
                "illegal_state",
                f"当前状态不允许此操作：就诊 mdtrt_id={visit.mdtrt_id} 尚未上传就诊信息；"
                "请先调用【2203】",
                f"visit {visit.mdtrt_id} has no visit information: upload it with 2203 first",
            )
        return sent
    if sent != visit.med_type:
        raise BusinessError(
            "illegal_state",
            f"当前状态不允许此操作：med_type={sent} 与就诊信息(2203)的医疗类别 "
            f"{visit.med_type} 不一致",
            f"med_type {sent} differs from {visit.med_type} of the visit information (2203)",
        )
    return sent


def priced_lines(ctx: Context, lines: Sequence[UploadedFeeLine]) -> list[PricedLine]:
    """The held lines as the calculator's priced lines (the amounts their upload answered)."""
    # The amounts are the ones the 2204 answer gave; the catalogue item is looked up again
    # only to describe the line (a catalogue replaced since does not change a priced line).
    catalogue = ctx.fixtures.catalogue_for(ctx.institution.mdtrtarea_admvs)
    return [
        PricedLine(
            line=UnpricedLine(
                line.feedetl_sn, line.med_list_codg, line.pric, line.cnt, line.det_item_fee_sumamt
            ),
            item=catalogue.item(line.med_list_codg) if catalogue else None,
            fulamt_ownpay_amt=line.fulamt_ownpay_amt,
            overlmt_amt=line.overlmt_amt,
            preselfpay_amt=line.preselfpay_amt,
            inscp_scp_amt=line.inscp_scp_amt,
            hosp_part_amt=line.hosp_part_amt,
        )
        for line in lines
    ]


def _nothing_to_settle(ctx: Context, visit: Visit, chrg_bchno: str) -> BusinessError:
    settled = sorted(
        {
            line.setl_id or ""
            for line in active_lines(ctx, visit)
            if line.chrg_bchno == chrg_bchno and line.status == SETTLED
        }
    )
    if settled:
        return BusinessError(
            "illegal_state",
            f"当前状态不允许此操作：收费批次 chrg_bchno={chrg_bchno} 已结算"
            f"(setl_id={', '.join(settled)})，无需重复结算",
            f"chrg_bchno {chrg_bchno} is already settled (setl_id {', '.join(settled)}): "
            "do not settle it twice",
        )
    return BusinessError(
        "illegal_state",
        f"当前状态不允许此操作：就诊 mdtrt_id={visit.mdtrt_id} 收费批次 chrg_bchno={chrg_bchno} "
        "没有待结算的费用明细；请先上传费用明细(2204)",
        f"visit {visit.mdtrt_id} has no unsettled fee lines in chrg_bchno {chrg_bchno}: "
        "upload them with 2204 first",
    )


def _check_presettled(ctx: Context, priced: _Priced, chrg_bchno: str) -> None:
    marker = ctx.tx.get(PreSettlement, ctx.tenant, priced.visit.mdtrt_id, chrg_bchno)
    current = tuple(line.line_id for line in priced.lines)
    if marker is None:
        raise BusinessError(
            "illegal_state",
            f"当前状态不允许此操作：就诊 mdtrt_id={priced.visit.mdtrt_id} 收费批次 "
            f"chrg_bchno={chrg_bchno} 未预结算；请先调用【2206】门诊预结算并核对金额",
            f"chrg_bchno {chrg_bchno} of visit {priced.visit.mdtrt_id} was not pre-settled: "
            "call 2206 and check its amounts first",
        )
    if marker.line_ids != current:
        raise BusinessError(
            "illegal_state",
            f"当前状态不允许此操作：预结算(msgid={marker.msgid})之后费用明细已变化；"
            "请重新预结算(2206)",
            f"the fee lines changed after the pre-settlement (msgid {marker.msgid}): "
            "call 2206 again",
        )


def amount_mismatch(
    mdtrt_id: str,
    calculation: Calculation,
    sent: Sequence[tuple[str, Decimal | None]],
    *,
    presettlement: str = "2206",
) -> BusinessError:
    """The refusal of request amounts that differ from the platform's figures for the lines."""
    wrong = [
        (name, value, getattr(calculation, name))
        for name, value in sent
        if value != getattr(calculation, name)
    ]
    fields = ", ".join(name for name, _, _ in wrong)
    zh = "；".join(f"{name} 请求 {value}，费用明细合计 {actual}" for name, value, actual in wrong)
    en = "; ".join(
        f"{name} sent {value}, the fee lines give {actual}" for name, value, actual in wrong
    )
    return BusinessError(
        "amount_mismatch",
        f"结算金额与预结算不一致：{fields}（{zh}）；请按【{presettlement}】预结算结果或费用明细"
        "合计传值",
        f"amounts differ from the platform's figures for the fee lines of visit {mdtrt_id}: "
        f"{en} — send the {presettlement} figures",
    )


def _password_note(ctx: Context, visit: Visit) -> str:
    if (
        locality_of(visit.insuplc_admdvs, ctx.institution.mdtrtarea_admvs)
        is Locality.CROSS_PROVINCE
    ):
        return "not checked: cross-province settlement (reference §5.7)"
    if ctx.envelope_text("signtype") == "MOCK":
        return "not checked: signtype MOCK (test mode)"
    return "not verified: the mock accepts an in-province settlement without a password"

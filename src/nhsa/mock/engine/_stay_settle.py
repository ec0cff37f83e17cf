"""2303 住院预结算, 2304 住院结算, 2305 住院结算撤销.

Which lines a settlement takes:

- the **final** settlement (``mid_setl_flag`` 0) needs the discharge (2402) first and settles
  every unsettled line of the stay;
- a **mid-way** settlement (中途结算, ``mid_setl_flag`` 1) leaves the patient in hospital and
  settles the unsettled lines whose fee arose on or before ``dscgTime`` (every unsettled line
  when it is absent). The interval lives in the HIS (H uploads only the fees inside it and
  sends the interval's end as the discharge date); the platform settles what it holds up to
  that day [inference].

The stay's settlements share one deductible (起付线): each takes what the earlier ones in force
left of it, and a later stay of the same year pays the share the insured place's policy gives
(``later_stays``). 2303 must precede 2304 and price exactly the same lines (option
``require_presettlement``); the platform's fee total is checked against the request's
``medfee_sumamt`` at both. 2304 of a local or in-province stay needs the patient's password
check (住院结算（验密）, reference §5.7): the medium read with the password in the extension
field (``{"card_token": …}``, E's ``expContent.card_token`` — the patient's e-voucher token, or
the card's identification code), or ``signtype`` MOCK; cross-province stays are not checked
[inference: how the check travels]. 2305 cancels the stay's settlements newest first.

Example::

    answer = settle_stay(ctx, node)       # output {"setlinfo": {...}, "setldetail": [...]}
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import orjson

from nhsa.mock.engine._context import Context
from nhsa.mock.engine._errors import BusinessError
from nhsa.mock.engine._ledger import book, reverse
from nhsa.mock.engine._person import require_certificate_of
from nhsa.mock.engine._setlinfo import (
    INPATIENT_CLR_TYPE,
    cancellation,
    person_fields,
    setlinfo,
)
from nhsa.mock.engine._settle import Terms, amount_mismatch, calculate, live_settlement
from nhsa.mock.engine._stays import (
    FINAL,
    MID_WAY,
    check_insutype,
    fee_time,
    find_stay,
    open_stay,
    settled_order,
    settled_stays,
    stay_settlements,
    unsettled_stay_lines,
)
from nhsa.mock.engine._types import Answer
from nhsa.mock.fixtures import InsuranceRecord, InsuredPerson
from nhsa.mock.settlement import Locality, StayCounters, locality_of
from nhsa.mock.settlement import Settlement as Calculation
from nhsa.mock.store import (
    CANCELLED,
    DISCHARGED,
    EcToken,
    PreSettlement,
    Settlement,
    Stay,
    UploadedFeeLine,
)
from nhsa.models import Input2303, Input2303Data, Input2304, Input2304Data, Input2305

SCOPE_AMOUNTS = ("fulamt_ownpay_amt", "overlmt_selfpay", "preselfpay_amt", "inscp_scp_amt")
"""The four scope amounts of 2303/2304; H sends 0.00 for each, so a platform recomputes them."""
_ZERO = Decimal("0")
_MARKERS = {MID_WAY: "stay-midway", FINAL: "stay-final"}
"""The pre-settlement marker of a stay, by mid_setl_flag (the ``chrg_bchno`` key it is kept at)."""


@dataclass(frozen=True)
class _PricedStay:
    stay: Stay
    person: InsuredPerson
    record: InsuranceRecord
    mid_setl_flag: str
    until: date | None
    lines: tuple[UploadedFeeLine, ...]
    calculation: Calculation


def presettle_stay(ctx: Context, node: Input2303) -> Answer:
    """2303: compute the settlement of the stay's lines (or its mid-way part) without booking."""
    data = node.data
    priced = _price(ctx, data)
    if data.medfee_sumamt != priced.calculation.medfee_sumamt:
        raise amount_mismatch(
            priced.stay.mdtrt_id,
            priced.calculation,
            [("medfee_sumamt", data.medfee_sumamt)],
            presettlement="2303",
        )
    ctx.tx.put(
        PreSettlement(
            tenant=ctx.tenant,
            mdtrt_id=priced.stay.mdtrt_id,
            chrg_bchno=_MARKERS[priced.mid_setl_flag],
            line_ids=tuple(line.line_id for line in priced.lines),
            msgid=ctx.call.msgid,
            computed_at=ctx.now,
            amounts=priced.calculation.to_record()["amounts"],
        )
    )
    output = _output(ctx, priced, data.mdtrt_cert_type, setl_id=None)
    return Answer.ok(output, effects={"mdtrt_id": priced.stay.mdtrt_id})


def settle_stay(ctx: Context, node: Input2304) -> Answer:
    """2304: recompute, check the pre-settlement, the totals and the password, book it."""
    data = node.data
    priced = _price(ctx, data)
    if ctx.options.require_presettlement:
        _check_presettled(ctx, priced)
    if data.medfee_sumamt != priced.calculation.medfee_sumamt:
        raise amount_mismatch(
            priced.stay.mdtrt_id,
            priced.calculation,
            [("medfee_sumamt", data.medfee_sumamt)],
            presettlement="2303",
        )
    sent = [(name, getattr(data, name)) for name in SCOPE_AMOUNTS]
    wrong = [
        (name, value)
        for name, value in sent
        if value is not None and value != _ZERO and value != getattr(priced.calculation, name)
    ]
    if wrong:
        raise amount_mismatch(priced.stay.mdtrt_id, priced.calculation, wrong, presettlement="2303")
    password = _password(ctx, priced, data)
    setl_id = ctx.new_id("setl_id")
    output = _output(ctx, priced, data.mdtrt_cert_type, setl_id=setl_id)
    book(
        ctx,
        visit=priced.stay,
        person=priced.person,
        record=priced.record,
        calculation=priced.calculation,
        lines=priced.lines,
        chrg_bchno=_MARKERS[priced.mid_setl_flag],
        setlinfo_node=output["setlinfo"],
        mid_setl_flag=priced.mid_setl_flag,
    )
    zeroes = [name for name, value in sent if value == _ZERO != getattr(priced.calculation, name)]
    note = (
        f"{', '.join(zeroes)} 按 0.00 传入，已按费用明细重算 / sent as 0.00: the platform's "
        "figures apply"
        if zeroes
        else None
    )
    effects = {
        "mdtrt_id": priced.stay.mdtrt_id,
        "setl_id": setl_id,
        "mid_setl_flag": priced.mid_setl_flag,
        "password": password,
    }
    return Answer.ok(output, changed=True, effects=effects, warn_msg=note)


def cancel_stay_settlement(ctx: Context, node: Input2305) -> Answer:
    """2305: cancel the stay's newest settlement in force; the money goes back."""
    data = node.data
    stay = open_stay(ctx, data.mdtrt_id, data.psn_no, doing="2305")
    original = live_settlement(ctx, data.setl_id, data.mdtrt_id, data.psn_no, find=find_stay)
    refuse_unless_newest(ctx, stay, original, doing="2305")
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


def refuse_unless_newest(ctx: Context, stay: Stay, original: Settlement, *, doing: str) -> None:
    """A stay's settlements are undone newest first (2305, or 2601 of a 2304)."""
    later = [
        row for row in stay_settlements(ctx, stay) if settled_order(row) > settled_order(original)
    ]
    if later:
        newest = later[-1]
        kind_zh = "中途结算" if original.mid_setl_flag == MID_WAY else "结算"
        raise BusinessError(
            "cancel_order",
            f"撤销顺序错误：{kind_zh} setl_id={original.setl_id} 不是住院 mdtrt_id="
            f"{stay.mdtrt_id} 最近一次结算，不能【{doing}】；请从最近一次开始撤销"
            f"（先撤销 setl_id={newest.setl_id}）",
            f"settlement {original.setl_id} is not the newest of stay {stay.mdtrt_id}, so "
            f"{doing} cannot undo it: cancel from the newest ({newest.setl_id}) back",
        )


# -- pricing --------------------------------------------------------------------------------


def _price(ctx: Context, data: Input2303Data | Input2304Data) -> _PricedStay:
    infno = ctx.call.infno
    stay = open_stay(ctx, data.mdtrt_id, data.psn_no, doing=infno)
    check_insutype(stay, data.insutype)
    person = ctx.person(data.psn_no)
    record = ctx.insurance(person, stay.insutype)
    require_certificate_of(ctx, person, data.mdtrt_cert_type, data.mdtrt_cert_no)
    mid = data.mid_setl_flag
    until = data.dscgTime if mid == MID_WAY else None
    if mid == FINAL and stay.status != DISCHARGED:
        raise BusinessError(
            "not_discharged",
            f"未办理出院，不能出院结算：住院 mdtrt_id={stay.mdtrt_id} 尚未出院；请先办理出院"
            "(2402)，再预结算(2303)、结算(2304)；在院期间结算请传 mid_setl_flag=1（中途结算）",
            f"stay {stay.mdtrt_id} is not discharged: discharge it (2402) before its final "
            "settlement (2303, 2304); settle while in hospital with mid_setl_flag 1 (mid-way)",
        )
    if mid == MID_WAY and stay.status == DISCHARGED:
        raise BusinessError(
            "stay_discharged",
            f"住院已出院，不能办理：住院 mdtrt_id={stay.mdtrt_id} 已出院，不能中途结算；"
            "请按出院结算传 mid_setl_flag=0",
            f"stay {stay.mdtrt_id} is discharged, so it is settled finally (mid_setl_flag 0), "
            "not mid-way",
        )
    lines = tuple(
        line
        for line in unsettled_stay_lines(ctx, stay)
        if until is None or fee_time(line).date() <= until
    )
    if not lines:
        upto = f"（截至 {until.isoformat()}）" if until else ""
        upto_en = f" up to {until.isoformat()}" if until else ""
        raise BusinessError(
            "illegal_state",
            f"当前状态不允许此操作：住院 mdtrt_id={stay.mdtrt_id} 没有待结算的费用明细{upto}；"
            "请先上传费用明细(2301)",
            f"stay {stay.mdtrt_id} has no unsettled fee lines{upto_en}: upload them (2301) first",
        )
    calculation = calculate(
        ctx,
        person,
        Terms(stay.insutype, stay.insuplc_admdvs, stay.med_type),
        lines,
        acct_used=data.acct_used_flag == "1",
        stay=lambda benefit_id: _counters(ctx, stay, benefit_id),
    )
    return _PricedStay(stay, person, record, mid, until, lines, calculation)


def _counters(ctx: Context, stay: Stay, benefit_id: str) -> StayCounters:
    """Which stay of the year this is, and the deductible its settlements in force took."""
    settled = settled_stays(ctx, stay.psn_no)
    used = sum(
        (
            Decimal(str(row.calculation["amounts"]["act_pay_dedc"]))
            for row in settled.get(stay.mdtrt_id, ())
            if row.calculation.get("benefit_id") == benefit_id
        ),
        _ZERO,
    )
    earlier = [
        other
        for other in ctx.tx.find(Stay, tenant=ctx.tenant, psn_no=stay.psn_no)
        if other.mdtrt_id != stay.mdtrt_id
        and other.mdtrt_id in settled
        and other.status != CANCELLED
        and other.insuplc_admdvs == stay.insuplc_admdvs
        and other.begntime.year == stay.begntime.year
        and other.begntime < stay.begntime
    ]
    return StayCounters(len(earlier) + 1, used)


def _check_presettled(ctx: Context, priced: _PricedStay) -> None:
    stay = priced.stay
    marker = ctx.tx.get(PreSettlement, ctx.tenant, stay.mdtrt_id, _MARKERS[priced.mid_setl_flag])
    kind_zh = "中途结算" if priced.mid_setl_flag == MID_WAY else "出院结算"
    kind_en = "mid-way" if priced.mid_setl_flag == MID_WAY else "final"
    if marker is None:
        raise BusinessError(
            "not_presettled",
            f"未预结算，不能结算：住院 mdtrt_id={stay.mdtrt_id} 的{kind_zh}"
            f"(mid_setl_flag={priced.mid_setl_flag}) 未调用【2303】住院预结算；"
            "请先预结算并核对金额",
            f"the {kind_en} settlement (mid_setl_flag {priced.mid_setl_flag}) of stay "
            f"{stay.mdtrt_id} was not pre-settled: call 2303 and check its amounts first",
        )
    if marker.line_ids != tuple(line.line_id for line in priced.lines):
        raise BusinessError(
            "not_presettled",
            f"未预结算，不能结算：预结算(msgid={marker.msgid})之后待结算的费用明细已变化"
            "（上传、撤销或结算区间不同）；请重新预结算(2303)",
            f"the lines to settle changed after the pre-settlement (msgid {marker.msgid}: fees "
            "uploaded, cancelled, or another interval): call 2303 again",
        )


def _output(
    ctx: Context, priced: _PricedStay, mdtrt_cert_type: str, *, setl_id: str | None
) -> dict[str, Any]:
    node = setlinfo(
        priced.calculation,
        identity=person_fields(priced.person, priced.record, ctx.today),
        mdtrt_id=priced.stay.mdtrt_id,
        med_type=priced.stay.med_type,
        mdtrt_cert_type=mdtrt_cert_type,
        setl_id=setl_id,
        setl_time=ctx.now if setl_id else None,
        medins_setl_id=ctx.call.msgid if setl_id else None,
        clr_optins=ctx.institution.mdtrtarea_admvs if setl_id else None,
        clr_type=INPATIENT_CLR_TYPE,
    )
    return {"setlinfo": node, "setldetail": priced.calculation.setldetail_rows()}


# -- the password rule ------------------------------------------------------------------------


def _password(ctx: Context, priced: _PricedStay, data: Input2304Data) -> str:
    """How the patient's password was checked, or the refusal of an unchecked in-province 2304."""
    stay = priced.stay
    locality = locality_of(stay.insuplc_admdvs, ctx.institution.mdtrtarea_admvs)
    if locality is Locality.CROSS_PROVINCE:
        return "not checked: cross-province settlement (跨省异地不验密, reference §5.7)"
    if ctx.envelope_text("signtype") == "MOCK":
        return "not checked: signtype MOCK (test mode)"
    token = _extension(data).get("card_token")
    where = "本地" if locality is Locality.LOCAL else "省内异地"
    where_en = "a local" if locality is Locality.LOCAL else "an in-province"
    if not isinstance(token, str) or not token:
        raise BusinessError(
            "password_not_verified",
            f"未验证患者密码，不能结算：{where}住院结算(2304)须验证患者电子凭证或社保卡密码；"
            '请在 exp_content 传入验密后的校验介质 {"card_token": …}',
            f"{where_en} inpatient settlement (2304) needs the patient's e-voucher or card "
            'password checked: send the medium read with it as exp_content {"card_token": …}',
        )
    if not _medium_of(ctx, priced.person, token):
        raise BusinessError(
            "password_not_verified",
            f"未验证患者密码，不能结算：exp_content 的 card_token 不是人员 "
            f"{priced.person.psn_no} 的电子凭证或社保卡校验介质；请患者重新验密",
            f"exp_content card_token is no e-voucher or card medium of person "
            f"{priced.person.psn_no}: have the patient enter the password again",
        )
    return "verified: card_token (the medium read with the patient's password)"


def _extension(data: Input2304Data) -> Mapping[str, Any]:
    """The extension field (``exp_content`` or ``expContent``) as a JSON object, or ``{}``."""
    text = data.exp_content or data.expContent
    if not text:
        return {}
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError:
        raise BusinessError(
            "envelope.validation_failed",
            "报文校验失败：/input/data/exp_content 须为 JSON 对象字符串（扩展内容）",
            "/input/data/exp_content must be a JSON object serialized as a string",
        ) from None
    return value if isinstance(value, Mapping) else {}


def _medium_of(ctx: Context, person: InsuredPerson, token: str) -> bool:
    certificates = person.certificates
    card = certificates.social_security_card
    if token == certificates.ec_token or (card is not None and token == card.card_sn):
        return True
    issued = ctx.tx.get(EcToken, ctx.tenant, token)
    return issued is not None and issued.psn_no == person.psn_no and issued.valid_at(ctx.now)

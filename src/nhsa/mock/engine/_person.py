"""1101 人员信息获取 (person by certificate) and 2001 人员待遇享受检查 (entitlement check).

Certificates (``mdtrt_cert_type``): 01 the e-voucher token — a token issued through the admin
API until it expires, or a person's static test token; 02 the resident ID number; 03 the
social-security card number, whose ``card_sn`` must match the card.

Example::

    person = resolve_certificate(ctx, "03", "TA5300001", card_sn="530100D1…", lookup=True)
"""

from __future__ import annotations

from typing import Any

from nhsa.idcard import id_number_problem
from nhsa.mock.engine._accounts import access_of, balance, filing_of
from nhsa.mock.engine._context import Context
from nhsa.mock.engine._errors import BusinessError
from nhsa.mock.engine._rules import ACCESS_NOTES, check_networked
from nhsa.mock.engine._setlinfo import DATETIME, age_on
from nhsa.mock.engine._types import Answer
from nhsa.mock.fixtures import InsuredPerson
from nhsa.mock.settlement import (
    Insured,
    Locality,
    NoBenefitRuleError,
    SupplementaryFund,
    fund_pay_type_name,
)
from nhsa.mock.store import EcToken
from nhsa.models import Input1101, Input2001
from nhsa.spec import code_table

_CERT_NAMES = {"01": "医保电子凭证", "02": "居民身份证", "03": "社会保障卡"}


def _invalid(cert_type: str, zh: str, en: str) -> BusinessError:
    # Names both fields: which of the two is wrong only the HIS can tell.
    return BusinessError(
        "certificate_invalid",
        f"就诊凭证无效或已过期：mdtrt_cert_type={cert_type}"
        f"（{_CERT_NAMES.get(cert_type, cert_type)}）的 mdtrt_cert_no{zh}",
        f"mdtrt_cert_no of certificate type (mdtrt_cert_type) {cert_type} is invalid: {en}",
    )


def _not_found(cert_type: str, cert_no: str) -> BusinessError:
    return BusinessError(
        "person_not_found",
        f"未查询到人员信息：{_CERT_NAMES.get(cert_type, cert_type)}（mdtrt_cert_type={cert_type}）"
        f"mdtrt_cert_no={cert_no} 无对应参保人员；请核对凭证类型与号码",
        f"no insured person for mdtrt_cert_type {cert_type}, mdtrt_cert_no {cert_no}: "
        "check the certificate type and number",
    )


def resolve_certificate(
    ctx: Context, cert_type: str, cert_no: str, *, card_sn: str | None, lookup: bool
) -> InsuredPerson:
    """The person a certificate names.

    ``lookup`` is true for 1101, where the certificate is presented: an e-voucher token must
    be unexpired and a card needs its ``card_sn``. Later calls (2201, 2206, 2207) carry the
    same number as a reference and only need it to name the same person.
    """
    if cert_type == "01":
        return _by_token(ctx, cert_no, lookup=lookup)
    if cert_type == "02":
        problem = id_number_problem(cert_no)
        if problem:
            raise _invalid(
                cert_type,
                f"：身份证号 {cert_no} 不符合 GB 11643（{problem}）",
                f"ID number {cert_no} breaks GB 11643: {problem}",
            )
        person = ctx.fixtures.person_by_certno(cert_no)
    elif cert_type == "03":
        person = ctx.fixtures.person_by_card(cert_no)
        card = person.certificates.social_security_card if person is not None else None
        if lookup and not card_sn:
            raise _invalid(
                cert_type,
                "：社会保障卡读卡时 card_sn（卡识别码）必填",
                "card_sn (the card identification code) is required with a social-security card",
            )
        if card is not None and card_sn and card.card_sn != card_sn:
            raise _invalid(
                cert_type,
                f"：卡识别码 card_sn 与社会保障卡 {cert_no} 不符；请重新读卡",
                f"card_sn does not match social-security card {cert_no}: read the card again",
            )
    else:
        person = None
    if person is None:
        raise _not_found(cert_type, cert_no)
    return person


def require_certificate_of(
    ctx: Context, person: InsuredPerson, cert_type: str, cert_no: str
) -> None:
    """Refuse a certificate that names another person than ``person`` (or nobody)."""
    named = resolve_certificate(ctx, cert_type, cert_no, card_sn=None, lookup=False)
    if named.psn_no != person.psn_no:
        raise BusinessError(
            "certificate_invalid",
            f"就诊凭证无效或已过期：mdtrt_cert_type={cert_type} 凭证 "
            f"mdtrt_cert_no={cert_no} 属于其他人员，不是 psn_no={person.psn_no}",
            f"mdtrt_cert_no {cert_no} (mdtrt_cert_type {cert_type}) "
            f"names another person, not psn_no {person.psn_no}",
        )


def _by_token(ctx: Context, token: str, *, lookup: bool) -> InsuredPerson:
    issued = ctx.tx.get(EcToken, ctx.tenant, token)
    if issued is None:
        person = ctx.fixtures.person_by_ec_token(token)
        if person is None:
            raise _invalid(
                "01",
                f"：电子凭证令牌 {token} 不存在；请患者重新出示医保电子凭证二维码",
                f"e-voucher token {token} is unknown: ask the patient to show the QR code again",
            )
        return person
    if lookup and not issued.valid_at(ctx.now):
        raise _invalid(
            "01",
            f"：电子凭证令牌已于 {issued.expires_at.strftime(DATETIME)} 过期；"
            "请患者刷新医保电子凭证二维码后重试",
            f"e-voucher token expired at {issued.expires_at.strftime(DATETIME)}: "
            "ask the patient to refresh the QR code",
        )
    return ctx.person(issued.psn_no)


def person_info(ctx: Context, node: Input1101) -> Answer:
    """1101: the person's base info, one insuinfo row per insutype, identities."""
    data = node.data
    person = resolve_certificate(
        ctx, data.mdtrt_cert_type, data.mdtrt_cert_no, card_sn=data.card_sn, lookup=True
    )
    for field, sent, actual in (
        ("certno", data.certno, person.certno),
        ("psn_name", data.psn_name, person.psn_name),
    ):
        if sent and sent != actual:
            raise BusinessError(
                "certificate_invalid",
                f"就诊凭证无效或已过期：{data.mdtrt_cert_type} 凭证对应的人员与 "
                f"{field}={sent} 不符",
                f"the person the certificate names does not match {field} {sent}",
            )
    output = {
        "baseinfo": {
            "psn_no": person.psn_no,
            "psn_cert_type": person.psn_cert_type,
            "certno": person.certno,
            "psn_name": person.psn_name,
            "gend": person.gend,
            "naty": person.naty,
            "brdy": person.brdy.isoformat(),
            "age": age_on(person.brdy, ctx.today),
            "exp_content": None,
        },
        "insuinfo": [
            {
                "balc": balance(ctx, person, record.insutype),
                "insutype": record.insutype,
                "psn_type": record.psn_type,
                "psn_insu_stas": record.psn_insu_stas,
                "psn_insu_date": record.psn_insu_date.isoformat(),
                "paus_insu_date": record.paus_insu_date.isoformat()
                if record.paus_insu_date
                else None,
                "cvlserv_flag": record.cvlserv_flag,
                "insuplc_admdvs": record.insuplc_admdvs,
                "emp_name": record.emp_name,
            }
            for record in person.insurance
        ],
        "idetinfo": [
            {
                "psn_idet_type": identity.psn_idet_type,
                "psn_type_lv": None,
                "memo": identity.memo,
                "begntime": f"{identity.begndate.isoformat()} 00:00:00",
                "endtime": f"{identity.enddate.isoformat()} 23:59:59" if identity.enddate else None,
            }
            for identity in person.identities
        ],
    }
    return Answer.ok(output, effects={"psn_no": person.psn_no})


def entitlement(ctx: Context, node: Input2001) -> Answer:
    """2001: which funds would pay for this person, insutype and med_type here, and why not.

    The answer is a check, not a refusal: a person who is not entitled gets rows with
    ``trt_enjymnt_flag`` 0 and the reason in ``trt_chk_rslt``.
    """
    data = node.data
    if data.fixmedins_code != ctx.tenant:
        raise BusinessError(
            "envelope.validation_failed",
            f"报文校验失败：input.data.fixmedins_code={data.fixmedins_code} 与报文机构 "
            f"{ctx.tenant} 不符",
            f"input.data.fixmedins_code {data.fixmedins_code} is not the sending institution "
            f"{ctx.tenant}",
        )
    person = ctx.person(data.psn_no)
    record = ctx.held(person, data.insutype)
    ctx.check_insured_area(record)
    reasons: list[str] = []
    if record.psn_insu_stas != "1":
        reasons.append(f"参保状态 {record.psn_insu_stas} 非正常参保 / not insured")
    try:
        locality = check_networked(ctx, record.insuplc_admdvs, data.med_type)
    except BusinessError as refusal:
        locality = None
        reasons.append(refusal.err_msg)
    policy = ctx.fixtures.policy(record.insuplc_admdvs)
    try:
        if policy is None:
            raise NoBenefitRuleError(
                record.insuplc_admdvs, data.insutype, data.med_type, ctx.institution.level
            )
        rule = policy.rule_for(data.insutype, data.med_type, ctx.institution.level)
    except NoBenefitRuleError as missing:
        reasons.append(str(missing))
        rule = None
    entitled = not reasons
    note = "; ".join(reasons) if reasons else _entitled_note(ctx, person, locality, data.med_type)
    row: dict[str, Any] = {
        "psn_no": person.psn_no,
        "trt_chk_type": "01",
        "trt_enjymnt_flag": "1" if entitled else "0",
        "begndate": record.psn_insu_date.isoformat(),
        "enddate": record.paus_insu_date.isoformat() if record.paus_insu_date else None,
    }
    if rule is None:
        fallback = f"{data.insutype}100"
        fund = fallback if fallback in code_table("fund_pay_type") else "999997"
        return Answer.ok({"trtinfo": [{**row, "fund_pay_type": fund, "trt_chk_rslt": note}]})
    insured = person.insured(data.insutype, on=ctx.today)
    rows = [{**row, "fund_pay_type": rule.pooling_fund_pay_type, "trt_chk_rslt": note}]
    if rule.personal_account is not None:
        rows.append(
            {**row, "fund_pay_type": rule.personal_account.fund_pay_type, "trt_chk_rslt": note}
        )
    rows += [_fund_row(row, fund, insured, entitled) for fund in rule.supplementary]
    return Answer.ok({"trtinfo": rows}, effects={"psn_no": person.psn_no})


def _entitled_note(
    ctx: Context, person: InsuredPerson, locality: Locality | None, med_type: str
) -> str:
    if locality is None or locality is Locality.LOCAL:
        return "可享受待遇 / entitled"
    access = access_of(ctx, person, med_type)
    zh, en = ACCESS_NOTES[access]
    filing = filing_of(ctx, person)
    filed = f"（备案：{filing.kind} {filing.area}）" if filing else "（无备案）"
    return f"可享受待遇：{zh}{filed} / entitled: {en}"


def _fund_row(
    row: dict[str, Any], fund: SupplementaryFund, insured: Insured, entitled: bool
) -> dict[str, Any]:
    qualifies = entitled and fund.applies_to(insured)
    name = fund_pay_type_name(fund.fund_pay_type)
    note = f"可享受{name}" if qualifies else f"不符合{name}的享受条件 / not eligible"
    return {
        **row,
        "fund_pay_type": fund.fund_pay_type,
        "trt_enjymnt_flag": "1" if qualifies else "0",
        "trt_chk_rslt": note,
    }

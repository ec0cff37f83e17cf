"""Whether this institution may settle this visit directly: networked services (联网) and
the cross-region access class the settlement will use (reference §6.2).

Example::

    locality = check_networked(ctx, record.insuplc_admdvs, "11")
    rule = require_benefit_rule(ctx, record.insuplc_admdvs, "310", "21")
"""

from __future__ import annotations

from nhsa.mock.engine._context import Context
from nhsa.mock.engine._errors import BusinessError
from nhsa.mock.fixtures import Service
from nhsa.mock.settlement import Access, BenefitRule, Locality, NoBenefitRuleError, locality_of

_SERVICE_NAMES = {
    Service.OUTPATIENT: ("门诊直接结算", "outpatient settlement"),
    Service.INPATIENT: ("住院直接结算", "inpatient settlement"),
    Service.CROSS_PROVINCE_OUTPATIENT: ("跨省异地门诊直接结算", "cross-province outpatient"),
    Service.CROSS_PROVINCE_CHRONIC: ("跨省门诊慢特病直接结算", "cross-province chronic outpatient"),
    Service.CROSS_PROVINCE_INPATIENT: ("跨省异地住院直接结算", "cross-province inpatient"),
}

ACCESS_NOTES = {
    Access.FILED_RESIDENT: ("已备案（异地长期居住/安置/工作），按参保地本地标准", "filed resident"),
    Access.REFERRAL: ("异地转诊备案，报销比例按参保地政策降低", "filed referral"),
    Access.EMERGENCY: ("急诊抢救未备案，报销比例按参保地政策降低", "emergency without filing"),
    Access.TEMPORARY: ("未备案临时外出就医，报销比例按参保地政策降低", "unfiled temporary visit"),
}
"""How each access class settles, for messages and the 2001 answer."""


def check_networked(ctx: Context, insuplc_admdvs: str, med_type: str) -> Locality:
    """Refuse a visit the institution is not networked for; returns the visit's locality."""
    locality = locality_of(insuplc_admdvs, ctx.institution.mdtrtarea_admvs)
    service = Service.for_visit(locality, med_type)
    if not ctx.institution.offers(service):
        zh, en = _SERVICE_NAMES[service]
        raise BusinessError(
            "illegal_state",
            f"当前状态不允许此操作：定点医药机构 {ctx.tenant} 未开通{zh}"
            f"（参保地 {insuplc_admdvs}，就医地 {ctx.institution.mdtrtarea_admvs}，"
            f"医疗类别 {med_type}）；请患者全额自费后回参保地报销",
            f"institution {ctx.tenant} is not networked for {en} (insured area "
            f"{insuplc_admdvs}, treatment area {ctx.institution.mdtrtarea_admvs}, med_type "
            f"{med_type}): the patient pays in full and claims at the insured place",
        )
    return locality


def require_benefit_rule(
    ctx: Context,
    insuplc_admdvs: str,
    insutype: str,
    med_type: str,
    *,
    disease: str | None = None,
) -> BenefitRule:
    """The insured place's rule for this insutype and med_type at this hospital's tier (as it
    settles ``disease`` for a chronic visit), or a refusal saying the place grants no benefit
    for it."""
    policy = ctx.fixtures.policy(insuplc_admdvs)
    level = ctx.institution.level
    try:
        if policy is None:
            raise NoBenefitRuleError(insuplc_admdvs, insutype, med_type, level)
        return policy.rule_for(insutype, med_type, level, disease=disease)
    except NoBenefitRuleError as missing:
        raise BusinessError(
            "illegal_state",
            f"当前状态不允许此操作：参保地 {insuplc_admdvs} 对险种 {insutype} "
            f"医疗类别 med_type={med_type} 无待遇（{level}级医院）；请核对医疗类别或按自费处理",
            str(missing),
        ) from None

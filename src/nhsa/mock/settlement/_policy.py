"""参保地政策: the insured place's policy, as data.

An :class:`InsuredPlacePolicy` belongs to one insured area (``insuplc_admdvs``). It holds
:class:`BenefitRule` s, one per insutype and group of med_types, each with

- a deductible (起付线) and a pooling pay ratio per hospital tier (:class:`LevelTerms`), taken
  once a calendar year or — for inpatient care — once a stay (:class:`DeductiblePer`), where a
  later stay of the year may pay a smaller share of it (``later_stays``),
- an annual cap on the pooling fund (最高支付限额) and whether the personal account may pay,
- optional ratio adjustments by ``psn_type`` (e.g. retirees +5 points),
- supplementary funds settled in the same bill (一单式结算), in the order listed
  (:class:`SupplementaryFund`);
- for chronic and special outpatient care (门慢/门特, med_type 14), optional terms per
  recognised disease (:class:`DiseaseTerms`): the disease's own deductible and ratio per tier,
  annual cap and, where the place says so, its own one-bill funds;

and the cross-region ratio changes (:class:`CrossRegion`, reference §6.2). The deductible,
cap and fund counters of one rule carry across all its med_types within a calendar year; a
disease with terms of its own has counters of its own (rule id + ``.`` + the terms' id).
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from itertools import pairwise
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator

from nhsa.mock.settlement._accumulators import FundKind
from nhsa.mock.settlement._codes import (
    FundPayTypeCode,
    HospLevel,
    InsutypeCode,
    MedTypeCode,
    OpspDiseCode,
    PsnTypeCode,
)
from nhsa.mock.settlement._errors import NoBenefitRuleError
from nhsa.mock.settlement._money import ZERO, Amount, Ratio, RatioDelta
from nhsa.mock.settlement._visit import Access, Insured, Locality, Visit
from nhsa.money import cents

_MODEL = ConfigDict(frozen=True, extra="forbid")

Reduction = Annotated[Decimal, Field(ge=-1, le=0, decimal_places=4)]
"""A cross-region ratio change: zero or negative (−0.1000 = 10 percentage points lower)."""


class LevelTerms(BaseModel):
    """Deductible and pooling pay ratio at one hospital tier.

    Example:
        >>> from pydantic import ValidationError
        >>> try:
        ...     LevelTerms(level="3", deductible=Decimal("300"), pay_ratio=Decimal("1.2"))
        ... except ValidationError as invalid:
        ...     print(invalid.errors()[0]["loc"][0])
        pay_ratio
    """

    model_config = _MODEL

    level: HospLevel
    deductible: Amount
    pay_ratio: Ratio


class DeductiblePer(StrEnum):
    """How often the deductible (起付线) is taken.

    Example:
        >>> [per.value for per in DeductiblePer]  # the values a policy file may give
        ['year', 'stay']
    """

    YEAR = "year"
    """Once a calendar year, across every visit of the rule (outpatient care)."""
    STAY = "stay"
    """Once a stay (住院): the stay's mid-way settlements (中途结算) share it."""


class Tier(BaseModel):
    """One band of a supplementary fund: ``ratio`` of the counted cost above ``above`` yuan.

    A band ends where the next one starts; the first band's ``above`` is the fund's own
    threshold (nothing below it is paid).

    Example:
        >>> from pydantic import ValidationError
        >>> try:
        ...     Tier(above=Decimal("-1"), ratio=Decimal("0.6"))
        ... except ValidationError as invalid:
        ...     print(invalid.errors()[0]["loc"][0])
        above
    """

    model_config = _MODEL

    above: Amount
    ratio: Ratio


class Basis(StrEnum):
    """What a supplementary fund counts towards its tiers.

    Example:
        >>> [basis.value for basis in Basis]  # the values a policy file may give
        ['over_cap', 'self_borne']
    """

    OVER_CAP = "over_cap"
    """The in-scope cost left unpaid because the pooling fund reached its annual cap
    (大额医疗费用补助: pays above the basic cap)."""
    SELF_BORNE = "self_borne"
    """The in-scope cost still borne by the person after the pooling fund and the funds
    listed before this one (大病保险 above its threshold, 公务员补助, 医疗救助)."""


class SupplementaryFund(BaseModel):
    """A fund paid in the same bill after the pooling fund (一单式结算).

    Example:
        >>> fund = SupplementaryFund(fund="hifmi", fund_pay_type="390200", basis="self_borne",
        ...     tiers=[Tier(above=Decimal("1000"), ratio=Decimal("0.6"))],
        ...     annual_cap=Decimal("400000"))
        >>> fund.tiered_pay(start=Decimal("800"), base=Decimal("500"))
        Decimal('180.0')
    """

    model_config = _MODEL

    fund: FundKind
    fund_pay_type: FundPayTypeCode
    basis: Basis
    tiers: tuple[Tier, ...] = Field(min_length=1)
    annual_cap: Amount
    requires_cvlserv: bool = False
    requires_identity: tuple[str, ...] = ()
    """Any one of these ``psn_idet_type`` codes qualifies (empty: everyone qualifies)."""

    @model_validator(mode="after")
    def _tiers_ascend(self) -> SupplementaryFund:
        starts = [tier.above for tier in self.tiers]
        if any(b <= a for a, b in pairwise(starts)):
            raise ValueError(f"tiers: 'above' must strictly increase, got {starts}")
        return self

    def applies_to(self, insured: Insured) -> bool:
        """Whether this person qualifies for the fund at all."""
        if self.requires_cvlserv and not insured.cvlserv:
            return False
        return not self.requires_identity or bool(insured.identities & set(self.requires_identity))

    def tiered_pay(self, *, start: Decimal, base: Decimal) -> Decimal:
        """Unrounded payment for counting ``base`` more yuan on top of ``start`` this year."""
        end = start + base
        bounds = [tier.above for tier in self.tiers[1:]] + [max(end, self.tiers[-1].above)]
        pay = Decimal(0)
        for tier, upper in zip(self.tiers, bounds, strict=True):
            overlap = min(end, upper) - max(start, tier.above)
            if overlap > 0:
                pay += overlap * tier.ratio
        return pay


class PsnTypeAdjustment(BaseModel):
    """A pay-ratio change for some person categories (e.g. retirees +0.05).

    Example:
        >>> from pydantic import ValidationError
        >>> try:
        ...     PsnTypeAdjustment(psn_types=["9999"], ratio_delta=Decimal("0.05"))
        ... except ValidationError as invalid:
        ...     print(invalid.errors()[0]["loc"][0])
        psn_types
    """

    model_config = _MODEL

    psn_types: tuple[PsnTypeCode, ...] = Field(min_length=1)
    ratio_delta: RatioDelta


class PersonalAccount(BaseModel):
    """The personal account (个人账户) may pay the person's part; it pays as this fund type.

    Example:
        >>> from pydantic import ValidationError
        >>> try:
        ...     PersonalAccount(fund_pay_type="999999")
        ... except ValidationError as invalid:
        ...     print(invalid.errors()[0]["loc"][0])
        fund_pay_type
    """

    model_config = _MODEL

    fund_pay_type: FundPayTypeCode


class DiseaseTerms(BaseModel):
    """The benefit of some recognised chronic diseases under a chronic rule (门慢/门特).

    Real places give each 门慢 disease its own annual limit (a few thousand yuan, often no
    deductible) and 门特 diseases (dialysis, radio/chemotherapy, anti-rejection) a deductible
    once a year, a higher ratio and a large cap; ``supplementary`` replaces the rule's one-bill
    funds for these diseases when given.

    Example:
        >>> terms = DiseaseTerms(id="dialysis", codes=["M07803", "M07804"],
        ...     levels=[LevelTerms(level="3", deductible=Decimal("500"), pay_ratio=Decimal("0.9"))],
        ...     annual_cap=Decimal("60000"))
        >>> terms.covers("M07804"), terms.covers("M03900")
        (True, False)
    """

    model_config = _MODEL

    id: str = Field(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9_-]+$")
    codes: tuple[OpspDiseCode, ...] = Field(min_length=1)
    levels: tuple[LevelTerms, ...] = Field(min_length=1)
    annual_cap: Amount
    supplementary: tuple[SupplementaryFund, ...] | None = None

    def covers(self, opsp_dise_code: str) -> bool:
        """Whether these terms settle the disease ``opsp_dise_code``."""
        return opsp_dise_code in self.codes


class BenefitRule(BaseModel):
    """The benefits of one insutype for a group of med_types; its counters are shared.

    Example:
        >>> rule = BenefitRule(id="emp-otp", insutype="310", med_types=["11"],
        ...     levels=[LevelTerms(level="3", deductible=Decimal("300"), pay_ratio=Decimal("0.7"))],
        ...     annual_cap=Decimal("10000"), pooling_fund_pay_type="310100")
        >>> rule.terms_at("3").deductible, rule.terms_at("1")
        (Decimal('300'), None)
    """

    model_config = _MODEL

    id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
    insutype: InsutypeCode
    med_types: tuple[MedTypeCode, ...] = Field(min_length=1)
    levels: tuple[LevelTerms, ...] = Field(min_length=1)
    annual_cap: Amount
    pooling_fund_pay_type: FundPayTypeCode
    personal_account: PersonalAccount | None = None
    psn_type_adjustments: tuple[PsnTypeAdjustment, ...] = ()
    supplementary: tuple[SupplementaryFund, ...] = ()
    diseases: tuple[DiseaseTerms, ...] = ()
    deductible_per: DeductiblePer = DeductiblePer.YEAR
    later_stays: tuple[Ratio, ...] = ()
    """Per-stay rules: the share of the deductible the 2nd, 3rd… stay of the calendar year
    pays, the last value holding for every later stay (``[0.8, 0.7]``: 20 % less for the
    second stay, 30 % less from the third on). Empty: every stay pays it in full."""

    @model_validator(mode="after")
    def _later_stays_need_stays(self) -> BenefitRule:
        if self.later_stays and self.deductible_per is not DeductiblePer.STAY:
            raise ValueError("later_stays: only a rule with deductible_per 'stay' has stays")
        return self

    @model_validator(mode="after")
    def _no_duplicates(self) -> BenefitRule:
        groups: tuple[tuple[str, list[str]], ...] = (
            ("levels", [terms.level for terms in self.levels]),
            ("med_types", list(self.med_types)),
            ("supplementary", [fund.fund.value for fund in self.supplementary]),
            ("psn_type_adjustments", [p for a in self.psn_type_adjustments for p in a.psn_types]),
            ("diseases", [terms.id for terms in self.diseases]),
            ("diseases codes", [code for terms in self.diseases for code in terms.codes]),
        )
        for name, values in groups:
            repeated = sorted({v for v in values if values.count(v) > 1})
            if repeated:
                raise ValueError(f"{name}: {', '.join(repeated)} listed more than once")
        return self

    def terms_at(self, hosp_level: str) -> LevelTerms | None:
        """Deductible and ratio at this hospital tier, or ``None`` if the rule omits the tier."""
        return next((terms for terms in self.levels if terms.level == hosp_level), None)

    def for_disease(self, opsp_dise_code: str | None) -> BenefitRule:
        """The rule as it settles this recognised disease: the disease's own terms (tiers, cap,
        funds, counters) where it has any, else the rule itself.

        Example:
            >>> dialysis = DiseaseTerms(id="dialysis", codes=["M07803"], annual_cap=60000,
            ...     levels=[LevelTerms(level="3", deductible=500, pay_ratio=Decimal("0.9"))])
            >>> rule = BenefitRule(id="res-chronic", insutype="390", med_types=["14"],
            ...     levels=[LevelTerms(level="3", deductible=0, pay_ratio=Decimal("0.6"))],
            ...     annual_cap=Decimal("20000"), pooling_fund_pay_type="390100",
            ...     diseases=[dialysis])
            >>> [(r.id, r.annual_cap) for r in (rule.for_disease("M07803"), rule.for_disease(None))]
            [('res-chronic.dialysis', Decimal('60000')), ('res-chronic', Decimal('20000'))]
        """
        covering = (d for d in self.diseases if opsp_dise_code and d.covers(opsp_dise_code))
        terms = next(covering, None)
        if terms is None:
            return self
        funds = self.supplementary if terms.supplementary is None else terms.supplementary
        return self.model_copy(
            update={
                "id": f"{self.id}.{terms.id}",
                "levels": terms.levels,
                "annual_cap": terms.annual_cap,
                "supplementary": funds,
                "diseases": (),
            }
        )

    def stay_deductible(self, deductible: Decimal, ordinal: int) -> Decimal:
        """The deductible of the ``ordinal``-th stay of the year (1: the first), to the cent.

        Example:
            >>> rule = BenefitRule(id="emp-ipt", insutype="310", med_types=["21"],
            ...     levels=[LevelTerms(level="3", deductible=Decimal("900"), pay_ratio=0.85)],
            ...     annual_cap=Decimal("60000"), pooling_fund_pay_type="310100",
            ...     deductible_per="stay", later_stays=[Decimal("0.8"), Decimal("0.7")])
            >>> [rule.stay_deductible(Decimal("900"), n) for n in (1, 2, 3, 7)]
            [Decimal('900.00'), Decimal('720.00'), Decimal('630.00'), Decimal('630.00')]
        """
        if ordinal <= 1 or not self.later_stays:
            return cents(deductible)
        share = self.later_stays[min(ordinal - 2, len(self.later_stays) - 1)]
        return cents(deductible * share)

    def psn_type_delta(self, psn_type: str) -> Decimal:
        """The ratio change for this person category (zero when none is listed)."""
        for adjustment in self.psn_type_adjustments:
            if psn_type in adjustment.psn_types:
                return adjustment.ratio_delta
        return ZERO


class RatioDeltas(BaseModel):
    """Pay-ratio changes for cross-region visits, by access class.

    Example:
        >>> d = RatioDeltas(filed_resident=0, referral=Decimal("-0.1"),
        ...                 emergency=Decimal("-0.1"), temporary=Decimal("-0.2"))
        >>> d.for_access(Access.TEMPORARY)
        Decimal('-0.2')
    """

    model_config = _MODEL

    filed_resident: Reduction
    referral: Reduction
    emergency: Reduction
    temporary: Reduction

    def for_access(self, access: Access) -> Decimal:
        """The change for one access class."""
        value: Decimal = getattr(self, access.value)
        return value


class CrossRegion(BaseModel):
    """Ratio changes for visits outside the insured pooling area (local visits: none).

    Example:
        >>> none = RatioDeltas(filed_resident=0, referral=0, emergency=0, temporary=0)
        >>> lower = RatioDeltas(filed_resident=0, referral=Decimal("-0.1"),
        ...                     emergency=Decimal("-0.1"), temporary=Decimal("-0.2"))
        >>> CrossRegion(in_province=none, cross_province=lower).cross_province.for_access(
        ...     Access.REFERRAL)
        Decimal('-0.1')
    """

    model_config = _MODEL

    in_province: RatioDeltas
    cross_province: RatioDeltas


class InsuredPlacePolicy(BaseModel):
    """The whole policy of one insured area.

    Example:
        >>> none = RatioDeltas(filed_resident=0, referral=0, emergency=0, temporary=0)
        >>> policy = InsuredPlacePolicy(admdvs="530100", name="昆明市",
        ...     cross_region=CrossRegion(in_province=none, cross_province=none),
        ...     benefits=[BenefitRule(id="emp-otp", insutype="310", med_types=["11"],
        ...         levels=[LevelTerms(level="3", deductible=0, pay_ratio=Decimal("0.7"))],
        ...         annual_cap=Decimal("10000"), pooling_fund_pay_type="310100")])
        >>> policy.rule_for("310", "11", "3").id
        'emp-otp'
    """

    model_config = _MODEL

    admdvs: str = Field(pattern=r"^[0-9]{6}$")
    name: str = Field(min_length=1)
    benefits: tuple[BenefitRule, ...] = Field(min_length=1)
    cross_region: CrossRegion

    @model_validator(mode="after")
    def _one_rule_per_visit_kind(self) -> InsuredPlacePolicy:
        ids: set[str] = set()
        owner: dict[tuple[str, str], str] = {}
        for rule in self.benefits:
            if rule.id in ids:
                raise ValueError(f"benefits: rule id {rule.id!r} is used twice")
            ids.add(rule.id)
            for med_type in rule.med_types:
                key = (rule.insutype, med_type)
                if key in owner:
                    raise ValueError(
                        f"benefits: rules {owner[key]!r} and {rule.id!r} both cover "
                        f"insutype {rule.insutype} med_type {med_type}"
                    )
                owner[key] = rule.id
        return self

    def rule_for(
        self, insutype: str, med_type: str, hosp_level: str, *, disease: str | None = None
    ) -> BenefitRule:
        """The rule that settles this visit (for a chronic visit, as it settles ``disease``:
        :meth:`BenefitRule.for_disease`); :class:`NoBenefitRuleError` when there is none."""
        for rule in self.benefits:
            if rule.insutype == insutype and med_type in rule.med_types:
                chosen = rule.for_disease(disease)
                if chosen.terms_at(hosp_level) is not None:
                    return chosen
        raise NoBenefitRuleError(self.admdvs, insutype, med_type, hosp_level)

    def ratio_delta(self, visit: Visit) -> Decimal:
        """The cross-region ratio change for this visit (zero for a local visit)."""
        if visit.locality is Locality.LOCAL or visit.access is None:
            return ZERO
        deltas = (
            self.cross_region.in_province
            if visit.locality is Locality.IN_PROVINCE
            else self.cross_region.cross_province
        )
        return deltas.for_access(visit.access)

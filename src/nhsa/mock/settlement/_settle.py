"""Settling one bill: 就医地目录 (already applied to the lines), 参保地政策, one-bill settlement.

The formula (reference §6.1, an inference from field semantics and the §5.8 identities):

1. Sum the priced lines into ``medfee_sumamt`` and its four parts; ``hosp_part_amt`` is the
   over-limit amount the treatment place makes the hospital bear.
2. Ratio = the tier's pay ratio + the ``psn_type`` adjustment + the cross-region change,
   kept within [0, 1] (``pool_prop_selfpay``).
3. ``act_pay_dedc`` = min(in-scope amount, deductible not yet used this year — or, for a rule
   that takes it once a stay, not yet used by this stay, the stay's share of it by its place
   among the year's stays).
4. ``hifp_pay`` = min(round((in-scope − act_pay_dedc) × ratio), cap not yet used this year).
5. Supplementary funds in the policy's order, each paying ``round(tiered ratio × counted
   cost)`` limited by its own remaining cap and by the in-scope cost the person still bears.
6. ``psn_part_amt`` = medfee − funds − hosp_part; the account pays
   min(psn_part_amt, balance) when ``acct_used_flag`` is 1 and the rule allows it; the rest
   is ``psn_cash_pay``.

Every amount is rounded half-up to 0.01 once, where it is computed; sums of rounded amounts
are exact, so the identities hold to the cent.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from nhsa.mock.settlement._accumulators import Accumulators, FundCounter, FundKind
from nhsa.mock.settlement._catalogue import PricedLine
from nhsa.mock.settlement._errors import NoBenefitRuleError, SettlementInputError
from nhsa.mock.settlement._money import ZERO, clamp, ratio4
from nhsa.mock.settlement._policy import (
    Basis,
    BenefitRule,
    DeductiblePer,
    InsuredPlacePolicy,
    LevelTerms,
    SupplementaryFund,
)
from nhsa.mock.settlement._profile import Profile
from nhsa.mock.settlement._result import HOSPITAL_FUND_PAY_TYPE, SetlDetail, Settlement
from nhsa.mock.settlement._visit import Insured, StayCounters, Visit
from nhsa.money import cents


@dataclass(frozen=True)
class _Bill:
    medfee: Decimal
    fulamt: Decimal
    overlmt: Decimal
    preselfpay: Decimal
    inscp: Decimal
    hosp_part: Decimal

    @classmethod
    def of(cls, lines: Sequence[PricedLine]) -> _Bill:
        return cls(
            medfee=sum((line.det_item_fee_sumamt for line in lines), ZERO),
            fulamt=sum((line.fulamt_ownpay_amt for line in lines), ZERO),
            overlmt=sum((line.overlmt_amt for line in lines), ZERO),
            preselfpay=sum((line.preselfpay_amt for line in lines), ZERO),
            inscp=sum((line.inscp_scp_amt for line in lines), ZERO),
            hosp_part=sum((line.hosp_part_amt for line in lines), ZERO),
        )


@dataclass(frozen=True)
class _Pooling:
    deductible_paid: Decimal
    ratio: Decimal
    cap_left: Decimal
    paid: Decimal
    over_cap: Decimal
    """In-scope cost above the deductible that the fund left unpaid because of its cap."""
    info: str


@dataclass(frozen=True)
class _FundPayment:
    fund: SupplementaryFund
    counted: Decimal
    paid: Decimal
    cap_left: Decimal


def settle(
    lines: Sequence[PricedLine],
    *,
    insured: Insured,
    visit: Visit,
    policy: InsuredPlacePolicy,
    accumulators: Accumulators,
    acct_used: bool,
    profile: Profile,
    stay: StayCounters | None = None,
) -> Settlement:
    """Settle a priced bill under the insured place's policy.

    ``accumulators`` are this year's counters of the benefit rule that settles the visit
    (``policy.rule_for(insured.insutype, visit.med_type, visit.hosp_level,
    disease=visit.dise_codg).id``: a recognised disease with terms of its own has counters of
    its own); the result's ``delta`` is what to add to them, and ``balc`` the account balance
    afterwards. A rule that takes its deductible once a stay needs ``stay``: its place among
    the year's stays and the deductible its earlier settlements took.

    Example:
        >>> from decimal import Decimal as D
        >>> from nhsa.mock.fixtures import bundled_fixtures
        >>> from nhsa.mock.settlement import UnpricedLine, price_line
        >>> fx = bundled_fixtures()
        >>> cefuroxime = "XJ01DCC035A001010100002"  # 乙类, first self-pay 5 % in Kunming
        >>> line = price_line(UnpricedLine("1", cefuroxime, D("4.52"), D("1"), D("4.52")),
        ...                   fx.catalogue_for("530100"))
        >>> s = settle([line], insured=Insured("310", "1101", balance=D("1378.15")),
        ...            visit=Visit("11", "3"), policy=fx.policy("530100"),
        ...            accumulators=Accumulators(), acct_used=True,
        ...            profile=fx.profile_for("530100"))
        >>> s.act_pay_dedc, s.hifp_pay, s.acct_pay, s.balc
        (Decimal('4.29'), Decimal('0.00'), Decimal('4.52'), Decimal('1373.63'))
    """
    if not lines:
        raise SettlementInputError("lines", "a bill needs at least one priced fee line")
    if not accumulators.is_non_negative():
        raise SettlementInputError(
            "accumulators", f"year-to-date counters must not be negative: {accumulators}"
        )
    rule = policy.rule_for(
        insured.insutype, visit.med_type, visit.hosp_level, disease=visit.dise_codg
    )
    terms = rule.terms_at(visit.hosp_level)
    if terms is None:  # rule_for only returns rules with this tier; this keeps mypy honest
        raise NoBenefitRuleError(policy.admdvs, insured.insutype, visit.med_type, visit.hosp_level)

    bill = _Bill.of(lines)
    ratio = _ratio(terms, rule, policy, insured, visit)
    deductible = _deductible(terms, rule, accumulators, stay)
    pooling = _pool(bill.inscp, deductible, rule, ratio, accumulators)
    payments = _supplementary(rule, insured, bill.inscp - pooling.paid, pooling, accumulators)

    by_fund = {p.fund.fund: p.paid for p in payments}
    funds = pooling.paid + sum(by_fund.values(), ZERO)
    psn_part = bill.medfee - funds - bill.hosp_part
    may_use_account = acct_used and rule.personal_account is not None
    acct_pay = min(psn_part, insured.balance) if may_use_account else ZERO

    return Settlement(
        benefit_id=rule.id,
        medfee_sumamt=bill.medfee,
        fulamt_ownpay_amt=bill.fulamt,
        overlmt_selfpay=bill.overlmt,
        preselfpay_amt=bill.preselfpay,
        inscp_scp_amt=bill.inscp,
        act_pay_dedc=pooling.deductible_paid,
        hifp_pay=pooling.paid,
        pool_prop_selfpay=pooling.ratio,
        cvlserv_pay=by_fund.get(FundKind.CVLSERV, ZERO),
        hifes_pay=by_fund.get(FundKind.HIFES, ZERO),
        hifmi_pay=by_fund.get(FundKind.HIFMI, ZERO),
        hifob_pay=by_fund.get(FundKind.HIFOB, ZERO),
        maf_pay=by_fund.get(FundKind.MAF, ZERO),
        hifdm_pay=by_fund.get(FundKind.HIFDM, ZERO),
        oth_pay=by_fund.get(FundKind.OTH, ZERO),
        fund_pay_sumamt=profile.fund_pay_sumamt(funds=funds, acct_pay=acct_pay),
        psn_part_amt=psn_part,
        acct_pay=acct_pay,
        psn_cash_pay=psn_part - acct_pay,
        hosp_part_amt=bill.hosp_part,
        balc=insured.balance - acct_pay,
        acct_mulaid_pay=ZERO,
        setldetail=_rows(rule, bill, pooling, payments, acct_pay),
        delta=Accumulators.of(
            deductible_used=pooling.deductible_paid,
            pooling_paid=pooling.paid,
            funds={p.fund.fund: FundCounter(p.counted, p.paid) for p in payments},
        ),
    )


def _ratio(
    terms: LevelTerms,
    rule: BenefitRule,
    policy: InsuredPlacePolicy,
    insured: Insured,
    visit: Visit,
) -> Decimal:
    raw = terms.pay_ratio + rule.psn_type_delta(insured.psn_type) + policy.ratio_delta(visit)
    return ratio4(clamp(raw, Decimal(0), Decimal(1)))


@dataclass(frozen=True)
class _Deductible:
    amount: Decimal
    used: Decimal
    per: str


def _deductible(
    terms: LevelTerms, rule: BenefitRule, ytd: Accumulators, stay: StayCounters | None
) -> _Deductible:
    if rule.deductible_per is DeductiblePer.YEAR:
        return _Deductible(terms.deductible, ytd.deductible_used, "year")
    if stay is None:
        raise SettlementInputError(
            "stay", f"rule {rule.id} takes its deductible once a stay: settle it as a stay (2304)"
        )
    amount = rule.stay_deductible(terms.deductible, stay.ordinal)
    return _Deductible(amount, stay.deductible_used, f"stay {stay.ordinal} of the year")


def _pool(
    inscp: Decimal,
    deductible: _Deductible,
    rule: BenefitRule,
    ratio: Decimal,
    ytd: Accumulators,
) -> _Pooling:
    deductible_left = max(ZERO, deductible.amount - deductible.used)
    deductible_paid = min(inscp, deductible_left)
    eligible = inscp - deductible_paid
    cap_left = max(ZERO, rule.annual_cap - ytd.pooling_paid)
    uncapped = cents(eligible * ratio)
    paid = min(uncapped, cap_left)
    # Only a capped payment leaves cost over the cap; ratio > 0 here because uncapped > 0.
    over_cap = eligible - min(eligible, cents(cap_left / ratio)) if paid < uncapped else ZERO
    info = (
        f"deductible {deductible.amount} a {deductible.per} (used {deductible.used}, this bill "
        f"{deductible_paid}); ratio {ratio}; cap {rule.annual_cap} (left {cap_left})"
    )
    return _Pooling(deductible_paid, ratio, cap_left, paid, over_cap, info)


def _supplementary(
    rule: BenefitRule,
    insured: Insured,
    burden: Decimal,
    pooling: _Pooling,
    ytd: Accumulators,
) -> list[_FundPayment]:
    """Apply the rule's funds in order; ``burden`` is the in-scope cost the person still bears."""
    payments: list[_FundPayment] = []
    for fund in rule.supplementary:
        if not fund.applies_to(insured):
            continue
        counted = pooling.over_cap if fund.basis is Basis.OVER_CAP else burden
        if counted <= 0:
            continue
        so_far = ytd.fund(fund.fund)
        cap_left = max(ZERO, fund.annual_cap - so_far.paid)
        paid = min(cents(fund.tiered_pay(start=so_far.base, base=counted)), cap_left, burden)
        burden -= paid
        payments.append(_FundPayment(fund, counted, paid, cap_left))
    return payments


def _rows(
    rule: BenefitRule,
    bill: _Bill,
    pooling: _Pooling,
    payments: Sequence[_FundPayment],
    acct_pay: Decimal,
) -> tuple[SetlDetail, ...]:
    # One row per payer that paid something, as in the real 2207 sample (an under-deductible
    # bill paid by the account lists only the 310200 row).
    rows: list[SetlDetail] = []
    if pooling.paid:
        rows.append(
            SetlDetail(
                rule.pooling_fund_pay_type, pooling.paid, bill.inscp, pooling.cap_left, pooling.info
            )
        )
    for p in payments:
        if p.paid:
            info = f"counted {p.counted}; cap {p.fund.annual_cap} (left {p.cap_left})"
            rows.append(SetlDetail(p.fund.fund_pay_type, p.paid, bill.inscp, p.cap_left, info))
    if acct_pay and rule.personal_account is not None:
        rows.append(
            SetlDetail(rule.personal_account.fund_pay_type, acct_pay, bill.inscp, None, None)
        )
    if bill.hosp_part:
        info = "over-limit amount borne by the hospital (treatment place's rule)"
        rows.append(SetlDetail(HOSPITAL_FUND_PAY_TYPE, bill.hosp_part, None, None, info))
    return tuple(rows)

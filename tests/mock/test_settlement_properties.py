"""Properties of every settlement, for arbitrary bills, persons, policies and counters.

For any input the calculator accepts: the reference §5.8 identities hold under the profile;
amounts carry at most two decimals; no fund pays past its annual cap; nothing is negative;
a reversal cancels the settlement exactly; the store's JSON record of either round-trips;
and settle → reverse → settle repeats itself.
"""

from __future__ import annotations

import json
from decimal import ROUND_HALF_UP, Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nhsa.mock.settlement import (
    Access,
    Accumulators,
    BenefitRule,
    Catalogue,
    CatalogueItem,
    CrossRegion,
    FundCounter,
    FundKind,
    Insured,
    InsuredPlacePolicy,
    LevelTerms,
    Locality,
    PersonalAccount,
    PricedLine,
    Profile,
    PsnTypeAdjustment,
    RatioDeltas,
    Settlement,
    SupplementaryFund,
    Tier,
    UnpricedLine,
    Visit,
    identity_violations,
    price_line,
    reverse,
    settle,
)

CENT = Decimal("0.01")
ITEMS = (
    CatalogueItem(med_list_codg="A", name="甲", chrgitm_lv="01", med_chrgitm_type="09"),
    CatalogueItem(
        med_list_codg="B",
        name="乙",
        chrgitm_lv="02",
        med_chrgitm_type="09",
        selfpay_prop=Decimal("0.15"),
    ),
    CatalogueItem(med_list_codg="C", name="丙", chrgitm_lv="03", med_chrgitm_type="09"),
    CatalogueItem(
        med_list_codg="CAPPED",
        name="限价耗材",
        chrgitm_lv="02",
        med_chrgitm_type="08",
        selfpay_prop=Decimal("0.2"),
        pric_uplmt_amt=Decimal("120.5"),
    ),
    CatalogueItem(
        med_list_codg="CAPPED-A",
        name="限价甲类",
        chrgitm_lv="01",
        med_chrgitm_type="08",
        pric_uplmt_amt=Decimal("30"),
    ),
)
CODES = [item.med_list_codg for item in ITEMS] + ["UNLISTED"]
PROFILES = (
    Profile(name="national", description="n", fund_pay_sumamt_includes_acct=False),
    Profile(name="zhuhai", description="z", fund_pay_sumamt_includes_acct=True),
)


def money(high: str) -> st.SearchStrategy[Decimal]:
    return st.decimals(min_value=Decimal(0), max_value=Decimal(high), places=2)


ratios = st.decimals(min_value=Decimal(0), max_value=Decimal(1), places=2)


@st.composite
def fee_lines(draw: st.DrawFn) -> UnpricedLine:
    pric = draw(st.decimals(min_value=Decimal("0"), max_value=Decimal("3000"), places=4))
    cnt = draw(st.decimals(min_value=Decimal("0.0001"), max_value=Decimal("40"), places=4))
    sn = draw(st.text("0123456789", min_size=1, max_size=6))
    total = (pric * cnt).quantize(CENT, rounding=ROUND_HALF_UP)  # the platform's rule
    return UnpricedLine(sn, draw(st.sampled_from(CODES)), pric, cnt, total)


@st.composite
def funds(draw: st.DrawFn) -> tuple[SupplementaryFund, ...]:
    kinds = draw(st.lists(st.sampled_from(list(FundKind)), unique=True, max_size=4))
    result = []
    for kind in kinds:
        starts = sorted(draw(st.lists(money("20000"), min_size=1, max_size=3, unique=True)))
        result.append(
            SupplementaryFund(
                fund=kind,
                fund_pay_type="999997",
                basis=draw(st.sampled_from(["over_cap", "self_borne"])),
                tiers=tuple(Tier(above=a, ratio=draw(ratios)) for a in starts),
                annual_cap=draw(money("20000")),
                requires_cvlserv=draw(st.booleans()),
                requires_identity=tuple(
                    draw(st.lists(st.sampled_from(["A01", "A02"]), max_size=1))
                ),
            )
        )
    return tuple(result)


@st.composite
def policies(draw: st.DrawFn) -> InsuredPlacePolicy:
    def deltas() -> RatioDeltas:
        cut = st.decimals(min_value=Decimal("-0.3"), max_value=Decimal(0), places=2)
        return RatioDeltas(
            filed_resident=draw(cut), referral=draw(cut), emergency=draw(cut), temporary=draw(cut)
        )

    rule = BenefitRule(
        id="r",
        insutype="310",
        med_types=("11",),
        levels=(LevelTerms(level="2", deductible=draw(money("2000")), pay_ratio=draw(ratios)),),
        annual_cap=draw(money("20000")),
        pooling_fund_pay_type="310100",
        personal_account=draw(st.sampled_from([None, PersonalAccount(fund_pay_type="310200")])),
        psn_type_adjustments=(
            PsnTypeAdjustment(
                psn_types=("1201",),
                ratio_delta=draw(
                    st.decimals(min_value=Decimal("-0.2"), max_value=Decimal("0.3"), places=2)
                ),
            ),
        ),
        supplementary=draw(funds()),
    )
    return InsuredPlacePolicy(
        admdvs="530100",
        name="p",
        benefits=(rule,),
        cross_region=CrossRegion(in_province=deltas(), cross_province=deltas()),
    )


@st.composite
def accumulators(draw: st.DrawFn) -> Accumulators:
    counters = {
        kind: FundCounter(draw(money("30000")), draw(money("30000")))
        for kind in draw(st.lists(st.sampled_from(list(FundKind)), unique=True, max_size=3))
    }
    return Accumulators.of(
        deductible_used=draw(money("3000")), pooling_paid=draw(money("25000")), funds=counters
    )


@st.composite
def visits(draw: st.DrawFn) -> Visit:
    locality = draw(st.sampled_from(list(Locality)))
    access = None if locality is Locality.LOCAL else draw(st.sampled_from(list(Access)))
    return Visit("11", "2", locality, access)


@st.composite
def cases(draw: st.DrawFn) -> dict[str, object]:
    catalogue = Catalogue(
        admdvs="530100",
        name="c",
        items=ITEMS,
        overlimit_payer=draw(st.sampled_from(["patient", "hospital"])),
    )
    lines = [
        price_line(line, catalogue) for line in draw(st.lists(fee_lines(), min_size=1, max_size=8))
    ]
    insured = Insured(
        insutype="310",
        psn_type=draw(st.sampled_from(["1101", "1201"])),
        balance=draw(money("5000")),
        cvlserv=draw(st.booleans()),
        identities=frozenset(draw(st.lists(st.sampled_from(["A01", "A02"]), max_size=2))),
    )
    return {
        "lines": lines,
        "insured": insured,
        "visit": draw(visits()),
        "policy": draw(policies()),
        "accumulators": draw(accumulators()),
        "acct_used": draw(st.booleans()),
        "profile": draw(st.sampled_from(PROFILES)),
    }


def run(case: dict[str, object], **override: object) -> Settlement:
    return settle(**{**case, **override})  # type: ignore[arg-type]


def amounts_of(s: Settlement) -> dict[str, Decimal]:
    return {k: v for k, v in s.setlinfo_amounts().items() if k != "pool_prop_selfpay"}


PROPERTY = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def check_identities(s: Settlement, profile: Profile) -> None:
    assert identity_violations(s.setlinfo_amounts(), s.setldetail_rows(), profile) == []


def check_two_decimals_and_nothing_negative(s: Settlement, lines: list[PricedLine]) -> None:
    for name, value in amounts_of(s).items():
        assert value.as_tuple().exponent >= -2, name  # type: ignore[operator]
        assert value >= 0, name
    assert 0 <= s.pool_prop_selfpay <= 1
    for row in s.setldetail:
        assert row.fund_payamt > 0
        assert row.fund_payamt.as_tuple().exponent >= -2  # type: ignore[operator]
    for line in lines:
        parts = (line.fulamt_ownpay_amt, line.overlmt_amt, line.preselfpay_amt, line.inscp_scp_amt)
        assert all(part >= 0 for part in parts)
        assert sum(parts) == line.det_item_fee_sumamt


def check_caps(
    s: Settlement, policy: InsuredPlacePolicy, ytd: Accumulators, insured: Insured
) -> None:
    rule = policy.benefits[0]
    assert s.hifp_pay <= max(Decimal(0), rule.annual_cap - ytd.pooling_paid)
    for fund in rule.supplementary:
        paid = getattr(s, fund.fund.setlinfo_field)
        assert paid <= max(Decimal(0), fund.annual_cap - ytd.fund(fund.fund).paid), fund.fund
    # Funds never pay more than the in-scope cost; the account never more than its balance.
    assert s.medfee_sumamt - s.psn_part_amt - s.hosp_part_amt <= s.inscp_scp_amt
    assert s.acct_pay <= insured.balance
    assert s.balc == insured.balance - s.acct_pay


@PROPERTY
@given(cases())
def test_every_settlement_keeps_the_identities_decimals_signs_and_caps(
    case: dict[str, object],
) -> None:
    s = run(case)
    lines, policy, ytd, insured, profile = (
        case["lines"],
        case["policy"],
        case["accumulators"],
        case["insured"],
        case["profile"],
    )
    assert isinstance(lines, list)
    assert isinstance(policy, InsuredPlacePolicy)
    assert isinstance(ytd, Accumulators)
    assert isinstance(insured, Insured)
    assert isinstance(profile, Profile)
    check_identities(s, profile)
    check_two_decimals_and_nothing_negative(s, lines)
    check_caps(s, policy, ytd, insured)


@PROPERTY
@given(cases())
def test_reversal_cancels_exactly_and_settling_again_repeats_the_first(
    case: dict[str, object],
) -> None:
    first = run(case)
    ytd, insured, profile = case["accumulators"], case["insured"], case["profile"]
    assert isinstance(ytd, Accumulators)
    assert isinstance(insured, Insured)
    assert isinstance(profile, Profile)
    undo = reverse(first, balance_now=first.balc)

    # The negated reversal sums to zero with the original, amount by amount and row by row.
    original, negated = amounts_of(first), amounts_of(undo)
    assert all(original[k] + negated[k] == 0 for k in original if k != "balc")
    assert all(
        row.fund_payamt + back.fund_payamt == 0
        for row, back in zip(first.setldetail, undo.setldetail, strict=True)
    )
    assert first.delta + undo.delta == Accumulators()
    assert undo.balc == insured.balance
    check_identities(undo, profile)

    # The store's record survives JSON and reverses to the same figures.
    for settlement in (first, undo):
        assert Settlement.from_record(json.loads(json.dumps(settlement.to_record()))) == settlement

    # settle → reverse → settle gives the first settlement again.
    restored = Insured(**{**vars(insured), "balance": undo.balc})
    assert run(case, accumulators=ytd + first.delta + undo.delta, insured=restored) == first

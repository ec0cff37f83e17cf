"""Golden settlements: figures computed by hand, with the derivation beside each assertion.

The policy below is written for these tests (round numbers, every feature in play), so the
derivations stay readable and do not move when someone edits the bundled fixtures.

Employee rule "emp" (insutype 310, med_type 11/13), level 3: deductible 300.00, ratio 0.70,
annual cap 1000.00, personal account 310200, retirees (1201) +0.10; then
  大额 hifob (330100): over_cap, 0.50 of the counted cost, cap 300.00;
  公务员 cvlserv (320100): self_borne, 0.50, cap 100.00, civil servants only.
Resident rule "res" (insutype 390, med_type 11/13/14), level 3: no deductible, ratio 0.50,
annual cap 2000.00, no account; then
  大病 hifmi (390200): self_borne, 0.60 above 1000.00, 0.70 above 5000.00, cap 10000.00;
  救助 maf (610100): self_borne, 0.50, cap 200.00, identity A02 only.
Cross-region: in-province −0.05 referral/emergency, −0.10 temporary; cross-province −0.10
referral/emergency, −0.20 temporary; filed residents 0.
"""

from __future__ import annotations

from decimal import Decimal as D  # noqa: N817  # short, so hand-derived figures stay readable

import pytest

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
    PsnTypeAdjustment,
    RatioDeltas,
    ReversalError,
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
from nhsa.mock.settlement import Profile as ProvinceProfile
from nhsa.money import cents

POLICY = InsuredPlacePolicy(
    admdvs="530100",
    name="golden",
    benefits=(
        BenefitRule(
            id="emp",
            insutype="310",
            med_types=("11", "13"),
            levels=(LevelTerms(level="3", deductible=D("300.00"), pay_ratio=D("0.70")),),
            annual_cap=D("1000.00"),
            pooling_fund_pay_type="310100",
            personal_account=PersonalAccount(fund_pay_type="310200"),
            psn_type_adjustments=(PsnTypeAdjustment(psn_types=("1201",), ratio_delta=D("0.10")),),
            supplementary=(
                SupplementaryFund(
                    fund=FundKind.HIFOB,
                    fund_pay_type="330100",
                    basis="over_cap",
                    tiers=(Tier(above=D("0"), ratio=D("0.50")),),
                    annual_cap=D("300.00"),
                ),
                SupplementaryFund(
                    fund=FundKind.CVLSERV,
                    fund_pay_type="320100",
                    basis="self_borne",
                    tiers=(Tier(above=D("0"), ratio=D("0.50")),),
                    annual_cap=D("100.00"),
                    requires_cvlserv=True,
                ),
            ),
        ),
        BenefitRule(
            id="res",
            insutype="390",
            med_types=("11", "13", "14"),
            levels=(LevelTerms(level="3", deductible=D("0"), pay_ratio=D("0.50")),),
            annual_cap=D("2000.00"),
            pooling_fund_pay_type="390100",
            supplementary=(
                SupplementaryFund(
                    fund=FundKind.HIFMI,
                    fund_pay_type="390200",
                    basis="self_borne",
                    tiers=(
                        Tier(above=D("1000.00"), ratio=D("0.60")),
                        Tier(above=D("5000.00"), ratio=D("0.70")),
                    ),
                    annual_cap=D("10000.00"),
                ),
                SupplementaryFund(
                    fund=FundKind.MAF,
                    fund_pay_type="610100",
                    basis="self_borne",
                    tiers=(Tier(above=D("0"), ratio=D("0.50")),),
                    annual_cap=D("200.00"),
                    requires_identity=("A02",),
                ),
            ),
        ),
    ),
    cross_region=CrossRegion(
        in_province=RatioDeltas(
            filed_resident=D("0"), referral=D("-0.05"), emergency=D("-0.05"), temporary=D("-0.10")
        ),
        cross_province=RatioDeltas(
            filed_resident=D("0"), referral=D("-0.10"), emergency=D("-0.10"), temporary=D("-0.20")
        ),
    ),
)

CATALOGUE_ITEMS = (
    CatalogueItem(med_list_codg="DRUG-A", name="甲类药", chrgitm_lv="01", med_chrgitm_type="09"),
    CatalogueItem(
        med_list_codg="DRUG-B5",
        name="乙类药5%",
        chrgitm_lv="02",
        med_chrgitm_type="09",
        selfpay_prop=D("0.05"),
    ),
    CatalogueItem(
        med_list_codg="DRUG-B10",
        name="乙类药10%",
        chrgitm_lv="02",
        med_chrgitm_type="09",
        selfpay_prop=D("0.10"),
    ),
    CatalogueItem(med_list_codg="TONIC", name="丙类", chrgitm_lv="03", med_chrgitm_type="09"),
    CatalogueItem(med_list_codg="VISIT", name="诊察费", chrgitm_lv="01", med_chrgitm_type="02"),
    CatalogueItem(
        med_list_codg="STENT",
        name="支架",
        chrgitm_lv="02",
        med_chrgitm_type="08",
        selfpay_prop=D("0.20"),
        pric_uplmt_amt=D("800"),
    ),
)
CATALOGUE = Catalogue(admdvs="530100", name="golden", items=CATALOGUE_ITEMS)
HOSPITAL_BEARS = Catalogue(
    admdvs="530100", name="golden", items=CATALOGUE_ITEMS, overlimit_payer="hospital"
)
NATIONAL = ProvinceProfile(name="national", description="n", fund_pay_sumamt_includes_acct=False)
ZHUHAI = ProvinceProfile(name="zhuhai", description="z", fund_pay_sumamt_includes_acct=True)
LOCAL = Visit(med_type="11", hosp_level="3")
NOTHING_YET = Accumulators()
DEDUCTIBLE_MET = Accumulators(deductible_used=D("300.00"))


def bill(*lines: tuple[str, str, str], catalogue: Catalogue = CATALOGUE) -> list[PricedLine]:
    """Price (code, pric, cnt) lines; the line total is pric × cnt."""
    return [
        price_line(UnpricedLine(str(n), code, D(p), D(c), cents(D(p) * D(c))), catalogue)
        for n, (code, p, c) in enumerate(lines)
    ]


def employee(balance: str = "0.00", psn_type: str = "1101", cvlserv: bool = False) -> Insured:
    return Insured(insutype="310", psn_type=psn_type, balance=D(balance), cvlserv=cvlserv)


def resident(*identities: str) -> Insured:
    return Insured(insutype="390", psn_type="1501", identities=frozenset(identities))


def run(
    lines: list[PricedLine],
    insured: Insured,
    *,
    visit: Visit = LOCAL,
    ytd: Accumulators = NOTHING_YET,
    acct_used: bool = True,
    profile: ProvinceProfile = NATIONAL,
) -> Settlement:
    result = settle(
        lines,
        insured=insured,
        visit=visit,
        policy=POLICY,
        accumulators=ytd,
        acct_used=acct_used,
        profile=profile,
    )
    assert identity_violations(result.setlinfo_amounts(), result.setldetail_rows(), profile) == []
    return result


def rows(result: Settlement) -> list[tuple[str, D, D | None]]:
    return [(r.fund_pay_type, r.fund_payamt, r.crt_payb_lmt_amt) for r in result.setldetail]


def test_local_employee_under_the_deductible_is_paid_by_the_account() -> None:
    # The real Hebei 2207 sample (reference §3.11): one 乙 line 4.52 at 5 % →
    # preselfpay 0.23, inscp 4.29. Deductible left 300 ⇒ act_pay_dedc = min(4.29, 300) = 4.29,
    # eligible 0 ⇒ hifp 0. psn_part = 4.52 − 0 − 0 = 4.52; account 1378.15 pays 4.52,
    # leaving balc 1378.15 − 4.52 = 1373.63; cash 0. Only the 310200 row appears.
    s = run(bill(("DRUG-B5", "4.52", "1")), employee("1378.15"))
    assert (s.medfee_sumamt, s.preselfpay_amt, s.inscp_scp_amt) == (D("4.52"), D("0.23"), D("4.29"))
    assert (s.act_pay_dedc, s.hifp_pay, s.fund_pay_sumamt) == (D("4.29"), D("0"), D("0"))
    assert (s.psn_part_amt, s.acct_pay, s.psn_cash_pay, s.balc) == (
        D("4.52"),
        D("4.52"),
        D("0"),
        D("1373.63"),
    )
    assert rows(s) == [("310200", D("4.52"), None)]
    assert s.delta == Accumulators(deductible_used=D("4.29"))


def test_employee_over_the_deductible() -> None:
    # Lines: 甲 20.00 × 10 = 200.00; 乙10% 50.00 × 2 = 100.00 (preselfpay 10.00, inscp 90.00);
    # 丙 30.00. medfee 330.00 = 30.00 + 0 + 10.00 + 290.00.
    # 250.00 of the deductible already used ⇒ act_pay_dedc = min(290, 50) = 50.00;
    # hifp = (290 − 50) × 0.70 = 168.00 (cap left 1000). No cost over the cap ⇒ no 大额.
    # psn_part = 330 − 168 = 162.00; the account holds 100.00 ⇒ acct 100.00, cash 62.00, balc 0.
    s = run(
        bill(("DRUG-A", "20.00", "10"), ("DRUG-B10", "50.00", "2"), ("TONIC", "30.00", "1")),
        employee("100.00"),
        ytd=Accumulators(deductible_used=D("250.00")),
    )
    assert (s.medfee_sumamt, s.fulamt_ownpay_amt, s.preselfpay_amt, s.inscp_scp_amt) == (
        D("330.00"),
        D("30.00"),
        D("10.00"),
        D("290.00"),
    )
    assert (s.act_pay_dedc, s.hifp_pay, s.pool_prop_selfpay) == (D("50.00"), D("168.00"), D("0.70"))
    assert (s.psn_part_amt, s.acct_pay, s.psn_cash_pay, s.balc) == (
        D("162.00"),
        D("100.00"),
        D("62.00"),
        D("0.00"),
    )
    assert rows(s) == [("310100", D("168.00"), D("1000.00")), ("310200", D("100.00"), None)]
    assert s.delta == Accumulators(deductible_used=D("50.00"), pooling_paid=D("168.00"))


def test_resident_reaches_the_serious_illness_tier_and_medical_assistance() -> None:
    # 甲 100.00 × 30 = 3000.00, all in scope. Pooling: no deductible, 3000 × 0.50 = 1500.00,
    # but only 2000 − 1800 = 200.00 of the cap is left ⇒ hifp 200.00.
    # Person still bears 3000 − 200 = 2800.00 in scope. 大病 counts it on top of the 800.00
    # counted earlier this year: 800 → 3600; the 0.60 band starts at 1000 ⇒ 2600 × 0.60 = 1560.00.
    # Then 救助 (identity A02): 50 % of the remaining 1240.00 = 620.00, capped at 200.00.
    # funds 200 + 1560 + 200 = 1960.00; psn_part 1040.00, all cash (no account).
    ytd = Accumulators.of(
        pooling_paid=D("1800.00"), funds={FundKind.HIFMI: FundCounter(D("800.00"), D("0"))}
    )
    s = run(bill(("DRUG-A", "100.00", "30")), resident("A02"), visit=Visit("14", "3"), ytd=ytd)
    assert (s.hifp_pay, s.hifmi_pay, s.maf_pay, s.fund_pay_sumamt) == (
        D("200.00"),
        D("1560.00"),
        D("200.00"),
        D("1960.00"),
    )
    assert (s.psn_part_amt, s.acct_pay, s.psn_cash_pay) == (D("1040.00"), D("0"), D("1040.00"))
    assert rows(s) == [
        ("390100", D("200.00"), D("200.00")),
        ("390200", D("1560.00"), D("10000.00")),
        ("610100", D("200.00"), D("200.00")),
    ]
    assert s.delta == Accumulators.of(
        pooling_paid=D("200.00"),
        funds={
            FundKind.HIFMI: FundCounter(D("2800.00"), D("1560.00")),
            FundKind.MAF: FundCounter(D("1240.00"), D("200.00")),
        },
    )


def test_the_serious_illness_tier_crossing_a_band_boundary() -> None:
    # Same resident without the assistance identity, 4500.00 counted already this year.
    # 甲 2000.00: pooling 1000.00 (cap untouched); bears 1000.00; 大病 counts 4500 → 5500:
    # 500 × 0.60 (band 1000–5000) + 500 × 0.70 (band from 5000) = 300 + 350 = 650.00.
    ytd = Accumulators.of(funds={FundKind.HIFMI: FundCounter(D("4500.00"), D("2100.00"))})
    s = run(bill(("DRUG-A", "1000.00", "2")), resident(), visit=Visit("14", "3"), ytd=ytd)
    assert (s.hifp_pay, s.hifmi_pay, s.maf_pay, s.psn_cash_pay) == (
        D("1000.00"),
        D("650.00"),
        D("0"),
        D("350.00"),
    )


@pytest.mark.parametrize(
    ("locality", "access", "psn_type", "ratio", "hifp"),
    [
        # 甲 150.00 with the deductible met: hifp = 150 × ratio.
        (Locality.LOCAL, None, "1101", "0.70", "105.00"),
        # Unfiled temporary cross-province visit: 0.70 − 0.20 = 0.50 ⇒ 75.00.
        (Locality.CROSS_PROVINCE, Access.TEMPORARY, "1101", "0.50", "75.00"),
        # Cross-province referral (filed) or emergency: 0.70 − 0.10 = 0.60 ⇒ 90.00.
        (Locality.CROSS_PROVINCE, Access.REFERRAL, "1101", "0.60", "90.00"),
        (Locality.CROSS_PROVINCE, Access.EMERGENCY, "1101", "0.60", "90.00"),
        # In-province (our policy data): referral −0.05 ⇒ 97.50; temporary −0.10 ⇒ 90.00.
        (Locality.IN_PROVINCE, Access.REFERRAL, "1101", "0.65", "97.50"),
        (Locality.IN_PROVINCE, Access.TEMPORARY, "1101", "0.60", "90.00"),
        # A filed retiree (异地安置退休) settles like a local retiree: 0.70 + 0.10 = 0.80 ⇒ 120.00.
        (Locality.CROSS_PROVINCE, Access.FILED_RESIDENT, "1201", "0.80", "120.00"),
        (Locality.LOCAL, None, "1201", "0.80", "120.00"),
    ],
)
def test_cross_region_ratio_changes(
    locality: Locality, access: Access | None, psn_type: str, ratio: str, hifp: str
) -> None:
    # No account use (acct_used_flag 0): the rest is cash and the balance stays 500.00.
    s = run(
        bill(("VISIT", "150.00", "1")),
        employee("500.00", psn_type=psn_type),
        visit=Visit("11", "3", locality, access),
        ytd=DEDUCTIBLE_MET,
        acct_used=False,
    )
    assert (s.pool_prop_selfpay, s.hifp_pay) == (D(ratio), D(hifp))
    assert s.psn_cash_pay == D("150.00") - D(hifp)
    assert (s.acct_pay, s.balc) == (D("0"), D("500.00"))


def test_class_b_line_above_its_price_cap_with_the_hospital_bearing_the_excess() -> None:
    # 支架 1000.00, cap 800, 乙 20 %: overlmt 200.00; preselfpay (1000 − 200) × 0.20 = 160.00;
    # inscp 640.00. The treatment place makes the hospital bear the 200.00 (999996 row).
    # hifp = 640 × 0.70 = 448.00 (deductible met). psn_part = 1000 − 448 − 200 = 352.00,
    # all from the account (1000.00 → 648.00).
    s = run(
        bill(("STENT", "1000.00", "1"), catalogue=HOSPITAL_BEARS),
        employee("1000.00"),
        ytd=DEDUCTIBLE_MET,
    )
    assert (s.overlmt_selfpay, s.preselfpay_amt, s.inscp_scp_amt) == (
        D("200.00"),
        D("160.00"),
        D("640.00"),
    )
    assert (s.hifp_pay, s.hosp_part_amt, s.psn_part_amt, s.acct_pay, s.balc) == (
        D("448.00"),
        D("200.00"),
        D("352.00"),
        D("352.00"),
        D("648.00"),
    )
    assert rows(s) == [
        ("310100", D("448.00"), D("1000.00")),
        ("310200", D("352.00"), None),
        ("999996", D("200.00"), None),
    ]


def test_a_bill_of_class_c_and_uncatalogued_items_only() -> None:
    # 丙 30.00 × 2 = 60.00 plus an item the catalogue lacks, 15.00: all 75.00 is 全自费.
    # Nothing in scope ⇒ no deductible, no fund. The account (50.00) pays 50.00; cash 25.00.
    s = run(bill(("TONIC", "30.00", "2"), ("NOT-LISTED", "15.00", "1")), employee("50.00"))
    assert (s.medfee_sumamt, s.fulamt_ownpay_amt, s.inscp_scp_amt) == (
        D("75.00"),
        D("75.00"),
        D("0"),
    )
    assert (s.act_pay_dedc, s.fund_pay_sumamt, s.acct_pay, s.psn_cash_pay) == (
        D("0"),
        D("0"),
        D("50.00"),
        D("25.00"),
    )
    assert rows(s) == [("310200", D("50.00"), None)]
    assert s.delta == Accumulators()


def test_civil_servant_subsidy_pays_part_of_what_the_employee_bears() -> None:
    # 甲 500.00, nothing used yet: deductible 300.00; hifp (500 − 300) × 0.70 = 140.00.
    # Bears 360.00 in scope; 公务员补助 50 % = 180.00, capped at 100.00.
    # psn_part 500 − 240 = 260.00, from the account (1000.00 → 740.00).
    s = run(bill(("DRUG-A", "500.00", "1")), employee("1000.00", psn_type="1102", cvlserv=True))
    assert (s.act_pay_dedc, s.hifp_pay, s.cvlserv_pay, s.fund_pay_sumamt) == (
        D("300.00"),
        D("140.00"),
        D("100.00"),
        D("240.00"),
    )
    assert (s.psn_part_amt, s.acct_pay, s.balc) == (D("260.00"), D("260.00"), D("740.00"))
    assert [r[0] for r in rows(s)] == ["310100", "320100", "310200"]


def test_cap_exhaustion_across_two_visits_hands_over_to_the_large_expense_fund() -> None:
    # Visit 1: deductible met, 900.00 of the 1000.00 cap used. 甲 200.00 ⇒ uncapped 140.00,
    # cap left 100.00 ⇒ hifp 100.00. The fund covered 100 / 0.70 = 142.857… → 142.86 of cost,
    # so 200 − 142.86 = 57.14 is over the cap; 大额 pays 57.14 × 0.50 = 28.57.
    # psn_part 200 − 128.57 = 71.43 (cash: acct_used_flag 0).
    ytd = Accumulators(deductible_used=D("300.00"), pooling_paid=D("900.00"))
    first = run(bill(("DRUG-A", "200.00", "1")), employee(), ytd=ytd, acct_used=False)
    assert (first.hifp_pay, first.hifob_pay, first.psn_cash_pay) == (
        D("100.00"),
        D("28.57"),
        D("71.43"),
    )
    assert rows(first) == [
        ("310100", D("100.00"), D("100.00")),
        ("330100", D("28.57"), D("300.00")),
    ]

    # Visit 2, same year: the cap is used up (1000.00) ⇒ hifp 0 and all 100.00 is over the
    # cap; 大额 pays 50.00, with 300 − 28.57 = 271.43 of its own cap left before.
    ytd = ytd + first.delta
    assert (ytd.pooling_paid, ytd.fund(FundKind.HIFOB)) == (
        D("1000.00"),
        FundCounter(D("57.14"), D("28.57")),
    )
    second = run(bill(("DRUG-A", "100.00", "1")), employee(), ytd=ytd, acct_used=False)
    assert (second.hifp_pay, second.hifob_pay, second.psn_cash_pay) == (
        D("0"),
        D("50.00"),
        D("50.00"),
    )
    assert rows(second) == [("330100", D("50.00"), D("271.43"))]


def test_reversal_negates_everything_and_restores_the_accumulators() -> None:
    # The over-the-deductible settlement above, then 2208: every amount negated; the account
    # gets its 100.00 back (0.00 → 100.00); the counters return to where they were.
    ytd = Accumulators(deductible_used=D("250.00"))
    lines = bill(("DRUG-A", "20.00", "10"), ("DRUG-B10", "50.00", "2"), ("TONIC", "30.00", "1"))
    original = run(lines, employee("100.00"), ytd=ytd)
    undo = reverse(original, balance_now=original.balc)

    assert (undo.medfee_sumamt, undo.hifp_pay, undo.act_pay_dedc, undo.acct_pay) == (
        D("-330.00"),
        D("-168.00"),
        D("-50.00"),
        D("-100.00"),
    )
    assert (undo.pool_prop_selfpay, undo.balc) == (D("0.70"), D("100.00"))
    assert rows(undo) == [("310100", D("-168.00"), None), ("310200", D("-100.00"), None)]
    assert undo.is_reversal
    assert ytd + original.delta + undo.delta == ytd
    assert identity_violations(undo.setlinfo_amounts(), undo.setldetail_rows(), NATIONAL) == []

    # Settling the same bill again from the restored state gives the same figures.
    assert run(lines, employee(str(undo.balc)), ytd=ytd + original.delta + undo.delta) == original
    with pytest.raises(ReversalError, match="itself a reversal"):
        reverse(undo, balance_now=D("0.00"))


def test_zhuhai_profile_counts_the_account_in_fund_pay_sumamt() -> None:
    # Same bill as "over the deductible": funds 168.00, account 100.00.
    # national: fund_pay_sumamt 168.00; zhuhai: 168.00 + 100.00 = 268.00; psn_part stays 162.00.
    lines = bill(("DRUG-A", "20.00", "10"), ("DRUG-B10", "50.00", "2"), ("TONIC", "30.00", "1"))
    ytd = Accumulators(deductible_used=D("250.00"))
    national = run(lines, employee("100.00"), ytd=ytd)
    zhuhai = run(lines, employee("100.00"), ytd=ytd, profile=ZHUHAI)
    assert (national.fund_pay_sumamt, zhuhai.fund_pay_sumamt) == (D("168.00"), D("268.00"))
    assert national.psn_part_amt == zhuhai.psn_part_amt == D("162.00")
    broken = identity_violations(zhuhai.setlinfo_amounts(), zhuhai.setldetail_rows(), NATIONAL)
    assert [v.name for v in broken] == ["fund-sum", "person-part"]

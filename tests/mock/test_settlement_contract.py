"""The calculator against the contract, and its refusals of bad policy data and inputs."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError

from nhsa import spec
from nhsa.mock.fixtures import bundled_fixtures
from nhsa.mock.settlement import (
    SETLINFO_NUMBER_FIELDS,
    Access,
    Accumulators,
    BenefitRule,
    CrossRegion,
    FilingKind,
    Insured,
    InsuredPlacePolicy,
    Locality,
    NoBenefitRuleError,
    PricedLine,
    RatioDeltas,
    SettlementInputError,
    SupplementaryFund,
    UnpricedLine,
    Visit,
    access_for,
    identity_violations,
    locality_of,
    price_line,
    reverse,
    settle,
)
from nhsa.spec._walk import object_properties

NODES = json.loads((spec.contract().root / "nodes.json").read_text(encoding="utf-8"))["$defs"]


def _is_number(schema: dict[str, Any]) -> bool:
    refs = [schema.get("$ref", "")] + [s.get("$ref", "") for s in schema.get("anyOf", [])]
    return any(ref.endswith(("/money", "/ratio")) for ref in refs)


def test_the_calculator_fills_exactly_the_numeric_fields_of_setlinfo() -> None:
    contract = spec.contract()
    properties, _ = object_properties(contract, contract.uri("nodes.json") + "#/$defs/setlinfo")
    numeric = {name for name, (s, _) in properties.items() if _is_number(s)}
    numeric.discard("age")  # a person's age, the engine's business
    assert set(SETLINFO_NUMBER_FIELDS) == numeric


def test_a_settlement_validates_as_a_2207_output() -> None:
    fx = bundled_fixtures()
    person = fx.person("P53010000000003")  # civil servant: pooling, subsidy and account rows
    hospital = fx.institution("H53010100001")
    assert person is not None
    assert hospital is not None
    catalogue = fx.catalogue_for(hospital.mdtrtarea_admvs)
    assert catalogue is not None
    lines = [
        price_line(
            UnpricedLine(
                "1", "XJ01CRA001A001010100001", Decimal("55.5"), Decimal("10"), Decimal("555.00")
            ),
            catalogue,
        ),
        price_line(
            UnpricedLine(
                "2", "C0311050300000000102", Decimal("20"), Decimal("3"), Decimal("60.00")
            ),
            catalogue,
        ),
    ]
    day = date(2026, 11, 23)
    policy = fx.policy("530100")
    assert policy is not None
    s = settle(
        lines,
        insured=person.insured("310", on=day),
        visit=fx.visit(person, "310", hospital, "11", on=day),
        policy=policy,
        accumulators=Accumulators(),
        acct_used=True,
        profile=fx.profile_for(hospital.mdtrtarea_admvs),
    )
    assert {r.fund_pay_type for r in s.setldetail} == {"310100", "320100", "310200", "999996"}
    engine_fields = {
        "mdtrt_id": "530100000000001001",
        "setl_id": "530100000000002001",
        "psn_no": person.psn_no,
        "psn_name": person.psn_name,
        "psn_cert_type": "01",
        "certno": person.certno,
        "psn_type": "1102",
        "cvlserv_flag": "1",
        "setl_time": "2026-11-23 10:15:30",
        "med_type": "11",
        "medins_setl_id": "H53010100001202611231015300001",
        "clr_type": "11",
    }
    setlinfo = {**engine_fields, **s.setlinfo_amounts()}
    output = {"setlinfo": setlinfo, "setldetail": s.setldetail_rows()}
    wire = json.loads(json.dumps(output, default=float))
    assert spec.validate_output("2207", wire) == []
    assert set(wire["setldetail"][0]) == set(NODES["setldetail_item"]["properties"])


def test_a_disability_fund_pays_into_hifdm_pay_and_the_fund_sum() -> None:
    # hifdm_pay (伤残人员医疗保障基金, fund_pay_type 350100) is one of the contract's fund
    # fields: the calculator fills it and fund_pay_sumamt adds it, as the contract says.
    fx = bundled_fixtures()
    person = fx.person("P53010000000001")
    hospital = fx.institution("H53010100001")
    policy = fx.policy("530100")
    assert person is not None
    assert hospital is not None
    assert policy is not None
    catalogue = fx.catalogue_for(hospital.mdtrtarea_admvs)
    assert catalogue is not None
    disability = SupplementaryFund(
        fund="hifdm",
        fund_pay_type="350100",
        basis="self_borne",
        tiers=[{"above": Decimal("0"), "ratio": Decimal("0.5")}],
        annual_cap=Decimal("1000"),
    )
    day = date(2026, 11, 23)
    visit = fx.visit(person, "310", hospital, "11", on=day)
    insured = person.insured("310", on=day)
    rule = policy.rule_for(insured.insutype, visit.med_type, visit.hosp_level)
    benefits = tuple(
        b.model_copy(update={"supplementary": (*b.supplementary, disability)}) if b is rule else b
        for b in policy.benefits
    )
    line = UnpricedLine(
        "1", "XJ01CRA001A001010100001", Decimal("55.5"), Decimal("10"), Decimal("555")
    )
    s = settle(
        [price_line(line, catalogue)],
        insured=insured,
        visit=visit,
        policy=policy.model_copy(update={"benefits": benefits}),
        accumulators=Accumulators(),
        acct_used=True,
        profile=fx.profile_for(hospital.mdtrtarea_admvs),
    )
    amounts = s.setlinfo_amounts()
    assert amounts["hifdm_pay"] > 0
    assert "hifdm_pay" in spec.contract().fund_fields
    assert amounts["fund_pay_sumamt"] == sum(amounts[f] for f in spec.contract().fund_fields)
    assert identity_violations(amounts, s.setldetail_rows(), fx.profile_for("530100")) == []
    assert "350100" in {row.fund_pay_type for row in s.setldetail}
    undone = reverse(s, balance_now=s.balc).setlinfo_amounts()
    assert undone["hifdm_pay"] == -amounts["hifdm_pay"]


def test_locality_follows_the_pooling_area_and_the_province() -> None:
    assert locality_of("530100", "530103") is Locality.LOCAL
    assert locality_of("530300", "530100") is Locality.IN_PROVINCE
    assert locality_of("440300", "440400") is Locality.IN_PROVINCE
    assert locality_of("110100", "530100") is Locality.CROSS_PROVINCE


@pytest.mark.parametrize(
    ("filing", "emergency", "access"),
    [
        (FilingKind.RETIREE, False, Access.FILED_RESIDENT),
        (FilingKind.LONG_TERM_RESIDENT, True, Access.FILED_RESIDENT),
        (FilingKind.RESIDENT_WORKER, False, Access.FILED_RESIDENT),
        (FilingKind.REFERRAL, False, Access.REFERRAL),
        (FilingKind.REFERRAL, True, Access.REFERRAL),
        (None, True, Access.EMERGENCY),
        (None, False, Access.TEMPORARY),
    ],
)
def test_access_class_from_filing_and_urgency(
    filing: FilingKind | None, emergency: bool, access: Access
) -> None:
    assert access_for(filing, emergency=emergency) is access


NO_CHANGE = RatioDeltas(filed_resident=0, referral=0, emergency=0, temporary=0)  # type: ignore[arg-type]


def rule(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "id": "r",
        "insutype": "310",
        "med_types": ["11"],
        "levels": [{"level": "3", "deductible": "300", "pay_ratio": "0.7"}],
        "annual_cap": "1000",
        "pooling_fund_pay_type": "310100",
    }
    return {**base, **changes}


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"levels": [{"level": "3", "deductible": "0", "pay_ratio": "1.5"}]}, "less than or equal"),
        ({"levels": [{"level": "4", "deductible": "0", "pay_ratio": "0.5"}]}, "'1', '2' or '3'"),
        ({"insutype": "999"}, "'999' is not a insutype code"),
        ({"med_types": ["11", "11"]}, "med_types: 11 listed more than once"),
        ({"annual_cap": "-1"}, "greater than or equal to 0"),
        ({"annual_cap": "10.001"}, "decimal places"),
        ({"pooling_fund_pay_type": "123456"}, "not a fund_pay_type code"),
        ({"unknown_key": 1}, "Extra inputs are not permitted"),
    ],
)
def test_bad_benefit_rules_are_refused_naming_the_rule(
    changes: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        BenefitRule.model_validate(rule(**changes))


def test_supplementary_tiers_must_ascend() -> None:
    with pytest.raises(ValidationError, match="'above' must strictly increase"):
        SupplementaryFund.model_validate(
            {
                "fund": "hifmi",
                "fund_pay_type": "390200",
                "basis": "self_borne",
                "annual_cap": "1",
                "tiers": [{"above": 5, "ratio": "0.5"}, {"above": 5, "ratio": "0.6"}],
            }
        )


def test_cross_region_changes_may_only_lower_the_ratio() -> None:
    with pytest.raises(ValidationError, match="less than or equal to 0"):
        RatioDeltas(filed_resident=0, referral=Decimal("0.1"), emergency=0, temporary=0)  # type: ignore[arg-type]


def test_a_policy_refuses_two_rules_for_the_same_visit_kind() -> None:
    both = "rules 'a' and 'b' both cover insutype 310 med_type 11"
    with pytest.raises(ValidationError, match=both):
        InsuredPlacePolicy.model_validate(
            {
                "admdvs": "530100",
                "name": "x",
                "benefits": [rule(id="a"), rule(id="b")],
                "cross_region": {"in_province": NO_CHANGE, "cross_province": NO_CHANGE},
            }
        )


def test_a_visit_the_policy_does_not_cover_is_refused_by_name() -> None:
    policy = InsuredPlacePolicy(
        admdvs="530100",
        name="x",
        benefits=(BenefitRule.model_validate(rule()),),
        cross_region=CrossRegion(in_province=NO_CHANGE, cross_province=NO_CHANGE),
    )
    with pytest.raises(NoBenefitRuleError) as caught:
        policy.rule_for("310", "11", "1")
    assert caught.value.field == "med_type"
    assert "insutype 310, med_type 11 at a level-1 hospital" in str(caught.value)


def test_bad_calculator_inputs_are_refused_by_name() -> None:
    with pytest.raises(SettlementInputError, match=r"visit\.access"):
        Visit("11", "3", Locality.CROSS_PROVINCE)
    with pytest.raises(SettlementInputError, match=r"insured\.balance"):
        Insured("310", "1101", balance=Decimal("-1"))
    with pytest.raises(SettlementInputError, match=r"insured\.balance"):
        Insured("310", "1101", balance=Decimal("1.005"))
    fx = bundled_fixtures()
    policy = fx.policy("530100")
    assert policy is not None
    common: dict[str, Any] = {
        "insured": Insured("310", "1101"),
        "visit": Visit("11", "3"),
        "policy": policy,
        "acct_used": True,
        "profile": fx.profile_for("530100"),
    }
    with pytest.raises(SettlementInputError, match="lines: a bill needs at least one"):
        settle([], accumulators=Accumulators(), **common)
    with pytest.raises(SettlementInputError, match="accumulators"):
        settle([_one_line()], accumulators=Accumulators(pooling_paid=Decimal("-1")), **common)


def _one_line() -> PricedLine:
    catalogue = bundled_fixtures().catalogue_for("530100")
    assert catalogue is not None
    return price_line(
        UnpricedLine("1", "XJ01CRA001A001010100001", Decimal("1"), Decimal("1"), Decimal("1.00")),
        catalogue,
    )


def _wire(value: object) -> Any:
    return json.loads(json.dumps(value, default=float))


def test_priced_lines_validate_as_a_2204_output() -> None:
    catalogue = bundled_fixtures().catalogue_for("530100")
    assert catalogue is not None
    lines = [
        UnpricedLine(
            "1", "XJ01DCC035A001010100002", Decimal("4.52"), Decimal("1"), Decimal("4.52")
        ),
        UnpricedLine("2", "T000100012", Decimal("3.333333"), Decimal("1.5"), Decimal("5.00")),
        UnpricedLine("3", "C1401011000000000103", Decimal("950"), Decimal("1"), Decimal("950.00")),
        UnpricedLine("4", "UNLISTED", Decimal("2"), Decimal("2.5"), Decimal("5.00")),
    ]
    rows = [price_line(line, catalogue).result_row() for line in lines]
    assert set(rows[0]) == set(NODES["fee_result_item"]["properties"])
    assert spec.validate_output("2204", _wire({"result": rows})) == []


def test_a_reversal_validates_as_a_2208_output() -> None:
    fx = bundled_fixtures()
    policy = fx.policy("530100")
    assert policy is not None
    original = settle(
        [_one_line()],
        insured=Insured("310", "1101", balance=Decimal("10.00")),
        visit=Visit("11", "3"),
        policy=policy,
        accumulators=Accumulators(),
        acct_used=True,
        profile=fx.profile_for("530100"),
    )
    undo = reverse(original, balance_now=original.balc)
    engine_fields = {
        "mdtrt_id": "530100000000001001",
        "setl_id": "530100000000002002",
        "setl_time": "2026-11-23 10:20:00",
        "medins_setl_id": "H53010100001202611231020000001",
    }
    setlinfo = {**engine_fields, **undo.setlinfo_amounts()}
    output = {"setlinfo": setlinfo, "setldetail": undo.setldetail_rows()}
    assert spec.validate_output("2208", _wire(output)) == []
    assert setlinfo["medfee_sumamt"] == Decimal("-1.00")

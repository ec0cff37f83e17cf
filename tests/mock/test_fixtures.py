"""The bundled fixture set, its lookups, and the errors broken fixture folders produce."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from nhsa.mock.fixtures import (
    FixtureError,
    FixtureSet,
    Service,
    bundled_fixture_dir,
    bundled_fixtures,
    load_fixtures,
)
from nhsa.mock.settlement import (
    Access,
    ChargeClass,
    FilingKind,
    Locality,
    NoBenefitRuleError,
)

DAY = date(2026, 11, 23)


@pytest.fixture(scope="module")
def fx() -> FixtureSet:
    return bundled_fixtures()


def gb11643_ok(number: str) -> bool:
    # Written out again here rather than calling the module under test.
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    total = sum(int(d) * w for d, w in zip(number[:17], weights, strict=True))
    return len(number) == 18 and number[17] == "10X98765432"[total % 11]


# -- the bundled set ----------------------------------------------------------------------


def test_bundled_set_covers_the_places_and_kinds_of_people_asked_for(fx: FixtureSet) -> None:
    records = [(p, r) for p in fx.persons for r in p.insurance]
    areas = {r.insuplc_admdvs for _, r in records}
    assert len(fx.persons) >= 12
    assert {"530100", "530300", "440300", "110100", "510100"} <= areas
    assert len({a[:2] for a in areas}) >= 3
    assert {"310", "390", "320"} <= {r.insutype for _, r in records}
    assert any(r.cvlserv_flag == "1" for _, r in records)
    assert any(p.identities for p in fx.persons if p.record("390"))
    assert {p.filing.kind for p in fx.persons if p.filing} == set(FilingKind)
    unfiled_away = [p for p, r in records if p.filing is None and r.insuplc_admdvs[:4] != "5301"]
    assert unfiled_away  # someone who can only visit as an unfiled temporary patient
    assert all(len(p.psn_no) <= 30 for p in fx.persons)


def test_every_resident_id_number_has_a_valid_check_digit(fx: FixtureSet) -> None:
    ids = [p.certno for p in fx.persons if p.psn_cert_type == "01"]
    assert len(ids) == len(fx.persons)
    assert all(gb11643_ok(n) for n in ids), [n for n in ids if not gb11643_ok(n)]


def test_every_person_has_each_certificate_and_they_are_unique(fx: FixtureSet) -> None:
    cards = [p.certificates.social_security_card for p in fx.persons]
    tokens = [p.certificates.ec_token for p in fx.persons]
    assert all(c.card_no and c.card_sn for c in cards)
    assert len({c.card_no for c in cards}) == len(cards)
    assert len(set(tokens)) == len(tokens)


def test_every_insured_area_has_a_policy_and_every_hospital_a_catalogue(fx: FixtureSet) -> None:
    for person in fx.persons:
        for record in person.insurance:
            assert fx.policy(record.insuplc_admdvs) is not None, person.psn_no
    for institution in fx.institutions:
        assert fx.catalogue_for(institution.mdtrtarea_admvs) is not None


def test_institutions_include_city_district_and_other_province(fx: FixtureSet) -> None:
    city = fx.institution("H53010100001")
    assert city is not None
    assert (city.mdtrtarea_admvs, city.level) == ("530100", "3")
    assert any(
        i.mdtrtarea_admvs.startswith("5301") and not i.mdtrtarea_admvs.endswith("00")
        for i in fx.institutions
    )
    assert any(not i.mdtrtarea_admvs.startswith("53") for i in fx.institutions)
    assert all(len(i.fixmedins_code) == 12 for i in fx.institutions)


def test_catalogues_hold_all_classes_kinds_and_a_price_cap(fx: FixtureSet) -> None:
    for catalogue in fx.catalogues:
        items = catalogue.items
        assert len(items) >= 20
        assert {i.chrgitm_lv for i in items} == set(ChargeClass)
        kinds = {i.med_chrgitm_type for i in items}
        assert {"09", "08"} <= kinds  # drugs and consumables
        assert kinds & {"02", "03", "04", "05"}  # services
        assert any(i.has_price_cap for i in items)


def test_money_in_yaml_stays_exact(fx: FixtureSet) -> None:
    person = fx.person("P53010000000001")
    assert person is not None
    record = person.record("310")
    assert record is not None
    assert record.balc == Decimal("1378.15")
    assert isinstance(record.balc, Decimal)


# -- lookups ------------------------------------------------------------------------------


def test_a_person_is_found_by_every_certificate(fx: FixtureSet) -> None:
    for person in fx.persons:
        card = person.certificates.social_security_card
        assert fx.person(person.psn_no) is person
        assert fx.person_by_certno(person.certno) is person
        assert fx.person_by_card(card.card_no) is person
        assert fx.person_by_ec_token(person.certificates.ec_token) is person
        assert fx.person_by_certificate("01", person.certificates.ec_token) is person
        assert fx.person_by_certificate("02", person.certno) is person
        assert fx.person_by_certificate("03", card.card_no, card.card_sn) is person
    assert fx.person("nobody") is None
    first = fx.persons[0].certificates.social_security_card
    assert fx.person_by_certificate("03", first.card_no, "wrong-card-sn") is None
    assert fx.person_by_certificate("09", fx.persons[0].certno) is None


def test_district_areas_fall_back_to_the_city(fx: FixtureSet) -> None:
    city = fx.catalogue_for("530100")
    assert city is not None
    assert fx.catalogue_for("530102") is city
    assert fx.catalogue_for("520100") is None
    assert fx.policy("530111") is fx.policy("530100")


def test_policy_lookup_by_area_insutype_med_type_and_level(fx: FixtureSet) -> None:
    assert fx.rule_for("530100", "310", "11", "3").id == "emp-outpatient"
    assert fx.rule_for("530100", "390", "14", "2").id == "res-chronic"
    with pytest.raises(NoBenefitRuleError):
        fx.rule_for("530100", "310", "51", "3")
    with pytest.raises(NoBenefitRuleError):
        fx.rule_for("999900", "310", "11", "3")


def test_profiles_by_treatment_area(fx: FixtureSet) -> None:
    assert fx.profile_for("440400").name == "zhuhai"
    assert fx.profile_for("430100").name == "national"
    assert fx.profile_for("530100").name == "national"


def test_visits_know_locality_and_filing(fx: FixtureSet) -> None:
    kunming, zhuhai = fx.institution("H53010100001"), fx.institution("H44040000004")
    worker = fx.person("P44030000000009")  # Shenzhen employee, filed as a worker in Kunming
    temp = fx.person("P44030000000010")  # Shenzhen resident, no filing
    assert kunming is not None
    assert zhuhai is not None
    assert worker is not None
    assert temp is not None
    at_kunming = fx.visit(worker, "310", kunming, "11", on=DAY)
    assert (at_kunming.locality, at_kunming.access) == (
        Locality.CROSS_PROVINCE,
        Access.FILED_RESIDENT,
    )
    # The filing names Kunming, so in Zhuhai (same province as Shenzhen) he is a temporary visitor.
    at_zhuhai = fx.visit(worker, "310", zhuhai, "11", on=DAY)
    assert (at_zhuhai.locality, at_zhuhai.access) == (Locality.IN_PROVINCE, Access.TEMPORARY)
    emergency = fx.visit(temp, "390", kunming, "13", on=DAY, emergency=True)
    assert emergency.access is Access.EMERGENCY
    referral = fx.person("P53030000000008")  # filed referral to Kunming, for 2026 only
    assert referral is not None
    assert fx.visit(referral, "390", kunming, "11", on=DAY).access is Access.REFERRAL
    after = fx.visit(referral, "390", kunming, "11", on=date(2027, 1, 2))
    assert after.access is Access.TEMPORARY


def test_networked_services(fx: FixtureSet) -> None:
    clinic = fx.institution("H53010300003")
    assert clinic is not None
    assert clinic.offers(Service.OUTPATIENT)
    assert not clinic.offers(Service.for_visit(Locality.CROSS_PROVINCE, "11"))
    assert Service.for_visit(Locality.IN_PROVINCE, "21") is Service.INPATIENT


def test_insured_view_uses_identities_in_force(fx: FixtureSet) -> None:
    person = fx.person("P53010000000005")  # 低保 (A02) since 2023
    assert person is not None
    assert person.insured("390", on=DAY).identities == {"A02"}
    assert person.insured("390", on=date(2022, 6, 1)).identities == frozenset()
    assert person.insured("390", on=DAY, balance=Decimal("5.00")).balance == Decimal("5.00")
    with pytest.raises(LookupError, match="no insurance of insutype 310"):
        person.insured("310", on=DAY)


# -- broken folders -----------------------------------------------------------------------


def broken(tmp_path: Path, file: str, edit: Callable[[str], str]) -> FixtureError:
    root = tmp_path / "fixtures"
    shutil.copytree(bundled_fixture_dir(), root)
    target = root / file
    target.write_text(edit(target.read_text(encoding="utf-8")), encoding="utf-8")
    with pytest.raises(FixtureError) as caught:
        load_fixtures(root)
    return caught.value


def test_a_copy_of_the_bundled_folder_loads(tmp_path: Path) -> None:
    shutil.copytree(bundled_fixture_dir(), tmp_path / "copy")
    assert len(load_fixtures(tmp_path / "copy").persons) == len(bundled_fixtures().persons)


def test_bad_check_digit_names_file_entry_and_rule(tmp_path: Path) -> None:
    err = broken(
        tmp_path, "persons.yaml", lambda t: t.replace("530102198503150018", "530102198503150019")
    )
    [problem] = err.problems
    assert problem.file == "persons.yaml"
    assert problem.entry == "persons[0] (psn_no 'P53010000000001')"
    assert "the check character is '9'; GB 11643 requires '8'" in problem.message
    assert "persons.yaml: persons[0] (psn_no 'P53010000000001'): certno" in str(err)


def test_unquoted_code_names_the_nested_field(tmp_path: Path) -> None:
    err = broken(
        tmp_path, "persons.yaml", lambda t: t.replace('insutype: "390"', "insutype: 390", 1)
    )
    [problem] = err.problems
    assert problem.entry == "persons[3] (psn_no 'P53010000000004')"
    assert problem.message.startswith("insurance[0].insutype: Input should be a valid string")


def test_bad_policy_ratio_names_the_rule(tmp_path: Path) -> None:
    err = broken(
        tmp_path,
        "policies/530100.yaml",
        lambda t: t.replace("pay_ratio: 0.80}", "pay_ratio: 1.80}", 1),
    )
    [problem] = err.problems
    assert problem.file == "policies/530100.yaml"
    assert problem.entry == "benefits[0] (id 'emp-outpatient')"
    assert problem.message.startswith(
        "levels[0].pay_ratio: Input should be less than or equal to 1"
    )


def test_money_with_too_many_decimals_is_refused(tmp_path: Path) -> None:
    err = broken(tmp_path, "persons.yaml", lambda t: t.replace("balc: 1378.15", "balc: 1378.155"))
    assert "insurance[0].balc: Decimal input should have no more than 2 decimal places" in str(err)


def test_catalogue_item_error_names_the_item(tmp_path: Path) -> None:
    err = broken(
        tmp_path,
        "catalogues/530100.yaml",
        lambda t: t.replace(
            'name: 阿莫西林胶囊, chrgitm_lv: "01"', 'name: 阿莫西林胶囊, chrgitm_lv: "04"'
        ),
    )
    [problem] = err.problems
    assert problem.entry == "items[0] (med_list_codg 'XJ01CRA001A001010100001')"
    assert problem.message.startswith("chrgitm_lv:")


def test_a_person_insured_where_no_policy_exists(tmp_path: Path) -> None:
    err = broken(
        tmp_path,
        "persons.yaml",
        lambda t: t.replace('insuplc_admdvs: "510100"', 'insuplc_admdvs: "620100"'),
    )
    assert {p.message for p in err.problems} == {
        "insurance[0].insuplc_admdvs 620100: no policy in policies/"
    }


def test_duplicate_psn_no_is_reported_for_both_entries(tmp_path: Path) -> None:
    err = broken(
        tmp_path, "persons.yaml", lambda t: t.replace("P53010000000002", "P53010000000001")
    )
    assert [(p.entry, p.message) for p in err.problems] == [
        ("persons[0]", "psn_no 'P53010000000001' is not unique"),
        ("persons[1]", "psn_no 'P53010000000001' is not unique"),
    ]


def test_yaml_syntax_error_names_the_file_and_line(tmp_path: Path) -> None:
    err = broken(tmp_path, "institutions.yaml", lambda t: t + "\n  - [unclosed\n")
    [problem] = err.problems
    assert problem.file == "institutions.yaml"
    assert "not valid YAML" in problem.message
    assert "line" in problem.message


def test_non_finite_numbers_are_refused(tmp_path: Path) -> None:
    err = broken(tmp_path, "persons.yaml", lambda t: t.replace("balc: 1378.15", "balc: .inf"))
    assert "'.inf' is not a finite amount" in str(err)


def test_catalogue_file_name_must_match_its_area(tmp_path: Path) -> None:
    root = tmp_path / "fixtures"
    shutil.copytree(bundled_fixture_dir(), root)
    (root / "catalogues" / "530100.yaml").rename(root / "catalogues" / "530101.yaml")
    with pytest.raises(FixtureError) as caught:
        load_fixtures(root)
    messages = [str(p) for p in caught.value.problems]
    assert "catalogues/530101.yaml: admdvs: '530100' must match the file name '530101'" in messages


def test_missing_files_and_folders_are_listed(tmp_path: Path) -> None:
    root = tmp_path / "fixtures"
    shutil.copytree(bundled_fixture_dir(), root)
    (root / "profiles.yaml").unlink()
    shutil.rmtree(root / "policies")
    with pytest.raises(FixtureError) as caught:
        load_fixtures(root)
    assert {str(p) for p in caught.value.problems} == {
        "profiles.yaml: missing file",
        "policies/: no *.yaml files",
    }
    with pytest.raises(FixtureError, match="is not a directory"):
        load_fixtures(tmp_path / "absent")

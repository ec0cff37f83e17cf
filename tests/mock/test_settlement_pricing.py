"""Pricing one fee line against the treatment place's catalogue (the 2204 result row)."""

from __future__ import annotations

from decimal import Decimal as D  # noqa: N817  # short, so hand-derived figures stay readable

import pytest

from nhsa.mock.settlement import (
    NO_PRICE_CAP,
    AmountMismatchError,
    Catalogue,
    CatalogueItem,
    ChargeClass,
    FeeLineError,
    UnpricedLine,
    price_line,
)

ITEMS = (
    CatalogueItem(
        med_list_codg="CEFUROXIME",
        name="头孢呋辛酯片",
        chrgitm_lv="02",
        med_chrgitm_type="09",
        selfpay_prop=D("0.05"),
    ),
    CatalogueItem(med_list_codg="BLOOD", name="血常规", chrgitm_lv="01", med_chrgitm_type="04"),
    CatalogueItem(med_list_codg="TONIC", name="保健品", chrgitm_lv="03", med_chrgitm_type="09"),
    CatalogueItem(
        med_list_codg="STENT",
        name="冠脉支架",
        chrgitm_lv="02",
        med_chrgitm_type="08",
        selfpay_prop=D("0.20"),
        pric_uplmt_amt=D("800"),
        lmt_used_flag="1",
    ),
)
PATIENT_PAYS = Catalogue(admdvs="440400", name="珠海市", items=ITEMS)
HOSPITAL_PAYS = Catalogue(admdvs="530100", name="昆明市", items=ITEMS, overlimit_payer="hospital")


def line(code: str, pric: str, cnt: str, total: str, sn: str = "F1") -> UnpricedLine:
    return UnpricedLine(sn, code, D(pric), D(cnt), D(total))


def test_the_real_2204_sample_splits_into_0_23_and_4_29() -> None:
    # Reference §3.8: det 4.52, selfpay_prop 0.05 → preselfpay round(4.52 × 0.05 = 0.226) = 0.23,
    # inscp 4.52 − 0.23 = 4.29, pric_uplmt_amt 999999, chrgitm_lv 02, med_chrgitm_type 09.
    priced = price_line(line("CEFUROXIME", "4.52", "1", "4.52"), PATIENT_PAYS)
    row = priced.result_row()
    assert row["fulamt_ownpay_amt"] == D("0")
    assert row["overlmt_amt"] == D("0")
    assert row["preselfpay_amt"] == D("0.23")
    assert row["inscp_scp_amt"] == D("4.29")
    assert row["selfpay_prop"] == D("0.05")
    assert row["pric_uplmt_amt"] == NO_PRICE_CAP
    assert (row["chrgitm_lv"], row["med_chrgitm_type"], row["lmt_used_flag"]) == ("02", "09", "0")


def test_class_a_line_is_wholly_in_scope() -> None:
    priced = price_line(line("BLOOD", "25.00", "2", "50.00"), PATIENT_PAYS)
    assert (priced.fulamt_ownpay_amt, priced.preselfpay_amt, priced.inscp_scp_amt) == (
        D("0"),
        D("0"),
        D("50.00"),
    )
    assert priced.selfpay_prop == D("0")


def test_class_c_line_is_wholly_self_paid_with_ratio_one() -> None:
    # Reference §3.17 sample: chrgitm_lv 03 ⇒ fulamt = det, selfpay_prop 1, inscp 0.
    priced = price_line(line("TONIC", "12.30", "3", "36.90"), PATIENT_PAYS)
    assert priced.fulamt_ownpay_amt == D("36.90")
    assert priced.inscp_scp_amt == D("0")
    assert priced.selfpay_prop == D("1")
    assert priced.chrgitm_lv is ChargeClass.CLASS_C


def test_an_item_missing_from_the_catalogue_is_self_paid_and_says_why() -> None:
    priced = price_line(line("NOT-LISTED", "8.00", "1", "8.00"), PATIENT_PAYS)
    row = priced.result_row()
    assert row["fulamt_ownpay_amt"] == D("8.00")
    assert row["chrgitm_lv"] == "03"
    assert "not in the treatment place's catalogue" in str(row["memo"])


def test_price_cap_excess_is_over_limit_then_selfpay_applies_to_the_rest() -> None:
    # pric 1000 above cap 800: overlmt = (1000 − 800) × 2 = 400.00;
    # preselfpay = (2000 − 400) × 0.20 = 320.00; inscp = 2000 − 400 − 320 = 1280.00.
    priced = price_line(line("STENT", "1000", "2", "2000.00"), PATIENT_PAYS)
    assert (priced.overlmt_amt, priced.preselfpay_amt, priced.inscp_scp_amt) == (
        D("400.00"),
        D("320.00"),
        D("1280.00"),
    )
    assert priced.hosp_part_amt == D("0")
    assert priced.result_row()["pric_uplmt_amt"] == D("800")


def test_a_catalogue_may_make_the_hospital_bear_the_over_limit_amount() -> None:
    priced = price_line(line("STENT", "1000", "2", "2000.00"), HOSPITAL_PAYS)
    assert priced.overlmt_amt == D("400.00")
    assert priced.hosp_part_amt == D("400.00")


def test_a_price_under_the_cap_has_no_over_limit_amount() -> None:
    priced = price_line(line("STENT", "750", "1", "750.00"), PATIENT_PAYS)
    assert priced.overlmt_amt == D("0")
    assert priced.preselfpay_amt == D("150.00")


def test_fractional_quantities_round_half_up() -> None:
    # 3.333333 × 1.5 = 4.9999995 → 5.00; preselfpay 5.00 × 0.05 = 0.25.
    priced = price_line(line("CEFUROXIME", "3.333333", "1.5", "5.00"), PATIENT_PAYS)
    assert (priced.preselfpay_amt, priced.inscp_scp_amt) == (D("0.25"), D("4.75"))


def test_line_total_must_equal_rounded_price_times_quantity() -> None:
    with pytest.raises(AmountMismatchError) as caught:
        price_line(line("BLOOD", "25.00", "2", "50.01", sn="F-7"), PATIENT_PAYS)
    err = caught.value
    assert err.feedetl_sn == "F-7"
    assert err.field == "det_item_fee_sumamt"
    assert "50.01 must equal round(pric × cnt, 2) = 50.00" in str(err)
    assert str(err).startswith("feedetail feedetl_sn 'F-7': det_item_fee_sumamt:")


@pytest.mark.parametrize(
    ("pric", "cnt", "field"), [("10", "0", "cnt"), ("10", "-1", "cnt"), ("-1", "1", "pric")]
)
def test_non_positive_quantity_or_negative_price_is_refused(
    pric: str, cnt: str, field: str
) -> None:
    with pytest.raises(FeeLineError) as caught:
        price_line(line("BLOOD", pric, cnt, "0"), PATIENT_PAYS)
    assert caught.value.field == field


def test_result_row_carries_every_2204_result_field() -> None:
    # Reference §3.8, output node `result`.
    expected = {
        "feedetl_sn",
        "det_item_fee_sumamt",
        "cnt",
        "pric",
        "pric_uplmt_amt",
        "selfpay_prop",
        "fulamt_ownpay_amt",
        "overlmt_amt",
        "preselfpay_amt",
        "inscp_scp_amt",
        "chrgitm_lv",
        "med_chrgitm_type",
        "bas_medn_flag",
        "hi_nego_drug_flag",
        "chld_medc_flag",
        "list_sp_item_flag",
        "lmt_used_flag",
        "drt_reim_flag",
        "memo",
    }
    assert set(price_line(line("BLOOD", "1", "1", "1"), PATIENT_PAYS).result_row()) == expected


def test_catalogue_refuses_selfpay_ratio_on_a_class_a_item() -> None:
    with pytest.raises(ValueError, match="only 乙类"):
        CatalogueItem(
            med_list_codg="X",
            name="x",
            chrgitm_lv="01",
            med_chrgitm_type="09",
            selfpay_prop=D("0.1"),
        )


def test_catalogue_refuses_duplicate_codes_and_unknown_fee_categories() -> None:
    with pytest.raises(ValueError, match="listed twice"):
        Catalogue(admdvs="530100", name="x", items=(ITEMS[1], ITEMS[1]))
    with pytest.raises(ValueError, match="not a med_chrgitm_type code"):
        CatalogueItem(med_list_codg="X", name="x", chrgitm_lv="01", med_chrgitm_type="99")


def test_line_totals_round_half_up_not_to_even() -> None:
    # 0.0245 × 10 = 0.245: half-up gives 0.25. Banker's rounding (Python's Decimal default)
    # would give 0.24, and the platform refuses that total.
    assert price_line(line("BLOOD", "0.0245", "10", "0.25"), PATIENT_PAYS).inscp_scp_amt == D(
        "0.25"
    )
    with pytest.raises(AmountMismatchError, match=r"= 0\.25"):
        price_line(line("BLOOD", "0.0245", "10", "0.24"), PATIENT_PAYS)

"""Chronic and special outpatient care (门慢/门特) in the engine: the recognition held per
tenant (fixtures, 2503/2504, the admin services), 5301, the med_type 14 rule at 2203, 2204 and
2206/2207, and the one-bill settlement of a recognised disease under its own terms.

Figures follow conformance/fixtures/policies/530100.yaml and 440300.yaml (Kunming hospital, 三级).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from nhsa.mock.engine import Answer, Engine, EngineOptions, PlatformServices, ServiceError
from nhsa.mock.fixtures import bundled_fixtures
from nhsa.mock.store import Recognition, SqliteStore, Visit, YearToDate
from tests.mock.conftest import CONSULTATION, START, Desk

RETIREE = "P53010000000016"
"""310 retiree, 530100: M03900 高血压病 since 2022-03-01; M01600 糖尿病 ended 2025-12-31."""
DIALYSIS = "P53010000000017"
"""390 resident with the 低保 identity (A02), 530100: M07803 血液透析 since 2024-06-01."""
VISITOR = "P44030000000018"
"""310, Shenzhen (440300), filed resident worker in Kunming: M08300 抗排异 since 2023-05-01."""
CAPTOPRIL = "XC09AAB001A001010100004"  # 卡托普利片, 甲类
HAEMODIALYSIS = "311000006000000"  # 血液透析, 甲类
TACROLIMUS = "XL04ADT001A001010100011"  # 他克莫司胶囊, 乙类 selfpay 0.05


def visit_info(desk: Desk, psn_no: str, mdtrt_id: str, dise_codg: str | None) -> Answer:
    """2203 of a chronic visit (med_type 14) naming ``dise_codg``."""
    envelope = desk.envelope("2203", {}, insuplc_admdvs=desk.area_of(psn_no, _insutype(psn_no)))
    node: dict[str, Any] = {
        "mdtrtinfo": {
            "mdtrt_id": mdtrt_id,
            "psn_no": psn_no,
            "med_type": "14",
            "begntime": desk.now.strftime("%Y-%m-%d %H:%M:%S"),
            "dise_codg": dise_codg,
            "dise_name": None,
        },
        "diseinfo": [
            {
                "diag_type": "1",
                "diag_srt_no": 1,
                "diag_code": "I10.x00",
                "diag_name": "原发性高血压",
                "diag_dept": "内科门诊",
                "dise_dor_no": "D0001",
                "dise_dor_name": "医师丁",
                "diag_time": desk.now.strftime("%Y-%m-%d %H:%M:%S"),
                "vali_flag": "1",
            }
        ],
    }
    envelope["input"] = node
    return desk.send(envelope)


def chronic_visit(desk: Desk, psn_no: str, dise_codg: str) -> str:
    registered = desk.register(psn_no, _insutype(psn_no))
    assert registered.infcode == 0, registered.err_msg
    mdtrt_id: str = registered.output["data"]["mdtrt_id"]
    info = visit_info(desk, psn_no, mdtrt_id, dise_codg)
    assert info.infcode == 0, info.err_msg
    return mdtrt_id


def settle_chronic(
    desk: Desk, psn_no: str, dise_codg: str, items: list[tuple[str, str, str]]
) -> dict[str, Any]:
    """A chronic visit end to end; its 2207 setlinfo."""
    insutype = _insutype(psn_no)
    mdtrt_id = chronic_visit(desk, psn_no, dise_codg)
    lines = desk.fee_lines(psn_no, mdtrt_id, items, dise_codg=dise_codg)
    assert desk.upload(psn_no, lines).infcode == 0
    medfee = sum((Decimal(str(line["det_item_fee_sumamt"])) for line in lines), Decimal(0))
    kw = {"insutype": insutype, "med_type": "14"}
    pre = desk.presettle(psn_no, mdtrt_id, medfee, **kw)
    assert pre.infcode == 0, pre.err_msg
    settled = desk.settle(psn_no, mdtrt_id, pre.output["setlinfo"], **kw)
    assert settled.infcode == 0, settled.err_msg
    setlinfo: dict[str, Any] = dict(settled.output["setlinfo"])
    return setlinfo


def register_disease(desk: Desk, psn_no: str, code: str, **data: Any) -> Answer:
    insutype = _insutype(psn_no)
    area = desk.area_of(psn_no, insutype)
    node = {
        "psn_no": psn_no,
        "insutype": insutype,
        "opsp_dise_code": code,
        "opsp_dise_name": "糖尿病",
        "insu_optins": area,
        "ide_fixmedins_no": desk.tenant,
        "ide_fixmedins_name": "测试医院",
        "hosp_ide_date": "2026-11-20",
        "diag_dr_codg": "D0001",
        "diag_dr_name": "医师丁",
        "begndate": "2026-11-23",
        "enddate": None,
        **data,
    }
    return desk.call("2503", {"data": node}, insuplc_admdvs=area)


def cancel_disease(desk: Desk, psn_no: str, serial: str) -> Answer:
    data = {"trt_dcla_detl_sn": serial, "psn_no": psn_no, "memo": "病种录入错误"}
    return desk.call("2504", {"data": data}, insuplc_admdvs=desk.area_of(psn_no, "310"))


def query(desk: Desk, psn_no: str) -> list[dict[str, Any]]:
    area = desk.area_of(psn_no, _insutype(psn_no))
    answer = desk.call("5301", {"data": {"psn_no": psn_no}}, insuplc_admdvs=area)
    assert answer.infcode == 0, answer.err_msg
    rows: list[dict[str, Any]] = answer.output["feedetail"]
    return rows


def _insutype(psn_no: str) -> str:
    return "390" if psn_no == DIALYSIS else "310"


def _visit(desk: Desk, mdtrt_id: str) -> Visit:
    with desk.store.snapshot() as tx:
        visit = tx.get(Visit, desk.tenant, mdtrt_id)
    assert visit is not None
    return visit


# -- 5301 and the recognition rule ----------------------------------------------------------


def test_5301_lists_the_insured_places_recognitions_expired_ones_included(desk: Desk) -> None:
    assert query(desk, RETIREE) == [
        {
            "opsp_dise_code": "M03900",
            "opsp_dise_name": "高血压病",
            "begndate": "2022-03-01",
            "enddate": None,
        },
        {
            "opsp_dise_code": "M01600",
            "opsp_dise_name": "糖尿病",
            "begndate": "2021-01-01",
            "enddate": "2025-12-31",
        },
    ]
    assert query(desk, "P53010000000001") == []


def test_a_recognised_disease_settles_under_its_own_terms_and_counters(desk: Desk) -> None:
    setlinfo = settle_chronic(
        desk, RETIREE, "M03900", [(CAPTOPRIL, "12.50", "4"), (CONSULTATION, "25", "1")]
    )
    # emp-chronic.hypertension at 三级: no deductible, 0.80 + 0.05 for a retiree (1201).
    assert setlinfo["med_type"] == "14"
    assert (setlinfo["medfee_sumamt"], setlinfo["pool_prop_selfpay"]) == (
        Decimal("75.00"),
        Decimal("0.8500"),
    )
    assert (setlinfo["hifp_pay"], setlinfo["acct_pay"]) == (Decimal("63.75"), Decimal("11.25"))
    with desk.store.snapshot() as tx:
        counters = tx.get(
            YearToDate, desk.tenant, RETIREE, 2026, "530100", "emp-chronic.hypertension"
        )
    assert counters is not None
    assert counters.counters["pooling_paid"] == Decimal("63.75")


def test_a_disease_cap_is_a_hard_limit_of_its_own(desk: Desk) -> None:
    setlinfo = settle_chronic(desk, RETIREE, "M03900", [(CAPTOPRIL, "12.50", "240")])
    # 3000.00 × 0.85 = 2550.00, but 高血压 pays at most 1800.00 a year and no fund pays above.
    assert setlinfo["hifp_pay"] == Decimal("1800.00")
    assert setlinfo["hifob_pay"] == Decimal("0.00")
    assert setlinfo["fund_pay_sumamt"] == Decimal("1800.00")


def test_one_bill_with_serious_illness_insurance_and_medical_assistance(desk: Desk) -> None:
    setlinfo = settle_chronic(desk, DIALYSIS, "M07803", [(HAEMODIALYSIS, "400", "12")])
    # res-chronic.special at 三级: deductible 500, ratio 0.75 → (4800 − 500) × 0.75 = 3225.00;
    # the person's share 1575.00: 大病 pays 0.60 above 1000 → 345.00; 医疗救助 (A02) 0.70 of the
    # rest 1230.00 → 861.00; cash 369.00.
    assert setlinfo["act_pay_dedc"] == Decimal("500.00")
    assert setlinfo["hifp_pay"] == Decimal("3225.00")
    assert setlinfo["hifmi_pay"] == Decimal("345.00")
    assert setlinfo["maf_pay"] == Decimal("861.00")
    assert setlinfo["fund_pay_sumamt"] == Decimal("4431.00")
    assert setlinfo["psn_cash_pay"] == Decimal("369.00")


def test_a_cross_province_patient_settles_under_the_insured_places_disease_terms(
    desk: Desk,
) -> None:
    setlinfo = settle_chronic(desk, VISITOR, "M08300", [(TACROLIMUS, "28.50", "60")])
    # 440300 emp-chronic.special at 三级: 0.90, filed resident worker (no reduction);
    # 乙类 5 % first self-pay: 1710.00 − 85.50 = 1624.50 in scope → 1462.05.
    assert (setlinfo["preselfpay_amt"], setlinfo["hifp_pay"]) == (
        Decimal("85.50"),
        Decimal("1462.05"),
    )
    assert setlinfo["acct_pay"] == Decimal("247.95")


@pytest.mark.parametrize(
    ("dise_codg", "error", "words"),
    [
        ("M01600", "business.chronic_not_recognised", "该病种备案已于 2025-12-31 到期"),
        ("M07803", "business.chronic_not_recognised", "该病种未备案"),
        ("M99999", "business.chronic_disease_unknown", "门慢门特病种目录中无此病种"),
        (None, "envelope.validation_failed", "mdtrtinfo.dise_codg 为空"),
    ],
)
def test_a_chronic_visit_naming_no_recognised_disease_is_refused_at_2203(
    desk: Desk, dise_codg: str | None, error: str, words: str
) -> None:
    mdtrt_id = desk.register(RETIREE).output["data"]["mdtrt_id"]
    answer = visit_info(desk, RETIREE, mdtrt_id, dise_codg)
    assert (answer.infcode, answer.error) == (-1, error)
    assert words in (answer.err_msg or "")
    assert "mdtrtinfo.dise_codg" in (answer.err_msg or "")
    assert _visit(desk, mdtrt_id).med_type is None  # nothing recorded


def test_the_refusal_names_the_field_the_rule_and_what_is_in_force(desk: Desk) -> None:
    mdtrt_id = desk.register(RETIREE).output["data"]["mdtrt_id"]
    err_msg = visit_info(desk, RETIREE, mdtrt_id, "M01600").err_msg or ""
    zh, en = err_msg.split(" / ", 1)
    assert zh.startswith("门慢门特病种未备案或不在有效期内：mdtrtinfo.dise_codg=M01600")
    assert "有效备案病种：M03900 高血压病（2022-03-01 起）" in zh
    assert "mdtrtinfo.dise_codg M01600 is not a chronic disease" in en
    assert "in force: M03900 (from 2022-03-01)" in en
    # an ordinary visit of the same person is not affected by the rule
    assert desk.visit_info(RETIREE, mdtrt_id).infcode == 0


def test_fee_lines_of_a_chronic_visit_carry_only_its_disease(desk: Desk) -> None:
    mdtrt_id = chronic_visit(desk, RETIREE, "M03900")
    other = desk.fee_lines(RETIREE, mdtrt_id, [(CAPTOPRIL, "12.50", "1")], dise_codg="M01600")
    answer = desk.upload(RETIREE, other)
    assert "feedetail[0].dise_codg=M01600" in (answer.err_msg or "")
    assert "同一收费批次号病种编号必须一致" in (answer.err_msg or "")
    unnamed = desk.fee_lines(RETIREE, mdtrt_id, [(CAPTOPRIL, "12.50", "1")])
    assert desk.upload(RETIREE, unnamed).infcode == 0


# -- 2503 / 2504 ------------------------------------------------------------------------------


def test_a_hospital_registration_opens_the_disease_and_its_cancel_closes_it(desk: Desk) -> None:
    registered = register_disease(desk, RETIREE, "M01600", begndate="2026-11-01")
    assert registered.infcode == 0, registered.err_msg
    serial = registered.output["result"]["trt_dcla_detl_sn"]
    assert serial.startswith("9")
    assert {"opsp_dise_code": "M01600", "opsp_dise_name": "糖尿病", "begndate": "2026-11-01",
            "enddate": None} in query(desk, RETIREE)  # fmt: skip
    mdtrt_id = chronic_visit(desk, RETIREE, "M01600")
    lines = desk.fee_lines(RETIREE, mdtrt_id, [(CAPTOPRIL, "12.50", "2")], dise_codg="M01600")
    assert desk.upload(RETIREE, lines).infcode == 0
    # cancelled between the visit information and the settlement: 2206 checks again
    assert cancel_disease(desk, RETIREE, serial).infcode == 0
    pre = desk.presettle(RETIREE, mdtrt_id, Decimal("25.00"), med_type="14")
    assert pre.error == "business.chronic_not_recognised"
    assert "dise_codg (2203)=M01600" in (pre.err_msg or "")
    assert "撤销" in (pre.err_msg or "")
    again = cancel_disease(desk, RETIREE, serial)
    assert again.error == "business.chronic_registration_not_found"
    assert "已撤销" in (again.err_msg or "")


@pytest.mark.parametrize(
    ("change", "error", "words"),
    [
        ({"opsp_dise_code": "M03900"}, "business.illegal_state", "请勿重复备案"),
        ({"insu_optins": "440300"}, "business.illegal_state", "insu_optins=440300"),
        ({"opsp_dise_code": "M99999"}, "business.chronic_disease_unknown", "M99999"),
        ({"enddate": "2026-01-01"}, "envelope.validation_failed", "enddate=2026-01-01 早于"),
        ({"hosp_ide_date": "2026-12-01"}, "envelope.validation_failed", "hosp_ide_date"),
    ],
)
def test_a_registration_breaking_a_rule_is_refused_and_writes_nothing(
    desk: Desk, change: dict[str, Any], error: str, words: str
) -> None:
    answer = register_disease(desk, RETIREE, "M01600", **change)
    assert (answer.infcode, answer.error) == (-1, error)
    assert words in (answer.err_msg or "")
    with desk.store.snapshot() as tx:
        assert tx.find(Recognition, tenant=desk.tenant) == []


def test_the_insured_places_own_recognition_cannot_be_cancelled_by_a_hospital(desk: Desk) -> None:
    fixture_serial = f"RF00{RETIREE}"
    answer = cancel_disease(desk, RETIREE, fixture_serial)
    assert answer.error == "business.illegal_state"
    assert "由参保地 530100 经办机构认定" in (answer.err_msg or "")
    unknown = cancel_disease(desk, RETIREE, "9000000000999")
    assert unknown.error == "business.chronic_registration_not_found"


# -- the admin services: per tenant, durable, reset with the tenant --------------------------


def test_recognitions_set_through_the_services_are_per_tenant_durable_and_reset(
    desk: Desk, services: PlatformServices, store: SqliteStore, engine: Engine
) -> None:
    row = services.recognise(desk.tenant, DIALYSIS, "M03900", begndate=date(2026, 1, 1))
    assert (row.insu_optins, row.insutype, row.source) == ("530100", "390", "insured_place")
    assert [r.opsp_dise_code for r in services.recognitions("H53010200002", DIALYSIS)] == [
        "M07803"
    ]  # another tenant sees the fixtures only
    with SqliteStore(store.path) as again:  # durable: another connection to the same file
        reopened = Engine(again, bundled_fixtures(), clock=lambda: START, options=EngineOptions())
        found = PlatformServices(reopened).recognitions(desk.tenant, DIALYSIS)
    assert [r.opsp_dise_code for r in found] == ["M07803", "M03900"]
    chronic_visit(desk, DIALYSIS, "M03900")
    services.withdraw_recognition(desk.tenant, DIALYSIS, f"RF00{DIALYSIS}")
    mdtrt_id = desk.register(DIALYSIS, "390").output["data"]["mdtrt_id"]
    assert visit_info(desk, DIALYSIS, mdtrt_id, "M07803").error == "business.chronic_not_recognised"
    services.reset_tenant(desk.tenant)
    kept = services.recognitions(desk.tenant, DIALYSIS)
    assert [(r.opsp_dise_code, r.status) for r in kept] == [("M07803", "active")]


def test_the_services_refuse_what_they_cannot_record(services: PlatformServices) -> None:
    with pytest.raises(ServiceError, match="opsp_dise_code"):
        services.recognise("H53010100001", RETIREE, "M99999", begndate=date(2026, 1, 1))
    with pytest.raises(ServiceError, match="insutype"):
        services.recognise(
            "H53010100001", RETIREE, "M03900", begndate=date(2026, 1, 1), insutype="390"
        )
    with pytest.raises(ServiceError, match="enddate"):
        services.recognise(
            "H53010100001", RETIREE, "M03900", begndate=date(2026, 1, 2), enddate=date(2026, 1, 1)
        )
    with pytest.raises(ServiceError, match="trt_dcla_detl_sn"):
        services.withdraw_recognition("H53010100001", RETIREE, "nope")

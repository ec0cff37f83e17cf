"""1101 by each certificate type (e-voucher token, ID number, social-security card) and 2001."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from nhsa.idcard import check_char
from nhsa.mock.engine import PlatformServices

from .conftest import CLASS_A_DRUG, PANLONG, START, Desk

LOCAL = "P53010000000001"
LOCAL_ID = "530102198503150018"
LOCAL_CARD = ("TA5300001", "530100D15600000500000000A1B2C3D4")
LOCAL_TOKEN = "ECTEST-530100-0001-4F2A9C1E"
CIVIL_SERVANT = "P53010000000003"
ASSISTED = "P53010000000005"
SHENZHEN_RESIDENT = "P44030000000010"  # 390, insured in 440300, no filing


def test_by_id_number(desk: Desk) -> None:
    answer = desk.person_info("02", LOCAL_ID)
    assert answer.infcode == 0
    base = answer.output["baseinfo"]
    assert (base["psn_no"], base["psn_name"], base["certno"]) == (LOCAL, "张晓峰", LOCAL_ID)
    assert base["age"] == Decimal("41.0")
    [row] = answer.output["insuinfo"]
    assert (row["insutype"], row["insuplc_admdvs"], row["balc"]) == (
        "310",
        "530100",
        Decimal("1378.15"),
    )


def test_balance_follows_the_tenants_settlements(desk: Desk) -> None:
    desk.charge(LOCAL, [(CLASS_A_DRUG, "10", "1")])
    [row] = desk.person_info("02", LOCAL_ID).output["insuinfo"]
    assert row["balc"] == Decimal("1368.15")


def test_by_social_security_card(desk: Desk) -> None:
    card_no, card_sn = LOCAL_CARD
    assert desk.person_info("03", card_no, card_sn).output["baseinfo"]["psn_no"] == LOCAL
    wrong = desk.person_info("03", card_no, "530100D15600000500000000FFFFFFFF")
    assert wrong.infcode == -1
    assert "就诊凭证无效或已过期：mdtrt_cert_type=03（社会保障卡）的 mdtrt_cert_no" in (
        wrong.err_msg or ""
    )
    assert "card_sn does not match social-security card TA5300001" in (wrong.err_msg or "")
    missing = desk.person_info("03", card_no)
    assert "card_sn（卡识别码）必填" in (missing.err_msg or "")


def test_by_e_voucher_token(desk: Desk, services: PlatformServices) -> None:
    assert desk.person_info("01", LOCAL_TOKEN).output["baseinfo"]["psn_no"] == LOCAL
    issued = services.issue_ec_token(desk.tenant, LOCAL, valid_for=timedelta(minutes=5))
    assert desk.person_info("01", issued.token).output["baseinfo"]["psn_no"] == LOCAL
    desk.now = START + timedelta(minutes=5)
    expired = desk.person_info("01", issued.token)
    assert expired.infcode == -1
    assert "电子凭证令牌已于 2026-11-23 09:05:00 过期" in (expired.err_msg or "")
    assert "ask the patient to refresh the QR code" in (expired.err_msg or "")
    unknown = desk.person_info("01", "ECT-NOT-ISSUED")
    assert "电子凭证令牌 ECT-NOT-ISSUED 不存在" in (unknown.err_msg or "")
    # a business refusal names the fields it refuses (a harness found these unnamed)
    assert "mdtrt_cert_type=01" in (unknown.err_msg or "")
    assert "mdtrt_cert_no" in (unknown.err_msg or "")


def test_issued_tokens_belong_to_their_tenant(desk: Desk, services: PlatformServices) -> None:
    issued = services.issue_ec_token("H53010200002", LOCAL)
    assert desk.person_info("01", issued.token).infcode == -1


def test_unknown_and_malformed_id_numbers(desk: Desk) -> None:
    unknown_id = "53010219900101001" + check_char("53010219900101001")
    unknown = desk.person_info("02", unknown_id)
    assert unknown.infcode == -1
    assert f"未查询到人员信息：居民身份证（mdtrt_cert_type=02）mdtrt_cert_no={unknown_id}" in (
        unknown.err_msg or ""
    )
    bad_digit = desk.person_info("02", LOCAL_ID[:17] + ("1" if LOCAL_ID[17] != "1" else "2"))
    assert "不符合 GB 11643" in (bad_digit.err_msg or "")


def test_name_given_with_the_certificate_must_match(desk: Desk) -> None:
    data = {
        "mdtrt_cert_type": "02",
        "mdtrt_cert_no": LOCAL_ID,
        "psn_cert_type": "01",
        "psn_name": "李四",
    }
    answer = desk.call("1101", {"data": data}, insuplc_admdvs="530100")
    assert "psn_name=李四 不符" in (answer.err_msg or "")


def test_several_insurance_rows_and_identities(desk: Desk) -> None:
    servant = desk.person_info("02", desk.person(CIVIL_SERVANT).certno).output
    assert [row["insutype"] for row in servant["insuinfo"]] == ["310", "320"]
    assisted = desk.person_info("02", desk.person(ASSISTED).certno).output
    assert [row["psn_idet_type"] for row in assisted["idetinfo"]] == ["A02"]
    assert assisted["idetinfo"][0]["begntime"] == "2023-01-01 00:00:00"


def _check(desk: Desk, psn_no: str, insutype: str, med_type: str = "11", **kw: str) -> dict:
    data = {
        "psn_no": psn_no,
        "insutype": insutype,
        "fixmedins_code": kw.get("fixmedins_code", desk.tenant),
        "med_type": med_type,
        "begntime": "2026-11-23 09:00:00",
    }
    answer = desk.call("2001", {"data": data}, insuplc_admdvs=desk.area_of(psn_no, insutype))
    assert answer.infcode == 0, answer.err_msg
    return {row["fund_pay_type"]: row for row in answer.output["trtinfo"]}


def test_entitlement_of_a_local_employee_and_a_civil_servant(desk: Desk) -> None:
    rows = _check(desk, LOCAL, "310")
    assert rows["310100"]["trt_enjymnt_flag"] == "1"
    assert rows["310200"]["trt_enjymnt_flag"] == "1"  # the personal account
    assert rows["320100"]["trt_enjymnt_flag"] == "0"  # not a civil servant
    servant = _check(desk, CIVIL_SERVANT, "310")
    assert servant["320100"]["trt_enjymnt_flag"] == "1"


def test_entitlement_of_an_unfiled_cross_province_patient(desk: Desk) -> None:
    rows = _check(desk, SHENZHEN_RESIDENT, "390")
    assert rows["390100"]["trt_enjymnt_flag"] == "1"
    assert "未备案临时外出就医" in rows["390100"]["trt_chk_rslt"]
    assert "unfiled temporary visit" in rows["390100"]["trt_chk_rslt"]


def test_entitlement_refused_reasons(desk: Desk) -> None:
    maternity = _check(desk, LOCAL, "310", med_type="51")
    assert {row["trt_enjymnt_flag"] for row in maternity.values()} == {"0"}
    assert (
        "no benefit rule for insutype 310, med_type 51"
        in next(iter(maternity.values()))["trt_chk_rslt"]
    )
    wrong = desk.call(
        "2001",
        {
            "data": {
                "psn_no": LOCAL,
                "insutype": "310",
                "fixmedins_code": "H53010200002",
                "med_type": "11",
                "begntime": "2026-11-23 09:00:00",
            }
        },
        insuplc_admdvs="530100",
    )
    assert "fixmedins_code=H53010200002 与报文机构 H53010100001 不符" in (wrong.err_msg or "")


def test_entitlement_at_a_hospital_not_networked_for_cross_province(desk: Desk) -> None:
    panlong = Desk(desk.engine, desk.store, tenant=PANLONG)
    panlong.sign_in()
    rows = _check(panlong, SHENZHEN_RESIDENT, "390")
    assert rows["390100"]["trt_enjymnt_flag"] == "0"
    assert "未开通跨省异地门诊直接结算" in rows["390100"]["trt_chk_rslt"]

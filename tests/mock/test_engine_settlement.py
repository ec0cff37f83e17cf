"""2206/2207/2208: the calculator's figures, the amount check, exact restoration, and the
insured-place, network and cross-region rules of registration."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from nhsa.mock.engine import PlatformServices
from nhsa.mock.engine._accounts import accumulators_from_json
from nhsa.mock.settlement import Accumulators
from nhsa.mock.store import Balance, Settlement, UploadedFeeLine, YearToDate

from .conftest import CLASS_A_DRUG, CONSULTATION, PANLONG, Desk

LOCAL = "P53010000000001"  # Kunming employee: deductible 300 at a 三级 hospital, ratio 0.60
SHENZHEN_RESIDENT = "P44030000000010"  # 390 in 440300, unfiled: res-outpatient 0.55 at 三级
BEIJING_RETIREE = "P11010000000011"  # 310 in 110100, filed retiree at 530100
D = Decimal


def _counters(desk: Desk, psn_no: str, area: str, benefit_id: str) -> Accumulators:
    with desk.store.snapshot() as tx:
        row = tx.get(YearToDate, desk.tenant, psn_no, 2026, area, benefit_id)
    return Accumulators() if row is None else accumulators_from_json(row.counters)


def _balance(desk: Desk, psn_no: str, insutype: str = "310") -> Decimal | None:
    with desk.store.snapshot() as tx:
        row = tx.get(Balance, desk.tenant, psn_no, insutype)
    return None if row is None else row.balance


def test_amount_mismatch_names_each_field_and_writes_nothing(desk: Desk) -> None:
    mdtrt_id = desk.open_visit(LOCAL)
    desk.upload(LOCAL, desk.fee_lines(LOCAL, mdtrt_id, [(CLASS_A_DRUG, "10", "3")]))
    pre = desk.presettle(LOCAL, mdtrt_id, D("30.00")).output["setlinfo"]
    wrong = {**pre, "inscp_scp_amt": D("29.00"), "preselfpay_amt": D("1.00")}
    answer = desk.settle(LOCAL, mdtrt_id, wrong)
    assert answer.infcode == -1
    message = answer.err_msg or ""
    assert message.startswith("结算金额与预结算不一致：preselfpay_amt, inscp_scp_amt")
    assert "preselfpay_amt 请求 1.00，费用明细合计 0.00" in message
    assert "inscp_scp_amt sent 29.00, the fee lines give 30.00" in message
    assert answer.state_changed is False
    with desk.store.snapshot() as tx:
        assert tx.find(Settlement, tenant=desk.tenant) == []
        assert {line.status for line in tx.find(UploadedFeeLine, tenant=desk.tenant)} == {
            "unsettled"
        }
    assert _balance(desk, LOCAL) is None
    medfee = desk.presettle(LOCAL, mdtrt_id, D("31.00"))
    assert "medfee_sumamt 请求 31.00，费用明细合计 30.00" in (medfee.err_msg or "")


def test_deductible_pooling_and_account(desk: Desk) -> None:
    # 420.00 in scope: 300.00 deductible; (420 − 300) × 0.60 = 72.00 pooling fund;
    # the person's 348.00 comes from the account: 1378.15 − 348.00 = 1030.15
    charge = desk.charge(LOCAL, [(CONSULTATION, "20", "1"), (CLASS_A_DRUG, "10", "40")])
    info = charge.setlinfo
    assert (info["act_pay_dedc"], info["hifp_pay"], info["pool_prop_selfpay"]) == (
        D("300.00"),
        D("72.00"),
        D("0.6000"),
    )
    assert (info["psn_part_amt"], info["acct_pay"], info["psn_cash_pay"], info["balc"]) == (
        D("348.00"),
        D("348.00"),
        D("0.00"),
        D("1030.15"),
    )
    assert _balance(desk, LOCAL) == D("1030.15")
    counters = _counters(desk, LOCAL, "530100", "emp-outpatient")
    assert (counters.deductible_used, counters.pooling_paid) == (D("300.00"), D("72.00"))


def test_reversal_restores_balance_and_counters_exactly(desk: Desk) -> None:
    first = desk.charge(LOCAL, [(CONSULTATION, "20", "1"), (CLASS_A_DRUG, "10", "40")])
    # the second visit finds the deductible used: 50.00 × 0.60 = 30.00 pooling, 20.00 account
    second = desk.charge(LOCAL, [(CLASS_A_DRUG, "10", "5")], prefix="S")
    assert second.setlinfo["hifp_pay"] == D("30.00")
    assert _balance(desk, LOCAL) == D("1010.15")

    refund = desk.cancel_settlement(LOCAL, first.mdtrt_id, first.setl_id)
    assert refund.infcode == 0
    info = refund.output["setlinfo"]
    assert info["medfee_sumamt"] == D("-420.00")
    assert info["hifp_pay"] == D("-72.00")
    assert info["psn_cash_pay"] == D("0.00")
    assert info["acct_pay"] == D("-348.00")
    assert info["balc"] == D("1358.15")
    assert info["setl_id"] == refund.effects["setl_id"] != first.setl_id
    assert refund.output["setldetail"][0]["fund_payamt"] < 0
    # exactly the second settlement remains: its own delta and its own account payment
    assert _balance(desk, LOCAL) == D("1358.15")
    counters = _counters(desk, LOCAL, "530100", "emp-outpatient")
    assert (counters.deductible_used, counters.pooling_paid) == (D("0.00"), D("30.00"))
    with desk.store.snapshot() as tx:
        negative = tx.get(Settlement, desk.tenant, refund.effects["setl_id"])
        original = tx.get(Settlement, desk.tenant, first.setl_id)
    assert negative is not None
    assert original is not None
    assert (negative.refd_setl_flag, negative.reverses) == ("1", first.setl_id)
    assert original.reversed_by == negative.setl_id
    assert negative.medfee_sumamt == -original.medfee_sumamt


def test_account_not_used_when_the_flag_is_zero(desk: Desk) -> None:
    charge = desk.charge(LOCAL, [(CLASS_A_DRUG, "10", "2")], acct_used_flag="0")
    assert (charge.setlinfo["acct_pay"], charge.setlinfo["psn_cash_pay"]) == (D("0.00"), D("20.00"))
    assert charge.setlinfo["balc"] == D("1378.15")


def test_unfiled_cross_province_visit_loses_twenty_points(desk: Desk) -> None:
    charge = desk.charge(SHENZHEN_RESIDENT, [(CLASS_A_DRUG, "10", "10")], insutype="390")
    info = charge.setlinfo
    assert info["pool_prop_selfpay"] == D("0.3500")  # 0.55 − 0.20
    assert info["hifp_pay"] == D("35.00")
    assert charge.settlement.effects["password"].startswith("not checked: cross-province")


def test_emergency_filing_override_loses_ten_points(desk: Desk, services: PlatformServices) -> None:
    services.set_filing(
        desk.tenant, SHENZHEN_RESIDENT, "emergency", area="530100", begndate=date(2026, 11, 1)
    )
    charge = desk.charge(SHENZHEN_RESIDENT, [(CLASS_A_DRUG, "10", "10")], insutype="390")
    assert charge.setlinfo["pool_prop_selfpay"] == D("0.4500")  # 0.55 − 0.10


def test_emergency_med_type_counts_as_emergency(desk: Desk) -> None:
    charge = desk.charge(
        SHENZHEN_RESIDENT, [(CLASS_A_DRUG, "10", "10")], insutype="390", med_type="13"
    )
    assert charge.setlinfo["pool_prop_selfpay"] == D("0.4500")


def test_filed_retiree_settles_like_a_local(desk: Desk) -> None:
    # Beijing: 0.70 at a 三级 hospital, retirees +0.15, filed retiree: no cross-region change
    charge = desk.charge(BEIJING_RETIREE, [(CLASS_A_DRUG, "10", "10")])
    assert charge.setlinfo["pool_prop_selfpay"] == D("0.8500")


def test_registration_with_the_hospitals_own_area_is_refused(desk: Desk) -> None:
    answer = desk.register(SHENZHEN_RESIDENT, "390", insuplc_admdvs="530100")
    assert answer.infcode == -1
    message = answer.err_msg or ""
    assert "insuplc_admdvs=530100 与参保地不符，应为 440300" in message
    assert "(the hospital's own area)" in message
    later = desk.open_visit(SHENZHEN_RESIDENT, "390")
    uploaded = desk.call(
        "2204",
        {"feedetail": desk.fee_lines(SHENZHEN_RESIDENT, later, [(CLASS_A_DRUG, "1", "1")])},
        insuplc_admdvs="530100",
    )
    assert "挂号时的参保地 440300 不符" in (uploaded.err_msg or "")


def test_insurance_the_person_does_not_hold(desk: Desk) -> None:
    answer = desk.register(LOCAL, "390", insuplc_admdvs="530100")
    assert "未参加险种 insutype=390（已参保险种：310）" in (answer.err_msg or "")


def test_certificate_of_another_person_is_refused(desk: Desk) -> None:
    envelope = desk.envelope(
        "2201",
        {
            "data": {
                "psn_no": LOCAL,
                "insutype": "310",
                "begntime": "2026-11-23 09:00:00",
                "mdtrt_cert_type": "02",
                "mdtrt_cert_no": desk.person(BEIJING_RETIREE).certno,
                "ipt_otp_no": "MZ1",
                "atddr_no": "D1",
                "dr_name": "医师丁",
                "dept_code": "0301",
                "dept_name": "内科",
                "caty": "A03",
            }
        },
        insuplc_admdvs="530100",
    )
    answer = desk.send(envelope)
    assert "属于其他人员，不是 psn_no=P53010000000001" in (answer.err_msg or "")


def test_hospital_not_networked_for_cross_province(desk: Desk) -> None:
    panlong = Desk(desk.engine, desk.store, tenant=PANLONG)
    panlong.sign_in()
    answer = panlong.register(SHENZHEN_RESIDENT, "390")
    assert answer.infcode == -1
    assert "未开通跨省异地门诊直接结算" in (answer.err_msg or "")
    assert "the patient pays in full and claims at the insured place" in (answer.err_msg or "")


def test_password_notes(desk: Desk) -> None:
    plain = desk.charge(LOCAL, [(CLASS_A_DRUG, "1", "1")])
    assert plain.settlement.effects["password"].startswith("not verified")
    mdtrt_id = desk.open_visit(LOCAL)
    desk.upload(LOCAL, desk.fee_lines(LOCAL, mdtrt_id, [(CLASS_A_DRUG, "1", "1")]))
    pre = desk.presettle(LOCAL, mdtrt_id, D("1.00")).output["setlinfo"]
    data = desk.settlement_data(LOCAL, mdtrt_id, pre["medfee_sumamt"])
    for name in ("fulamt_ownpay_amt", "overlmt_selfpay", "preselfpay_amt", "inscp_scp_amt"):
        data[name] = pre[name]
    mock = desk.call("2207", {"data": data}, insuplc_admdvs="530100", signtype="MOCK")
    assert mock.effects["password"] == "not checked: signtype MOCK (test mode)"


def test_settlement_query_5203(desk: Desk) -> None:
    charge = desk.charge(LOCAL, [(CLASS_A_DRUG, "10", "2")])
    info = desk.query_settlement(LOCAL, charge.mdtrt_id, charge.setl_id).output["setlinfo"]
    assert info["setl_id"] == charge.setl_id
    assert info["refd_setl_flag"] == "0"
    assert (info["pay_loc"], info["fixmedins_code"], info["year"]) == ("2", desk.tenant, "2026")
    assert info["cash_payamt"] == charge.setlinfo["psn_cash_pay"]
    refund = desk.cancel_settlement(LOCAL, charge.mdtrt_id, charge.setl_id)
    negative = desk.query_settlement(LOCAL, charge.mdtrt_id, refund.effects["setl_id"])
    assert negative.output["setlinfo"]["refd_setl_flag"] == "1"
    assert negative.output["setlinfo"]["medfee_sumamt"] == D("-20.00")
    missing = desk.query_settlement(LOCAL, charge.mdtrt_id, "4000000999999")
    assert "结算信息不存在：setl_id=4000000999999" in (missing.err_msg or "")
    cross = desk.charge(SHENZHEN_RESIDENT, [(CLASS_A_DRUG, "1", "1")], insutype="390")
    queried = desk.query_settlement(SHENZHEN_RESIDENT, cross.mdtrt_id, cross.setl_id)
    assert queried.output["setlinfo"]["pay_loc"] == "4"

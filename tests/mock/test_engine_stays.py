"""Inpatient stays on the engine: admission, fee batches, mid-way and final settlement,
cancellations newest first, one deductible per stay, the password rule, 2601 and 3201.

Kunming's employee rule at a 三级 hospital (fixtures/policies/530100.yaml): deductible 900.00
once a stay (a second stay of the year pays 80 % of it), ratio 0.85. Person P53010000000001
holds 1378.15 in the personal account.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from nhsa.mock.store import (
    Balance,
    PreSettlement,
    Settlement,
    Stay,
    UploadedFeeLine,
    YearToDate,
)

from .conftest import CLASS_A_DRUG, CLASS_B_DRUG, START, Desk
from .stays import Ward

D = Decimal
LOCAL = "P53010000000001"  # Kunming employee, local to the Kunming 三级 hospital
SHENZHEN = "P44030000000010"  # Shenzhen resident (390), unfiled: cross-province in Kunming
BED = "110900001000000"  # 普通病房床位费, 甲类, cap 60.00


@pytest.fixture
def ward(desk: Desk) -> Ward:
    return Ward(desk)


def _business(desk: Desk) -> dict[str, Any]:
    with desk.store.snapshot() as tx:
        tenant = desk.tenant
        return {
            kind.__name__: sorted(map(repr, tx.find(kind, tenant=tenant)))
            for kind in (Stay, UploadedFeeLine, PreSettlement, Settlement, Balance, YearToDate)
        }


@pytest.fixture
def unchanged(desk: Desk) -> Iterator[Any]:
    """Call it before a refusal and again after: the business tables must be the same."""
    taken: list[dict[str, Any]] = []

    def check() -> None:
        taken.append(_business(desk))
        if len(taken) % 2 == 0:
            assert taken[-1] == taken[-2], "a refusal changed the platform's state"

    return check


def _info(answer: Any) -> dict[str, Any]:
    info: dict[str, Any] = answer.output["setlinfo"]
    return info


# -- a stay end to end ---------------------------------------------------------------------------


def test_a_stay_admitted_charged_over_two_days_discharged_and_settled(ward: Ward) -> None:
    mdtrt_id = ward.open_stay(LOCAL)
    first = ward.fees(LOCAL, mdtrt_id, [(BED, "50", "1"), (CLASS_A_DRUG, "100", "6")], prefix="A")
    ward.day(1)
    second = ward.fees(LOCAL, mdtrt_id, [(BED, "50", "1"), (CLASS_B_DRUG, "200", "2")], prefix="B")
    ward.day(2)
    assert ward.discharge(LOCAL, mdtrt_id).infcode == 0
    total = first + second
    settled = ward.settled(LOCAL, mdtrt_id, total)
    info = _info(settled)
    # 乙类 drug: 5 % first self-paid of 400.00 = 20.00; in scope 700.00 + 380.00.
    inscp = D("1080.00")
    assert (info["medfee_sumamt"], info["inscp_scp_amt"], info["preselfpay_amt"]) == (
        D("1100.00"),
        inscp,
        D("20.00"),
    )
    assert info["act_pay_dedc"] == D("900.00")
    assert info["hifp_pay"] == ((inscp - 900) * D("0.85")).quantize(D("0.01"))
    assert (info["clr_type"], info["med_type"]) == ("21", "21")  # 住院 clearing, 普通住院
    assert settled.effects["mid_setl_flag"] == "0"
    assert settled.effects["password"].startswith("verified")
    with ward.desk.store.snapshot() as tx:
        lines = tx.find(UploadedFeeLine, tenant=ward.desk.tenant, mdtrt_id=mdtrt_id)
        batches = {line.chrg_bchno for line in lines}
    assert len(batches) == 2  # one batch per 2301 call, kept by its msgid
    assert all(line.setl_id == info["setl_id"] for line in lines)


def test_two_mid_way_settlements_a_refund_and_the_final_one_share_one_deductible(
    ward: Ward,
) -> None:
    desk = ward.desk
    mdtrt_id = ward.open_stay(LOCAL)
    ward.fees(LOCAL, mdtrt_id, [(CLASS_A_DRUG, "100", "6")], prefix="A")  # day 0: 600
    ward.day(1)
    ward.fees(LOCAL, mdtrt_id, [(CLASS_A_DRUG, "100", "8")], prefix="B")  # day 1: 800
    ward.day(2)
    ward.fees(LOCAL, mdtrt_id, [(CLASS_A_DRUG, "100", "10")], prefix="C")  # day 2: 1000
    # Mid-way up to day 1: the day-2 batch stays unsettled.
    mid1 = _info(ward.settled(LOCAL, mdtrt_id, D("1400.00"), mid=True, until=date(2026, 11, 24)))
    assert (mid1["medfee_sumamt"], mid1["act_pay_dedc"], mid1["hifp_pay"]) == (
        D("1400.00"),
        D("900.00"),
        D("425.00"),
    )
    assert mid1["acct_pay"] == D("975.00")  # the person's part, from the account
    ward.day(3)
    mid2 = _info(ward.settled(LOCAL, mdtrt_id, D("1000.00"), mid=True, until=date(2026, 11, 25)))
    assert (mid2["act_pay_dedc"], mid2["hifp_pay"], mid2["acct_pay"]) == (
        D("0.00"),
        D("850.00"),
        D("150.00"),
    )
    # The first mid-way settlement is not the newest: refused, nothing changes.
    wrong = ward.cancel_settlement(LOCAL, mdtrt_id, mid1["setl_id"])
    assert wrong.error == "business.cancel_order"
    assert f"先撤销 setl_id={mid2['setl_id']}" in (wrong.err_msg or "")
    refund = ward.cancel_settlement(LOCAL, mdtrt_id, mid2["setl_id"])
    assert refund.infcode == 0
    assert refund.output["setlinfo"]["medfee_sumamt"] == D("-1000.00")
    ward.fees(LOCAL, mdtrt_id, [(CLASS_A_DRUG, "100", "5")], prefix="D")  # day 3: 500
    ward.day(4)
    assert ward.discharge(LOCAL, mdtrt_id).infcode == 0
    final = _info(ward.settled(LOCAL, mdtrt_id, D("1500.00")))
    # The deductible was taken once (by the first part); the final part pays none.
    assert (final["act_pay_dedc"], final["hifp_pay"], final["acct_pay"]) == (
        D("0.00"),
        D("1275.00"),
        D("225.00"),
    )
    assert final["balc"] == D("1378.15") - D("975.00") - D("225.00")

    # Day end: the ledger's inpatient rows (clr_type 21) balance against the HIS's totals.
    with desk.store.snapshot() as tx:
        rows = [r for r in tx.find(Settlement, tenant=desk.tenant) if r.mdtrt_id == mdtrt_id]
    assert sorted(r.refd_setl_flag for r in rows) == ["0", "0", "0", "1"]
    assert {r.clr_type for r in rows} == {"21"}
    data = {
        "insutype": "310",
        "clr_type": "21",
        "setl_optins": "530100",
        "stmt_begndate": "2026-11-23",
        "stmt_enddate": "2026-11-27",
        "medfee_sumamt": D("2900.00"),
        "fund_pay_sumamt": D("1700.00"),
        "acct_pay": D("1200.00"),
        "fixmedins_setl_cnt": 4,
        "refd_setl_flag": None,
    }
    assert desk.call("3201", {"data": data}).output["stmtinfo"]["stmt_rslt"] == "0"
    outpatient = desk.call("3201", {"data": {**data, "clr_type": "11"}})
    assert outpatient.output["stmtinfo"]["stmt_rslt"] == "2"  # the platform has no such rows


def test_a_later_stay_of_the_year_pays_its_share_of_the_deductible(ward: Ward) -> None:
    first = ward.open_stay(LOCAL)
    ward.fees(LOCAL, first, [(CLASS_A_DRUG, "100", "20")], prefix="A")
    ward.day(1)
    ward.discharge(LOCAL, first)
    assert _info(ward.settled(LOCAL, first, D("2000.00")))["act_pay_dedc"] == D("900.00")
    ward.day(10)
    second = ward.open_stay(LOCAL)
    ward.fees(LOCAL, second, [(CLASS_A_DRUG, "100", "20")], prefix="A")
    ward.day(11)
    ward.discharge(LOCAL, second)
    assert _info(ward.settled(LOCAL, second, D("2000.00")))["act_pay_dedc"] == D("720.00")


def test_a_cross_province_stay_needs_no_password_and_loses_points(ward: Ward) -> None:
    mdtrt_id = ward.open_stay(SHENZHEN, "390")
    ward.fees(SHENZHEN, mdtrt_id, [(CLASS_A_DRUG, "100", "10")], prefix="A")
    ward.day(1)
    assert ward.discharge(SHENZHEN, mdtrt_id, insutype="390").infcode == 0
    settled = ward.settled(SHENZHEN, mdtrt_id, D("1000.00"), card_token=None, insutype="390")
    assert "cross-province" in settled.effects["password"]
    # Shenzhen residents at a 三级 hospital: deductible 900.00, 0.70, −0.20 unfiled temporary.
    info = _info(settled)
    assert (info["pool_prop_selfpay"], info["act_pay_dedc"], info["hifp_pay"]) == (
        D("0.5000"),
        D("900.00"),
        D("50.00"),
    )


# -- refusals: each its own err_msg, nothing changed -----------------------------------------------


def test_fees_of_a_discharged_stay_are_refused(ward: Ward, unchanged: Any) -> None:
    mdtrt_id = ward.open_stay(LOCAL)
    ward.fees(LOCAL, mdtrt_id, [(BED, "50", "1")], prefix="A")
    ward.discharge(LOCAL, mdtrt_id)
    unchanged()
    late = ward.upload(LOCAL, ward.lines(LOCAL, mdtrt_id, [(BED, "50", "1")], prefix="B"))
    cancel = ward.cancel_fees(LOCAL, mdtrt_id, "0000")
    unchanged()
    assert (late.error, cancel.error) == ("business.stay_discharged", "business.stay_discharged")
    assert "已于 2026-11-23 09:00:00 出院(2402)，不能上传费用明细" in (late.err_msg or "")
    assert "cancel the discharge (2405)" in (late.err_msg or "")
    assert ward.cancel_discharge(LOCAL, mdtrt_id).infcode == 0
    assert (
        ward.upload(LOCAL, ward.lines(LOCAL, mdtrt_id, [(BED, "50", "1")], prefix="B")).infcode == 0
    )


def test_fees_only_for_the_stays_time(ward: Ward, unchanged: Any) -> None:
    mdtrt_id = ward.open_stay(LOCAL, begntime=START.replace(hour=10))
    unchanged()
    early = ward.upload(LOCAL, ward.lines(LOCAL, mdtrt_id, [(BED, "50", "1")], prefix="A"))
    unchanged()
    assert early.error == "business.fee_outside_stay"
    assert "A001@2026-11-23 09:00:00 早于入院时间 2026-11-23 10:00:00" in (early.err_msg or "")
    ward.day(1)
    ward.fees(LOCAL, mdtrt_id, [(BED, "50", "1")], prefix="B")
    unchanged()
    too_soon = ward.discharge(LOCAL, mdtrt_id, endtime=START.replace(hour=12))
    unchanged()
    assert too_soon.error == "business.fee_outside_stay"
    assert "B001@2026-11-24 09:00:00 晚于出院时间 2026-11-23 12:00:00" in (too_soon.err_msg or "")


def test_a_settlement_without_its_pre_settlement_is_refused(ward: Ward, unchanged: Any) -> None:
    mdtrt_id = ward.open_stay(LOCAL)
    ward.fees(LOCAL, mdtrt_id, [(BED, "50", "2")], prefix="A")
    ward.discharge(LOCAL, mdtrt_id)
    pre = {"medfee_sumamt": D("100.00"), **dict.fromkeys(("fulamt_ownpay_amt", "overlmt_selfpay",
           "preselfpay_amt"), D("0.00")), "inscp_scp_amt": D("100.00")}  # fmt: skip
    unchanged()
    blind = ward.settle(LOCAL, mdtrt_id, pre)
    unchanged()
    assert blind.error == "business.not_presettled"
    assert "未调用【2303】住院预结算" in (blind.err_msg or "")
    # A pre-settlement of the other kind does not count either.
    assert ward.presettle(LOCAL, mdtrt_id, D("100.00")).infcode == 0
    ward.cancel_discharge(LOCAL, mdtrt_id)
    ward.fees(LOCAL, mdtrt_id, [(BED, "50", "1")], prefix="B")
    ward.discharge(LOCAL, mdtrt_id)
    unchanged()
    changed = ward.settle(LOCAL, mdtrt_id, {**pre, "medfee_sumamt": D("150.00")})
    unchanged()
    assert changed.error == "business.not_presettled"
    assert "预结算(msgid=" in (changed.err_msg or "")
    assert "请重新预结算(2303)" in (changed.err_msg or "")


def test_the_final_settlement_needs_the_discharge(ward: Ward, unchanged: Any) -> None:
    mdtrt_id = ward.open_stay(LOCAL)
    ward.fees(LOCAL, mdtrt_id, [(BED, "50", "2")], prefix="A")
    unchanged()
    pre = ward.presettle(LOCAL, mdtrt_id, D("100.00"))
    unchanged()
    assert pre.error == "business.not_discharged"
    assert "请先办理出院(2402)" in (pre.err_msg or "")
    assert "mid_setl_flag 1" in (pre.err_msg or "")
    # A mid-way settlement of a discharged stay is refused the other way round.
    ward.discharge(LOCAL, mdtrt_id)
    unchanged()
    midway = ward.presettle(LOCAL, mdtrt_id, D("100.00"), mid=True)
    unchanged()
    assert midway.error == "business.stay_discharged"


def test_the_totals_are_checked_against_the_platforms_lines(ward: Ward, unchanged: Any) -> None:
    mdtrt_id = ward.open_stay(LOCAL)
    ward.fees(LOCAL, mdtrt_id, [(BED, "50", "2")], prefix="A")
    ward.discharge(LOCAL, mdtrt_id)
    unchanged()
    short = ward.presettle(LOCAL, mdtrt_id, D("50.00"))
    unchanged()
    assert short.error == "business.amount_mismatch"
    assert "medfee_sumamt 请求 50.00，费用明细合计 100.00" in (short.err_msg or "")


def test_the_password_rule_of_a_local_stay(ward: Ward, unchanged: Any) -> None:
    mdtrt_id = ward.open_stay(LOCAL)
    ward.fees(LOCAL, mdtrt_id, [(BED, "50", "2")], prefix="A")
    ward.discharge(LOCAL, mdtrt_id)
    pre = _info(ward.presettle(LOCAL, mdtrt_id, D("100.00")))
    unchanged()
    missing = ward.settle(LOCAL, mdtrt_id, pre, card_token=None)
    foreign = ward.settle(LOCAL, mdtrt_id, pre, card_token="ECTEST-530100-0002-8B7D3E05")
    unchanged()
    assert (missing.error, foreign.error) == (
        "business.password_not_verified",
        "business.password_not_verified",
    )
    assert '{"card_token": …}' in (missing.err_msg or "")
    assert "不是人员 P53010000000001 的电子凭证或社保卡校验介质" in (foreign.err_msg or "")
    card = ward.desk.person(LOCAL).certificates.social_security_card
    assert card is not None
    assert ward.settle(LOCAL, mdtrt_id, pre, card_token=card.card_sn).infcode == 0


def test_signtype_mock_skips_the_password_check(ward: Ward) -> None:
    mdtrt_id = ward.open_stay(LOCAL)
    ward.fees(LOCAL, mdtrt_id, [(BED, "50", "2")], prefix="A")
    ward.discharge(LOCAL, mdtrt_id)
    pre = _info(ward.presettle(LOCAL, mdtrt_id, D("100.00")))
    data = ward.settlement_data(LOCAL, mdtrt_id, pre["medfee_sumamt"])
    answer = ward.desk.call("2304", {"data": data}, insuplc_admdvs="530100", signtype="MOCK")
    assert answer.infcode == 0
    assert answer.effects["password"] == "not checked: signtype MOCK (test mode)"


def test_fee_cancellation_goes_newest_batch_first(ward: Ward, unchanged: Any) -> None:
    mdtrt_id = ward.open_stay(LOCAL)
    ward.fees(LOCAL, mdtrt_id, [(BED, "50", "1"), (CLASS_A_DRUG, "10", "1")], prefix="A")
    ward.fees(LOCAL, mdtrt_id, [(BED, "50", "1")], prefix="B")
    unchanged()
    older = ward.cancel_fees(LOCAL, mdtrt_id, "A001")
    unknown = ward.cancel_fees(LOCAL, mdtrt_id, ["A001", "X999"])
    unchanged()
    assert older.error == "business.cancel_order"
    assert "尚有未结算明细 B001" in (older.err_msg or "")
    assert "X999 不是住院" in (unknown.err_msg or "")
    assert "无可撤销" in (unknown.err_msg or "")
    # The newest batch as an object, then an older line and the rest of its batch as an array.
    assert ward.cancel_fees(LOCAL, mdtrt_id, "B001").infcode == 0
    assert ward.cancel_fees(LOCAL, mdtrt_id, ["A002", "A001"]).effects["cancelled_lines"] == "2"
    nothing = ward.cancel_fees(LOCAL, mdtrt_id, "0000")
    assert "无可撤销" in (nothing.err_msg or "")


def test_refund_lines_name_their_line_and_net_the_total(ward: Ward, unchanged: Any) -> None:
    mdtrt_id = ward.open_stay(LOCAL)
    ward.fees(LOCAL, mdtrt_id, [(CLASS_B_DRUG, "20", "10")], prefix="A")
    (back,) = ward.lines(LOCAL, mdtrt_id, [(CLASS_B_DRUG, "20", "-4")], prefix="R")
    answer = ward.upload(LOCAL, [{**back, "init_feedetl_sn": "A001"}])
    assert answer.infcode == 0
    (row,) = answer.output["result"]
    assert (row["det_item_fee_sumamt"], row["cnt"], row["preselfpay_amt"]) == (
        D("-80.00"),
        D("-4"),
        D("-4.00"),
    )
    unchanged()
    (more,) = ward.lines(LOCAL, mdtrt_id, [(CLASS_B_DRUG, "20", "-7")], prefix="S")
    over = ward.upload(LOCAL, [{**more, "init_feedetl_sn": "A001"}])
    orphan = ward.upload(LOCAL, [{**more, "init_feedetl_sn": None}])
    unchanged()
    assert "超过原明细 A001 可退数量 6" in (over.err_msg or "")
    assert "init_feedetl_sn" in (orphan.err_msg or "")
    ward.discharge(LOCAL, mdtrt_id)
    assert _info(ward.settled(LOCAL, mdtrt_id, D("120.00")))["preselfpay_amt"] == D("6.00")


def test_an_admission_is_cancelled_only_when_nothing_stands_on_it(
    ward: Ward, unchanged: Any
) -> None:
    mdtrt_id = ward.open_stay(LOCAL)
    ward.fees(LOCAL, mdtrt_id, [(BED, "50", "1")], prefix="A")
    again = ward.admit(LOCAL)
    assert "已在院（住院 mdtrt_id=" in (again.err_msg or "")
    unchanged()
    with_fees = ward.cancel_admission(LOCAL, mdtrt_id)
    unchanged()
    assert '请先撤销费用明细(2302，feedetl_sn 传"0000")' in (with_fees.err_msg or "")
    assert ward.cancel_fees(LOCAL, mdtrt_id, "0000").infcode == 0
    assert ward.cancel_admission(LOCAL, mdtrt_id).infcode == 0
    after = ward.upload(LOCAL, ward.lines(LOCAL, mdtrt_id, [(BED, "50", "1")], prefix="B"))
    assert "入院已撤销(2404)" in (after.err_msg or "")
    assert ward.admit(LOCAL).infcode == 0  # the patient may be admitted again


def test_a_discharge_is_undone_only_before_the_final_settlement(ward: Ward) -> None:
    mdtrt_id = ward.open_stay(LOCAL)
    ward.fees(LOCAL, mdtrt_id, [(BED, "50", "2")], prefix="A")
    ward.discharge(LOCAL, mdtrt_id)
    setl_id = _info(ward.settled(LOCAL, mdtrt_id, D("100.00")))["setl_id"]
    settled = ward.cancel_discharge(LOCAL, mdtrt_id)
    assert f"已出院结算(setl_id={setl_id})，不能撤销出院；请先撤销结算(2305)" in (
        settled.err_msg or ""
    )
    assert ward.cancel_settlement(LOCAL, mdtrt_id, setl_id).infcode == 0
    assert ward.cancel_discharge(LOCAL, mdtrt_id).infcode == 0
    twice = ward.cancel_discharge(LOCAL, mdtrt_id)
    assert "未办理出院，无可撤销" in (twice.err_msg or "")


# -- 2601 --------------------------------------------------------------------------------------


def test_2601_reverses_a_settlement_newest_first_restores_a_cancellation_and_an_admission(
    ward: Ward,
) -> None:
    desk = ward.desk
    mdtrt_id = ward.open_stay(LOCAL)
    ward.fees(LOCAL, mdtrt_id, [(CLASS_A_DRUG, "100", "10")], prefix="A")
    first = ward.settled(LOCAL, mdtrt_id, D("1000.00"), mid=True)
    ward.fees(LOCAL, mdtrt_id, [(CLASS_A_DRUG, "100", "2")], prefix="B")
    second = ward.settled(LOCAL, mdtrt_id, D("200.00"), mid=True)
    sent = [(e["infno"], e["msgid"]) for e in desk.envelopes[-5:]]
    assert [infno for infno, _ in sent] == ["2303", "2304", "2301", "2303", "2304"]
    out_of_order = desk.reverse(LOCAL, sent[1][1], "2304")
    assert out_of_order.error == "business.cancel_order"
    newest = desk.reverse(LOCAL, sent[4][1], "2304")
    assert newest.infcode == 0
    assert newest.effects["voided_setl_id"] == _info(second)["setl_id"]
    with desk.store.snapshot() as tx:  # void, as if never booked: no negative row
        rows = tx.find(Settlement, tenant=desk.tenant, mdtrt_id=mdtrt_id)
    assert sorted((row.setl_id, row.status) for row in rows) == sorted(
        [(_info(first)["setl_id"], "active"), (_info(second)["setl_id"], "voided")]
    )
    cancel = ward.cancel_settlement(LOCAL, mdtrt_id, _info(first)["setl_id"])
    assert cancel.infcode == 0
    restored = desk.reverse(LOCAL, desk.envelopes[-1]["msgid"], "2305")
    assert restored.effects["restored_setl_id"] == _info(first)["setl_id"]

    stay = ward.admit("P53010000000002")
    assert stay.infcode == 0
    undone = desk.reverse("P53010000000002", desk.envelopes[-1]["msgid"], "2401")
    assert undone.infcode == 0
    assert undone.effects["mdtrt_id"] == stay.output["result"]["mdtrt_id"]
    with desk.store.snapshot() as tx:
        cancelled = tx.get(Stay, desk.tenant, stay.output["result"]["mdtrt_id"])
    assert cancelled is not None
    assert cancelled.status == "cancelled"


def test_a_residents_stay_is_paid_by_serious_illness_insurance_and_medical_assistance(
    ward: Ward,
) -> None:
    # P53010000000005: Kunming resident (390) with the 低保 identity A02. Kunming's resident
    # rule at a 三级 hospital: deductible 800.00, ratio 0.60; 大病保险 pays 0.60 of the burden
    # above 15 000, then 医疗救助 0.70 of what is left.
    resident = "P53010000000005"
    mdtrt_id = ward.open_stay(resident, "390")
    ward.fees(resident, mdtrt_id, [(CLASS_A_DRUG, "100", "600")], prefix="A")
    ward.discharge(resident, mdtrt_id, insutype="390")
    info = _info(ward.settled(resident, mdtrt_id, D("60000.00"), insutype="390"))
    pooled = (D("60000.00") - 800) * D("0.60")
    burden = D("60000.00") - pooled
    hifmi = (burden - 15000) * D("0.60")
    assert (info["hifp_pay"], info["hifmi_pay"]) == (pooled, hifmi)
    assert info["maf_pay"] == ((burden - hifmi) * D("0.70")).quantize(D("0.01"))
    assert info["psn_cash_pay"] == D("60000.00") - info["fund_pay_sumamt"]


def test_a_filed_referral_from_another_city_of_the_province_loses_its_points(
    ward: Ward,
) -> None:
    # P53030000000008: Qujing resident, referral filed to Kunming. Qujing's resident rule at a
    # 三级 hospital: deductible 700.00, ratio 0.60, in-province referral −0.05; in-province, so
    # the password medium is checked.
    referred = "P53030000000008"
    mdtrt_id = ward.open_stay(referred, "390")
    ward.fees(referred, mdtrt_id, [(CLASS_A_DRUG, "100", "20")], prefix="A")
    ward.discharge(referred, mdtrt_id, insutype="390")
    settled = ward.settled(referred, mdtrt_id, D("2000.00"), insutype="390")
    info = _info(settled)
    assert (info["pool_prop_selfpay"], info["act_pay_dedc"], info["hifp_pay"]) == (
        D("0.5500"),
        D("700.00"),
        D("715.00"),
    )
    assert settled.effects["password"].startswith("verified")

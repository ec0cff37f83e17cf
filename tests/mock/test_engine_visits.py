"""The outpatient visit state machine: happy paths and every illegal step with its message."""

from __future__ import annotations

from decimal import Decimal

from nhsa.mock.store import CANCELLED, UNSETTLED, UploadedFeeLine, Visit

from .conftest import (
    CAPPED_DRESSING,
    CLASS_A_DRUG,
    CLASS_B_DRUG,
    CLASS_C_DRUG,
    CONSULTATION,
    Desk,
)

LOCAL = "P53010000000001"  # 张晓峰, Kunming employee (310), account 1378.15


def _lines(desk: Desk, store_tenant: str, mdtrt_id: str) -> list[UploadedFeeLine]:
    with desk.store.snapshot() as tx:
        return tx.find(UploadedFeeLine, tenant=store_tenant, mdtrt_id=mdtrt_id)


def test_a_whole_outpatient_charge(desk: Desk) -> None:
    registered = desk.register(LOCAL, ipt_otp_no="MZ0001")
    assert registered.infcode == 0
    data = registered.output["data"]
    assert (data["psn_no"], data["ipt_otp_no"]) == (LOCAL, "MZ0001")
    mdtrt_id = data["mdtrt_id"]
    assert len(mdtrt_id) <= 30
    assert registered.effects == {"mdtrt_id": mdtrt_id}

    assert desk.visit_info(LOCAL, mdtrt_id).infcode == 0
    lines = desk.fee_lines(
        LOCAL,
        mdtrt_id,
        [(CLASS_B_DRUG, "4.52", "1"), (CONSULTATION, "20", "1"), (CLASS_C_DRUG, "35.5", "2")],
    )
    uploaded = desk.upload(LOCAL, lines)
    assert uploaded.infcode == 0
    result = {row["feedetl_sn"]: row for row in uploaded.output["result"]}
    # the real sample: 4.52 at selfpay_prop 0.05 → 0.23 first self-pay, 4.29 in scope
    assert (result["F001"]["preselfpay_amt"], result["F001"]["inscp_scp_amt"]) == (
        Decimal("0.23"),
        Decimal("4.29"),
    )
    assert result["F003"]["fulamt_ownpay_amt"] == Decimal("71.00")
    assert result["F003"]["chrgitm_lv"] == "03"

    pre = desk.presettle(LOCAL, mdtrt_id, Decimal("95.52"))
    assert pre.infcode == 0
    assert pre.state_changed is False
    pre_info = pre.output["setlinfo"]
    assert pre_info["setl_id"] is None
    assert pre_info["medfee_sumamt"] == Decimal("95.52")
    assert pre_info["inscp_scp_amt"] == Decimal("24.29")

    settle_msgid = f"{desk.tenant}{desk.now:%Y%m%d%H%M%S}{desk._sequence + 1:04d}"
    settled = desk.settle(LOCAL, mdtrt_id, pre_info)
    assert settled.infcode == 0, settled.err_msg
    info = settled.output["setlinfo"]
    assert info["medins_setl_id"] == settle_msgid  # echoes the 2207 request's msgid
    assert info["clr_optins"] == "530100"
    assert info["clr_type"] == "11"
    assert info["setl_time"] == "2026-11-23 09:00:00"
    # Kunming employee at a 三级 hospital: all in-scope money is under the 300 deductible,
    # so the account pays everything (1378.15 − 95.52 = 1282.63)
    assert info["act_pay_dedc"] == Decimal("24.29")
    assert info["acct_pay"] == Decimal("95.52")
    assert info["balc"] == Decimal("1282.63")
    for field in ("medfee_sumamt", "fulamt_ownpay_amt", "preselfpay_amt", "inscp_scp_amt"):
        assert info[field] == pre_info[field]
    assert settled.effects["setl_id"] == info["setl_id"]
    assert {line.status for line in _lines(desk, desk.tenant, mdtrt_id)} == {"settled"}


def test_refund_then_the_visit_can_be_cancelled(desk: Desk) -> None:
    charge = desk.charge(LOCAL, [(CLASS_A_DRUG, "10", "2")])
    refused = desk.cancel_registration(LOCAL, charge.mdtrt_id, _ipt(desk, charge.mdtrt_id))
    assert refused.infcode == -1
    assert "请先撤销结算(2208)" in (refused.err_msg or "")
    assert "reverse the settlement (2208) first" in (refused.err_msg or "")
    assert charge.setl_id in (refused.err_msg or "")

    refund = desk.cancel_settlement(LOCAL, charge.mdtrt_id, charge.setl_id)
    assert refund.infcode == 0
    assert {line.status for line in _lines(desk, desk.tenant, charge.mdtrt_id)} == {UNSETTLED}

    cancelled = desk.cancel_fees(LOCAL, charge.mdtrt_id, "0000")
    assert cancelled.infcode == 0
    assert cancelled.effects["cancelled_lines"] == "1"
    done = desk.cancel_registration(LOCAL, charge.mdtrt_id, _ipt(desk, charge.mdtrt_id))
    assert done.infcode == 0
    with desk.store.snapshot() as tx:
        visit = tx.get(Visit, desk.tenant, charge.mdtrt_id)
    assert visit is not None
    assert visit.status == CANCELLED


def test_after_a_refund_the_same_batch_settles_again(desk: Desk) -> None:
    charge = desk.charge(LOCAL, [(CLASS_A_DRUG, "10", "2")])
    assert desk.cancel_settlement(LOCAL, charge.mdtrt_id, charge.setl_id).infcode == 0
    pre = desk.presettle(LOCAL, charge.mdtrt_id, Decimal("20.00"))
    again = desk.settle(LOCAL, charge.mdtrt_id, pre.output["setlinfo"])
    assert again.infcode == 0
    assert again.output["setlinfo"]["setl_id"] != charge.setl_id


def test_registration_cancel_drops_unsettled_lines(desk: Desk) -> None:
    mdtrt_id = desk.open_visit(LOCAL)
    assert (
        desk.upload(LOCAL, desk.fee_lines(LOCAL, mdtrt_id, [(CLASS_A_DRUG, "5", "1")])).infcode == 0
    )
    answer = desk.cancel_registration(LOCAL, mdtrt_id, _ipt(desk, mdtrt_id))
    assert answer.infcode == 0
    assert answer.effects["cancelled_lines"] == "1"
    assert {line.status for line in _lines(desk, desk.tenant, mdtrt_id)} == {CANCELLED}


def test_settle_without_fees_is_refused(desk: Desk) -> None:
    mdtrt_id = desk.open_visit(LOCAL)
    answer = desk.presettle(LOCAL, mdtrt_id, Decimal("10.00"))
    assert answer.infcode == -1
    assert "没有待结算的费用明细；请先上传费用明细(2204)" in (answer.err_msg or "")
    assert "upload them with 2204 first" in (answer.err_msg or "")


def test_fees_for_a_cancelled_visit_are_refused(desk: Desk) -> None:
    mdtrt_id = desk.open_visit(LOCAL)
    assert desk.cancel_registration(LOCAL, mdtrt_id, _ipt(desk, mdtrt_id)).infcode == 0
    answer = desk.upload(LOCAL, desk.fee_lines(LOCAL, mdtrt_id, [(CLASS_A_DRUG, "5", "1")]))
    assert answer.infcode == -1
    assert "挂号已撤销" in (answer.err_msg or "")
    assert "register again (2201)" in (answer.err_msg or "")
    twice = desk.cancel_registration(LOCAL, mdtrt_id, _ipt(desk, mdtrt_id))
    assert "无需重复撤销" in (twice.err_msg or "")


def test_cancel_fees_on_settled_lines_is_refused(desk: Desk) -> None:
    charge = desk.charge(LOCAL, [(CLASS_A_DRUG, "10", "1")])
    for batch in ("B1", "0000"):
        answer = desk.cancel_fees(LOCAL, charge.mdtrt_id, batch)
        assert answer.infcode == -1
        assert f"(setl_id={charge.setl_id})" in (answer.err_msg or "")
        assert "请先撤销结算(2208)" in (answer.err_msg or "")
    unknown = desk.cancel_fees(LOCAL, charge.mdtrt_id, "B9")
    assert "chrg_bchno=B9 的费用明细，无可撤销" in (unknown.err_msg or "")


def test_settlement_reversal_twice_is_refused(desk: Desk) -> None:
    charge = desk.charge(LOCAL, [(CLASS_A_DRUG, "10", "1")])
    first = desk.cancel_settlement(LOCAL, charge.mdtrt_id, charge.setl_id)
    assert first.infcode == 0
    second = desk.cancel_settlement(LOCAL, charge.mdtrt_id, charge.setl_id)
    assert second.infcode == -1
    assert f"已撤销（退费记录 setl_id={first.effects['setl_id']}），无需重复撤销" in (
        second.err_msg or ""
    )
    negative = desk.cancel_settlement(LOCAL, charge.mdtrt_id, first.effects["setl_id"])
    assert "是结算撤销（退费）记录，不能再撤销" in (negative.err_msg or "")
    unknown = desk.cancel_settlement(LOCAL, charge.mdtrt_id, "4999999999999")
    assert "结算信息不存在：setl_id=4999999999999" in (unknown.err_msg or "")


def test_fees_need_the_visit_information_first(desk: Desk) -> None:
    registered = desk.register(LOCAL)
    mdtrt_id = registered.output["data"]["mdtrt_id"]
    answer = desk.upload(LOCAL, desk.fee_lines(LOCAL, mdtrt_id, [(CLASS_A_DRUG, "5", "1")]))
    assert "请先调用【2203】门诊就诊信息上传" in (answer.err_msg or "")


def test_settlement_needs_a_presettlement_of_the_same_lines(desk: Desk) -> None:
    mdtrt_id = desk.open_visit(LOCAL)
    desk.upload(LOCAL, desk.fee_lines(LOCAL, mdtrt_id, [(CLASS_A_DRUG, "5", "1")]))
    echo = {
        "medfee_sumamt": Decimal("5.00"),
        "fulamt_ownpay_amt": Decimal("0.00"),
        "overlmt_selfpay": Decimal("0.00"),
        "preselfpay_amt": Decimal("0.00"),
        "inscp_scp_amt": Decimal("5.00"),
    }
    unpriced = desk.settle(LOCAL, mdtrt_id, echo)
    assert "未预结算；请先调用【2206】" in (unpriced.err_msg or "")
    assert desk.presettle(LOCAL, mdtrt_id, Decimal("5.00")).infcode == 0
    more = desk.fee_lines(LOCAL, mdtrt_id, [(CONSULTATION, "20", "1")], prefix="G")
    assert desk.upload(LOCAL, more).infcode == 0
    stale = desk.settle(
        LOCAL,
        mdtrt_id,
        {**echo, "medfee_sumamt": Decimal("25.00"), "inscp_scp_amt": Decimal("25.00")},
    )
    assert "费用明细已变化；请重新预结算(2206)" in (stale.err_msg or "")


def test_fee_line_rules(desk: Desk) -> None:
    mdtrt_id = desk.open_visit(LOCAL)
    lines = desk.fee_lines(LOCAL, mdtrt_id, [(CLASS_A_DRUG, "5", "1"), (CONSULTATION, "20", "1")])
    lines[1]["feedetl_sn"] = lines[0]["feedetl_sn"]
    twice = desk.upload(LOCAL, lines)
    assert "/input/feedetail/1/feedetl_sn=F001 在本次上传中重复" in (twice.err_msg or "")

    first = desk.fee_lines(LOCAL, mdtrt_id, [(CLASS_A_DRUG, "5", "1")], dise_codg="A01")
    assert desk.upload(LOCAL, first).infcode == 0
    again = desk.upload(LOCAL, first)
    assert "已上传（未结算，收费批次 B1）；修改明细请先撤销(2205)后重传" in (again.err_msg or "")

    other = desk.fee_lines(
        LOCAL, mdtrt_id, [(CONSULTATION, "20", "1")], prefix="G", dise_codg="B02"
    )
    mixed = desk.upload(LOCAL, other)
    assert "同一收费批次病种编码必须一致" in (mixed.err_msg or "")

    wrong_total = desk.fee_lines(
        LOCAL, mdtrt_id, [(CONSULTATION, "20", "2")], prefix="H", dise_codg="A01"
    )
    wrong_total[0]["det_item_fee_sumamt"] = Decimal("41.00")
    arithmetic = desk.upload(LOCAL, wrong_total)
    assert "det_item_fee_sumamt" in (arithmetic.err_msg or "")
    assert "round(pric × cnt, 2) = 40.00" in (arithmetic.err_msg or "")


def test_a_settled_batch_takes_no_more_lines(desk: Desk) -> None:
    charge = desk.charge(LOCAL, [(CLASS_A_DRUG, "5", "1")])
    late = desk.fee_lines(LOCAL, charge.mdtrt_id, [(CONSULTATION, "20", "1")], prefix="G")
    answer = desk.upload(LOCAL, late)
    assert "已结算(setl_id=" in (answer.err_msg or "")
    assert "请使用新的收费批次号" in (answer.err_msg or "")
    fresh = desk.charge(
        LOCAL, [(CONSULTATION, "20", "1")], mdtrt_id=charge.mdtrt_id, chrg_bchno="B2", prefix="G"
    )
    assert fresh.setl_id != charge.setl_id


def test_one_upload_belongs_to_one_visit(desk: Desk) -> None:
    first = desk.open_visit(LOCAL)
    second = desk.open_visit(LOCAL)
    lines = desk.fee_lines(LOCAL, first, [(CLASS_A_DRUG, "5", "1"), (CONSULTATION, "20", "1")])
    lines[1]["mdtrt_id"] = second
    answer = desk.upload(LOCAL, lines)
    assert "feedetail 的各行须属于同一就诊" in (answer.err_msg or "")


def test_visit_serial_is_unique_while_the_visit_is_open(desk: Desk) -> None:
    first = desk.register(LOCAL, ipt_otp_no="MZ7")
    assert first.infcode == 0
    again = desk.register(LOCAL, ipt_otp_no="MZ7")
    assert f"ipt_otp_no=MZ7 已用于就诊 mdtrt_id={first.output['data']['mdtrt_id']}" in (
        again.err_msg or ""
    )
    mdtrt_id = first.output["data"]["mdtrt_id"]
    assert desk.cancel_registration(LOCAL, mdtrt_id, "MZ7").infcode == 0
    assert desk.register(LOCAL, ipt_otp_no="MZ7").infcode == 0


def test_visit_information_rules(desk: Desk) -> None:
    mdtrt_id = desk.register(LOCAL).output["data"]["mdtrt_id"]
    maternity = desk.visit_info(LOCAL, mdtrt_id, med_type="51")
    assert "医疗类别 med_type=51 无待遇" in (maternity.err_msg or "")
    assert desk.visit_info(LOCAL, mdtrt_id).infcode == 0
    lines = desk.fee_lines(LOCAL, mdtrt_id, [(CLASS_A_DRUG, "5", "1")])
    desk.upload(LOCAL, lines)
    chronic = desk.presettle(LOCAL, mdtrt_id, Decimal("5.00"), med_type="14")
    assert "med_type=14 与就诊信息(2203)的医疗类别 11 不一致" in (chronic.err_msg or "")
    unknown = desk.visit_info(LOCAL, "3999999999999")
    assert "就诊信息不存在：mdtrt_id=3999999999999" in (unknown.err_msg or "")


def test_price_cap_excess_is_borne_by_the_hospital_in_kunming(desk: Desk) -> None:
    # 530100's catalogue: over-limit amounts are the hospital's (overlimit_payer: hospital)
    mdtrt_id = desk.open_visit(LOCAL)
    uploaded = desk.upload(LOCAL, desk.fee_lines(LOCAL, mdtrt_id, [(CAPPED_DRESSING, "18", "2")]))
    row = uploaded.output["result"][0]
    assert row["overlmt_amt"] == Decimal("6.00")  # (18 − 15) × 2
    pre = desk.presettle(LOCAL, mdtrt_id, Decimal("36.00"))
    assert pre.output["setlinfo"]["hosp_part_amt"] == Decimal("6.00")
    assert "999996" in {row["fund_pay_type"] for row in pre.output["setldetail"]}


def _ipt(desk: Desk, mdtrt_id: str) -> str:
    with desk.store.snapshot() as tx:
        visit = tx.get(Visit, desk.tenant, mdtrt_id)
    assert visit is not None
    return visit.ipt_otp_no

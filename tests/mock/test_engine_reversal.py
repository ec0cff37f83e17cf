"""2601 冲正: undoing 2207 and 2208 by msgid, idempotently, and the loop a HIS can always close."""

from __future__ import annotations

from decimal import Decimal

from nhsa.mock.engine._accounts import accumulators_from_json
from nhsa.mock.store import VOIDED, Balance, Settlement, YearToDate

from .conftest import CLASS_A_DRUG, CONSULTATION, Desk

LOCAL = "P53010000000001"
OTHER = "P53010000000002"
D = Decimal


def _state(desk: Desk) -> tuple[Decimal | None, Decimal, Decimal]:
    with desk.store.snapshot() as tx:
        balance = tx.get(Balance, desk.tenant, LOCAL, "310")
        counters = tx.get(YearToDate, desk.tenant, LOCAL, 2026, "530100", "emp-outpatient")
    ytd = accumulators_from_json(counters.counters) if counters else None
    return (
        balance.balance if balance else None,
        ytd.deductible_used if ytd else D("0"),
        ytd.pooling_paid if ytd else D("0"),
    )


def _rows(desk: Desk) -> list[Settlement]:
    with desk.store.snapshot() as tx:
        return tx.find(Settlement, tenant=desk.tenant)


def test_reversing_a_settlement_by_its_msgid(desk: Desk) -> None:
    charge = desk.charge(LOCAL, [(CONSULTATION, "20", "1"), (CLASS_A_DRUG, "10", "40")])
    assert _state(desk) == (D("1030.15"), D("300.00"), D("72.00"))

    answer = desk.reverse(LOCAL, charge.msgid, "2207")
    assert answer.infcode == 0
    assert answer.warn_msg is None
    assert answer.state_changed is True
    assert answer.effects["outcome"] == "reversed"
    assert answer.effects["voided_setl_id"] == charge.setl_id
    assert _state(desk) == (D("1378.15"), D("0.00"), D("0.00"))
    # Voided, not refunded: no row of its own, so no side of 3201/3202 counts it.
    (original,) = _rows(desk)
    assert (original.setl_id, original.status, original.reversed_by) == (
        charge.setl_id,
        "voided",
        None,
    )

    again = desk.reverse(LOCAL, charge.msgid, "2207")
    assert again.infcode == 0
    assert again.state_changed is False
    assert "原交易已冲正，无需重复" in (again.warn_msg or "")
    assert len(_rows(desk)) == 1
    assert _state(desk) == (D("1378.15"), D("0.00"), D("0.00"))


def test_a_msgid_never_received_closes_the_loop_and_stays_closed(desk: Desk) -> None:
    lost = f"{desk.tenant}202611230859590042"
    answer = desk.reverse(LOCAL, lost, "2207")
    assert answer.infcode == 0
    assert f"原交易不存在，无需冲正：omsgid={lost}" in (answer.warn_msg or "")
    assert "original not found: nothing to reverse" in (answer.warn_msg or "")
    # the original arrives late: it is refused, never booked
    mdtrt_id = desk.open_visit(LOCAL)
    desk.upload(LOCAL, desk.fee_lines(LOCAL, mdtrt_id, [(CLASS_A_DRUG, "10", "1")]))
    pre = desk.presettle(LOCAL, mdtrt_id, D("10.00")).output["setlinfo"]
    data = desk.settlement_data(LOCAL, mdtrt_id, pre["medfee_sumamt"])
    for name in ("fulamt_ownpay_amt", "overlmt_selfpay", "preselfpay_amt", "inscp_scp_amt"):
        data[name] = pre[name]
    late = desk.call("2207", {"data": data}, insuplc_admdvs="530100", msgid=lost)
    assert late.infcode == -1
    assert "被冲正(2601" in (late.err_msg or "")
    assert _rows(desk) == []
    repeat = desk.reverse(LOCAL, lost, "2207")
    assert "原交易已冲正，无需重复" in (repeat.warn_msg or "")


def test_reversing_a_refund_restores_the_settlement(desk: Desk) -> None:
    charge = desk.charge(LOCAL, [(CONSULTATION, "20", "1"), (CLASS_A_DRUG, "10", "40")])
    refund_msgid = f"{desk.tenant}{desk.now:%Y%m%d%H%M%S}{desk._sequence + 1:04d}"
    refund = desk.cancel_settlement(LOCAL, charge.mdtrt_id, charge.setl_id)
    assert refund.infcode == 0
    assert _state(desk) == (D("1378.15"), D("0.00"), D("0.00"))

    answer = desk.reverse(LOCAL, refund_msgid, "2208")
    assert answer.infcode == 0, answer.err_msg
    assert answer.effects["restored_setl_id"] == charge.setl_id
    assert _state(desk) == (D("1030.15"), D("300.00"), D("72.00"))
    original, negative = _rows(desk)
    assert negative.status == VOIDED
    assert original.is_live
    voided = desk.query_settlement(LOCAL, charge.mdtrt_id, negative.setl_id)
    assert "已被冲正(2601)作废" in (voided.err_msg or "")
    # the visit is settled again: its fee lines cannot be cancelled
    again = desk.cancel_fees(LOCAL, charge.mdtrt_id, "0000")
    assert "请先撤销结算(2208)" in (again.err_msg or "")


def test_a_refund_cannot_be_reversed_once_the_visit_moved_on(desk: Desk) -> None:
    charge = desk.charge(LOCAL, [(CLASS_A_DRUG, "10", "2")])
    refund_msgid = f"{desk.tenant}{desk.now:%Y%m%d%H%M%S}{desk._sequence + 1:04d}"
    desk.cancel_settlement(LOCAL, charge.mdtrt_id, charge.setl_id)
    assert desk.cancel_fees(LOCAL, charge.mdtrt_id, "0000").infcode == 0
    answer = desk.reverse(LOCAL, refund_msgid, "2208")
    assert answer.infcode == -1
    assert "费用明细 F001 已撤销或已重新结算，无法冲正恢复原结算" in (answer.err_msg or "")
    assert _state(desk)[0] == D("1378.15")


def test_reversing_a_settlement_already_refunded_changes_nothing(desk: Desk) -> None:
    charge = desk.charge(LOCAL, [(CLASS_A_DRUG, "10", "2")])
    desk.cancel_settlement(LOCAL, charge.mdtrt_id, charge.setl_id)
    answer = desk.reverse(LOCAL, charge.msgid, "2207")
    assert answer.infcode == 0
    assert answer.state_changed is False
    assert "结算已撤销，无需冲正" in (answer.warn_msg or "")
    assert len(_rows(desk)) == 2


def test_reversing_a_failed_original_changes_nothing(desk: Desk) -> None:
    mdtrt_id = desk.open_visit(LOCAL)
    failed_msgid = f"{desk.tenant}{desk.now:%Y%m%d%H%M%S}{desk._sequence + 1:04d}"
    failed = desk.settle(
        LOCAL,
        mdtrt_id,
        {
            name: D("1.00")
            for name in (
                "medfee_sumamt",
                "fulamt_ownpay_amt",
                "overlmt_selfpay",
                "preselfpay_amt",
                "inscp_scp_amt",
            )
        },
    )
    assert failed.infcode == -1
    answer = desk.reverse(LOCAL, failed_msgid, "2207")
    assert answer.infcode == 0
    assert "原交易未成功，无需冲正" in (answer.warn_msg or "")


def test_what_2601_refuses(desk: Desk) -> None:
    charge = desk.charge(LOCAL, [(CLASS_A_DRUG, "10", "2")])
    fees = desk.reverse(LOCAL, charge.msgid, "2204")
    assert "该交易不支持冲正：2204" in (fees.err_msg or "")
    assert "请用【2205】撤销" in (fees.err_msg or "")
    inpatient = desk.reverse(LOCAL, charge.msgid, "2304")
    assert "oinfno=2304 与原交易" in (inpatient.err_msg or "")
    pharmacy = desk.reverse(LOCAL, charge.msgid, "2102")
    assert "本模拟平台尚未实现" in (pharmacy.err_msg or "")
    assert "not simulated" in (pharmacy.err_msg or "")
    foreign = desk.reverse(LOCAL, "H53010200002202611230900000001", "2207")
    assert "不是本机构 H53010100001 发出的报文ID" in (foreign.err_msg or "")
    wrong_person = desk.reverse(OTHER, charge.msgid, "2207")
    assert "psn_no=P53010000000002 与原交易" in (wrong_person.err_msg or "")
    wrong_infno = desk.reverse(LOCAL, charge.msgid, "2208")
    assert "oinfno=2208 与原交易" in (wrong_infno.err_msg or "")
    own = f"{desk.tenant}202611230900009999"
    itself = desk.call(
        "2601",
        {"data": {"psn_no": LOCAL, "omsgid": own, "oinfno": "2207"}},
        insuplc_admdvs="530100",
        msgid=own,
    )
    assert "omsgid 不能是本冲正报文自己的 msgid" in (itself.err_msg or "")
    assert len(_rows(desk)) == 1  # none of the refusals touched the ledger

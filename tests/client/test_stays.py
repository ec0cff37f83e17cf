"""The SDK's inpatient workflows against the mock's engine, on the sync and the async client.

The stay of the invented patient P53010000000001 (Kunming employee, account 1378.15) at the
Kunming 三级 hospital: deductible 900.00 once a stay, ratio 0.85 (fixtures/policies/530100.yaml).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from nhsa.client import (
    AlreadySettledError,
    BusinessError,
    ClientConfig,
    Diagnosis,
    FeeLine,
    InvalidInputError,
    OutcomeUnknownError,
    Reversed,
    SettlementMismatchError,
    Stay,
    VisitBusyError,
    Ward,
    WindowMode,
)
from nhsa.envelope import china_now
from tests.client.conftest import CARD_SN, WINDOW, Twin, card
from tests.client.platform import TENANT, EnginePlatform

MakeTwin = Callable[..., Twin]
ConfigFor = Callable[..., ClientConfig]
D = Decimal
WARD = Ward("0302", "呼吸内科病区", "12床", "D530100000412", "医师庚")
PNEUMONIA = (Diagnosis("J18.900", "肺炎"),)
DRUG = "XJ01CRA001A001010100001"  # 阿莫西林胶囊, 甲类: all in scope
DAY = timedelta(days=1)


def _drug(cnt: int, at: datetime) -> FeeLine:
    return FeeLine(DRUG, "HIS-YP-0001", cnt=cnt, pric=D("100"), fee_ocur_time=at)


def _admit(twin: Twin, *, days_ago: int = 3) -> Stay:
    begin = china_now().replace(microsecond=0) - days_ago * DAY
    stay: Stay = twin.admit(card(), insutype="310", ward=WARD, diagnoses=PNEUMONIA, begntime=begin)
    return stay


def _infnos(platform: EnginePlatform) -> list[str]:
    return platform.infnos()


def test_two_mid_way_settlements_a_refund_of_one_and_the_final_one_balance_at_day_end(
    platform: EnginePlatform, config_for: ConfigFor, make_twin: MakeTwin
) -> None:
    twin = make_twin(config_for(), WINDOW, platform)
    stay = _admit(twin)
    start = stay.begntime
    (first,) = twin.upload_stay_fees(stay, [_drug(6, start), _drug(8, start + DAY)])
    (second,) = twin.upload_stay_fees(stay, [_drug(10, start + 2 * DAY)])
    part1 = twin.settle_midway(stay, D("1400.00"), until=(start + DAY).date(), card_token=CARD_SN)
    part2 = twin.settle_midway(stay, second.total, until=(start + 2 * DAY).date(),
                               card_token=CARD_SN)  # fmt: skip
    assert (part1.setlinfo.act_pay_dedc, part1.setlinfo.hifp_pay) == (D("900.00"), D("425.00"))
    assert (part2.setlinfo.act_pay_dedc, part2.setlinfo.hifp_pay) == (D("0.00"), D("850.00"))
    with pytest.raises(InvalidInputError) as older:
        twin.cancel_stay_settlement(part1)
    assert older.value.rule == "newest-first"
    refund = twin.cancel_stay_settlement(part2)
    assert refund.refunded.medfee_sumamt == D("-1000.00")
    twin.upload_stay_fees(stay, [_drug(5, start + 3 * DAY)])
    stay = twin.discharge(stay, diagnoses=PNEUMONIA)
    final = twin.settle_stay(stay, D("1500.00"), card_token=CARD_SN)
    assert (final.midway, final.setlinfo.act_pay_dedc, final.totals.medfee_sumamt) == (
        False,
        D("0.00"),
        D("1500.00"),
    )
    assert final.totals == final.pre_settlement

    report = twin.reconcile(final.setlinfo.setl_time.date())
    assert report.balanced
    (group,) = report.groups
    assert (group.clr_type, group.his.count, group.his.medfee_sumamt) == ("21", 4, D("2900.00"))
    assert first.total == D("1400.00")
    assert _infnos(platform).count("3202") == 0  # balanced at once: no detail reconciliation


def test_an_unknown_settlement_is_reversed_and_the_stay_settles_again(
    platform: EnginePlatform, config_for: ConfigFor, make_twin: MakeTwin
) -> None:
    twin = make_twin(config_for(), WINDOW, platform)
    stay = _admit(twin)
    twin.upload_stay_fees(stay, [_drug(2, stay.begntime)])
    stay = twin.discharge(stay, diagnoses=PNEUMONIA)
    platform.arm("2304", "drop")
    with pytest.raises(OutcomeUnknownError) as lost:
        twin.settle_stay(stay, D("200.00"), card_token=CARD_SN)
    resolution = lost.value.resolution
    assert isinstance(resolution, Reversed)
    assert (resolution.by_infno, resolution.original_found) == ("2601", True)
    assert twin.journal.get(lost.value.msgid).state == "reversed"
    again = twin.settle_stay(stay, D("200.00"), card_token=CARD_SN)
    assert again.totals.medfee_sumamt == D("200.00")
    # the lost settlement is void on the platform: no negative row (x-counting of 3201)
    assert [row.medfee_sumamt for row in platform.settlements()] == [D("200.00")]


def test_settled_totals_that_differ_from_the_pre_settlement_are_cancelled(
    platform: EnginePlatform, config_for: ConfigFor, make_twin: MakeTwin
) -> None:
    twin = make_twin(config_for(), WINDOW, platform)
    stay = _admit(twin)
    twin.upload_stay_fees(stay, [_drug(12, stay.begntime)])
    stay = twin.discharge(stay, diagnoses=PNEUMONIA)
    platform.arm("2304", "tamper-amount")
    with pytest.raises(SettlementMismatchError) as raised:
        twin.settle_stay(stay, D("1200.00"), card_token=CARD_SN)
    assert raised.value.refunded is True
    assert set(raised.value.differences) == {"acct_pay", "psn_cash_pay"}
    assert _infnos(platform)[-1] == "2305"
    assert sum(row.medfee_sumamt for row in platform.settlements()) == 0


def test_the_visit_guard_holds_a_stay_for_one_settlement(
    platform: EnginePlatform, config_for: ConfigFor, make_twin: MakeTwin
) -> None:
    twin = make_twin(config_for(), WINDOW, platform)
    stay = _admit(twin)
    twin.upload_stay_fees(stay, [_drug(2, stay.begntime)])
    sent = len(platform.seen)
    with twin.journal.visit_guard(TENANT, stay.mdtrt_id), pytest.raises(VisitBusyError):
        twin.settle_midway(stay, D("200.00"), until=stay.begntime.date(), card_token=CARD_SN)
    assert len(platform.seen) == sent  # refused before anything was sent
    stay = twin.discharge(stay, diagnoses=PNEUMONIA)
    twin.settle_stay(stay, D("200.00"), card_token=CARD_SN)
    with pytest.raises(AlreadySettledError):
        twin.settle_stay(stay, D("200.00"), card_token=CARD_SN)


def test_an_unknown_fee_batch_is_cancelled_with_its_own_lines(
    platform: EnginePlatform, config_for: ConfigFor, make_twin: MakeTwin
) -> None:
    twin = make_twin(config_for(fee_lines_per_upload=1), WINDOW, platform)
    stay = _admit(twin)
    platform.script.on("2301", "drop", nth=2)
    with pytest.raises(OutcomeUnknownError) as lost:
        twin.upload_stay_fees(stay, [_drug(1, stay.begntime), _drug(2, stay.begntime)])
    resolution = lost.value.resolution
    assert isinstance(resolution, Reversed)
    assert resolution.by_infno == "2302"
    assert "1 earlier batch(es) of this upload stand" in "".join(lost.value.__notes__)
    (undo,) = platform.requests_of("2302")
    assert [row["feedetl_sn"][-4:] for row in undo["input"]["data"]] == ["0002"]
    assert twin.journal.get(lost.value.msgid).state == "reversed"
    # What stands is the first batch only: settling it mid-way takes 100.00.
    part = twin.settle_midway(stay, D("100.00"), until=stay.begntime.date(), card_token=CARD_SN)
    assert part.totals.medfee_sumamt == D("100.00")


def test_an_unknown_discharge_is_undone_by_2405(
    platform: EnginePlatform, config_for: ConfigFor, make_twin: MakeTwin
) -> None:
    twin = make_twin(config_for(), WINDOW, platform)
    stay = _admit(twin)
    platform.arm("2402", "drop")
    with pytest.raises(OutcomeUnknownError) as lost:
        twin.discharge(stay, diagnoses=PNEUMONIA)
    resolution = lost.value.resolution
    assert isinstance(resolution, Reversed)
    assert resolution.by_infno == "2405"
    assert twin.discharge(stay, diagnoses=PNEUMONIA).discharged


def test_recover_reverses_a_held_settlement_of_a_stay(
    platform: EnginePlatform, config_for: ConfigFor, make_twin: MakeTwin
) -> None:
    hold = WindowMode("C0001", "收费员甲", on_unknown="hold")
    cashier = make_twin(config_for(), hold, platform)
    stay = _admit(cashier)
    cashier.upload_stay_fees(stay, [_drug(3, stay.begntime)])
    platform.arm("2304", "drop")
    with pytest.raises(OutcomeUnknownError) as lost:
        cashier.settle_midway(stay, D("300.00"), until=stay.begntime.date(), card_token=CARD_SN)
    cashier.journal.mark(lost.value.msgid, "unknown", detail="the HIS was killed")
    report = cashier.recover()
    (entry,) = report.resolved
    assert (entry.infno, entry.resolution.by_infno) == ("2304", "2601")
    assert sum(row.medfee_sumamt for row in platform.settlements()) == 0


def test_what_the_sdk_refuses_before_sending(
    platform: EnginePlatform, config_for: ConfigFor, make_twin: MakeTwin
) -> None:
    twin = make_twin(config_for(), WINDOW, platform)
    with pytest.raises(InvalidInputError) as outpatient:
        twin.admit(card(), insutype="310", ward=WARD, diagnoses=PNEUMONIA, med_type="11")
    assert outpatient.value.rule == "inpatient-med-type"
    stay = _admit(twin)
    twin.upload_stay_fees(stay, [_drug(1, stay.begntime)])
    sent = len(platform.seen)
    refusals: list[tuple[Any, str]] = [
        (lambda: twin.settle_stay(stay, D("100.00"), card_token=CARD_SN), "discharge-before-final"),
        (lambda: twin.settle_midway(stay, D("100.00"), until=stay.begntime.date()),
         "password-in-province"),
        (lambda: twin.settle_midway(stay, 100, until=stay.begntime.date(), card_token=CARD_SN),
         "positive-decimal"),
        (lambda: twin.upload_stay_fees(stay.with_endtime(china_now()), [_drug(1, stay.begntime)]),
         "fees-while-admitted"),
    ]  # fmt: skip
    for call, rule in refusals:
        with pytest.raises(InvalidInputError) as refused:
            call()
        assert refused.value.rule == rule
    assert len(platform.seen) == sent


def test_the_platform_checks_the_hiss_total_and_cancelling_an_admission_wipes_its_fees(
    platform: EnginePlatform, config_for: ConfigFor, make_twin: MakeTwin
) -> None:
    twin = make_twin(config_for(), WINDOW, platform)
    stay = _admit(twin)
    twin.upload_stay_fees(stay, [_drug(1, stay.begntime)])
    stay = twin.discharge(stay, diagnoses=PNEUMONIA)
    with pytest.raises(BusinessError) as short:
        twin.settle_stay(stay, D("90.00"), card_token=CARD_SN)
    assert "费用明细合计 100.00" in (short.value.err_msg or "")
    assert short.value.infno == "2303"
    stay = twin.cancel_discharge(stay)
    msgid = twin.cancel_admission(stay)
    assert twin.journal.get(msgid).infno == "2404"
    assert _infnos(platform)[-2:] == ["2302", "2404"]

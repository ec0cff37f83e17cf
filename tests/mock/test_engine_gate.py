"""What every call passes first: tenancy, msgid reuse, served infno, area, sign-in,
insured-place downtime, and input read through the contract's models."""

from __future__ import annotations

from datetime import timedelta

import pytest

from nhsa.mock.engine import Engine, EngineOptions, PlatformServices, UnknownTenantError
from nhsa.mock.fixtures import bundled_fixtures
from nhsa.mock.store import Message, SqliteStore, Visit
from nhsa.spec import UnknownTransactionError

from .conftest import START, Desk

LOCAL = "P53010000000001"
SHENZHEN = "P44030000000009"  # 310 in 440300
CHENGDU = "P51010000000014"  # 310 in 510100


def _visits(desk: Desk) -> list[Visit]:
    with desk.store.snapshot() as tx:
        return tx.find(Visit, tenant=desk.tenant)


def test_business_calls_need_a_sign_in_of_today(engine: Engine, store: SqliteStore) -> None:
    desk = Desk(engine, store)
    missing = desk.register(LOCAL)
    assert missing.infcode == -1
    assert (missing.err_msg or "").startswith("未签到，请先调用【9001】签到")
    desk.sign_no = "6999999999999"
    unknown = desk.register(LOCAL)
    assert "sign_no=6999999999999 不存在" in (unknown.err_msg or "")
    sign_no = desk.sign_in()
    assert desk.register(LOCAL).infcode == 0
    desk.now = START + timedelta(days=1)
    yesterday = desk.register(LOCAL)
    assert "是 2026-11-23 的签到，仅当日有效" in (yesterday.err_msg or "")
    assert "call 9001 again" in (yesterday.err_msg or "")
    desk.now = START
    out = desk.call("9002", {"signOut": {"sign_no": sign_no, "opter_no": "K01"}})
    assert out.infcode == 0
    assert out.output["signoutoutb"]["sign_time"] == "2026-11-23 09:00:00"
    signed_out = desk.register(LOCAL)
    assert "签到已失效，请重新调用【9001】签到" in (signed_out.err_msg or "")
    twice = desk.call("9002", {"signOut": {"sign_no": sign_no, "opter_no": "K01"}})
    assert "已于 2026-11-23 09:00:00 签退" in (twice.err_msg or "")
    assert len(_visits(desk)) == 1


def test_sign_in_enforcement_can_be_switched_off(store: SqliteStore) -> None:
    relaxed = Engine(store, bundled_fixtures(), options=EngineOptions(enforce_sign_in=False))
    assert Desk(relaxed, store).register(LOCAL).infcode == 0


def test_sign_out_names_the_operator(desk: Desk) -> None:
    answer = desk.call("9002", {"signOut": {"sign_no": desk.sign_no, "opter_no": "K99"}})
    assert "属于操作员 K01，不是 opter_no=K99" in (answer.err_msg or "")


def test_a_reused_msgid_is_refused_and_the_first_answer_kept(desk: Desk) -> None:
    first = desk.register(LOCAL, ipt_otp_no="MZ1")
    reused = dict(desk.envelopes[-1])
    reused["input"] = {**reused["input"], "data": {**reused["input"]["data"], "ipt_otp_no": "MZ2"}}
    again = desk.send(reused)
    assert again.infcode == -1
    assert f"发送方报文ID重复：{reused['msgid']} 已于 2026-11-23 09:00:00 用于【2201】" in (
        again.err_msg or ""
    )
    assert "undo an unknown outcome with 2601" in (again.err_msg or "")
    with desk.store.snapshot() as tx:
        kept = tx.get(Message, desk.tenant, reused["msgid"])
    assert kept is not None
    assert kept.output == first.output
    assert len(_visits(desk)) == 1


def test_unregistered_institutions_are_the_gateways_to_refuse(
    engine: Engine, store: SqliteStore
) -> None:
    # The server answers 非法用户 (HTTP 401) before it makes a call (test_app_pipeline's
    # "unregistered" case); the engine does not answer it a second time: such a call is a bug.
    stranger = Desk(engine, store, tenant="H99999999999")
    with pytest.raises(UnknownTenantError, match="H99999999999"):
        stranger.call("9001", {"signIn": {"opter_no": "K01", "ip": "10.0.0.1"}})
    with store.snapshot() as tx:
        assert tx.find(Message, tenant="H99999999999") == []


def test_unserved_transactions(desk: Desk) -> None:
    # Every transaction of the contract has a handler; one the engine reads with its model
    # and finds broken is refused naming the field.
    inpatient = desk.call("2401", {"mdtrtinfo": {}, "diseinfo": []}, insuplc_admdvs="530100")
    assert inpatient.error == "envelope.validation_failed"
    assert "/input/mdtrtinfo/psn_no missing" in (inpatient.err_msg or "")
    # An infno the contract lacks is the server's to refuse (contract check, 交易编号不存在):
    # the engine, which only ever sees contract-valid calls, does not answer it again.
    with pytest.raises(UnknownTransactionError, match="2299"):
        desk.call("2299", {})


def test_treatment_area_must_be_the_institutions(desk: Desk) -> None:
    answer = desk.call(
        "9001", {"signIn": {"opter_no": "K01", "ip": "10.0.0.8"}}, mdtrtarea_admvs="530102"
    )
    assert "mdtrtarea_admvs=530102 与定点医药机构 H53010100001" in (answer.err_msg or "")


def test_input_is_read_through_the_contract_models(desk: Desk) -> None:
    answer = desk.call(
        "2202", {"data": {"psn_no": LOCAL, "mdtrt_id": "3001"}}, insuplc_admdvs="530100"
    )
    assert answer.infcode == -1
    assert "/input/data/ipt_otp_no missing" in (answer.err_msg or "")


def test_downtime_window_names_its_end(desk: Desk, services: PlatformServices) -> None:
    window = services.schedule_downtime(
        desk.tenant,
        "440000",
        START - timedelta(hours=1),
        START + timedelta(hours=3),
        reason="参保地系统升级",
    )
    down = desk.register(SHENZHEN)
    assert down.infcode == -1
    expected = "停机维护，暂不能办理：440300（参保地系统升级），预计 2026-11-23 12:00:00 恢复"
    assert expected in (down.err_msg or "")
    assert "down for maintenance until 2026-11-23 12:00:00" in (down.err_msg or "")
    assert desk.register(CHENGDU).infcode == 0  # another province is up
    assert desk.register(LOCAL).infcode == 0
    desk.now = START + timedelta(hours=3)
    assert desk.register(SHENZHEN).infcode == 0  # the window has ended
    assert services.cancel_downtime(desk.tenant, window.window_id) is True


def test_downtime_does_not_stop_the_hospitals_own_calls(
    desk: Desk, services: PlatformServices
) -> None:
    services.schedule_downtime(desk.tenant, "530100", START, START + timedelta(hours=1))
    assert (
        desk.call(
            "9001", {"signIn": {"opter_no": "K02", "ip": "10.0.0.9"}}, insuplc_admdvs="530100"
        ).infcode
        == 0
    )
    assert desk.register(LOCAL).infcode == -1

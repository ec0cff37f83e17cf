"""Two institutions never see each other's state, and a restart keeps everything."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from nhsa.mock.engine import Engine
from nhsa.mock.fixtures import bundled_fixtures
from nhsa.mock.store import SqliteStore

from .conftest import CLASS_A_DRUG, WUHUA, Desk

LOCAL = "P53010000000001"
LOCAL_ID = "530102198503150018"


def test_same_person_at_two_institutions(desk: Desk) -> None:
    charge = desk.charge(LOCAL, [(CLASS_A_DRUG, "10", "2")])
    assert desk.person_info("02", LOCAL_ID).output["insuinfo"][0]["balc"] == Decimal("1358.15")

    other = Desk(desk.engine, desk.store, tenant=WUHUA)
    assert other.register(LOCAL).infcode == -1  # Kunming's sign-in is not Wuhua's
    other.sign_no = desk.sign_no
    assert "不存在" in (other.register(LOCAL).err_msg or "")
    other.sign_in()
    assert other.person_info("02", LOCAL_ID).output["insuinfo"][0]["balc"] == Decimal("1378.15")
    assert "就诊信息不存在" in (
        other.cancel_settlement(LOCAL, charge.mdtrt_id, charge.setl_id).err_msg or ""
    )
    assert "就诊信息不存在" in (
        other.query_settlement(LOCAL, charge.mdtrt_id, charge.setl_id).err_msg or ""
    )
    assert "不是本机构 H53010200002 发出的报文ID" in (
        other.reverse(LOCAL, charge.msgid, "2207").err_msg or ""
    )

    # Wuhua's own charge of the same person starts from the opening balance and counters
    own = other.charge(LOCAL, [(CLASS_A_DRUG, "10", "2")])
    assert own.setlinfo["balc"] == Decimal("1358.15")
    assert own.setlinfo["act_pay_dedc"] == Decimal("20.00")
    totals = other.call(
        "3201",
        {
            "data": {
                "insutype": "310",
                "clr_type": "11",
                "setl_optins": "530102",
                "stmt_begndate": "2026-11-23",
                "stmt_enddate": "2026-11-23",
                "medfee_sumamt": Decimal("20.00"),
                "fund_pay_sumamt": Decimal("0.00"),
                "acct_pay": Decimal("20.00"),
                "fixmedins_setl_cnt": 1,
            }
        },
    )
    assert totals.output["stmtinfo"]["stmt_rslt"] == "0"


def test_a_restart_keeps_everything(tmp_path: Path) -> None:
    path = tmp_path / "restart.db"
    with SqliteStore(path) as store:
        desk = Desk(Engine(store, bundled_fixtures()), store)
        desk.sign_in()
        charge = desk.charge(LOCAL, [(CLASS_A_DRUG, "10", "2")])
        kept_envelope = desk.envelopes[-1]
        with store.transaction() as tx:
            store.append_transcript(tx, {"tenant": desk.tenant, "infno": "2207"})

    with SqliteStore(path) as store:
        engine = Engine(store, bundled_fixtures())
        again = Desk(engine, store, sign_no=desk.sign_no)
        again._sequence = desk._sequence
        queried = again.query_settlement(LOCAL, charge.mdtrt_id, charge.setl_id)
        assert queried.infcode == 0, queried.err_msg
        assert queried.output["setlinfo"]["acct_pay"] == Decimal("20.00")
        info = again.person_info("02", LOCAL_ID).output["insuinfo"][0]
        assert info["balc"] == Decimal("1358.15")
        assert again.send(kept_envelope).infcode == -1  # the msgid is still known
        assert len(store.transcript(desk.tenant)) == 1
        refund = again.cancel_settlement(LOCAL, charge.mdtrt_id, charge.setl_id)
        assert refund.infcode == 0
        assert int(refund.effects["setl_id"]) > int(charge.setl_id)  # ids continue

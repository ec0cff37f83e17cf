"""MockPlatform end to end: register → charge → refund → reconcile with tif+sm2 over real HTTP,
the async transport, the pytest fixture, restarts, an injected clock."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import anyio
import httpx
import orjson
import pytest

from nhsa.envelope import CHINA_TIME, dumps
from nhsa.mock import MockPlatform
from nhsa.mock.store import Settlement
from nhsa.signing.errors import TamperedBodyError
from tests.mock.test_app_his import KUNMING, ZHANG, SyntheticHis

MONEY = ("medfee_sumamt", "fund_pay_sumamt", "acct_pay")


def amounts(setlinfo: dict[str, Any]) -> dict[str, Decimal]:
    return {name: Decimal(str(setlinfo[name])) for name in MONEY}


@pytest.mark.slow
def test_register_charge_refund_reconcile_signed_over_real_http() -> None:
    with MockPlatform(profile="tif+sm2") as mock, mock.serve() as url:
        enrollment = mock.enroll(KUNMING)
        his = SyntheticHis(
            httpx.Client(base_url=url, timeout=10), signing=enrollment.client_signing()
        )
        his.sign_in()  # every answer is verified against the platform key by his.call
        mdtrt_id = his.register()
        charged = his.charge(mdtrt_id)
        assert charged["medins_setl_id"] == mock.transcript(KUNMING)[-1]["msgid"]
        refunded = his.refund(charged["setl_id"], mdtrt_id)
        assert amounts(refunded) == {k: -v for k, v in amounts(charged).items()}

        day = datetime.now(CHINA_TIME).date().isoformat()
        totals = {k: amounts(charged)[k] + amounts(refunded)[k] for k in MONEY}
        assert his.reconcile(day, totals, count=2)["stmt_rslt"] == "0"
        off = his.reconcile(day, {**totals, "medfee_sumamt": Decimal("1.00")}, count=2)
        assert off["stmt_rslt"] != "0"
        assert "medfee_sumamt" in off["stmt_rslt_dscr"]

        records = mock.transcript(KUNMING)
        assert all(r["gateway"]["ok"] and r["signature"]["ok"] for r in records)
        assert all(r["response"]["cainfo"] == "" for r in records)  # recorded before signing
        raw = his.post(his.envelope("9001", {"signIn": {"opter_no": "C9", "ip": "1.1.1.1"}}))
        assert (
            enrollment.client_signing().open_response(raw.content)
            == mock.platform_public_key.key_id
        )
        tampered = raw.content.replace(b'"infcode":0', b'"infcode":-1', 1)
        with pytest.raises(TamperedBodyError):
            enrollment.client_signing().open_response(tampered)


def test_async_transport() -> None:
    async def scenario(mock: MockPlatform) -> list[int]:
        async with httpx.AsyncClient(
            transport=mock.async_transport, base_url=mock.base_url
        ) as client:
            his = SyntheticHis(httpx.Client())  # only builds envelopes here
            first = await client.post(
                "/fsi/api/rsfComIfsService/callService",
                content=dumps(
                    his.envelope("9001", {"signIn": {"opter_no": "C1", "ip": "1.1.1.1"}})
                ),
            )
            with pytest.raises(httpx.ReadTimeout):
                await client.post(
                    "/fsi/api/signInSignOutService/signIn",
                    content=dumps(
                        his.envelope("9001", {"signIn": {"opter_no": "C2", "ip": "1.1.1.1"}})
                    ),
                    headers={"x-mock-fault": "commit-then-drop"},
                )
            return [first.json()["infcode"], len(mock.transcript(KUNMING))]

    with MockPlatform() as mock:
        assert anyio.run(scenario, mock) == [0, 2]


def test_pytest_fixture(
    nhsa_mock: MockPlatform, nhsa_mock_factory: Callable[..., MockPlatform]
) -> None:
    client = httpx.Client(transport=nhsa_mock.transport, base_url=nhsa_mock.base_url)
    assert client.get("/admin/health").json()["default_profile"] == "none"
    signed = nhsa_mock_factory(profile="tif+sm2")
    assert signed.core.default_profile.sm2
    assert signed is not nhsa_mock


def test_restart_keeps_state_registrations_and_keys(tmp_path: Path) -> None:
    db = tmp_path / "mock.db"
    with MockPlatform(db=db, profile="tif+sm2") as first:
        enrollment = first.enroll(KUNMING)
        platform_key = first.core.platform_key
        his = SyntheticHis(
            httpx.Client(transport=first.transport, base_url=first.base_url),
            signing=enrollment.client_signing(),
        )
        his.sign_in()
        mdtrt_id = his.register()
        setl_id = his.charge(mdtrt_id)["setl_id"]
    with MockPlatform(db=db, platform_key=platform_key) as second:
        assert second.admin.institution(KUNMING)["profile"] == "tif+sm2"
        with second.store.snapshot() as tx:
            assert tx.get(Settlement, KUNMING, setl_id) is not None
        his.client = httpx.Client(transport=second.transport, base_url=second.base_url)
        his.sign_in()  # the same keys and credentials still authenticate
        answer = his.call(
            "5203",
            {"data": {"psn_no": ZHANG.psn_no, "setl_id": setl_id, "mdtrt_id": mdtrt_id}},
            insuplc=ZHANG.insuplc_admdvs,
        )
        assert answer["output"]["setlinfo"]["setl_id"] == setl_id
        assert second.transcript(KUNMING)[0]["infno"] == "9001"


def test_injected_clock_stamps_answers_and_checks_freshness() -> None:
    moment = datetime(2026, 11, 23, 10, 15, 30, 120000, tzinfo=CHINA_TIME)
    with MockPlatform(clock=lambda: moment, profile="tif") as mock:
        enrollment = mock.enroll(KUNMING)
        signing = enrollment.client_signing(clock=moment.timestamp)
        his = SyntheticHis(
            httpx.Client(transport=mock.transport, base_url=mock.base_url), signing=signing
        )
        answer = his.call("9001", {"signIn": {"opter_no": "C1", "ip": "1.1.1.1"}})
        assert answer["refmsg_time"] == "20261123101530120"
        assert answer["inf_refmsgid"][6:20] == "20261123101530"
        late = enrollment.client_signing(clock=(moment + timedelta(hours=1)).timestamp)
        his.signing = late
        refused = his.post(his.envelope("9001", {"signIn": {"opter_no": "C1", "ip": "1.1.1.1"}}))
        assert refused.status_code == 401
        assert orjson.loads(refused.content)["err_msg"].startswith("签名时间戳超时")


def test_in_process_transport_needs_a_started_platform() -> None:
    mock = MockPlatform()
    try:
        with pytest.raises(RuntimeError, match="not started"):
            _ = mock.transport
    finally:
        mock.close()

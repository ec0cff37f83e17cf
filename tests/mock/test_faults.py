"""Every fault kind, armed each of the three ways (admin API, Python, request header), observed
by a client and in the transcript; scope and trigger rules; and the socket-level faults against
a real uvicorn server on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx
import orjson
import pytest

from nhsa.envelope import CHINA_TIME, dumps
from nhsa.mock import MockPlatform
from nhsa.mock.faults import FaultKind, FaultSpecError, parse_fault_spec
from nhsa.mock.store import Visit
from nhsa.signing import KeyEntry, KeyRing, MessageVerifier
from nhsa.signing.errors import TamperedBodyError
from tests.mock.test_app_his import KUNMING, ZHANG, SyntheticHis

SINGLE = "/fsi/api/rsfComIfsService/callService"


@dataclass(frozen=True)
class Expect:
    """What a client sees for one fault, and whether the platform committed the call."""

    outcome: str  # answer | timeout | reset | http-error | empty | garbled | bad-signature
    committed: bool
    infcode: int | None = 0
    err_msg: str | None = None
    delivered: bool = True


KINDS: dict[str, tuple[dict[str, Any], Expect]] = {
    "latency": ({"ms": 20}, Expect("answer", committed=True)),
    "hang": ({}, Expect("timeout", committed=False, infcode=None, delivered=False)),
    "reset": ({}, Expect("reset", committed=False, infcode=None, delivered=False)),
    "http-error": (
        {"status": 502},
        Expect("http-error", committed=False, infcode=None, delivered=False),
    ),
    "empty-body": ({}, Expect("empty", committed=True, delivered=False)),
    "garbled-body": ({}, Expect("garbled", committed=True, delivered=False)),
    "business-error": ({}, Expect("answer", committed=False, infcode=-1, err_msg="门诊挂号失败")),
    "bad-signature": ({}, Expect("bad-signature", committed=True)),
    "insured-place-downtime": (
        {},
        Expect("answer", committed=False, infcode=-1, err_msg="参保地医保系统停机维护"),
    ),
    "insured-place-unreachable": (
        {},
        Expect("answer", committed=False, infcode=-1, err_msg="参保地医保系统网络异常"),
    ),
    "commit-then-drop": ({}, Expect("timeout", committed=True, delivered=False)),
}


@pytest.fixture
def mock() -> Iterator[MockPlatform]:
    with MockPlatform() as platform:
        yield platform


def his_of(mock: MockPlatform, timeout: float = 5.0) -> SyntheticHis:
    client = httpx.Client(transport=mock.transport, base_url=mock.base_url, timeout=timeout)
    his = SyntheticHis(client)
    his.sign_in()
    return his


def registration(his: SyntheticHis) -> dict[str, Any]:
    now = datetime.now(CHINA_TIME).strftime("%Y-%m-%d %H:%M:%S")
    return his.envelope(
        "2201",
        {
            "data": {
                "psn_no": ZHANG.psn_no,
                "insutype": "310",
                "begntime": now,
                "mdtrt_cert_type": "02",
                "mdtrt_cert_no": ZHANG.certno,
                "ipt_otp_no": f"MZ{his.new_msgid()[-12:]}",
                "atddr_no": "D1",
                "dr_name": "医师丁",
                "dept_code": "0301",
                "dept_name": "内科门诊",
                "caty": "A03",
            }
        },
        insuplc=ZHANG.insuplc_admdvs,
    )


def visits(mock: MockPlatform) -> int:
    with mock.store.snapshot() as tx:
        return len(tx.find(Visit, tenant=KUNMING))


def observe(mock: MockPlatform, send: Callable[[], httpx.Response]) -> tuple[str, Any]:
    """Send once and classify what the client saw."""
    try:
        response = send()
    except httpx.ReadTimeout:
        return "timeout", None
    except (httpx.ReadError, httpx.RemoteProtocolError):
        return "reset", None
    if response.status_code >= 500:
        return "http-error", response
    if not response.content:
        return "empty", response
    try:
        answer = orjson.loads(response.content)
    except orjson.JSONDecodeError:
        return "garbled", response
    verifier = MessageVerifier(
        KeyRing([KeyEntry(mock.platform_public_key, "NHSA")]), policy="if-present"
    )
    try:
        verifier.verify(response.content)
    except TamperedBodyError:
        return "bad-signature", answer
    return "answer", answer


def arm(
    way: str, mock: MockPlatform, his: SyntheticHis, kind: str, params: dict[str, Any]
) -> dict[str, str]:
    """Arm ``kind`` for the next 2201; the headers to send with it."""
    if way == "python":
        mock.arm_fault(KUNMING, kind, infno="2201", **params)
        return {}
    if way == "admin":
        response = his.client.post(
            f"/admin/tenants/{KUNMING}/faults",
            json={"kind": kind, "infno": ["2201"], **params},
            headers={"authorization": f"Bearer {mock.admin_token}"},
        )
        assert response.status_code == 201, response.text
        return {}
    header = "; ".join([kind, *(f"{name}={value}" for name, value in params.items())])
    return {"x-mock-fault": header}


@pytest.mark.parametrize("way", ["admin", "python", "header"])
@pytest.mark.parametrize("kind", sorted(KINDS))
def test_each_fault_each_way(kind: str, way: str, mock: MockPlatform) -> None:
    params, expect = KINDS[kind]
    his = his_of(mock)
    headers = arm(way, mock, his, kind, params)
    before = visits(mock)

    seen, answer = observe(
        mock, lambda: his.client.post(SINGLE, content=dumps(registration(his)), headers=headers)
    )

    assert seen == expect.outcome
    if expect.outcome == "answer":
        assert answer["infcode"] == expect.infcode
        if expect.err_msg:
            assert answer["err_msg"].startswith(expect.err_msg)
    assert visits(mock) == before + (1 if expect.committed else 0)
    record = mock.transcript(KUNMING)[-1]
    assert record["infno"] == "2201"
    assert record["fault"]["kind"] == kind
    assert record["fault"]["armed_by"] == way
    assert record["delivered"] is expect.delivered
    assert record["state_changed"] is expect.committed
    if expect.committed:
        assert record["effects"]["mdtrt_id"]
    # the fault acted once: the next call is answered normally
    again, answer = observe(mock, lambda: his.client.post(SINGLE, content=dumps(registration(his))))
    assert again == "answer"
    assert answer["infcode"] == 0


def test_latency_longer_than_the_read_timeout_times_out_after_commit(mock: MockPlatform) -> None:
    his = his_of(mock, timeout=1.0)
    mock.arm_fault(KUNMING, "latency", ms=5000, infno="2201")
    before = visits(mock)
    with pytest.raises(httpx.ReadTimeout):
        his.client.post(SINGLE, content=dumps(registration(his)))
    assert visits(mock) == before + 1


def test_http_error_after_commit(mock: MockPlatform) -> None:
    his = his_of(mock)
    mock.arm_fault(KUNMING, "http-error", status=504, after_commit=True)
    before = visits(mock)
    response = his.client.post(SINGLE, content=dumps(registration(his)))
    assert response.status_code == 504
    assert b"504 Gateway Timeout" in response.content
    assert visits(mock) == before + 1


def test_commit_then_drop_reset_mode(mock: MockPlatform) -> None:
    his = his_of(mock)
    mock.arm_fault(KUNMING, "commit-then-drop", mode="reset")
    before = visits(mock)
    with pytest.raises(httpx.ReadError):
        his.client.post(SINGLE, content=dumps(registration(his)))
    assert visits(mock) == before + 1
    assert mock.transcript(KUNMING)[-1]["fault"]["mode"] == "reset"


def test_unreachable_hang_mode(mock: MockPlatform) -> None:
    his = his_of(mock)
    mock.arm_fault(KUNMING, "insured-place-unreachable", mode="hang")
    with pytest.raises(httpx.ReadTimeout):
        his.client.post(SINGLE, content=dumps(registration(his)))


def test_scope_by_infno_person_and_area(mock: MockPlatform) -> None:
    his = his_of(mock)
    mock.arm_fault(KUNMING, "business-error", infno="2201", psn_no="P00000000000000")
    mock.arm_fault(KUNMING, "business-error", area="440300")
    lookup = his.call(
        "1101",
        {"data": {"mdtrt_cert_type": "02", "mdtrt_cert_no": ZHANG.certno, "psn_cert_type": "01"}},
    )
    assert lookup["infcode"] == 0  # neither fault's scope matches
    assert his.post(registration(his)).json()["infcode"] == 0
    assert len(mock.faults(KUNMING)) == 2


def test_insured_place_faults_spare_the_treatment_place_calls(mock: MockPlatform) -> None:
    his = his_of(mock)
    mock.arm_fault(KUNMING, "insured-place-downtime", times=None)
    assert his.call("9001", {"signIn": {"opter_no": "C2", "ip": "1.1.1.1"}})["infcode"] == 0
    assert his.post(registration(his)).json()["err_msg"].startswith("参保地医保系统停机维护")


def test_times_then_disarmed(mock: MockPlatform) -> None:
    his = his_of(mock)
    mock.arm_fault(KUNMING, "business-error", infno="2201", times=2)
    codes = [his.post(registration(his)).json()["infcode"] for _ in range(3)]
    assert codes == [-1, -1, 0]
    assert mock.faults(KUNMING) == []


def test_probability_is_reproducible_with_its_seed() -> None:
    def pattern() -> list[int]:
        with MockPlatform() as platform:
            his = his_of(platform)
            platform.arm_fault(
                KUNMING, "business-error", infno="2201", times=None, probability=0.5, seed=20261123
            )
            return [his.post(registration(his)).json()["infcode"] for _ in range(16)]

    first = pattern()
    assert first == pattern()
    assert 0 < first.count(-1) < 16


def test_faults_are_per_tenant(mock: MockPlatform) -> None:
    mock.arm_fault("H53010200002", "reset")
    his = his_of(mock)
    assert his.post(registration(his)).json()["infcode"] == 0
    assert mock.faults(KUNMING) == []
    assert len(mock.faults("H53010200002")) == 1


def test_fault_header_is_ignored_unless_enabled() -> None:
    with MockPlatform(allow_fault_header=False) as platform:
        his = his_of(platform)
        response = his.post(registration(his), headers={"x-mock-fault": "reset"})
        assert response.json()["infcode"] == 0
        record = platform.transcript(KUNMING)[-1]
        assert record["headers"]["x-mock-fault"] == "reset"
        assert record["fault"] is None


def test_bad_fault_spec_names_the_field(mock: MockPlatform) -> None:
    his = his_of(mock)
    response = his.client.post(
        f"/admin/tenants/{KUNMING}/faults",
        json={"kind": "latency", "infno": "2207"},
        headers={"authorization": f"Bearer {mock.admin_token}"},
    )
    assert response.status_code == 400
    assert response.json()["error"]["field"] == "ms"
    assert response.json()["error"]["rule"] == "required"


@pytest.mark.slow
class TestOverRealSockets:
    """The connection-level faults against uvicorn on 127.0.0.1 (random free port)."""

    @pytest.fixture
    def served(self, mock: MockPlatform) -> Iterator[tuple[MockPlatform, SyntheticHis]]:
        with mock.serve() as url:
            client = httpx.Client(base_url=url, timeout=httpx.Timeout(5.0, read=0.5))
            his = SyntheticHis(client)
            his.sign_in()
            yield mock, his

    def test_reset_is_a_tcp_reset(self, served: tuple[MockPlatform, SyntheticHis]) -> None:
        mock, his = served
        mock.arm_fault(KUNMING, "reset", infno="2201")
        with pytest.raises(httpx.ReadError, match="reset"):
            his.client.post(SINGLE, content=dumps(registration(his)))
        assert his.post(registration(his)).json()["infcode"] == 0

    def test_hang_until_the_client_gives_up(
        self, served: tuple[MockPlatform, SyntheticHis]
    ) -> None:
        mock, his = served
        mock.arm_fault(KUNMING, "hang", infno="2201")
        before = visits(mock)
        with pytest.raises(httpx.ReadTimeout):
            his.client.post(SINGLE, content=dumps(registration(his)))
        assert visits(mock) == before

    def test_commit_then_drop(self, served: tuple[MockPlatform, SyntheticHis]) -> None:
        mock, his = served
        before = visits(mock)
        with pytest.raises(httpx.ReadTimeout):
            his.client.post(
                SINGLE,
                content=dumps(registration(his)),
                headers={"x-mock-fault": "commit-then-drop"},
            )
        assert visits(mock) == before + 1
        assert mock.transcript(KUNMING)[-1]["delivered"] is False

    def test_latency_delays_the_answer(self, served: tuple[MockPlatform, SyntheticHis]) -> None:
        mock, his = served
        mock.arm_fault(KUNMING, "latency", ms=2000, infno="2201")
        before = visits(mock)
        with pytest.raises(httpx.ReadTimeout):
            his.client.post(SINGLE, content=dumps(registration(his)))
        assert visits(mock) == before + 1  # processed; only the answer was late
        mock.arm_fault(KUNMING, "latency", ms=50, infno="2201")
        assert his.post(registration(his)).json()["infcode"] == 0


@pytest.mark.parametrize(
    "kind", sorted(k.value for k in FaultKind if k is not FaultKind.HTTP_ERROR)
)
def test_status_is_refused_outside_http_error(kind: str) -> None:
    # A status on another kind was accepted and silently ignored: the tester believed they had
    # armed a 502 that never came.
    parameters = {"ms": 10} if kind == "latency" else {}
    with pytest.raises(FaultSpecError) as refused:
        parse_fault_spec({"kind": kind, "status": 502, **parameters})
    assert (refused.value.field, refused.value.rule) == ("status", "kind")
    assert "http-error" in str(refused.value)


def test_http_error_status_defaults_to_503() -> None:
    assert parse_fault_spec({"kind": "http-error"}).http_status == 503
    assert parse_fault_spec({"kind": "http-error", "status": 504}).http_status == 504

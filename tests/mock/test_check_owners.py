"""One owner per check: the app owns transport, gateway, signature and schema, the engine owns
tenancy, msgid durability and the business rules. Each check that both once made is made by one
of them now; these tests count what reaches the engine to prove it."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from nhsa.envelope import CHINA_TIME
from nhsa.mock import MockPlatform
from nhsa.mock.engine import Call, Engine
from nhsa.mock.store import Message
from tests.mock.test_app_his import KUNMING, ZHANG, SyntheticHis

RECEIVED = datetime(2026, 11, 23, 9, 0, tzinfo=CHINA_TIME)


@pytest.fixture
def engine_calls(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """How often the engine was asked to admit and to process a call."""
    counted: Counter[str] = Counter()
    admit, process = Engine.admit, Engine.process

    def counting_admit(self: Engine, call: Call, tx: Any) -> Any:
        counted["admit"] += 1
        return admit(self, call, tx)

    def counting_process(self: Engine, ctx: Any) -> Any:
        counted["process"] += 1
        return process(self, ctx)

    monkeypatch.setattr(Engine, "admit", counting_admit)
    monkeypatch.setattr(Engine, "process", counting_process)
    return counted


@pytest.fixture
def mock(tmp_path: Path) -> Iterator[MockPlatform]:
    with MockPlatform(db=tmp_path / "owners.db") as platform:
        yield platform


def _his(mock: MockPlatform) -> SyntheticHis:
    client = httpx.Client(transport=mock.transport, base_url=mock.base_url, timeout=5)
    his = SyntheticHis(client)
    his.sign_in()
    return his


def _lookup(his: SyntheticHis, **changes: Any) -> dict[str, Any]:
    data = {"mdtrt_cert_type": "02", "mdtrt_cert_no": ZHANG.certno, "psn_cert_type": "01"}
    envelope = his.envelope("1101", {"data": {**data, "certno": ZHANG.certno}})
    envelope.update(changes)
    return envelope


def _answer(response: httpx.Response) -> dict[str, Any]:
    answer: dict[str, Any] = orjson.loads(response.content)
    return answer


def test_an_unregistered_institution_is_refused_by_the_gateway_alone(
    mock: MockPlatform, engine_calls: Counter[str]
) -> None:
    his = _his(mock)
    engine_calls.clear()
    response = his.post(_lookup(his, fixmedins_code="H99999999999"))
    assert response.status_code == 401
    assert response.headers["x-mock-rejected-by"] == "gateway"
    assert _answer(response)["err_msg"].startswith("非法用户")
    assert engine_calls == Counter()  # the engine never saw it, so it cannot refuse it again


def test_an_unknown_infno_is_refused_by_the_contract_check_alone(
    mock: MockPlatform, engine_calls: Counter[str]
) -> None:
    his = _his(mock)
    engine_calls.clear()
    answer = _answer(his.post(_lookup(his, infno="2299")))
    assert answer["err_msg"].startswith("交易编号不存在：2299")
    assert mock.transcript(KUNMING)[-1]["error_id"] == "envelope.unknown_infno"
    assert engine_calls == Counter()


def test_a_reused_msgid_gets_the_engines_durable_answer_at_once_and_after_a_restart(
    tmp_path: Path, engine_calls: Counter[str]
) -> None:
    db = tmp_path / "restart.db"
    with MockPlatform(db=db) as first:
        his = _his(first)
        envelope = _lookup(his)
        assert _answer(his.post(envelope))["infcode"] == 0
        engine_calls.clear()
        at_once = _answer(his.post(envelope))
        assert engine_calls == Counter(admit=1)  # admitted no further: nothing processed
        record = first.transcript(KUNMING)[-1]
    with MockPlatform(db=db) as second:
        his.client = httpx.Client(transport=second.transport, base_url=second.base_url)
        after_restart = _answer(his.post(envelope))
    assert at_once["infcode"] == after_restart["infcode"] == -1
    assert at_once["err_msg"] == after_restart["err_msg"]
    assert at_once["err_msg"].startswith(f"发送方报文ID重复：{envelope['msgid']} 已于 ")
    assert "用于【1101】" in at_once["err_msg"]
    assert record["error_id"] == "envelope.duplicate_msgid"
    assert record["state_changed"] is False


def test_a_reused_msgid_is_refused_before_a_fault_is_taken(mock: MockPlatform) -> None:
    his = _his(mock)
    envelope = _lookup(his)
    assert _answer(his.post(envelope))["infcode"] == 0
    mock.arm_fault(KUNMING, "business-error", infno="1101")
    again = _answer(his.post(envelope))
    assert again["err_msg"].startswith("发送方报文ID重复")
    assert [fault["fired"] for fault in mock.faults(KUNMING)] == [0]
    assert mock.transcript(KUNMING)[-1]["fault"] is None


def test_a_msgid_a_before_fault_kept_from_the_engine_is_not_remembered(
    mock: MockPlatform,
) -> None:
    # The app keeps no msgid memory of its own: a call a `before` fault replaced never reached
    # the engine, so, like a request lost in front of the platform, it may be sent again.
    his = _his(mock)
    envelope = _lookup(his)
    mock.arm_fault(KUNMING, "business-error", infno="1101")
    assert _answer(his.post(envelope))["infcode"] == -1
    assert _answer(his.post(envelope))["infcode"] == 0
    with mock.store.snapshot() as tx:
        assert tx.get(Message, KUNMING, envelope["msgid"]) is not None


def test_the_person_a_call_names_is_read_once_for_faults_and_for_the_msgid_memory(
    mock: MockPlatform,
) -> None:
    # An `after` fault scoped by person: the call is processed and remembered, and the fault
    # fires on it; both read the person through Call.psn_no.
    his = _his(mock)
    mock.arm_fault(KUNMING, "latency", ms=0, psn_no=ZHANG.psn_no, infno="2201")
    his.register(ZHANG)
    record = mock.transcript(KUNMING)[-1]
    assert (record["infno"], record["fault"]["kind"]) == ("2201", "latency")
    with mock.store.snapshot() as tx:
        remembered = tx.get(Message, KUNMING, record["msgid"])
    assert remembered is not None
    assert remembered.psn_no == ZHANG.psn_no


@pytest.mark.parametrize(
    ("nodes", "psn_no"),
    [
        ({"data": {"psn_no": "P1"}}, "P1"),
        ({"mdtrtinfo": {"psn_no": "P2"}, "diseinfo": [{"diag_code": "J06.900"}]}, "P2"),
        ({"feedetail": [{"psn_no": "P3"}, {"psn_no": "P4"}]}, "P3"),
        ({"data": {"certno": "530102198503150018"}}, None),
        ({"feedetail": []}, None),
    ],
)
def test_call_psn_no(nodes: dict[str, Any], psn_no: str | None) -> None:
    call = Call(KUNMING, "2204", "m1", {"input": nodes}, RECEIVED)
    assert call.psn_no == psn_no

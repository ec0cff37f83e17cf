"""Every refusal of the request pipeline: the right answer and HTTP status, nothing changed in
the store, and a transcript record of it (profile tif+sm2, in-process)."""

from __future__ import annotations

import socket
import sqlite3
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import orjson
import pytest

from nhsa.envelope import dumps
from nhsa.mock import Enrollment, MockPlatform
from nhsa.mock.store import RECORD_TYPES, Message
from nhsa.signing import TifAuth
from tests.mock.test_app_his import KUNMING, ZHANG, SyntheticHis

SINGLE = "/fsi/api/rsfComIfsService/callService"


@pytest.fixture
def mock() -> Iterator[MockPlatform]:
    with MockPlatform(profile="tif+sm2") as platform:
        yield platform


@pytest.fixture
def enrollment(mock: MockPlatform) -> Enrollment:
    return mock.enroll(KUNMING)


@pytest.fixture
def his(mock: MockPlatform, enrollment: Enrollment) -> SyntheticHis:
    client = httpx.Client(transport=mock.transport, base_url=mock.base_url, timeout=5)
    his = SyntheticHis(client, signing=enrollment.client_signing())
    his.sign_in()
    return his


def business_state(mock: MockPlatform) -> dict[str, Any]:
    """Every business row of every tenant, and the id sequence (messages are bookkeeping)."""
    with mock.store.snapshot() as tx:
        rows = {
            kind.TABLE: sorted(repr(row) for row in tx.find(kind))
            for kind in RECORD_TYPES
            if kind is not Message
        }
    assert mock.db_path is not None
    with sqlite3.connect(mock.db_path) as db:
        rows["id_sequence"] = db.execute("SELECT value FROM id_sequence").fetchall()
    return rows


def message_ids(mock: MockPlatform) -> set[tuple[str, str, int | None]]:
    """The msgid memory: (tenant, msgid, infcode) of every message the engine handled."""
    with mock.store.snapshot() as tx:
        return {(m.tenant, m.msgid, m.infcode) for m in tx.find(Message)}


def send(
    his: SyntheticHis,
    body: bytes,
    *,
    path: str = SINGLE,
    headers: dict[str, str] | None = None,
    sign: bool = True,
    gateway: bool = True,
) -> httpx.Response:
    assert his.signing is not None
    if sign:
        body = his.signing.seal_request(body)
    sent = dict(his.signing.auth.headers()) if gateway and his.signing.auth else {}
    sent.update(headers or {})
    return his.client.post(path, content=body, headers=sent)


def lookup(his: SyntheticHis, **changes: Any) -> dict[str, Any]:
    envelope = his.envelope(
        "1101",
        {
            "data": {
                "mdtrt_cert_type": "02",
                "mdtrt_cert_no": ZHANG.certno,
                "psn_cert_type": "01",
                "certno": ZHANG.certno,
            }
        },
    )
    envelope.update(changes)
    return envelope


Case = Callable[[SyntheticHis], httpx.Response]


def _too_large(his: SyntheticHis) -> httpx.Response:
    envelope = lookup(his)
    envelope["dev_safe_info"] = "x" * (1 << 20)
    return send(his, dumps(envelope), sign=False)


def _bad_json(his: SyntheticHis) -> httpx.Response:
    return send(his, b'{"infno": "1101", "msgid": ', sign=False)


def _wrong_types(his: SyntheticHis) -> httpx.Response:
    envelope = lookup(his)
    envelope["input"]["data"]["mdtrt_cert_type"] = 2
    return send(his, dumps(envelope))


def _unknown_infno(his: SyntheticHis) -> httpx.Response:
    return send(his, dumps(lookup(his, infno="2299")))


def _path_mismatch(his: SyntheticHis) -> httpx.Response:
    return send(his, dumps(lookup(his)), path="/fsi/api/outpatientSettleService/saveSettletmentV2")


def _unregistered(his: SyntheticHis) -> httpx.Response:
    return send(his, dumps(lookup(his, fixmedins_code="H99999999999")), sign=False)


def _missing_gateway(his: SyntheticHis) -> httpx.Response:
    return send(his, dumps(lookup(his)), gateway=False)


def _wrong_gateway_signature(his: SyntheticHis) -> httpx.Response:
    assert his.signing is not None
    assert his.signing.auth is not None
    headers = his.signing.auth.headers()
    headers["x-tif-signature"] = "0" * 64
    return send(his, dumps(lookup(his)), gateway=False, headers=headers)


def _stale_timestamp(his: SyntheticHis) -> httpx.Response:
    assert his.signing is not None
    assert his.signing.auth is not None
    stale = TifAuth(his.signing.auth.paasid, his.signing.auth._token, clock=lambda: 1_600_000_000.0)
    return send(his, dumps(lookup(his)), gateway=False, headers=stale.headers())


def _replayed_nonce(his: SyntheticHis) -> httpx.Response:
    assert his.signing is not None
    assert his.signing.auth is not None
    headers = his.signing.auth.headers()
    first = send(his, dumps(lookup(his)), gateway=False, headers=headers)
    assert orjson.loads(first.content)["infcode"] == 0
    return send(his, dumps(lookup(his)), gateway=False, headers=headers)


def _reused_msgid(his: SyntheticHis) -> httpx.Response:
    envelope = lookup(his)
    assert orjson.loads(send(his, dumps(envelope)).content)["infcode"] == 0
    return send(his, dumps(envelope))


def _tampered(his: SyntheticHis) -> httpx.Response:
    assert his.signing is not None
    signed = his.signing.seal_request(dumps(lookup(his)))
    tampered = signed.replace(ZHANG.certno.encode(), b"530102198503150026", 1)
    return send(his, tampered, sign=False)


def _unsigned(his: SyntheticHis) -> httpx.Response:
    return send(his, dumps(lookup(his)), sign=False)


def _missing_sign_in(his: SyntheticHis) -> httpx.Response:
    return send(his, dumps(lookup(his, sign_no="")))


def _sign_out(his: SyntheticHis) -> None:
    answer = his.call("9002", {"signOut": {"sign_no": his.sign_no, "opter_no": his.opter}})
    assert answer["infcode"] == 0


def _stale_sign_in(his: SyntheticHis) -> httpx.Response:
    return send(his, dumps(lookup(his)))


def _too_deep(his: SyntheticHis) -> httpx.Response:
    # 500 levels: parsed, but deeper than the recursive readers behind step 3 can go (it was
    # an HTTP 500 with a traceback and no transcript record).
    return send(his, _deep_body(lookup(his)))


def _too_deep_to_parse(his: SyntheticHis) -> httpx.Response:
    # 1,100 levels: beyond the parser's own bound; refused for its depth, not as "not JSON".
    return send(his, _deep_body(lookup(his), depth=1100), sign=False)


def _deep_body(envelope: dict[str, Any], depth: int = 500) -> bytes:
    """``envelope`` with ``input.deep`` nested ``depth`` levels (written by hand: the JSON
    encoders refuse such depths)."""
    flat = dumps({**envelope, "input": {**envelope["input"], "deep": 0}})
    return flat.replace(b'"deep":0', b'"deep":' + b'{"x":' * depth + b"0" + b"}" * depth)


RTL_FIELD = "/input/data/mdtrt_cert_no"


def _nul_in_envelope(his: SyntheticHis) -> httpx.Response:
    # Control characters were accepted and booked (sign-ins, ipt_otp_no).
    return send(his, dumps(lookup(his, opter_name="收费员\x00")))


def _rtl_override_in_input(his: SyntheticHis) -> httpx.Response:
    envelope = lookup(his)
    envelope["input"]["data"]["mdtrt_cert_no"] = "\u202e" + ZHANG.certno
    return send(his, dumps(envelope))


def _form_content_type(his: SyntheticHis) -> httpx.Response:
    # Any Content-Type was processed: a form post was read as JSON.
    headers = {"content-type": "application/x-www-form-urlencoded"}
    return send(his, dumps(lookup(his)), headers=headers)


def _gbk_charset(his: SyntheticHis) -> httpx.Response:
    return send(his, dumps(lookup(his)), headers={"content-type": "application/json;charset=GBK"})


def _bad_fault_header(his: SyntheticHis) -> httpx.Response:
    return send(his, dumps(lookup(his)), headers={"x-mock-fault": "latency; ms=soon"})


CASES: dict[str, tuple[Case, int, str, str]] = {
    # name: (request, HTTP status, err_msg prefix, which check refused)
    "too-large": (_too_large, 413, "报文过大", "gateway"),
    "bad-json": (_bad_json, 200, "报文格式错误", "platform"),
    "wrong-types": (_wrong_types, 200, "报文校验失败：/input/data/mdtrt_cert_type", "platform"),
    "unknown-infno": (_unknown_infno, 200, "交易编号不存在：2299", "platform"),
    "path-body-infno": (_path_mismatch, 200, "交易编号与请求路径不符", "platform"),
    "unregistered": (_unregistered, 401, "非法用户", "gateway"),
    "missing-gateway-headers": (_missing_gateway, 401, "缺少请求头", "gateway"),
    "wrong-gateway-signature": (_wrong_gateway_signature, 401, "签名不一致", "gateway"),
    "stale-timestamp": (_stale_timestamp, 401, "签名时间戳超时", "gateway"),
    "replayed-nonce": (_replayed_nonce, 401, "请求重复", "gateway"),
    "reused-msgid": (_reused_msgid, 200, "发送方报文ID重复", "engine"),
    "tampered-signature": (_tampered, 200, "签名不一致", "platform"),
    "unsigned": (_unsigned, 200, "缺少签名", "platform"),
    "missing-sign-in": (_missing_sign_in, 200, "未签到", "engine"),
    "stale-sign-in": (_stale_sign_in, 200, "签到已", "engine"),
    "bad-fault-header": (_bad_fault_header, 400, "x-mock-fault 无效", "platform"),
    "nul-in-envelope": (_nul_in_envelope, 200, "报文校验失败：/opter_name plain-text", "platform"),
    "rtl-in-input": (
        _rtl_override_in_input,
        200,
        "报文校验失败：/input/data/mdtrt_cert_no plain-text",
        "platform",
    ),
    "form-content-type": (_form_content_type, 415, "请求内容类型不支持", "gateway"),
    "gbk-charset": (_gbk_charset, 415, "请求内容类型不支持", "gateway"),
    "too-deep": (_too_deep, 200, "报文格式错误：JSON 嵌套超过 32 层", "platform"),
    "too-deep-to-parse": (_too_deep_to_parse, 200, "报文格式错误：JSON 嵌套超过 32 层", "platform"),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_refusal_answers_records_and_changes_nothing(
    name: str, mock: MockPlatform, his: SyntheticHis
) -> None:
    request, status, prefix, refused_by = CASES[name]
    if name == "stale-sign-in":
        _sign_out(his)
    before = business_state(mock)
    remembered = message_ids(mock)
    last_seq = mock.transcript(KUNMING)[-1]["seq"]

    response = request(his)

    assert response.status_code == status
    answer = orjson.loads(response.content)
    assert answer["infcode"] == -1
    assert answer["err_msg"].startswith(prefix), answer["err_msg"]
    assert " / " in answer["err_msg"] or ": " in answer["err_msg"]  # says why, in English too
    if refused_by != "engine":
        assert response.headers["x-mock-rejected-by"] == refused_by
    if refused_by == "gateway":
        assert answer["inf_refmsgid"] == ""
        assert answer["cainfo"] == ""
    assert business_state(mock) == before
    # Only the engine remembers a refused msgid (so a resend is recognised); the checks in
    # front of it leave the messages table alone (a case may first send one good request).
    # A reused msgid is remembered already: its refusal adds nothing.
    refused = {m for m in message_ids(mock) - remembered if m[2] != 0}
    remembers = refused_by == "engine" and name != "reused-msgid"
    assert len(refused) == (1 if remembers else 0), refused
    tenant = "H99999999999" if name == "unregistered" else KUNMING
    records = [r for r in mock.transcript(tenant) if r["seq"] > last_seq or tenant != KUNMING]
    assert records, "the refusal is in the transcript"
    record = records[-1]
    assert (record["infcode"], record["err_msg"]) == (-1, answer["err_msg"])
    assert record["state_changed"] is False
    assert record["response"]["err_msg"] == answer["err_msg"]


def test_refusals_show_which_check_failed(mock: MockPlatform, his: SyntheticHis) -> None:
    _wrong_gateway_signature(his)
    gateway = mock.transcript(KUNMING)[-1]["gateway"]
    assert gateway["scheme"] == "tif"
    assert gateway["ok"] is False
    assert gateway["error"].startswith("签名不一致")

    _tampered(his)
    signature = mock.transcript(KUNMING)[-1]["signature"]
    assert (signature["present"], signature["ok"]) == (True, False)

    _wrong_types(his)
    validation = mock.transcript(KUNMING)[-1]["validation"]
    assert {"pointer": "/input/data/mdtrt_cert_type", "rule": "type"} in [
        {"pointer": v["pointer"], "rule": v["rule"]} for v in validation
    ]


def test_accepted_request_is_recorded_with_its_checks(
    mock: MockPlatform, his: SyntheticHis, enrollment: Enrollment
) -> None:
    answer = his.call("1101", lookup(his)["input"])
    record = mock.transcript(KUNMING)[-1]
    assert record["infno"] == "1101"
    assert record["infcode"] == 0
    assert record["gateway"] == {"scheme": "tif", "ok": True, "error": None, "family": "tif"}
    assert record["signature"]["ok"] is True
    assert enrollment.private_key is not None
    assert record["signature"]["key_id"] == enrollment.private_key.key_id
    assert record["validation"] == []
    assert record["response"]["output"]["baseinfo"]["psn_no"] == ZHANG.psn_no
    assert answer["inf_refmsgid"].startswith("530100")
    assert len(answer["inf_refmsgid"]) == 30
    assert record["headers"]["x-tif-paasid"] == enrollment.paasid
    assert record["delivered"] is True


def test_wrong_method_and_unknown_path_answer_json(his: SyntheticHis) -> None:
    wrong = his.client.get(SINGLE)
    assert wrong.status_code == 405
    assert orjson.loads(wrong.content)["err_msg"].startswith("请求方法不支持：GET")
    missing = his.client.post("/fsi/api/noSuchService/call", content=b"{}")
    assert missing.status_code == 404
    assert "known-path" in orjson.loads(missing.content)["err_msg"]


@pytest.mark.parametrize(
    "content_type", [None, "application/json", "application/json;charset=utf-8",
                     "text/plain; charset=UTF-8", "Application/JSON; charset=\"utf8\""],
)  # fmt: skip
def test_json_content_types_real_his_send_are_accepted(
    his: SyntheticHis, content_type: str | None
) -> None:
    headers = {"content-type": content_type} if content_type else {}
    assert his.signing is not None
    body = his.signing.seal_request(dumps(lookup(his)))
    sent = {**(his.signing.auth.headers() if his.signing.auth else {}), **headers}
    if content_type is None:
        sent.pop("content-type", None)
    response = his.client.post(SINGLE, content=body, headers=sent)
    assert orjson.loads(response.content)["infcode"] == 0


def test_a_trailing_slash_is_a_clear_404_not_a_redirect(his: SyntheticHis) -> None:
    # Starlette answered 307 to the path without the slash.
    response = send(his, dumps(lookup(his)), path=SINGLE + "/")
    assert response.status_code == 404
    answer = orjson.loads(response.content)
    assert answer["infcode"] == -1
    assert f"drop the trailing slash: post to {SINGLE}" in answer["err_msg"]


@pytest.mark.slow
def test_requests_that_are_not_valid_http_get_an_envelope(mock: MockPlatform) -> None:
    # uvicorn answered its own plain-text 400 ("Invalid HTTP request received.").
    lengths = {
        "two": ["2", "2"],
        "two different": ["2", "3"],
        "not a number": ["abc"],
        "negative": ["-5"],
        "exponent": ["1e3"],
    }
    with mock.serve() as url:
        host, port = url.removeprefix("http://").split(":")
        for name, values in lengths.items():
            headers = "".join(f"Content-Length: {value}\r\n" for value in values)
            with socket.create_connection((host, int(port)), timeout=10) as connection:
                connection.sendall(
                    f"POST {SINGLE} HTTP/1.1\r\nHost: {host}\r\n"
                    f"Content-Type: application/json\r\n{headers}\r\n{{}}".encode()
                )
                reply = b""
                while chunk := connection.recv(65536):
                    reply += chunk
            head, _, body = reply.partition(b"\r\n\r\n")
            assert head.startswith(b"HTTP/1.1 400 "), name
            assert b"content-type: application/json" in head.lower(), name
            answer = orjson.loads(body)
            assert answer["infcode"] == -1, name
            assert "http-message" in answer["err_msg"], name


def test_paasid_of_another_institution_is_refused(mock: MockPlatform, his: SyntheticHis) -> None:
    other = mock.enroll("H53010200002")
    signing = other.client_signing()
    assert signing.auth is not None
    body = his.signing.seal_request(dumps(lookup(his))) if his.signing else b""
    response = his.client.post(SINGLE, content=body, headers=signing.auth.headers())
    assert response.status_code == 401
    assert "paasid-owns-institution" in orjson.loads(response.content)["err_msg"]

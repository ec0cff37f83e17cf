"""The decision points, one by one: classification and error mapping (retries: test_retry.py)."""

from __future__ import annotations

from typing import Any

import httpx
import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from nhsa.client import (
    BusinessError,
    NotSent,
    NotSentError,
    OutcomeUnknownError,
    Rejected,
    Reversed,
    Succeeded,
    Unknown,
)
from nhsa.client._classify import AnswerPatterns, classify
from nhsa.client._outcomes import Outcome
from nhsa.client._unwrap import error_for
from nhsa.client.errors import UnusableAnswerError
from nhsa.spec import contract

MSGID = "H53010100001202611231015300001"
PATTERNS = AnswerPatterns()


def _classify(reply: Any, infno: str = "2207", **overrides: Any) -> Outcome:
    transaction = contract().transaction(infno)
    options: dict[str, Any] = {
        "infno": infno,
        "msgid": MSGID,
        "patterns": PATTERNS,
        "verify": None,
        "response_body": transaction.response_body,
    } | overrides
    return classify(reply, **options)


def _answer(infcode: int, **fields: Any) -> httpx.Response:
    return httpx.Response(200, content=orjson.dumps({"infcode": infcode, **fields}))


REQUEST = httpx.Request("POST", "http://platform.test/")


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        (httpx.ConnectError, "not_sent"),
        (httpx.ConnectTimeout, "not_sent"),
        (httpx.PoolTimeout, "not_sent"),
        (httpx.UnsupportedProtocol, "not_sent"),
        (httpx.ReadTimeout, "unknown"),
        (httpx.WriteTimeout, "unknown"),
        (httpx.ReadError, "unknown"),
        (httpx.WriteError, "unknown"),
        (httpx.RemoteProtocolError, "unknown"),
        (httpx.LocalProtocolError, "unknown"),
        (httpx.ProxyError, "unknown"),
        (httpx.CloseError, "unknown"),
    ],
)
def test_transport_errors_map_by_whether_the_request_can_have_arrived(
    error: type[httpx.TransportError], kind: str
) -> None:
    assert _classify(error("boom", request=REQUEST)).kind == kind


@given(st.sampled_from(sorted(contract().transactions)), st.text(max_size=40))
def test_a_transport_error_never_becomes_a_business_error(infno: str, text: str) -> None:
    for error in (httpx.ReadTimeout, httpx.ConnectError, httpx.RemoteProtocolError):
        outcome = _classify(error(text, request=REQUEST), infno)
        assert not isinstance(outcome, Rejected)
        assert not isinstance(error_for(outcome), BusinessError)


def test_http_429_is_busy_and_carries_retry_after() -> None:
    outcome = _classify(httpx.Response(429, headers={"retry-after": "3"}, text="slow down"))
    assert isinstance(outcome, Rejected)
    assert (outcome.busy, outcome.retry_after, outcome.infcode) == (True, 3.0, None)


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_http_5xx_is_unknown(status: int) -> None:
    assert _classify(httpx.Response(status, text="gateway")).kind == "unknown"


def test_a_gateway_refusal_is_definite() -> None:
    body = orjson.dumps({"infcode": -1, "err_msg": "签名不一致"})
    outcome = _classify(httpx.Response(401, content=body))
    assert isinstance(outcome, Rejected)
    assert (outcome.infcode, outcome.err_msg, outcome.status_code) == (-1, "签名不一致", 401)


@pytest.mark.parametrize(
    "body",
    [b"", b"<html>oops</html>", b'{"infcode": "x"}', b"[1, 2]", b'{"infcode":0,"output":{'],
)
def test_an_unreadable_answer_is_unknown(body: bytes) -> None:
    assert _classify(httpx.Response(200, content=body)).kind == "unknown"


def test_a_success_of_any_shape_is_definite_and_lacking_what_the_sdk_needs_is_unusable() -> None:
    # infcode 0 without setlinfo: the platform settled; the answer cannot be acted on.
    outcome = _classify(_answer(0, output={}))
    assert isinstance(outcome, Succeeded)
    assert [(w.kind, w.pointer) for w in outcome.warnings] == [
        ("missing", "/output/setlinfo"),
        ("missing", "/output/setldetail"),
    ]
    assert [(s.member, s.problem) for s in outcome.unusable] == [
        ("setlinfo.setl_id", "missing"),
        ("setlinfo.medfee_sumamt", "missing"),
        ("setlinfo.fund_pay_sumamt", "missing"),
        ("setlinfo.acct_pay", "missing"),
    ]
    error = error_for(outcome)
    assert isinstance(error, UnusableAnswerError)
    assert error.shortfalls == outcome.unusable


def test_another_transactions_body_is_not_an_answer() -> None:
    person = contract().transaction("1101").examples[0].response["output"]
    outcome = _classify(_answer(0, output=person))
    assert isinstance(outcome, Unknown)
    assert "none of 2207's nodes" in outcome.reason


@pytest.mark.parametrize(
    ("err_msg", "flag"),
    [
        ("系统繁忙，请稍后重试", "busy"),
        ("Server BUSY", "busy"),
        ("未签到，请先调用【9001】签到", "sign_in"),
        ("签到已失效，请重新调用【9001】签到", "sign_in"),
        ("参保地医保系统停机维护，暂不能办理：440300", "downtime"),
    ],
)
def test_refusals_are_flagged_by_their_wording(err_msg: str, flag: str) -> None:
    outcome = _classify(_answer(-1, err_msg=err_msg))
    assert isinstance(outcome, Rejected)
    flags = {name for name in ("busy", "sign_in", "downtime") if getattr(outcome, name)}
    assert flags == {flag}


def test_province_wording_can_be_added() -> None:
    patterns = AnswerPatterns(busy=("交易量过大",))
    outcome = _classify(_answer(-1, err_msg="交易量过大，请等待"), patterns=patterns)
    assert isinstance(outcome, Rejected)
    assert outcome.busy


def test_a_settlement_answer_naming_another_msgid_is_definite_but_unusable() -> None:
    example = contract().transaction("2207").examples[0].response
    ours = "H53010100001202611231015309999"
    outcome = _classify(httpx.Response(200, content=orjson.dumps(example)), msgid=ours)
    theirs = example["output"]["setlinfo"]["medins_setl_id"]
    assert theirs != ours
    assert isinstance(outcome, Succeeded)
    assert [(s.member, s.problem) for s in outcome.unusable] == [
        ("setlinfo.medins_setl_id", f"names msgid {theirs}, not {ours}")
    ]
    echoed = _classify(httpx.Response(200, content=orjson.dumps(example)))
    assert isinstance(echoed, Succeeded)
    assert echoed.usable


def test_a_9102_file_answer_is_the_raw_bytes() -> None:
    outcome = _classify(
        httpx.Response(200, content=b"PK\x03\x04zip", headers={"content-type": "application/zip"}),
        "9102",
    )
    assert isinstance(outcome, Succeeded)
    assert outcome.output == b"PK\x03\x04zip"


def test_answer_bodies_are_redacted_in_outcomes() -> None:
    body = orjson.dumps({"infcode": -1, "err_msg": "no", "certno": "530102198503150018"})
    outcome = _classify(httpx.Response(403, content=body))
    assert "530102198503150018" not in outcome.body  # type: ignore[union-attr]


def test_errors_carry_what_a_support_desk_needs() -> None:
    rejected = Rejected("2202", MSGID, -1, "就诊信息不存在", (), body='{"certno":"***"}')
    business = error_for(rejected)
    assert isinstance(business, BusinessError)
    assert (business.infno, business.msgid, business.infcode, business.err_msg) == (
        "2202",
        MSGID,
        -1,
        "就诊信息不存在",
    )
    assert business.body == '{"certno":"***"}'
    assert isinstance(error_for(NotSent("1101", MSGID, "ConnectError", ())), NotSentError)
    reversed_ = Reversed("2601", "H53010100001202611231015300002", True)
    unknown = error_for(Unknown("2207", MSGID, "ReadTimeout", (), resolution=reversed_))
    assert isinstance(unknown, OutcomeUnknownError)
    assert unknown.resolution is reversed_

"""Turning what came back from one attempt into an outcome — the one place that decides.

Transport errors, by whether the request can have reached the platform (urllib3 and httpx draw
the same line between "connect" and "read")::

    httpx error                                   outcome   why
    ConnectError (DNS failure included)           NotSent   no connection was made
    ConnectTimeout                                NotSent   no connection was made
    PoolTimeout                                   NotSent   no connection was handed out
    UnsupportedProtocol                           NotSent   refused before connecting
    ReadTimeout, WriteTimeout                     Unknown   bytes may have been delivered
    ReadError, WriteError, RemoteProtocolError    Unknown   reset during or after sending
    any other TransportError                      Unknown   when in doubt, assume it arrived

Answers::

    HTTP 429                                      Rejected (busy)  explicit "not now"
    HTTP 5xx                                      Unknown   a gateway may fail after forwarding
    other HTTP 4xx                                Rejected  a gateway refusal: nothing forwarded
                                                            (its text read from the dialect's
                                                            refusal shape when it has one)
    a dialect refusal shape the profile calls     Rejected  e.g. a CSB gateway's {"code": 401,
    definite (HTTP 200)                                     "message": …}: nothing forwarded
    any other body in a dialect's shape           Unknown   a helper's own error ({"code":"999"})
    bad or missing response signature             Unknown   the answer cannot be trusted
    body that is not an answer: not a JSON        Unknown   (MalformedResponseError)
    object, no numeric infcode, or another
    transaction's output
    infcode 0                                     Succeeded definite whatever its shape: what
                                                            departs from the contract is in
                                                            .warnings (and a log line); a
                                                            load-bearing member missing, or a
                                                            setlinfo naming another msgid, is
                                                            in .unusable — never Unknown
    infcode ≠ 0                                   Rejected  flagged busy / sign-in / downtime
                                                            when err_msg matches the patterns

A transport error is never turned into a :class:`Rejected`: only the platform's own answer is.

Example:
    >>> patterns = AnswerPatterns()
    >>> outcome = classify(httpx.ConnectError("refused"), infno="1101", msgid="m1",
    ...                    patterns=patterns, verify=None, response_body="json")
    >>> outcome.kind
    'not_sent'
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, Literal

import httpx
import orjson

from nhsa.client._load_bearing import shortfalls
from nhsa.client._outcomes import NotSent, Outcome, Rejected, Succeeded, Unknown
from nhsa.client.errors import ClientConfigError
from nhsa.envelope import (
    DIALECT_KINDS,
    MalformedResponseError,
    ShapeReading,
    parse_response,
    read_shape,
)
from nhsa.redaction import get_logger, redact
from nhsa.signing.errors import SigningError
from nhsa.spec import Dialect

NOT_SENT_ERRORS: tuple[type[httpx.TransportError], ...] = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.PoolTimeout,
    httpx.UnsupportedProtocol,
)
"""Transport errors raised before any byte of the request could reach the platform."""

_BODY_LIMIT = 2000
_log = get_logger("nhsa.client")


@dataclass(frozen=True)
class AnswerPatterns:
    """Wording that marks a refusal as busy, a missing sign-in, a downtime, a 2601 note that
    the original never arrived, or a business cancel refused because there is nothing to
    cancel. Regular expressions, searched (ignoring case) in ``err_msg`` (or, for
    ``original_not_found``, ``warn_msg``). The defaults cover the mock
    platform's wording (``interface_specs/v1/errors.json``) and common real phrasings; add
    your province's.

    Example:
        >>> AnswerPatterns().matches("sign_in", "签到已失效，请重新调用【9001】签到")
        True
    """

    busy: Sequence[str] = (
        "系统繁忙",
        "请稍后重试",
        "请稍后再试",
        "busy",
        "too many requests",
    )
    sign_in: Sequence[str] = (
        "未签到",
        "签到已失效",
        "签到.{0,6}(过期|失效|不存在|无效)",
    )
    downtime: Sequence[str] = ("停机",)
    original_not_found: Sequence[str] = ("原交易不存在", "original not found")
    nothing_to_undo: Sequence[str] = ("无可撤销", "nothing to (cancel|undo)", "no fee lines")
    _compiled: dict[str, re.Pattern[str]] = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        for name in ("busy", "sign_in", "downtime", "original_not_found", "nothing_to_undo"):
            expressions = getattr(self, name)
            if isinstance(expressions, str):
                expressions = (expressions,)
            joined = "|".join(f"(?:{expression})" for expression in expressions) or "(?!x)x"
            try:
                self._compiled[name] = re.compile(joined, re.IGNORECASE)
            except re.error as error:
                raise ClientConfigError(f"patterns.{name}: {error}") from None

    def matches(
        self,
        kind: Literal["busy", "sign_in", "downtime", "original_not_found", "nothing_to_undo"],
        text: str | None,
    ) -> bool:
        """Whether ``text`` carries the wording of ``kind``."""
        return bool(text) and self._compiled[kind].search(text or "") is not None


def classify(  # noqa: PLR0911 - one return per row of the table in the module docstring
    reply: httpx.Response | httpx.TransportError,
    *,
    infno: str,
    msgid: str,
    patterns: AnswerPatterns,
    verify: Callable[[bytes], object] | None,
    response_body: Literal["json", "file"],
    dialect: Dialect | None = None,
) -> Outcome:
    """The outcome of one attempt (its ``attempts`` left empty for the caller to fill).

    Args:
        dialect: the province dialect the answer is in (national when ``None``).
        verify: checks the answer's signature over its raw bytes (raises a signing error
            when it does not verify); ``None`` when the profile does not check answers.
        response_body: ``file`` when a success answer is raw bytes (9102).
    """
    if isinstance(reply, httpx.TransportError):
        name = type(reply).__name__
        detail = f"{name}: {reply}" if str(reply) else name
        if isinstance(reply, NOT_SENT_ERRORS):
            return NotSent(infno, msgid, detail, ())
        return Unknown(infno, msgid, detail, ())
    body = reply.content
    status = reply.status_code
    if status == 429:
        return Rejected(
            infno, msgid, None, f"HTTP 429: {_text(body)}", (), status_code=status, busy=True,
            retry_after=_retry_after(reply), body=_shown(body),
        )  # fmt: skip
    if status >= 500:
        return Unknown(infno, msgid, f"HTTP {status}", (), body=_shown(body))
    shaped = _shape(body, dialect)
    if status >= 400:
        parsed = _envelope_fields(body)
        shown = shaped.message if shaped is not None else None
        err_msg = parsed.get("err_msg") or shown or f"HTTP {status}: {_text(body)}"
        return _rejected(
            infno,
            msgid=msgid,
            infcode=parsed.get("infcode"),
            err_msg=str(err_msg),
            status=status,
            body=_shown(body),
            patterns=patterns,
        )
    if response_body == "file" and _is_file(reply):
        return Succeeded(infno, msgid, body, ())
    if verify is not None and (shaped is None or shaped.envelope is not None):
        # A gateway's or helper's own body is never the platform's, so never signed.
        try:
            verify(body)
        except SigningError as error:
            return Unknown(
                infno, msgid, f"answer signature rejected: {error}", (), body=_shown(body)
            )
    try:
        parsed_answer = parse_response(body, infno, dialect)
    except MalformedResponseError as error:
        return Unknown(infno, msgid, f"malformed answer: {error}", (), body=_shown(body))
    if not parsed_answer.ok:
        err_msg = parsed_answer.err_msg or f"infcode {parsed_answer.infcode} without err_msg"
        return _rejected(
            infno,
            msgid=msgid,
            infcode=parsed_answer.infcode,
            err_msg=err_msg,
            status=status,
            body=_shown(body),
            patterns=patterns,
        )
    output = parsed_answer.output
    unusable = shortfalls(infno, output, msgid)
    if parsed_answer.warnings or unusable:
        # What the province's profile says its platform does is worth a line, not an alarm.
        expected = all(w.kind in DIALECT_KINDS for w in parsed_answer.warnings)
        _log.log(
            logging.DEBUG if expected and not unusable else logging.WARNING,
            "%s %s succeeded; read with %d warning(s)%s: %s",
            infno,
            msgid,
            len(parsed_answer.warnings),
            f", unusable ({'; '.join(map(str, unusable))})" if unusable else "",
            "; ".join(map(str, parsed_answer.warnings)) or "none",
        )
    return Succeeded(
        infno,
        msgid,
        output,
        (),
        warn_msg=parsed_answer.envelope.warn_msg,
        warnings=parsed_answer.warnings,
        unusable=unusable,
    )


def _rejected(
    infno: str,
    *,
    msgid: str,
    infcode: object,
    err_msg: str,
    status: int,
    body: str,
    patterns: AnswerPatterns,
) -> Rejected:
    return Rejected(
        infno,
        msgid,
        infcode if isinstance(infcode, int) else _int_or_none(infcode),
        err_msg,
        (),
        status_code=status,
        busy=patterns.matches("busy", err_msg),
        sign_in=patterns.matches("sign_in", err_msg),
        downtime=patterns.matches("downtime", err_msg),
        body=body,
    )


def _is_file(reply: httpx.Response) -> bool:
    content_type = reply.headers.get("content-type", "")
    if "json" in content_type:
        return False
    return not reply.content.lstrip().startswith(b"{")


def _shape(body: bytes, dialect: Dialect | None) -> ShapeReading | None:
    """The body read as one of the dialect's answer shapes (``None``: it has none)."""
    if dialect is None or not dialect.shapes:
        return None
    fields = _envelope_fields(body)
    return read_shape(dialect, fields) if fields else None


def _envelope_fields(body: bytes) -> dict[str, Any]:
    try:
        value = orjson.loads(body)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _int_or_none(value: object) -> int | None:
    if isinstance(value, str) and value.lstrip("-").isdigit():
        return int(value)
    return None


def _retry_after(reply: httpx.Response) -> float | None:
    value = reply.headers.get("retry-after")
    if not value:
        return None
    if value.strip().isdigit():
        return float(value.strip())
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max((when - datetime.now(UTC)).total_seconds(), 0.0)


def _text(body: bytes) -> str:
    return str(redact(body[:200].decode("utf-8", "replace"))).strip() or "(empty body)"


def _shown(body: bytes) -> str:
    """The body for an error or a log line: personal data masked, length bounded."""
    text = str(redact(body.decode("utf-8", "replace")))
    return text if len(text) <= _BODY_LIMIT else text[:_BODY_LIMIT] + "…"

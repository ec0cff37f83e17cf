"""Envelopes: msgid, building and encoding requests, reading responses; the 3202 files.

Example:
    >>> from datetime import datetime
    >>> from nhsa.envelope import CHINA_TIME, MsgidGenerator, parse_msgid
    >>> eight = datetime(2026, 11, 23, 8, 0, 0, tzinfo=CHINA_TIME)
    >>> ids = MsgidGenerator("H53010100001", clock=lambda: eight)
    >>> parse_msgid(ids.next())[2]
    0
"""

from __future__ import annotations

from nhsa.envelope._build import (
    MissingInsuredAreaError,
    Operator,
    OpterType,
    Sender,
    build_request,
    carries_psn_no,
    encode_request,
)
from nhsa.envelope._clock import CHINA_TIME, Clock, china_now
from nhsa.envelope._codec import dumps, loads
from nhsa.envelope._counting import (
    REFUND_ROW,
    SETTLEMENT_ROW,
    CountingModel,
    counted,
    counting_model,
)
from nhsa.envelope._detail_files import (
    DetailFileError,
    DetailRow,
    ResultRow,
    read_detail_file,
    read_result_file,
    write_detail_file,
    write_result_file,
)
from nhsa.envelope._dialect import (
    DialectRenderError,
    ShapeReading,
    decode_answer,
    decode_request,
    encode_answer,
    fill_envelope,
    gateway_refusal_body,
    read_shape,
    render_request,
)
from nhsa.envelope._msgid import SEQUENCE_LIMIT, CounterInUseError, MsgidGenerator, parse_msgid
from nhsa.envelope._parse import MalformedResponseError, ParsedResponse, parse_response
from nhsa.envelope._warnings import DIALECT_KINDS, AnswerWarning, WarningKind

__all__ = [
    "CHINA_TIME",
    "DIALECT_KINDS",
    "REFUND_ROW",
    "SEQUENCE_LIMIT",
    "SETTLEMENT_ROW",
    "AnswerWarning",
    "Clock",
    "CounterInUseError",
    "CountingModel",
    "DetailFileError",
    "DetailRow",
    "DialectRenderError",
    "MalformedResponseError",
    "MissingInsuredAreaError",
    "MsgidGenerator",
    "Operator",
    "OpterType",
    "ParsedResponse",
    "ResultRow",
    "Sender",
    "ShapeReading",
    "WarningKind",
    "build_request",
    "carries_psn_no",
    "china_now",
    "counted",
    "counting_model",
    "decode_answer",
    "decode_request",
    "dumps",
    "encode_answer",
    "encode_request",
    "fill_envelope",
    "gateway_refusal_body",
    "loads",
    "parse_msgid",
    "parse_response",
    "read_detail_file",
    "read_result_file",
    "read_shape",
    "render_request",
    "write_detail_file",
    "write_result_file",
]

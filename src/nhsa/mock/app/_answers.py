"""Answer envelopes: receiver message ids, timestamps, encoding and the platform's signature.

Every answer the platform itself gives — success or infcode -1 — is a response envelope
(reference §1.2): ``infcode``, ``inf_refmsgid`` (receiver area (6) + ``yyyyMMddHHmmss`` +
a 10-digit serial), ``refmsg_time`` and ``respond_time`` (``yyyyMMddHHmmssSSS``),
``err_msg``, ``warn_msg``, ``output``, and ``cainfo``/``signtype`` filled by the platform's
SM2 signature when the institution's profile signs. Amounts stay exact: the body is encoded
with :func:`nhsa.envelope.dumps`.

Example:
    >>> from datetime import datetime
    >>> from nhsa.envelope import CHINA_TIME
    >>> ids = RefMsgIds(start=41)
    >>> ids.next("530100", datetime(2026, 11, 23, 10, 15, 30, tzinfo=CHINA_TIME))
    '530100202611231015300000000042'
"""

from __future__ import annotations

import itertools
import secrets
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

import orjson

from nhsa.envelope import CHINA_TIME, dumps
from nhsa.signing import MessageSigner

__all__ = [
    "JSON_TYPE",
    "RefMsgIds",
    "Reply",
    "answer_envelope",
    "bad_signature",
    "millis_text",
    "seal",
]

JSON_TYPE: Final = "application/json; charset=utf-8"
_SERIAL_DIGITS: Final = 10
_SERIAL_LIMIT: Final = 10**_SERIAL_DIGITS
_AREA_DIGITS: Final = 6


@dataclass(frozen=True, slots=True)
class Reply:
    """What goes back on the wire for one request.

    Attributes:
        status: the HTTP status.
        body: the exact bytes of the body.
        content_type: its media type.
        headers: extra response headers.
    """

    status: int
    body: bytes
    content_type: str = JSON_TYPE
    headers: tuple[tuple[str, str], ...] = field(default=())


class RefMsgIds:
    """Issues ``inf_refmsgid`` values: area + second + a 10-digit serial.

    The serial is a process-wide counter starting at a random point, so two server processes
    (a restart) are unlikely to repeat an id within the same second. [inference: the
    platform's serial scheme is not public]

    Example:
        >>> from datetime import datetime
        >>> ids = RefMsgIds(start=0)
        >>> ids.next("not-an-area", datetime(2026, 1, 2, 3, 4, 5, tzinfo=CHINA_TIME))[:6]
        '000000'
    """

    def __init__(self, start: int | None = None) -> None:
        """Count from ``start`` (random when omitted)."""
        first = secrets.randbelow(_SERIAL_LIMIT) if start is None else start
        self._counter = itertools.count(first + 1)
        self._lock = threading.Lock()

    def next(self, area: str | None, when: datetime) -> str:
        """The next id for an answer from ``area`` (the receiver's area code) at ``when``."""
        with self._lock:
            serial = next(self._counter) % _SERIAL_LIMIT
        prefix = area if area and len(area) == _AREA_DIGITS and area.isdigit() else "000000"
        return f"{prefix}{when.astimezone(CHINA_TIME):%Y%m%d%H%M%S}{serial:0{_SERIAL_DIGITS}d}"


def millis_text(when: datetime) -> str:
    """``yyyyMMddHHmmssSSS`` in China time (``refmsg_time``, ``respond_time``).

    Example:
        >>> millis_text(datetime(2026, 11, 23, 10, 15, 30, 120000, tzinfo=CHINA_TIME))
        '20261123101530120'
    """
    local = when.astimezone(CHINA_TIME)
    return f"{local:%Y%m%d%H%M%S}{local.microsecond // 1000:03d}"


def answer_envelope(
    *,
    infcode: int,
    err_msg: str | None,
    output: Mapping[str, Any] | None,
    inf_refmsgid: str,
    received_at: datetime,
    responded_at: datetime,
    warn_msg: str | None = None,
) -> dict[str, Any]:
    """A response envelope in the member order of the real samples; unsigned.

    Example:
        >>> when = datetime(2026, 11, 23, 10, 15, 30, tzinfo=CHINA_TIME)
        >>> envelope = answer_envelope(infcode=-1, err_msg="未签到", output=None,
        ...                            inf_refmsgid="", received_at=when, responded_at=when)
        >>> list(envelope)[:4], envelope["output"]
        (['infcode', 'inf_refmsgid', 'refmsg_time', 'respond_time'], None)
    """
    return {
        "infcode": infcode,
        "inf_refmsgid": inf_refmsgid,
        "refmsg_time": millis_text(received_at),
        "respond_time": millis_text(responded_at),
        "err_msg": err_msg,
        "warn_msg": warn_msg,
        "output": dict(output) if output is not None else None,
        "cainfo": "",
        "signtype": "",
    }


def seal(envelope: Mapping[str, Any], signer: MessageSigner | None) -> bytes:
    """The encoded answer, signed by the platform when ``signer`` is given.

    Example:
        >>> seal({"infcode": 0, "cainfo": "", "signtype": ""}, None)
        b'{"infcode":0,"cainfo":"","signtype":""}'
    """
    body = dumps(envelope)
    return signer.sign(body, document=envelope) if signer is not None else body


def bad_signature(envelope: Mapping[str, Any], signer: MessageSigner) -> bytes:
    """The encoded answer with a well-formed ``cainfo`` that does not verify over it.

    The signature is a real SM2 signature by the platform's key — over a copy of the answer
    whose ``respond_time`` differs — so only a client that verifies will notice.

    Example:
        >>> from nhsa.signing import Sm2PrivateKey
        >>> signer = MessageSigner(Sm2PrivateKey.generate())
        >>> body = bad_signature({"infcode": 0, "respond_time": "1", "cainfo": "",
        ...                       "signtype": ""}, signer)
        >>> orjson.loads(body)["signtype"]
        'SM2'
    """
    decoy = {**envelope, "respond_time": "00000000000000000", "cainfo": "", "signtype": ""}
    stolen = orjson.loads(signer.sign(dumps(decoy)))["cainfo"]
    return dumps({**envelope, "cainfo": stolen, "signtype": "SM2"})

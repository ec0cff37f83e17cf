"""What a HIS sent during one action: every outgoing message's infno, msgid and reversed msgid.

A :class:`DriverResult` lists the msgids the HIS sent for an action, and for a reversal
(2601) the msgid it undid. The SDK does not hand these out call by call — retries, sign-ins
and reversals happen inside it — so the SDK-based HIS wraps its HTTP transport in a
:class:`RecordingTransport` that reads each request body on its way out. Nothing is changed:
the bytes go on exactly as the SDK signed them.

Example:
    >>> import httpx
    >>> seen = SentLog()
    >>> transport = RecordingTransport(httpx.MockTransport(lambda r: httpx.Response(200)), seen)
    >>> with seen.capture() as sent, httpx.Client(transport=transport) as http:
    ...     _ = http.post("http://p/x", content=b'{"infno": "2601", "msgid": "M2",'
    ...                   b' "input": {"data": {"omsgid": "M1", "oinfno": "2207"}}}')
    >>> sent.msgids, sent.reversed_msgids
    (('M2',), ('M1',))
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import orjson

__all__ = ["RecordingTransport", "SentLog", "SentMessages"]

REVERSAL = "2601"
_NEVER_LEFT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


@dataclass
class SentMessages:
    """Messages sent while one capture was open, in order."""

    infnos: list[str] = field(default_factory=list)
    _msgids: list[str] = field(default_factory=list)
    _reversed: list[str] = field(default_factory=list)

    @property
    def msgids(self) -> tuple[str, ...]:
        """Every msgid sent, in order (a retried msgid appears once per attempt)."""
        return tuple(self._msgids)

    @property
    def reversed_msgids(self) -> tuple[str, ...]:
        """The ``omsgid`` of every reversal (2601) sent, first occurrence kept."""
        return tuple(dict.fromkeys(self._reversed))

    def add(self, message: Mapping[str, Any]) -> None:
        """Note one outgoing envelope."""
        infno = str(message.get("infno") or "")
        msgid = message.get("msgid")
        self.infnos.append(infno)
        if isinstance(msgid, str) and msgid:
            self._msgids.append(msgid)
        if infno == REVERSAL:
            data = _node(_node(message, "input"), "data")
            omsgid = data.get("omsgid")
            if isinstance(omsgid, str) and omsgid:
                self._reversed.append(omsgid)


class SentLog:
    """Collects outgoing envelopes into the captures open at the time (thread-safe).

    Example:
        >>> log = SentLog()
        >>> with log.capture() as sent:
        ...     log.note(b'{"infno": "9001", "msgid": "M1"}')
        >>> sent.infnos
        ['9001']
    """

    def __init__(self) -> None:
        """No capture is open yet; messages sent outside a capture are not kept."""
        self._lock = threading.Lock()
        self._open: list[SentMessages] = []

    @contextmanager
    def capture(self) -> Iterator[SentMessages]:
        """Record every message sent until the block ends."""
        sent = SentMessages()
        with self._lock:
            self._open.append(sent)
        try:
            yield sent
        finally:
            with self._lock:
                self._open.remove(sent)

    def note(self, body: bytes) -> None:
        """Read one request body; bodies that are not a JSON object are ignored."""
        try:
            message = orjson.loads(body)
        except orjson.JSONDecodeError:
            return
        if not isinstance(message, dict):
            return
        with self._lock:
            for sent in self._open:
                sent.add(message)


class RecordingTransport(httpx.BaseTransport):
    """A transport that notes each request body in a :class:`SentLog`, then sends it on.

    Args:
        inner: the transport that really sends (the in-process mock's, or real HTTP).
        log: where the bodies are noted.
        owns_inner: close ``inner`` when this transport is closed (not for a shared one).
    """

    def __init__(self, inner: httpx.BaseTransport, log: SentLog, *, owns_inner: bool = True):
        """Wrap ``inner``."""
        self._inner = inner
        self._log = log
        self._owns_inner = owns_inner

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """Send the request and note its body, unless it provably never left (no connection)."""
        body = request.read()
        try:
            response = self._inner.handle_request(request)
        except _NEVER_LEFT:
            raise
        except Exception:
            self._log.note(body)  # it may have arrived: a lab must see that msgid
            raise
        self._log.note(body)
        return response

    def close(self) -> None:
        """Close the inner transport if this one owns it."""
        if self._owns_inner:
            self._inner.close()


def _node(value: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    node = value.get(name)
    return node if isinstance(node, Mapping) else {}

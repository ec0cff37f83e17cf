"""HTTP/1.1 spoken byte by byte over a loopback socket, so a drill can send what no client
library would: two ``Content-Length`` headers, a body shorter than declared, any method on
any path, headers in any order and spelling.

One connection per request (``Connection: close``), so every answer belongs to exactly one
request and a broken request cannot poison the next one.

Example::

    answer = send(("127.0.0.1", 8700), RawRequest.post(SINGLE_ENTRY, body))
    answer.status, answer.envelope()
"""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

__all__ = ["Answer", "RawRequest", "send"]

_HEADER_END = b"\r\n\r\n"
_READ_CHUNK = 65536


@dataclass(frozen=True)
class RawRequest:
    """A request exactly as it will be written: method, path, headers in order, body.

    ``headers`` may repeat a name; nothing is added but ``Host`` and ``Connection: close``
    (first and last), and ``Content-Length`` only when ``content_length`` is ``True``.
    """

    method: str
    path: str
    headers: tuple[tuple[str, str], ...]
    body: bytes = b""
    content_length: bool = True

    @classmethod
    def post(
        cls,
        path: str,
        body: bytes,
        headers: Sequence[tuple[str, str]] | None = None,
        *,
        content_type: str | None = "application/json;charset=utf-8",
    ) -> RawRequest:
        """A POST with a correct Content-Length and (unless ``None``) this Content-Type."""
        listed = [("Content-Type", content_type)] if content_type is not None else []
        return cls("POST", path, (*listed, *(headers or ())), body)

    def encode(self, host: str) -> bytes:
        """The bytes on the wire."""
        lines = [f"{self.method} {self.path} HTTP/1.1", f"Host: {host}"]
        lines += [f"{name}: {value}" for name, value in self.headers]
        if self.content_length:
            lines.append(f"Content-Length: {len(self.body)}")
        lines.append("Connection: close")
        head = "\r\n".join(lines).encode("latin-1") + _HEADER_END
        return head + self.body


@dataclass(frozen=True)
class Answer:
    """What came back: status, headers (lower-case names), body — or the transport error."""

    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    error: str | None = None

    def envelope(self) -> dict[str, Any] | None:
        """The body as a response envelope (a JSON object with a numeric ``infcode``)."""
        try:
            document = orjson.loads(self.body)
        except orjson.JSONDecodeError:
            return None
        if isinstance(document, dict) and isinstance(document.get("infcode"), int):
            return document
        return None


def send(address: tuple[str, int], request: RawRequest, *, timeout: float = 15.0) -> Answer:
    """Write ``request`` on a fresh connection to ``address`` and read the whole answer."""
    host = f"{address[0]}:{address[1]}"
    try:
        with socket.create_connection(address, timeout=timeout) as connection:
            # A server that answers early (a body over its limit) and closes: read its answer.
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                connection.sendall(request.encode(host))
            return _read(connection)
    except TimeoutError:
        return Answer(0, error="timeout: no complete answer")
    except OSError as error:
        return Answer(0, error=f"{type(error).__name__}: {error}")


def _read(connection: socket.socket) -> Answer:
    received = bytearray()
    expected: int | None = None
    while True:
        try:
            chunk = connection.recv(_READ_CHUNK)
        except ConnectionResetError:
            if not received:
                raise
            break
        if not chunk:
            break
        received += chunk
        if expected is None and _HEADER_END in received:
            expected = _expected_size(bytes(received))
        if expected is not None and len(received) >= expected:
            break
    return _parse(bytes(received))


def _expected_size(data: bytes) -> int | None:
    head, _, _ = data.partition(_HEADER_END)
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length" and value.strip().isdigit():
            return len(head) + len(_HEADER_END) + int(value.strip())
    return None


def _parse(data: bytes) -> Answer:
    head, separator, body = data.partition(_HEADER_END)
    if not separator:
        return Answer(0, body=data, error="no HTTP answer" if not data else "unparsable answer")
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    if len(parts) < 2 or not parts[1].isdigit():
        return Answer(0, body=data, error=f"bad status line {lines[0]!r}")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return Answer(int(parts[1]), headers, body)

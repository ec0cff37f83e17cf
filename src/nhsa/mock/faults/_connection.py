"""How a fault withholds an answer: hang, reset, or a delay the client may not wait out.

The ASGI app never touches sockets itself. It asks the :class:`ConnectionControl` found in the
request scope under :data:`CONNECTION_EXTENSION`, and each way of serving supplies its own:

- **uvicorn** (``nhsa mock serve``): :class:`SocketControl`, installed by a thin subclass of
  uvicorn's httptools protocol (see ``nhsa.mock.app``). ``reset`` sets ``SO_LINGER`` to zero
  and aborts the transport, so the kernel sends a TCP RST: the client sees "connection reset
  by peer" with no byte of an answer. ``hang`` waits for the client to disconnect (or for
  ``limit`` seconds, or for server shutdown) without sending anything.
- **in-process** (``MockPlatform.transport``): :class:`InProcessControl` raises
  :class:`AnswerWithheld`, which the in-process transport turns into the exception a real
  socket would have produced — ``httpx.ReadTimeout`` for a hang, ``httpx.RemoteProtocolError``
  for a reset — at once, without sleeping through the client's timeout.
- any other ASGI server: :class:`FallbackControl` — hang as above; reset by starting a
  response and failing mid-way, which makes the server close the connection.

Example:
    >>> import anyio
    >>> async def drop() -> str:
    ...     try:
    ...         await InProcessControl(read_timeout=5.0).reset()
    ...     except AnswerWithheld as withheld:
    ...         return withheld.how
    ...     return "answered"
    >>> anyio.run(drop)
    'reset'
"""

from __future__ import annotations

import socket
import struct
from typing import Any, Final, Literal, Protocol

import anyio

from nhsa.redaction import get_logger

__all__ = [
    "CONNECTION_EXTENSION",
    "AnswerWithheld",
    "ConnectionControl",
    "FallbackControl",
    "InProcessControl",
    "SocketControl",
    "control_of",
]

CONNECTION_EXTENSION: Final = "nhsa.mock.connection"
"""Key of the :class:`ConnectionControl` in the ASGI scope's ``extensions``."""

_log = get_logger(__name__)

Receive = Any  # the ASGI receive callable; typed loosely, as ASGI servers are


class AnswerWithheld(Exception):  # noqa: N818 - an outcome the transport translates, not a bug
    """Raised in-process instead of hanging, resetting or waiting past the client's timeout.

    Attributes:
        how: ``hang`` (the client would time out), ``reset`` (the connection would be torn
            down) or ``late`` (a latency fault longer than the client's read timeout).
    """

    def __init__(self, how: Literal["hang", "reset", "late"]) -> None:
        super().__init__(how)
        self.how = how


class ConnectionControl(Protocol):
    """What a fault may do to the connection a request arrived on."""

    async def hang(self, receive: Receive, limit: float) -> None:
        """Send nothing until the client goes away (at most ``limit`` seconds)."""

    async def reset(self) -> None:
        """Tear the connection down without an answer."""

    async def delay(self, seconds: float) -> None:
        """Wait ``seconds`` before the answer is sent."""


async def _wait_for_disconnect(receive: Receive, limit: float) -> bool:
    """True once the client has gone; False when ``limit`` seconds passed first."""
    with anyio.move_on_after(limit):
        while True:
            message = await receive()
            if message.get("type") == "http.disconnect":
                return True
    return False


class SocketControl:
    """Connection control over a real asyncio transport (uvicorn).

    Example::

        control = SocketControl(scope["extensions"]["transport"])  # uvicorn's, see _server
        await control.reset()                 # SO_LINGER 0, then close: the client sees a RST
    """

    def __init__(self, transport: Any) -> None:
        """Control ``transport`` (an ``asyncio.Transport``)."""
        self._transport = transport

    async def hang(self, receive: Receive, limit: float) -> None:
        """Wait for the client to disconnect; past ``limit`` (or on shutdown), reset.

        Returning with the client still connected would make uvicorn answer 500 on our
        behalf, so a hang that outlives its limit ends in a reset, never in an answer.
        """
        gone = False
        try:
            gone = await _wait_for_disconnect(receive, limit)
        finally:
            if not gone:
                await self.reset()

    async def reset(self) -> None:
        """Abort with ``SO_LINGER`` 0: the peer receives a TCP RST, not an orderly FIN."""
        sock = self._transport.get_extra_info("socket")
        if sock is not None:
            try:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            except OSError as exc:  # the peer may already be gone; abort() still closes
                _log.debug("SO_LINGER not set before reset: %s", exc)
        self._transport.abort()
        # abort() reports connection_lost on the next loop iteration; yield so uvicorn knows
        # the client is gone before the app returns (else it would try to answer 500).
        await anyio.sleep(0)

    async def delay(self, seconds: float) -> None:
        """Sleep; a client that gives up meanwhile simply never reads the answer."""
        await anyio.sleep(seconds)


class InProcessControl:
    """Connection control for the in-process transports: no sockets, no real waiting.

    Args:
        read_timeout: the client's read timeout for this request (``None``: it waits forever).
    """

    def __init__(self, read_timeout: float | None) -> None:
        """Act for a client that waits at most ``read_timeout`` seconds for an answer."""
        self._read_timeout = read_timeout

    async def hang(self, receive: Receive, limit: float) -> None:  # noqa: ARG002 - protocol
        """The client would wait until its read timeout: report that at once."""
        raise AnswerWithheld("hang")

    async def reset(self) -> None:
        """Report a torn-down connection."""
        raise AnswerWithheld("reset")

    async def delay(self, seconds: float) -> None:
        """Sleep when the client would wait that long; otherwise report its timeout at once."""
        if self._read_timeout is not None and seconds >= self._read_timeout:
            raise AnswerWithheld("late")
        await anyio.sleep(seconds)


class FallbackControl:
    """Connection control when the server offers nothing better (not uvicorn, not in-process)."""

    def __init__(self, send: Any) -> None:
        """Use ``send`` (the ASGI send callable) to start the broken answer of a reset."""
        self._send = send

    async def hang(self, receive: Receive, limit: float) -> None:
        """Wait for the client to disconnect; past ``limit``, reset."""
        if not await _wait_for_disconnect(receive, limit):
            await self.reset()

    async def reset(self) -> None:
        """Start an answer, then fail: ASGI servers close a connection whose answer broke."""
        await self._send(
            {"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"64")]}
        )
        raise ConnectionAbortedError("connection reset by an armed mock fault")

    async def delay(self, seconds: float) -> None:
        """Sleep."""
        await anyio.sleep(seconds)


def control_of(scope: Any, send: Any) -> ConnectionControl:
    """The connection control the server put in ``scope``, or the fallback.

    Example:
        >>> control_of({"extensions": {CONNECTION_EXTENSION: InProcessControl(1.0)}}, None)
        ... # doctest: +ELLIPSIS
        <...InProcessControl object at ...>
    """
    extensions = scope.get("extensions") or {}
    control = extensions.get(CONNECTION_EXTENSION)
    if control is None:
        return FallbackControl(send)
    return control  # type: ignore[no-any-return]

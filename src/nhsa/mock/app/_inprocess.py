"""httpx transports that run the mock's ASGI app in-process, faults included.

``httpx.ASGITransport`` is async-only and knows nothing of hangs or resets, so these two
transports run the app themselves and turn a withheld answer into the exception a real socket
would have raised:

=====================  ==============================================
fault                  what the client sees
=====================  ==============================================
hang, commit-then-drop ``httpx.ReadTimeout`` — at once, not after the timeout
reset                  ``httpx.ReadError`` (as for a TCP RST on a socket)
latency ≥ read timeout ``httpx.ReadTimeout`` — at once; the request *was* processed
=====================  ==============================================

:class:`InProcessTransport` (sync) hands each request to an event loop running in a
background thread (an anyio blocking portal owned by ``MockPlatform``), so one app and one
store serve sync and async clients alike. :class:`AsyncInProcessTransport` runs the app in
the caller's event loop.

Example:
    >>> import anyio, httpx
    >>> async def app(scope, receive, send):
    ...     await send({"type": "http.response.start", "status": 200, "headers": []})
    ...     await send({"type": "http.response.body", "body": b"{}"})
    >>> with anyio.from_thread.start_blocking_portal() as portal:
    ...     client = httpx.Client(transport=InProcessTransport(app, portal),
    ...                           base_url="http://mock.invalid")
    ...     client.post("/anything").json()
    {}
"""

from __future__ import annotations

from typing import Any

import httpx
from anyio.from_thread import BlockingPortal

from nhsa.mock.faults import CONNECTION_EXTENSION, AnswerWithheld, InProcessControl

__all__ = ["AsyncInProcessTransport", "InProcessTransport", "exchange"]

_CLIENT_ADDRESS = ("127.0.0.1", 50000)


def _read_timeout(request: httpx.Request) -> float | None:
    timeout = request.extensions.get("timeout") or {}
    value = timeout.get("read")
    return float(value) if value is not None else None


async def exchange(app: Any, request: httpx.Request, body: bytes) -> httpx.Response:
    """Send one request through ``app`` and return its answer, or raise as a socket would.

    Example:
        >>> import anyio
        >>> async def app(scope, receive, send):
        ...     await scope["extensions"]["nhsa.mock.connection"].reset()
        >>> async def call():
        ...     try:
        ...         await exchange(app, httpx.Request("POST", "http://m.invalid/"), b"")
        ...     except httpx.ReadError as error:
        ...         return type(error).__name__
        >>> anyio.run(call)
        'ReadError'
    """
    url = request.url
    scope = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": request.method,
        "scheme": url.scheme,
        "path": url.path,
        "raw_path": url.raw_path.split(b"?", 1)[0],
        "query_string": url.query,
        "root_path": "",
        "headers": [(name.lower(), value) for name, value in request.headers.raw],
        "client": _CLIENT_ADDRESS,
        "server": (url.host, url.port or (443 if url.scheme == "https" else 80)),
        "extensions": {CONNECTION_EXTENSION: InProcessControl(_read_timeout(request))},
    }
    delivered = False
    status: int | None = None
    headers: list[tuple[bytes, bytes]] = []
    chunks: list[bytes] = []

    async def receive() -> dict[str, Any]:
        nonlocal delivered
        if not delivered:
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = int(message["status"])
            headers.extend(message.get("headers") or [])
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    try:
        await app(scope, receive, send)
    except AnswerWithheld as withheld:
        raise _as_transport_error(withheld, request) from None
    if status is None:
        raise httpx.RemoteProtocolError(
            "Server disconnected without sending a response.", request=request
        )
    return httpx.Response(status, headers=headers, content=b"".join(chunks), request=request)


def _as_transport_error(withheld: AnswerWithheld, request: httpx.Request) -> httpx.TransportError:
    if withheld.how == "reset":
        return httpx.ReadError(
            "connection reset by peer (in-process mock: an armed fault reset the connection)",
            request=request,
        )
    reason = "a latency fault outlasted" if withheld.how == "late" else "the mock hangs past"
    return httpx.ReadTimeout(
        f"timed out reading the answer (in-process mock: {reason} the read timeout)",
        request=request,
    )


class InProcessTransport(httpx.BaseTransport):
    """A sync httpx transport into the app, run on ``portal``'s event loop.

    Args:
        app: the ASGI app.
        portal: a running anyio blocking portal (owned by the caller, e.g. ``MockPlatform``).
    """

    def __init__(self, app: Any, portal: BlockingPortal) -> None:
        """Serve requests through ``app`` on ``portal``."""
        self._app = app
        self._portal = portal

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """Run one request through the app and return the answer (or raise)."""
        body = request.read()
        response: httpx.Response = self._portal.call(exchange, self._app, request, body)
        return response


class AsyncInProcessTransport(httpx.AsyncBaseTransport):
    """An async httpx transport into the app, run in the caller's event loop.

    Example:
        >>> import anyio
        >>> async def app(scope, receive, send):
        ...     await send({"type": "http.response.start", "status": 200, "headers": []})
        ...     await send({"type": "http.response.body", "body": b'{"infcode":0}'})
        >>> async def call():
        ...     transport = AsyncInProcessTransport(app)
        ...     async with httpx.AsyncClient(transport=transport, base_url="http://m.invalid") as c:
        ...         return (await c.post("/fsi/api/rsfComIfsService/callService")).json()
        >>> anyio.run(call)
        {'infcode': 0}
    """

    def __init__(self, app: Any) -> None:
        """Serve requests through ``app``."""
        self._app = app

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Run one request through the app and return the answer (or raise)."""
        body = await request.aread()
        return await exchange(self._app, request, body)

"""Serving the app with uvicorn: one worker, loopback by default, resets that really reset.

uvicorn offers the ASGI app no handle on the connection, yet a ``reset`` fault must abort it
with a TCP RST and a ``commit-then-drop`` fault must keep it silent. :func:`protocol_class`
is uvicorn's own httptools protocol with one addition: each request's scope carries a
:class:`~nhsa.mock.faults.SocketControl` over the connection's transport under
``extensions["nhsa.mock.connection"]``. Everything else is uvicorn's.

The listening socket is bound here, before uvicorn starts, so that a busy port or a bad host
is a clear :class:`ServeError` rather than a log line and an exit, and so that port 0 (a free
port chosen by the OS) is known to the caller before the first request.

Example:
    >>> sock = bind_socket("127.0.0.1", 0)
    >>> sock.getsockname()[1] > 0
    True
    >>> sock.close()
"""

from __future__ import annotations

import errno
import logging
import socket
import sys
import threading
import time
from typing import Any

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from nhsa.envelope import china_now
from nhsa.mock.app import _wording as wording
from nhsa.mock.app._answers import JSON_TYPE, answer_envelope, seal
from nhsa.mock.faults import CONNECTION_EXTENSION, SocketControl
from nhsa.redaction import RedactionFilter

__all__ = ["BackgroundServer", "ServeError", "bind_socket", "build_server", "protocol_class"]

_GRACEFUL_SHUTDOWN_SECONDS = 3
_STARTUP_WAIT_SECONDS = 30.0


class ServeError(RuntimeError):
    """The server cannot start: the message says which option is wrong and why."""


class _MockHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, plus a connection control in every request's scope, and
    an envelope (not uvicorn's plain text) for a request that is not valid HTTP."""

    def on_message_begin(self) -> None:
        super().on_message_begin()
        scope: dict[str, Any] = self.scope  # type: ignore[assignment]  # ASGI allows extensions
        scope["extensions"] = {CONNECTION_EXTENSION: SocketControl(self.transport)}

    def send_400_response(self, msg: str) -> None:
        # Called while the parser's error is being handled: it says what was wrong (two
        # Content-Length headers, a bad chunk size, …), where uvicorn's text says nothing.
        error = sys.exc_info()[1]
        now = china_now()
        envelope = answer_envelope(
            infcode=-1,
            err_msg=wording.bad_http_message(str(error) if error is not None else msg),
            output=None,
            inf_refmsgid="",
            received_at=now,
            responded_at=now,
        )
        body = seal(envelope, None)
        head = (
            b"HTTP/1.1 400 Bad Request\r\n"
            + b"".join(name + b": " + value + b"\r\n" for name, value in self._default_headers())
            + f"content-type: {JSON_TYPE}\r\ncontent-length: {len(body)}\r\n".encode("ascii")
            + b"x-mock-rejected-by: gateway\r\nconnection: close\r\n\r\n"
        )
        self.transport.write(head + body)
        self.transport.close()

    def _default_headers(self) -> list[tuple[bytes, bytes]]:
        return list(self.server_state.default_headers)


def protocol_class() -> type[Any]:
    """The uvicorn HTTP protocol class the mock serves with.

    Example:
        >>> from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
        >>> issubclass(protocol_class(), HttpToolsProtocol)  # uvicorn's, with the reset control
        True
    """
    return _MockHttpToolsProtocol


def bind_socket(host: str, port: int) -> socket.socket:
    """A listening TCP socket on (host, port), or :class:`ServeError` naming the problem.

    Example:
        >>> first = bind_socket("127.0.0.1", 0)
        >>> try:
        ...     bind_socket("127.0.0.1", first.getsockname()[1])
        ... except ServeError as error:
        ...     print("in use" in str(error))
        True
        >>> first.close()
    """
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise ServeError(f"--host {host!r}: cannot resolve it ({exc.strerror})") from None
    family, _, _, _, address = infos[0]
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
        sock.listen(2048)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise ServeError(
                f"--port {port}: port {port} on {host} is in use by another program; "
                "choose another port (or 0 for any free one)"
            ) from None
        if exc.errno in (errno.EACCES, errno.EPERM):
            raise ServeError(
                f"--port {port}: not allowed to listen on port {port} (ports below 1024 "
                "need privileges); choose a port above 1024"
            ) from None
        if exc.errno == errno.EADDRNOTAVAIL:
            raise ServeError(f"--host {host!r}: not an address of this machine") from None
        raise ServeError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    sock.setblocking(False)
    return sock


def build_server(app: Any, *, log_level: str = "warning", access_log: bool = False) -> Any:
    """A configured ``uvicorn.Server`` for ``app``: one worker, the mock's protocol class."""
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactionFilter) for f in logger.filters):
            logger.addFilter(RedactionFilter())
    config = uvicorn.Config(
        app,
        http=protocol_class(),
        lifespan="off",
        log_level=log_level,
        access_log=access_log,
        timeout_graceful_shutdown=_GRACEFUL_SHUTDOWN_SECONDS,
        workers=1,
    )
    return uvicorn.Server(config)


class BackgroundServer:
    """The app served by uvicorn on a background thread (tests, ``MockPlatform.serve``).

    Example:
        >>> async def app(scope, receive, send):
        ...     await send({"type": "http.response.start", "status": 204, "headers": []})
        ...     await send({"type": "http.response.body", "body": b""})
        >>> import httpx
        >>> with BackgroundServer(app) as server:
        ...     httpx.get(server.url + "/").status_code
        204
    """

    def __init__(self, app: Any, host: str = "127.0.0.1", port: int = 0) -> None:
        """Bind now (so a busy port fails here); serve once entered."""
        self._socket = bind_socket(host, port)
        bound_host, bound_port = self._socket.getsockname()[:2]
        self.url = f"http://{bound_host}:{bound_port}"
        self._server = build_server(app)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._socket]}, daemon=True
        )

    def __enter__(self) -> BackgroundServer:
        self._thread.start()
        deadline = time.monotonic() + _STARTUP_WAIT_SECONDS
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise ServeError(f"the mock server on {self.url} did not start")
            time.sleep(0.01)
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def stop(self) -> None:
        """Stop serving and wait for the thread to end."""
        self._server.should_exit = True
        self._thread.join(timeout=_GRACEFUL_SHUTDOWN_SECONDS + 5)
        self._socket.close()

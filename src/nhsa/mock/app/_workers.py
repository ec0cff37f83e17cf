"""Several server workers on one listening socket (pre-fork), for a store they can share.

The parent binds the socket and checks that the platform assembles (so a bad ``--db`` is one
line before any worker starts), then forks ``workers`` children. Each child builds its own
platform — its own database connection, caches and event loop — and serves the inherited
socket with uvicorn; the kernel hands each new connection to one of them. The parent waits,
passes SIGINT/SIGTERM on, and stops the others when one worker dies, so a half-dead server
never keeps answering. POSIX only (``os.fork``).

Example::

    sock = bind_socket("127.0.0.1", 8700)
    serve_workers(lambda: assemble(url, ...), sock, workers=2)
"""

from __future__ import annotations

import os
import signal
import socket
import sys
from collections.abc import Callable
from typing import Any, Protocol

from nhsa.mock.app._server import ServeError, build_server

__all__ = ["Assembled", "serve_workers"]


class Assembled(Protocol):
    """What a worker serves: an ASGI app and what to close afterwards."""

    @property
    def app(self) -> Any:
        """The ASGI app."""
        ...

    def close(self) -> None:
        """Release the database."""
        ...


def serve_workers(
    assemble: Callable[[], Assembled],
    sock: socket.socket,
    *,
    workers: int,
    log_level: str = "warning",
) -> int:
    """Serve ``assemble()``'s app from ``workers`` forked processes until interrupted.

    Returns the exit status: 0 after a signal, 1 when a worker died on its own.
    """
    if not hasattr(os, "fork"):
        raise ServeError("--workers above 1 needs a POSIX system (os.fork); use --workers 1")
    children: list[int] = []
    for _ in range(workers):
        pid = os.fork()
        if pid == 0:  # the worker
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            os._exit(_run_worker(assemble, sock, log_level))
        children.append(pid)
    sock.close()
    stopping = False

    def stop(signum: int, frame: object) -> None:
        del frame
        nonlocal stopping
        stopping = True
        for child in children:
            _signal(child, signum)

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    status = 0
    while children:
        try:
            pid, _ = os.wait()
        except ChildProcessError:
            break
        except InterruptedError:  # pragma: no cover - PEP 475 retries os.wait itself
            continue
        if pid in children:
            children.remove(pid)
        if not stopping:  # a worker died by itself: do not serve on with fewer
            status = 1
            stopping = True
            for child in children:
                _signal(child, signal.SIGTERM)
    return status


def _run_worker(assemble: Callable[[], Assembled], sock: socket.socket, log_level: str) -> int:
    try:
        platform = assemble()
    except Exception as error:  # the parent assembled the same platform a moment ago
        print(f"error: worker {os.getpid()} cannot start: {error}", file=sys.stderr, flush=True)
        return 2
    try:
        build_server(platform.app, log_level=log_level).run(sockets=[sock])
    finally:
        platform.close()
    return 0


def _signal(pid: int, signum: int) -> None:
    try:
        os.kill(pid, signum)
    except ProcessLookupError:
        return

"""``nhsa mock serve`` as a child process on loopback: start, SIGKILL, restart on the same
database and port.

Its output goes to a log file beside the database (a pipe nobody reads would block it); the
URL is read from the banner line there.

Example::

    with MockServer(folder) as server:
        server.kill()       # SIGKILL, mid-load
        server.start()      # same database, same port, same platform key
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from nhsa.mock.app._server import bind_socket

from ._site import Admin

__all__ = ["MockServer"]

_STARTUP_SECONDS = 30.0


class MockServer:
    """One ``nhsa mock serve`` process over ``folder/mock.db`` (see the module docstring)."""

    def __init__(self, folder: Path, *, options: tuple[str, ...] = ()) -> None:
        """Choose a free loopback port; nothing runs until :meth:`start`."""
        self.folder = folder
        self.db = folder / "mock.db"
        self.admin_token = secrets.token_urlsafe(24)
        probe = bind_socket("127.0.0.1", 0)
        self.port = int(probe.getsockname()[1])
        probe.close()
        self.url = f"http://127.0.0.1:{self.port}"
        self._options = options
        self._process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    @property
    def address(self) -> tuple[str, int]:
        """(host, port) for raw sockets."""
        return ("127.0.0.1", self.port)

    @property
    def pid(self) -> int | None:
        """The running server's process id."""
        return self._process.pid if self._process is not None else None

    def start(self) -> MockServer:
        """Start the server (again) and wait until it answers ``/public/ping``."""
        self.starts += 1
        log = (self.folder / f"server-{self.starts}.log").open("wb")
        command = [
            sys.executable, "-c", "from nhsa.cli import main; main()", "mock", "serve",
            "--port", str(self.port), "--db", str(self.db), "--admin-token", self.admin_token,
            *self._options,
        ]  # fmt: skip
        self._process = subprocess.Popen(
            command,
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        log.close()
        deadline = time.monotonic() + _STARTUP_SECONDS
        while True:
            if self._process.poll() is not None:
                raise RuntimeError(f"nhsa mock serve exited at start-up: {self.log_tail()}")
            try:
                if httpx.get(self.url + "/public/ping", timeout=1).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"nhsa mock serve did not answer on {self.url}")
            time.sleep(0.05)

    def kill(self) -> None:
        """SIGKILL the server and reap it."""
        if self._process is not None and self._process.poll() is None:
            self._process.send_signal(signal.SIGKILL)
            self._process.wait(timeout=30)

    def stop(self) -> None:
        """SIGTERM (SIGKILL after 10 s) and reap it."""
        if self._process is not None and self._process.poll() is None:
            self._process.send_signal(signal.SIGTERM)
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()

    def admin(self) -> Admin:
        """The server's admin API (close it when done)."""
        return Admin(self.url, admin_token=self.admin_token)

    def log_tail(self, lines: int = 20) -> str:
        """The end of the current log, for error messages."""
        path = self.folder / f"server-{self.starts}.log"
        text = path.read_text(errors="replace") if path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def __enter__(self) -> MockServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

"""The driver API over HTTP (``conformance/driver-api.yaml``), served by starlette + uvicorn.

This is the part a Java or .NET vendor writes for their own HIS: one small HTTP service the
conformance suite calls to make the HIS act. Each route reads a JSON request, checks it (a bad
one gets HTTP 400 naming the field and the rule), hands it to the HIS, and answers the HIS's
own account of what happened:

    GET  /health                     → {"ready": true, "name": "...", "detail": "..."}
    POST /configure                  → institution, platform URL, keys, mode for what follows
    POST /sign_in, /register, /cancel_registration, /charge, /refund,
         /partial_refund, /reconcile → {"status": "ok"|"rejected"|"unknown"|"error", ...}

Run it::

    python -m examples.reference_his --port 8800 --data-dir his-data
    python examples/reference_his/app.py --port 8800

Example:
    >>> from starlette.testclient import TestClient
    >>> class Idle:
    ...     def health(self): return DriverHealth(True, "idle HIS")
    >>> TestClient(build_app(Idle())).get("/health").json()["name"]
    'idle HIS'
"""

from __future__ import annotations

import argparse
import logging
import socket
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import orjson
import uvicorn
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from nhsa.conformance import DriverHealth, DriverResult
from nhsa.conformance.drivers.wire import REQUEST_TYPES, WireError, decode, to_json

__all__ = ["Backend", "build_app", "main"]

_log = logging.getLogger("reference_his")


class Backend(Protocol):
    """What the HTTP layer needs from a HIS."""

    def health(self) -> DriverHealth:
        """Whether the HIS is ready."""
        ...

    def configure(self, config: Any) -> DriverResult:
        """Use this institution, platform and mode from now on."""
        ...

    def act(self, action: str, request: Any) -> DriverResult:
        """Perform one business action."""
        ...


def build_app(backend: Backend) -> Starlette:
    """The driver API as an ASGI app over ``backend``."""

    async def health(_: Request) -> Response:
        return _json(to_json(await run_in_threadpool(backend.health)))

    async def action(request: Request) -> Response:
        name = request.path_params["action"]
        if name not in REQUEST_TYPES:
            actions = ", ".join(sorted(REQUEST_TYPES))
            return _problem(404, f"no action {name!r}; actions: {actions}")
        try:
            data = orjson.loads(await request.body())
        except orjson.JSONDecodeError as error:
            return _problem(400, f"the body is not JSON: {error}", rule="json")
        try:
            typed = decode(name, data)
        except WireError as error:
            return _problem(400, str(error), pointer=error.pointer, rule=error.rule)
        try:
            if name == "configure":
                result = await run_in_threadpool(backend.configure, typed)
            else:
                result = await run_in_threadpool(backend.act, name, typed)
        except Exception as error:  # the HIS broke: say so as a result, never as a 500 page
            _log.exception("%s failed", name)
            result = DriverResult("error", message=f"the HIS failed: {type(error).__name__}")
        return _json(to_json(result))

    return Starlette(
        routes=[
            Route("/health", health, methods=["GET"]),
            Route("/{action}", action, methods=["POST"]),
        ]
    )


def _json(data: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(data), status_code=status, media_type="application/json")


def _problem(
    status: int, error: str, *, pointer: str | None = None, rule: str | None = None
) -> Response:
    body = {"error": error, "pointer": pointer, "rule": rule}
    return JSONResponse({k: v for k, v in body.items() if v is not None}, status_code=status)


def serve(app: Starlette, host: str, port: int, *, what: str, log_level: str = "warning") -> None:
    """Serve ``app`` until interrupted; prints its URL first (port 0 picks a free port)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as error:
        sys.exit(f"error: cannot listen on {host}:{port}: {error.strerror}")
    sock.listen(128)
    bound_host, bound_port = sock.getsockname()[:2]
    print(f"{what} on http://{bound_host}:{bound_port} (driver API)", flush=True)
    config = uvicorn.Config(app, lifespan="off", log_level=log_level, access_log=False)
    uvicorn.Server(config).run(sockets=[sock])


def main(argv: Sequence[str] | None = None) -> None:
    """``python -m examples.reference_his``: serve the reference HIS."""
    if __package__ in (None, ""):  # run as a script: make the repository importable
        sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    from examples.reference_his.service import ReferenceHis  # noqa: PLC0415 - after sys.path

    parser = argparse.ArgumentParser(description="nhsa-kit reference HIS (driver API over HTTP)")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=8800, help="TCP port (0: a free one)")
    parser.add_argument(
        "--data-dir", type=Path, default=Path("reference-his-data"),
        help="the HIS's database and the SDK's journals (kept across restarts)",
    )  # fmt: skip
    parser.add_argument(
        "--read-timeout", type=float, default=10.0,
        help="seconds the SDK waits for the platform's answer before the outcome is unknown",
    )  # fmt: skip
    parser.add_argument(
        "--dialect", default=None,
        help="speak only this province dialect, whatever configure says (default: configure's)",
    )  # fmt: skip
    parser.add_argument("--log-level", default="warning", help="uvicorn log level")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    his = ReferenceHis(args.data_dir, read_timeout=args.read_timeout, dialect=args.dialect)
    resumed = his.start()
    if resumed is not None:
        print(f"resumed: {resumed.message}", flush=True)
    try:
        serve(build_app(his), args.host, args.port, what="reference HIS", log_level=args.log_level)
    finally:
        his.close()


if __name__ == "__main__":
    main()

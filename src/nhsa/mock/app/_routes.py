"""The URL map: the single entry, one path per transaction, public pages, the admin API.

Every dialect's entries are served (its single entry, its per-transaction paths, the token
endpoint of a bearer gateway); which of them an institution may use is its dialect's business,
checked in the pipeline (step 6).

Example:
    >>> business_paths()["/fsi/api/outpatientSettleService/saveSettletmentV2"]
    '2207'
    >>> sorted(dialect_single_entries())[0]
    '/fsi/api/rsfComIfsService/callService'
"""

from __future__ import annotations

from typing import Any, Final

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount, Route

from nhsa import spec
from nhsa.envelope import dumps
from nhsa.mock.app import _wording as wording
from nhsa.mock.app._answers import JSON_TYPE, answer_envelope, seal
from nhsa.mock.app._core import PlatformCore
from nhsa.mock.app._endpoint import BusinessEndpoint, TokenEndpoint
from nhsa.mock.app._pipeline import Pipeline

__all__ = ["SINGLE_ENTRY", "build_app", "business_paths", "dialect_single_entries"]

SINGLE_ENTRY: Final = "/fsi/api/rsfComIfsService/callService"


def business_paths() -> dict[str, str]:
    """Each per-transaction path (reference §2.2) → the infno it serves, from the contract."""
    return {t.path: infno for infno, t in spec.contract().transactions.items()}


def dialect_single_entries() -> set[str]:
    """Every dialect's single-entry path (the national one among them)."""
    return {
        str(d.routes.single_entry.value)
        for d in spec.dialects().values()
        if d.routes.single_entry is not None
    }


def _dialect_templates() -> set[str]:
    """Every dialect's per-transaction path template with ``{infno}`` (not the contract's)."""
    templates = {d.routes.template() for d in spec.dialects().values()}
    return {t for t in templates if t is not None and t != "contract"}


def _token_paths() -> set[str]:
    return {
        d.gateway.text("token_path", "")
        for d in spec.dialects().values()
        if d.gateway.family == "bearer"
    }


def build_app(
    core: PlatformCore, admin_routes: list[BaseRoute], public_routes: list[BaseRoute]
) -> Starlette:
    """The ASGI app of one mock platform."""
    pipeline = Pipeline(core)
    options = core.options

    def endpoint(route: Any, infno: str | None) -> BusinessEndpoint:
        return BusinessEndpoint(
            pipeline,
            core.clock,
            route=route,
            path_infno=infno,
            max_body_bytes=options.max_body_bytes,
            max_hang_seconds=options.max_hang_seconds,
        )

    routes: list[BaseRoute] = [
        Route(path, endpoint("single-entry", None)) for path in sorted(dialect_single_entries())
    ]
    routes += [
        Route(path, endpoint("per-transaction", infno)) for path, infno in business_paths().items()
    ]
    routes += [
        Route(template, endpoint("per-transaction", None)) for template in _dialect_templates()
    ]
    routes += [Route(path, TokenEndpoint(core), methods=["POST"]) for path in _token_paths()]
    business = {*dialect_single_entries(), *business_paths()}
    routes.append(Mount("/admin", routes=admin_routes))
    routes.append(Mount("/public", routes=public_routes))

    async def not_found(request: Request, exc: Exception) -> Response:
        status = exc.status_code if isinstance(exc, HTTPException) else 404
        if request.url.path.startswith(("/admin", "/public")):
            body = dumps(
                {
                    "error": {
                        "code": "not-found" if status == 404 else "method-not-allowed",
                        "field": "path",
                        "rule": "known-path",
                        "message": f"{request.method} {request.url.path} is not served here; "
                        "see /admin/openapi.json",
                    }
                }
            )
            return Response(body, status, media_type=JSON_TYPE)
        now = core.clock()
        path = request.url.path
        trimmed = path.rstrip("/")
        envelope = answer_envelope(
            infcode=-1,
            err_msg=wording.unknown_path(path, trimmed if trimmed in business else None),
            output=None,
            inf_refmsgid="",
            received_at=now,
            responded_at=now,
        )
        return Response(seal(envelope, None), 404, media_type=JSON_TYPE)

    app = Starlette(routes=routes, exception_handlers={404: not_found, 405: not_found})
    # Starlette answers ".../callService/" with a 307 to the path without the slash, which a
    # HIS then follows or not; the platform's gateways differ here (Spring Boot 2 served both,
    # 3 answers 404), so the mock takes the strict side and names the fix (404 envelope).
    app.router.redirect_slashes = False
    return app

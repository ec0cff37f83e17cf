"""The admin API over HTTP: Starlette routes built from the operation table, bearer-token auth.

The token is compared in constant time. With no token configured the protected routes answer
401 saying how to set one; public routes (health, the OpenAPI document, the platform key, the
notice board, ping) never need it. Answers are JSON (amounts exact); errors are
``{"error": {code, field, rule, message}}`` — never a traceback.

Example::

    routes = admin_routes(AdminService(core), token="s3cret")
"""

from __future__ import annotations

import hmac
import traceback
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from nhsa.envelope import dumps
from nhsa.mock.admin._openapi import openapi_document
from nhsa.mock.admin._operations import OPERATIONS, AdminRequest, Operation, Query
from nhsa.mock.admin._service import AdminError, AdminService
from nhsa.mock.transcript import jsonl
from nhsa.redaction import get_logger

__all__ = ["admin_routes", "public_routes"]

_JSON = "application/json"
_JSONL = "application/x-ndjson"
_MAX_BODY = 1 << 20
_log = get_logger("nhsa.mock.admin")


def _error(error: AdminError) -> Response:
    headers = {"www-authenticate": "Bearer"} if error.status == 401 else None
    return Response(dumps(error.as_json()), error.status, headers=headers, media_type=_JSON)


def _authorized(request: Request, token: str | None) -> AdminError | None:
    if token is None:
        return AdminError(
            401,
            "admin-disabled",
            "authorization",
            "configured",
            "the admin API has no token: start the server with --admin-token (or let it print one)",
        )
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(given.encode(), token.encode()):
        return AdminError(
            401,
            "unauthorized",
            "authorization",
            "bearer-token",
            "send 'Authorization: Bearer <admin token>'",
        )
    return None


async def _body(request: Request) -> object:
    raw = await request.body()
    if len(raw) > _MAX_BODY:
        raise AdminError(413, "too-large", "body", "max-size", "admin bodies are at most 1 MiB")
    if not raw.strip():
        raise AdminError(400, "invalid", "body", "required", "this operation needs a JSON body")
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise AdminError(400, "invalid", "body", "json", f"not JSON: {exc}") from None


def _endpoint(operation: Operation, service: AdminService, token: str | None) -> Any:
    async def handle(request: Request) -> Response:
        if not operation.public:
            refused = _authorized(request, token)
            if refused is not None:
                return _error(refused)
        try:
            body = await _body(request) if operation.body is not None else None
            if operation.produces == "openapi":
                return Response(dumps(openapi_document()), media_type=_JSON)
            service.core.sync_shared_state()
            result = operation.handler(
                AdminRequest(service, request.path_params, Query(request.query_params), body)
            )
        except AdminError as error:
            return _error(error)
        except Exception as exc:  # a bug here must be an answer, not a traceback
            _log.error("admin %s failed:\n%s", operation.operation_id, traceback.format_exc())
            failure = AdminError(500, "internal", "server", "no-error", type(exc).__name__)
            return _error(failure)
        if operation.produces == "jsonl":
            return Response(jsonl(result, mask=False), media_type=_JSONL)  # type: ignore[arg-type]
        return Response(dumps(result), operation.status, media_type=_JSON)

    handle.__name__ = operation.operation_id
    return handle


def _routes(service: AdminService, token: str | None, prefix: str) -> list[BaseRoute]:
    by_path: dict[str, list[Operation]] = {}
    for operation in OPERATIONS:
        if operation.prefix == prefix:
            by_path.setdefault(operation.path, []).append(operation)
    routes: list[BaseRoute] = []
    for path, operations in by_path.items():
        handlers: dict[str, Any] = {op.method: _endpoint(op, service, token) for op in operations}

        async def dispatch(request: Request, handlers: dict[str, Any] = handlers) -> Response:
            return await handlers[request.method](request)  # type: ignore[no-any-return]

        routes.append(Route(path, dispatch, methods=list(handlers)))
    return routes


def admin_routes(service: AdminService, token: str | None) -> list[BaseRoute]:
    """The routes to mount at ``/admin``."""
    return _routes(service, token, "/admin")


def public_routes(service: AdminService) -> list[BaseRoute]:
    """The routes to mount at ``/public`` (no token)."""
    return _routes(service, None, "/public")

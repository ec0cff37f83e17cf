"""The OpenAPI 3.1 document of the admin API, built from the operation table.

Request bodies are described by the same pydantic models that validate them, so the document
and the server cannot disagree; every route in :data:`OPERATIONS` appears, public ones with an
empty security requirement.

Example:
    >>> document = openapi_document()
    >>> document["openapi"], "/admin/tenants/{code}/faults" in document["paths"]
    ('3.1.0', True)
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

from pydantic.json_schema import models_json_schema

from nhsa import __version__
from nhsa.mock.admin._operations import OPERATIONS, Operation

__all__ = ["openapi_document"]

_REF = "#/components/schemas/{model}"
_ERROR = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "field", "rule", "message"],
            "properties": {
                "code": {"type": "string"},
                "field": {"type": "string"},
                "rule": {"type": "string"},
                "message": {"type": "string"},
            },
        }
    },
}
_DESCRIPTION = (
    "Control plane of the nhsa-kit mock national medical-insurance platform: register "
    "institutions and their keys, read and reset per-tenant state, arm faults, read the "
    "transcript, run the platform's public services (filings, e-voucher tokens, downtime "
    "notices, statistics, chronic-disease recognitions). Every route except the public ones "
    'needs `Authorization: Bearer <admin token>`. Errors are `{"error": {code, field, rule, '
    "message}}`. The business "
    "endpoints (`POST /fsi/api/rsfComIfsService/callService` and one path per transaction) "
    "speak the NHSA envelope described by `interface_specs/`, not this document."
)
_PARAMETER = re.compile(r"{([a-z_]+)}")
_QUERY_TYPES = {
    "integer": {"type": "integer"},
    "boolean": {"type": "boolean"},
    "date": {"type": "string", "format": "date"},
    "string": {"type": "string"},
}


@cache
def openapi_document() -> dict[str, Any]:
    """The admin API's OpenAPI 3.1 document (built once)."""
    bodies = sorted({op.body for op in OPERATIONS if op.body is not None}, key=lambda m: m.__name__)
    refs, definitions = models_json_schema(
        [(model, "validation") for model in bodies], ref_template=_REF
    )
    schemas: dict[str, Any] = dict(definitions.get("$defs", {}))
    schemas["Error"] = _ERROR
    paths: dict[str, dict[str, Any]] = {}
    for op in OPERATIONS:
        body_ref = refs[(op.body, "validation")] if op.body is not None else None
        paths.setdefault(op.url, {})[op.method.lower()] = _operation(op, body_ref)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "nhsa-kit mock platform: admin API",
            "version": __version__,
            "description": _DESCRIPTION,
        },
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}],
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "the admin token (nhsa mock serve --admin-token, or printed)",
                }
            },
        },
    }


def _operation(op: Operation, body_ref: dict[str, Any] | None) -> dict[str, Any]:
    described: dict[str, Any] = {
        "operationId": op.operation_id,
        "summary": op.summary,
        "tags": [op.tag],
    }
    if op.public:
        described["security"] = []
    parameters = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
        for name in _PARAMETER.findall(op.path)
    ]
    parameters += [
        {
            "name": param.name,
            "in": "query",
            "required": param.required,
            "description": param.description,
            "schema": _QUERY_TYPES[param.kind],
        }
        for param in op.query
    ]
    if parameters:
        described["parameters"] = parameters
    if body_ref is not None:
        described["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": body_ref}},
        }
    media = "application/x-ndjson" if op.produces == "jsonl" else "application/json"
    responses: dict[str, Any] = {
        str(op.status): {"description": "success", "content": {media: {"schema": {}}}}
    }
    error = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
    if body_ref is not None or op.query or parameters:
        responses["400"] = {"description": "a field breaks a rule", **error}
    if not op.public:
        responses["401"] = {"description": "missing or wrong admin token", **error}
    if parameters:
        responses["404"] = {"description": "no such tenant, fault or window", **error}
    described["responses"] = responses
    return described

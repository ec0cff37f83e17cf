"""The driver API document (``conformance/driver-api.yaml``) as the judge of every JSON body.

The OpenAPI document is the contract between the suite and a foreign HIS, so both sides check
against it rather than against a copy: the ``http`` driver validates each answer with the
document's ``ActionResult`` and ``Health`` schemas, and a Python HIS (the reference HIS)
validates each request with the schema its path declares. Validation uses jsonschema-rs; the
first problem becomes a :class:`~nhsa.conformance.drivers.wire.WireError` with its JSON
pointer and the rule (the schema keyword) it broke.

Example:
    >>> request_schema("reconcile")
    'ReconcileRequest'
    >>> try:
    ...     check("ActionResult", {"status": "ok", "amounts": {"acct_pay": 3.1}})
    ... except WireError as error:
    ...     print(error.pointer, error.rule)
    /amounts/acct_pay type
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import Any, Final

import jsonschema_rs
import yaml

from nhsa._resources import data_dir
from nhsa.conformance.drivers.wire import WireError

__all__ = ["DRIVER_API", "check", "driver_api", "request_schema"]

DRIVER_API: Final = "driver-api.yaml"
_COMPONENTS: Final = "#/components/schemas/"


@cache
def driver_api() -> Mapping[str, Any]:
    """The parsed ``conformance/driver-api.yaml`` (checkout or installed package)."""
    path = data_dir("conformance") / DRIVER_API
    document: Mapping[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return document


def request_schema(action: str) -> str:
    """The component schema the document names for ``POST /<action>``'s body."""
    operation = driver_api()["paths"][f"/{action}"]["post"]
    ref: str = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    return ref.removeprefix(_COMPONENTS)


def check(component: str, data: Any) -> None:
    """Raise :class:`WireError` when ``data`` breaks the document's schema ``component``."""
    error = next(iter(_validator(component).iter_errors(data)), None)
    if error is None:
        return
    pointer = "".join(f"/{part}" for part in error.instance_path)
    rule = next((s for s in reversed(error.schema_path) if isinstance(s, str)), "schema")
    message = error.message
    if rule == "additionalProperties":
        extra = sorted(error.kind.unexpected)
        pointer, message = f"{pointer}/{extra[0]}", f"is not a member of {component}"
    raise WireError(pointer, message, rule)


@cache
def _validator(component: str) -> Any:
    return jsonschema_rs.validator_for(
        {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$ref": _COMPONENTS + component,
            "components": driver_api()["components"],
        }
    )

"""The driver API's JSON, both ways: request and result types ↔ JSON documents.

The HTTP driver API (``conformance/driver-api.yaml``) mirrors the driver's types field by
field, so one codec serves both sides: the ``http`` driver encodes requests and decodes
results; a HIS written in Python (the reference HIS) decodes requests and encodes results.
Amounts travel as decimal strings (``"25.00"``), days as ISO dates, tuples as arrays.

:func:`decode` first checks a request against the schema ``driver-api.yaml`` gives its path,
then every field against its Python type; either raises :class:`WireError` naming the JSON
pointer and the rule broken, so a garbled document never turns into a half-built request.

Example:
    >>> from nhsa.conformance import ReconcileRequest
    >>> from datetime import date
    >>> to_json(ReconcileRequest(date(2026, 11, 23)))
    {'day': '2026-11-23'}
    >>> decode("reconcile", {"day": "2026-11-23"})
    ReconcileRequest(day=datetime.date(2026, 11, 23))
    >>> decode("reconcile", {"day": "yesterday"})
    Traceback (most recent call last):
    nhsa.conformance.drivers.wire.WireError: /day: 'yesterday' is not an ISO date (format)
    >>> decode("reconcile", {})
    Traceback (most recent call last):
    nhsa.conformance.drivers.wire.WireError: /: "day" is a required property (required)
"""

from __future__ import annotations

import dataclasses
import types
from collections.abc import Mapping
from datetime import date
from decimal import Decimal, InvalidOperation
from functools import cache
from typing import Any, Final, Literal, TypeVar, Union, get_args, get_origin, get_type_hints

from nhsa.conformance._actions import ACTIONS, DriverCall
from nhsa.conformance._driver import HisConfiguration

__all__ = ["REQUEST_TYPES", "WireError", "decode", "from_json", "to_json"]

REQUEST_TYPES: Final[dict[str, type[Any]]] = {
    "configure": HisConfiguration,
    **{
        name: action.runs.request
        for name, action in ACTIONS.items()
        if isinstance(action.runs, DriverCall)
    },
}
"""The request type of every action of the driver API (the driver actions of the table)."""

_T = TypeVar("_T")


class WireError(ValueError):
    """A JSON document does not fit the type it should carry; names the pointer and the rule.

    Example:
        >>> str(WireError("/items/0/qty", "'x' is not a decimal", "decimal"))
        "/items/0/qty: 'x' is not a decimal (decimal)"
    """

    def __init__(self, pointer: str, problem: str, rule: str) -> None:
        self.pointer = pointer or "/"
        self.problem = problem
        self.rule = rule
        super().__init__(f"{self.pointer}: {problem} ({rule})")


def to_json(value: Any) -> Any:
    """A JSON-ready copy of a driver type (amounts as strings, dates ISO, tuples as lists).

    Example:
        >>> from nhsa.conformance import DriverResult
        >>> to_json(DriverResult("ok", amounts={"acct_pay": Decimal("3.10")}))["amounts"]
        {'acct_pay': '3.10'}
    """
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_json(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): to_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_json(item) for item in value]
    return value


def decode(action: str, data: Any) -> Any:
    """The request of ``action`` from its JSON document.

    Example:
        >>> decode("sign_in", {})
        SignInRequest(operator=None)
    """
    kind = REQUEST_TYPES.get(action)
    if kind is None:
        raise WireError("", f"unknown action {action!r}", "action")
    from nhsa.conformance.drivers import _api  # noqa: PLC0415 - it imports WireError from here

    _api.check(_api.request_schema(action), data)
    return from_json(kind, data)


def from_json(kind: type[_T], data: Any, pointer: str = "") -> _T:
    """``data`` read as ``kind`` (a driver dataclass); :class:`WireError` when it does not fit.

    Unknown members are refused (a typo must not silently become a default).

    Example:
        >>> from nhsa.conformance import DriverHealth
        >>> from_json(DriverHealth, {"ready": True, "name": "HIS"})
        DriverHealth(ready=True, name='HIS', detail='')
    """
    result: _T = _read(kind, data, pointer)
    return result


def _read(kind: Any, data: Any, pointer: str) -> Any:
    origin = get_origin(kind)
    if origin in (Union, types.UnionType):
        return _read_union(get_args(kind), data, pointer)
    if origin is Literal:
        if data not in get_args(kind):
            choices = ", ".join(repr(a) for a in get_args(kind))
            raise WireError(pointer, f"{data!r} is not one of {choices}", "enum")
        return data
    if origin is tuple:
        item = get_args(kind)[0]
        items = _expect(data, list, pointer, "an array")
        return tuple(_read(item, value, f"{pointer}/{i}") for i, value in enumerate(items))
    if origin is Mapping or origin is dict:
        members = _expect(data, dict, pointer, "an object")
        value_type = get_args(kind)[1]
        return {str(k): _read(value_type, v, f"{pointer}/{k}") for k, v in members.items()}
    if dataclasses.is_dataclass(kind):
        return _read_dataclass(kind, data, pointer)
    return _read_scalar(kind, data, pointer)


def _read_union(options: tuple[Any, ...], data: Any, pointer: str) -> Any:
    if data is None and type(None) in options:
        return None
    real = [option for option in options if option is not type(None)]
    if len(real) == 1:
        return _read(real[0], data, pointer)
    for option in real:
        try:
            return _read(option, data, pointer)
        except WireError:
            continue
    raise WireError(pointer, f"{data!r} fits none of the allowed types", "type")


def _read_dataclass(kind: Any, data: Any, pointer: str) -> Any:
    members = _expect(data, dict, pointer, "an object")
    hints = _hints(kind)
    fields = {f.name: f for f in dataclasses.fields(kind)}
    unknown = sorted(set(members) - set(fields))
    if unknown:
        raise WireError(f"{pointer}/{unknown[0]}", "is not a member of this object", "unknown")
    values = {}
    for name, spec in fields.items():
        if name not in members:
            required = (
                spec.default is dataclasses.MISSING and spec.default_factory is dataclasses.MISSING
            )
            if required:
                raise WireError(f"{pointer}/{name}", "is required", "required")
            continue
        values[name] = _read(hints[name], members[name], f"{pointer}/{name}")
    return kind(**values)


def _read_scalar(kind: Any, data: Any, pointer: str) -> Any:
    if kind is Decimal:
        if isinstance(data, bool) or not isinstance(data, str | int):
            raise WireError(pointer, f"{data!r} is not a decimal string", "decimal")
        try:
            value = Decimal(str(data))
        except InvalidOperation:
            raise WireError(pointer, f"{data!r} is not a decimal", "decimal") from None
        if not value.is_finite():
            raise WireError(pointer, f"{data!r} is not a finite decimal", "decimal")
        return value
    if kind is date:
        text = _expect(data, str, pointer, "a string")
        try:
            return date.fromisoformat(text)
        except ValueError:
            raise WireError(pointer, f"{text!r} is not an ISO date", "format") from None
    if kind is bool:
        return _expect(data, bool, pointer, "true or false")
    if kind is float:
        if isinstance(data, bool) or not isinstance(data, int | float):
            raise WireError(pointer, f"{data!r} is not a number", "type")
        return float(data)
    if kind is int:
        if isinstance(data, bool) or not isinstance(data, int):
            raise WireError(pointer, f"{data!r} is not an integer", "type")
        return data
    return _expect(data, str, pointer, "a string")


def _expect(data: Any, kind: type[_T], pointer: str, what: str) -> _T:
    if not isinstance(data, kind) or (kind is not bool and isinstance(data, bool)):
        raise WireError(pointer, f"{_shown(data)} is not {what}", "type")
    return data


def _shown(data: Any) -> str:
    text = repr(data)
    return text if len(text) <= 40 else text[:37] + "..."


@cache
def _hints(kind: type[Any]) -> dict[str, Any]:
    return get_type_hints(kind)

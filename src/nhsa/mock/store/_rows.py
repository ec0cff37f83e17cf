"""Converting records to SQL column values and back, exactly.

SQL databases disagree on decimals and time zones, so every value travels in a portable form:
Decimal as its exact text, datetimes as ISO 8601 with their offset, dates as ISO text,
booleans as 0/1, tuples and mappings as JSON (amounts inside stay exact: they are written as
JSON numbers from their decimal digits and read back as Decimal), bytes as a BLOB.

Example:
    >>> from nhsa.mock.store._records import Balance
    >>> row = to_row(Balance("H1", "P1", "310", Decimal("10.50")))
    >>> row["balance"], from_row(Balance, row).balance
    ('10.50', Decimal('10.50'))
"""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from collections.abc import Callable, Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any, TypeVar

from nhsa.envelope import dumps

R = TypeVar("R")

SqlValue = str | int | bytes | None


def dump_json(value: object) -> str:
    """JSON text with exact Decimal numbers (the store's one JSON encoder).

    Example:
        >>> dump_json({"acct_pay": Decimal("4.52")})
        '{"acct_pay":4.52}'
    """
    return dumps(value).decode("utf-8")


def load_json(text: str) -> Any:
    """Parse JSON written by :func:`dump_json`; numbers with a fraction come back as Decimal.

    Example:
        >>> load_json('{"acct_pay":4.52,"n":3}')
        {'acct_pay': Decimal('4.52'), 'n': 3}
    """
    return json.loads(text, parse_float=Decimal)


_COLUMNS: dict[type[Any], tuple[str, ...]] = {}
_READERS: dict[type[Any], tuple[tuple[str, Callable[[SqlValue], object] | None], ...]] = {}


def columns(kind: type[Any]) -> tuple[str, ...]:
    """The column names of a record type, in field order."""
    if kind not in _COLUMNS:
        _COLUMNS[kind] = tuple(f.name for f in dataclasses.fields(kind))
    return _COLUMNS[kind]


def _readers(kind: type[Any]) -> tuple[tuple[str, Callable[[SqlValue], object] | None], ...]:
    # Resolved once per record type: reading a row is then one dict lookup per column.
    if kind not in _READERS:
        hints = typing.get_type_hints(kind)
        _READERS[kind] = tuple((name, _decoder(hints[name])) for name in columns(kind))
    return _READERS[kind]


def to_row(record: object) -> dict[str, SqlValue]:
    """A record as column name → SQL value."""
    return {name: _encode(getattr(record, name)) for name in columns(type(record))}


def from_row(kind: type[R], row: Mapping[str, SqlValue]) -> R:
    """Rebuild a record of ``kind`` from its column values."""
    values = {
        name: value if value is None or read is None else read(value)
        for name, read in _readers(kind)
        for value in (row[name],)
    }
    return kind(**values)


def encode_key(value: object) -> SqlValue:
    """A key value (as given to ``get``/``find``) in its column form."""
    return _encode(value)


def _encode(value: object) -> SqlValue:
    if value is None or isinstance(value, str | bytes):
        return value
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, tuple | list | Mapping):
        return dump_json(value)
    raise TypeError(f"the store cannot keep a {type(value).__name__}: {value!r}")


_DECODERS: dict[Any, Callable[[SqlValue], object]] = {
    Decimal: lambda value: Decimal(str(value)),
    datetime: lambda value: datetime.fromisoformat(str(value)),
    date: lambda value: date.fromisoformat(str(value)),
    bool: bool,
    int: lambda value: int(str(value)),
    tuple: lambda value: tuple(load_json(str(value))),
    Mapping: lambda value: load_json(str(value)),
    dict: lambda value: load_json(str(value)),
}


def _decoder(hint: Any) -> Callable[[SqlValue], object] | None:
    target = _non_optional(hint)
    return _DECODERS.get(typing.get_origin(target) or target)


def _non_optional(hint: Any) -> Any:
    if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
        options = [arg for arg in typing.get_args(hint) if arg is not type(None)]
        return options[0] if len(options) == 1 else hint
    return hint

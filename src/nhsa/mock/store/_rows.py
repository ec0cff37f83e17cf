"""Converting records to SQL column values and back, exactly.

SQL databases disagree on decimals and time zones, so every value travels in a portable form:
Decimal as its exact text, datetimes as ISO 8601 with their offset, dates as ISO text,
booleans as 0/1, tuples and mappings as JSON (amounts inside stay exact: they are written as
JSON numbers from their decimal digits and read back as Decimal), bytes as a BLOB.

A mapping column is read as a :class:`StoredJson`: the text is parsed only when the mapping is
first used, and writing the record again (a status change, say) stores the same text without
encoding it anew. Most rows a request reads carry a payload it never looks at (a fee line's
2204 ``result``, a visit's 2201 node), so this saves a parse and an encode per row.

Example:
    >>> from nhsa.mock.store._records import Balance
    >>> row = to_row(Balance("H1", "P1", "310", Decimal("10.50")))
    >>> row["balance"], from_row(Balance, row).balance
    ('10.50', Decimal('10.50'))
"""

from __future__ import annotations

import dataclasses
import json
import operator
import types
import typing
from collections.abc import Callable, Iterator, Mapping, Sequence
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
    return _JSON_DECODER.decode(text)


# One decoder for every read: ``json.loads`` with an option builds a new one per call.
_JSON_DECODER = json.JSONDecoder(parse_float=Decimal)


class StoredJson(Mapping[str, Any]):
    """A JSON object as the store keeps it: parsed on first use, written back as it was read.

    Reads like the dict it encodes (``==`` a dict with the same items, ``repr`` the dict's);
    :func:`~nhsa.envelope.dumps` does not take it, so build a dict (``dict(value)`` or
    ``{**value}``) before sending one on the wire.

    Example:
        >>> stored = StoredJson('{"acct_pay":4.52}')
        >>> stored["acct_pay"], stored == {"acct_pay": Decimal("4.52")}, stored.text
        (Decimal('4.52'), True, '{"acct_pay":4.52}')
    """

    __slots__ = ("_text", "_value")

    def __init__(self, text: str, value: dict[str, Any] | None = None) -> None:
        """Wrap ``text`` (a JSON object); ``value`` is its parsed form when already known."""
        self._text = text
        self._value = value

    @classmethod
    def encode(cls, value: Mapping[str, Any]) -> StoredJson:
        """``value`` encoded once; the parsed form is read back from the text when used.

        Example:
            >>> StoredJson.encode({"balc": Decimal("1.50")}).text
            '{"balc":1.50}'
        """
        if isinstance(value, StoredJson):
            return value
        return cls(dump_json(value))

    @property
    def text(self) -> str:
        """The JSON text, exactly as stored."""
        return self._text

    def _parsed(self) -> dict[str, Any]:
        if self._value is None:
            self._value = dict(load_json(self._text))
        return self._value

    def __getitem__(self, key: str) -> Any:
        return self._parsed()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._parsed())

    def __len__(self) -> int:
        return len(self._parsed())

    def __eq__(self, other: object) -> bool:
        if isinstance(other, StoredJson):
            return self._text == other._text or self._parsed() == other._parsed()
        if isinstance(other, Mapping):
            return self._parsed() == dict(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]  # like the dict it stands for

    def __repr__(self) -> str:
        return repr(self._parsed())


_COLUMNS: dict[type[Any], tuple[str, ...]] = {}


def columns(kind: type[Any]) -> tuple[str, ...]:
    """The column names of a record type, in field order."""
    if kind not in _COLUMNS:
        _COLUMNS[kind] = tuple(f.name for f in dataclasses.fields(kind))
    return _COLUMNS[kind]


def to_row(record: object) -> dict[str, SqlValue]:
    """A record as column name → SQL value."""
    return dict(zip(columns(type(record)), row_values(record), strict=True))


def from_row(kind: type[R], row: Mapping[str, SqlValue]) -> R:
    """Rebuild a record of ``kind`` from its column values."""
    return from_values(kind, tuple(row[name] for name in columns(kind)))


def row_values(record: object) -> list[SqlValue]:
    """A record's SQL values in column order (the encoders are resolved once per type).

    Example:
        >>> from nhsa.mock.store._records import Balance
        >>> row_values(Balance("H1", "P1", "310", Decimal("10.50")))
        ['H1', 'P1', '310', '10.50']
    """
    kind = type(record)
    codec = _CODECS.get(kind) or _codec(kind)
    values = codec.get(record)
    return [
        value if encode is None or value is None else encode(value)
        for value, encode in zip(values, codec.encoders, strict=True)
    ]


def from_values(kind: type[R], values: Sequence[SqlValue]) -> R:
    """Rebuild a record of ``kind`` from its SQL values in column order."""
    codec = _CODECS.get(kind) or _codec(kind)
    return kind(
        *[
            value if decode is None or value is None else decode(value)
            for value, decode in zip(values, codec.decoders, strict=True)
        ]
    )


def stored_form(record: R, values: Sequence[SqlValue]) -> R:
    """``record`` with each mapping column as the :class:`StoredJson` a read would give.

    ``values`` are the record's :func:`row_values` (their JSON text is reused, not made
    again). The store keeps this form of what it wrote, so a later ``get`` answers with the
    same value types as a fresh read of the row.

    Example:
        >>> from nhsa.mock.store._records import TenantSetting, YearToDate
        >>> row = YearToDate("H1", "P1", 2026, "530100", "b", {"deductible_used": Decimal("1.0")})
        >>> type(stored_form(row, row_values(row)).counters).__name__
        'StoredJson'
    """
    codec = _CODECS.get(type(record)) or _codec(type(record))
    changes = {
        name: StoredJson(str(values[index]))
        for index, name in codec.mappings
        if values[index] is not None and not isinstance(getattr(record, name), StoredJson)
    }
    return dataclasses.replace(record, **changes) if changes else record  # type: ignore[type-var]


@dataclasses.dataclass(frozen=True)
class _Codec:
    get: Callable[[object], tuple[Any, ...]]
    encoders: tuple[Callable[[Any], SqlValue] | None, ...]
    decoders: tuple[Callable[[SqlValue], object] | None, ...]
    mappings: tuple[tuple[int, str], ...]


_CODECS: dict[type[Any], _Codec] = {}


def _codec(kind: type[Any]) -> _Codec:
    names = columns(kind)
    hints = typing.get_type_hints(kind)
    targets = [_non_optional(hints[name]) for name in names]
    getter = operator.attrgetter(*names)
    codec = _Codec(
        get=getter if len(names) > 1 else lambda record: (getter(record),),
        encoders=tuple(_encoder(target) for target in targets),
        decoders=tuple(_decoder(hints[name]) for name in names),
        mappings=tuple(
            (index, name)
            for index, (name, target) in enumerate(zip(names, targets, strict=True))
            if (typing.get_origin(target) or target) in (Mapping, dict)
        ),
    )
    _CODECS[kind] = codec
    return codec


def _encoder(target: Any) -> Callable[[Any], SqlValue] | None:
    """The encoder of a column of this type; ``None`` when the value is stored as it is."""
    origin = typing.get_origin(target) or target
    if origin in (str, bytes, int):
        return None
    if origin in (Mapping, dict):
        return _encode_mapping
    return _encode  # Decimal, dates, bool, tuples, and anything unusual: the general rule


def _encode_mapping(value: Any) -> SqlValue:
    return value.text if isinstance(value, StoredJson) else _encode(value)


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
        return value.text if isinstance(value, StoredJson) else dump_json(value)
    raise TypeError(f"the store cannot keep a {type(value).__name__}: {value!r}")


_DECODERS: dict[Any, Callable[[SqlValue], object]] = {
    Decimal: lambda value: Decimal(str(value)),
    datetime: lambda value: datetime.fromisoformat(str(value)),
    date: lambda value: date.fromisoformat(str(value)),
    bool: bool,
    int: lambda value: int(str(value)),
    tuple: lambda value: tuple(load_json(str(value))),
    Mapping: lambda value: StoredJson(str(value)),
    dict: lambda value: StoredJson(str(value)),
}


def _decoder(hint: Any) -> Callable[[SqlValue], object] | None:
    target = _non_optional(hint)
    return _DECODERS.get(typing.get_origin(target) or target)


def _non_optional(hint: Any) -> Any:
    if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
        options = [arg for arg in typing.get_args(hint) if arg is not type(None)]
        return options[0] if len(options) == 1 else hint
    return hint

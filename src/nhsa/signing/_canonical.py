"""Finding the top-level ``cainfo`` and ``signtype`` members in raw body bytes.

The signed bytes are the body exactly as sent with the value of its single top-level
``cainfo`` member replaced by ``""`` (``interface_specs/v1/signing.md``). Nobody re-serializes
a parsed body, so this module works on bytes: it locates each member's value as a byte span.

Why the fast path is exact: inside a JSON string every ``"`` is escaped, so ``"cainfo"``
followed by optional whitespace and ``:`` (and not preceded by a backslash) can only be an
object key named ``cainfo``. If the body holds exactly one such key, and no ``\\u00XX`` escape
that could spell a lowercase ASCII letter (the only other way to write that key), then that
key is the top-level one orjson reported. Anything else — duplicates, a nested ``cainfo``,
escaped spellings — goes to a slower tokenizing scan that tracks depth and decodes keys.

Example:
    >>> body = locate(b'{"infno": "2207", "cainfo": null, "signtype": ""}')
    >>> body.splice(cainfo=b'""', signtype=b'"SM2"')
    b'{"infno": "2207", "cainfo": "", "signtype": "SM2"}'
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import islice
from typing import Any, Final

import orjson

from nhsa.signing.errors import EmptyBodyError, MalformedBodyError

__all__ = ["LocatedBody", "locate", "parse_body"]

MEMBERS: Final = ("cainfo", "signtype")

_WS = rb"[ \t\n\r]*"
# No look-behind for the backslash: it would stop the regex engine from jumping to the literal.
_PLAIN_KEY = {
    name: re.compile(rb'"' + name.encode() + rb'"' + _WS + rb":" + _WS) for name in MEMBERS
}
_ESCAPED_LOWERCASE = re.compile(rb"\\u00[67][0-9a-fA-F]")
_TOKEN = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"|[{}\[\]]')
_COLON = re.compile(_WS + rb":" + _WS)
_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"')


@dataclass(frozen=True, slots=True)
class LocatedBody:
    """A parsed body and the byte spans of its top-level ``cainfo`` and ``signtype`` values.

    Attributes:
        body: the bytes exactly as given.
        document: the parsed top-level object (for reading ``fixmedins_code``, ``msgid``).
        spans: member name → ``(start, end)`` of its value (a JSON string or ``null``).
    """

    body: bytes
    document: dict[str, Any]
    spans: dict[str, tuple[int, int]]

    def value(self, member: str) -> str | None:
        """The decoded value of ``cainfo`` or ``signtype`` (``None`` for JSON ``null``).

        Example:
            >>> locate(b'{"cainfo":"k:c2ln","signtype":"SM2"}').value("cainfo")
            'k:c2ln'
        """
        value = self.document[member]
        return value if isinstance(value, str) else None

    def splice(self, **values: bytes) -> bytes:
        """The body with each named member's value replaced by the given raw JSON bytes.

        Example:
            >>> locate(b'{"cainfo":"x","signtype":null}').splice(cainfo=b'""')
            b'{"cainfo":"","signtype":null}'
        """
        edits = sorted((self.spans[name], raw) for name, raw in values.items())
        pieces: list[bytes] = []
        cursor = 0
        for (start, end), raw in edits:
            pieces += (self.body[cursor:start], raw)
            cursor = end
        pieces.append(self.body[cursor:])
        return b"".join(pieces)


def parse_body(body: bytes) -> Any:
    """Parse a message body: :class:`EmptyBodyError` when empty, :class:`MalformedBodyError`
    (rule ``json``) when it is not UTF-8 JSON.

    Example:
        >>> parse_body(b'{"msgid": "m1"}')["msgid"]
        'm1'
    """
    if not body.strip():
        raise EmptyBodyError("the body is empty; a JSON envelope is required", field="body")
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise MalformedBodyError(
            f"the body is not valid UTF-8 JSON ({exc})", field="body", rule="json"
        ) from None


def locate(body: bytes) -> LocatedBody:
    """Parse ``body`` and find its top-level ``cainfo`` and ``signtype`` values.

    Raises :class:`EmptyBodyError` for an empty body and :class:`MalformedBodyError` when the
    body is not a JSON object, lacks either member, has one twice at the top level, or gives
    one a value that is neither a string nor ``null``.
    """
    document = parse_body(body)
    if not isinstance(document, dict):
        raise MalformedBodyError(
            f"the body must be a JSON object, got {type(document).__name__}",
            field="body",
            rule="object",
        )
    for name in MEMBERS:
        if name not in document:
            raise MalformedBodyError(
                f"the envelope has no top-level {name!r} member; it must be present "
                "(an empty string or null when unsigned)",
                field=name,
                rule="required",
            )
        if not isinstance(document[name], str | None):
            raise MalformedBodyError(
                f"{name} must be a string or null, got {type(document[name]).__name__}",
                field=name,
                rule="string-or-null",
            )
    starts = _fast_value_starts(body) or _scanned_value_starts(body)
    return LocatedBody(body, document, {name: _value_span(body, starts[name]) for name in MEMBERS})


def _fast_value_starts(body: bytes) -> dict[str, int] | None:
    if _ESCAPED_LOWERCASE.search(body):
        return None
    starts: dict[str, int] = {}
    for name in MEMBERS:
        keys = (
            m for m in _PLAIN_KEY[name].finditer(body) if body[m.start() - 1 : m.start()] != b"\\"
        )
        matches = list(islice(keys, 2))
        if len(matches) != 1:
            return None
        starts[name] = matches[0].end()
    return starts


def _scanned_value_starts(body: bytes) -> dict[str, int]:
    found: dict[str, list[int]] = {name: [] for name in MEMBERS}
    depth = 0
    for token in _TOKEN.finditer(body):
        first = body[token.start()]
        if first == 0x22:  # '"'
            if depth != 1:
                continue
            colon = _COLON.match(body, token.end())
            if colon is None:
                continue  # a string value, not a key
            raw = token.group()
            key = orjson.loads(raw) if b"\\" in raw else raw[1:-1].decode()
            if key in found:
                found[key].append(colon.end())
        elif first in b"{[":
            depth += 1
        else:
            depth -= 1
    for name, positions in found.items():
        if len(positions) != 1:
            raise MalformedBodyError(
                f"the envelope has {len(positions)} top-level {name!r} members; exactly one "
                "is allowed, so that signer and verifier blank the same bytes",
                field=name,
                rule="unique",
            )
    return {name: positions[0] for name, positions in found.items()}


def _value_span(body: bytes, start: int) -> tuple[int, int]:
    if body.startswith(b"null", start):
        return start, start + 4
    string = _STRING.match(body, start)
    if string is None:  # unreachable for a body orjson accepted; kept as a guard, not a crash
        raise MalformedBodyError(
            "cannot find the member's value in the raw bytes", field="body", rule="json"
        )
    return string.span()

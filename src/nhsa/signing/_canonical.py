"""Finding the top-level ``cainfo`` and ``signtype`` members in raw body bytes.

The signed bytes are the body exactly as sent with the value of its single top-level
``cainfo`` member replaced by ``""`` (``interface_specs/v1/signing.md``). Nobody re-serializes
a parsed body, so this module works on bytes: it locates each member's value as a byte span.

Why the fast path is exact: inside a JSON string every ``"`` is escaped, so ``"cainfo"``
followed by optional whitespace and ``:`` (and not preceded by a backslash) can only be an
object key named ``cainfo``. If the bytes ``"cainfo"`` occur exactly once, as such a key, and
there is no ``\\u00XX`` escape that could spell a lowercase ASCII letter (the only other way to
write that key), then that key is the top-level one orjson reported. Anything else — a second
occurrence, a nested ``cainfo``, escaped spellings — goes to a slower tokenizing scan that
tracks depth and decodes keys.

Example:
    >>> body = locate(b'{"infno": "2207", "cainfo": null, "signtype": ""}')
    >>> body.splice(cainfo=b'""', signtype=b'"SM2"')
    b'{"infno": "2207", "cainfo": "", "signtype": "SM2"}'
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

import orjson

from nhsa.signing.errors import EmptyBodyError, MalformedBodyError

__all__ = ["LocatedBody", "locate", "parse_body", "unsigned_tail_start"]

MEMBERS: Final = ("cainfo", "signtype")

_WS = rb"[ \t\n\r]*"
_QUOTED = {name: b'"' + name.encode() + b'"' for name in MEMBERS}
_UNSIGNED_TAIL = b',"cainfo":"","signtype":""}'
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
    document: Mapping[str, Any]
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


def locate(body: bytes, *, document: Any = None) -> LocatedBody:
    """Parse ``body`` and find its top-level ``cainfo`` and ``signtype`` values.

    Raises :class:`EmptyBodyError` for an empty body and :class:`MalformedBodyError` when the
    body is not a JSON object, lacks either member, has one twice at the top level, or gives
    one a value that is neither a string nor ``null``.

    ``document``, when given, must be what ``orjson.loads(body)`` returned: the body is then
    not parsed again. The byte-level search for the members runs all the same, and each
    member's value in the bytes must equal the document's, else :class:`MalformedBodyError`
    (rule ``document-matches-body``): whatever reads ``cainfo`` or ``signtype`` from the
    result reads what the bytes say. Duplicates and escaped spellings in the bytes are still
    found; that a single plain ``"cainfo"`` key is top-level is taken from the document (a
    proof would cost the tokenizing scan), so a document of other bytes can at worst move
    which string counts as the signature: every other byte stays covered by it.

    Example:
        >>> body = b'{"cainfo":null,"signtype":""}'
        >>> locate(body, document={"cainfo": None, "signtype": ""}).spans["signtype"]
        (26, 28)
    """
    parsed = parse_body(body) if document is None else document
    if not isinstance(parsed, Mapping):
        raise MalformedBodyError(
            f"the body must be a JSON object, got {type(parsed).__name__}",
            field="body",
            rule="object",
        )
    for name in MEMBERS:
        if name not in parsed:
            raise MalformedBodyError(
                f"the envelope has no top-level {name!r} member; it must be present "
                "(an empty string or null when unsigned)",
                field=name,
                rule="required",
            )
        if not isinstance(parsed[name], str | None):
            raise MalformedBodyError(
                f"{name} must be a string or null, got {type(parsed[name]).__name__}",
                field=name,
                rule="string-or-null",
            )
    passed = document is not None
    starts = _fast_value_starts(body) or _scanned_value_starts(body, passed=passed)
    spans = {name: _value_span(body, name, starts[name], passed=passed) for name in MEMBERS}
    if passed:
        _check_agreement(body, parsed, spans)
    return LocatedBody(body, parsed, spans)


def unsigned_tail_start(body: bytes) -> int | None:
    """Where ``cainfo``'s value starts if the body provably ends ``,"cainfo":"","signtype":""}``.

    That is how compact encoders write an unsigned envelope ending with these two. Proof
    that they are the top-level members, without parsing: the final ``}`` closes the top-level
    object and no quote in the tail is escaped, so the tail is its last two members; the
    bytes ``"cainfo"`` and ``"signtype"`` occur nowhere else and no ``\\u00XX`` escape could
    spell either key, so neither member is duplicated. The caller vouches that the body is
    JSON. ``None`` when the proof does not hold (use :func:`locate`).

    Example:
        >>> unsigned_tail_start(b'{"infcode":0,"cainfo":"","signtype":""}')
        22
        >>> unsigned_tail_start(b'{"cainfo":"","signtype":"","x":1}') is None
        True
    """
    if not body.endswith(_UNSIGNED_TAIL) or _ESCAPED_LOWERCASE.search(body):
        return None
    if any(body.count(quoted) != 1 for quoted in _QUOTED.values()):
        return None
    return len(body) - len(b'"","signtype":""}')


def _check_agreement(
    body: bytes, document: Mapping[str, Any], spans: dict[str, tuple[int, int]]
) -> None:
    for name, (start, end) in spans.items():
        raw = body[start:end]
        # The common spellings compare without decoding; anything else is decoded exactly.
        if raw == b"null":
            agrees = document[name] is None
        elif raw == b'""':
            agrees = document[name] == ""
        else:
            try:
                agrees = orjson.loads(raw) == document[name]
            except orjson.JSONDecodeError:
                agrees = False
        if not agrees:
            raise MalformedBodyError(
                f"the parsed document passed with the body says {name} = "
                f"{document[name]!r} but the body's bytes say {raw.decode(errors='replace')}; "
                "pass the document parsed from exactly these bytes",
                field=name,
                rule="document-matches-body",
            )


def _fast_value_starts(body: bytes) -> dict[str, int] | None:
    if _ESCAPED_LOWERCASE.search(body):
        return None
    starts: dict[str, int] = {}
    for name, quoted in _QUOTED.items():
        # bytes.find runs in C; a second occurrence anywhere, even inside a string value,
        # leaves the decision to the tokenizing scan.
        at = body.find(quoted)
        if at < 0 or body.find(quoted, at + 1) >= 0 or body[at - 1 : at] == b"\\":
            return None
        colon = _COLON.match(body, at + len(quoted))
        if colon is None:
            return None
        starts[name] = colon.end()
    return starts


def _scanned_value_starts(body: bytes, *, passed: bool = False) -> dict[str, int]:
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
        if not positions and passed:
            # orjson found the member in the body it parsed; so these bytes are not that body.
            raise MalformedBodyError(
                f"the parsed document passed with the body has a top-level {name!r} member "
                "but the body's bytes have none; pass the document parsed from exactly "
                "these bytes",
                field=name,
                rule="document-matches-body",
            )
        if len(positions) != 1:
            raise MalformedBodyError(
                f"the envelope has {len(positions)} top-level {name!r} members; exactly one "
                "is allowed, so that signer and verifier blank the same bytes",
                field=name,
                rule="unique",
            )
    return {name: positions[0] for name, positions in found.items()}


def _value_span(body: bytes, name: str, start: int, *, passed: bool) -> tuple[int, int]:
    if body.startswith(b"null", start):
        return start, start + 4
    string = _STRING.match(body, start)
    if string is not None:
        return string.span()
    if passed:
        raise MalformedBodyError(
            f"the parsed document passed with the body has a string or null {name}, but the "
            "body's bytes hold another kind of value there; pass the document parsed from "
            "exactly these bytes",
            field=name,
            rule="document-matches-body",
        )
    # Unreachable for a body orjson accepted; kept as a guard, not a crash.
    raise MalformedBodyError(
        "cannot find the member's value in the raw bytes", field="body", rule="json"
    )

"""Masking personal data before it reaches a log: the one function every logger in the kit uses.

:func:`redact` takes whatever is about to be logged — a dict or list, JSON text or bytes, a
message with a body pasted into it — and returns the same kind of value with these masked
wherever they occur:

- identity numbers: ``certno``, ``mdtrt_cert_no`` and any ``*cert_no``/``*certno``, ``card_sn``
  — all but the last 4 characters become ``*`` (enough to tell two patients apart in a trace);
- phone numbers: ``tel``, ``phone``, ``mob``, ``mobile`` and fields built from them
  (``conn_tel``, ``mobilePhone``) — last 4 kept;
- names of people: ``psn_name`` (and ``patn_name``, ``agnter_name``) — fully masked;
- addresses: any field containing ``addr`` — fully masked;
- credentials: ``ecToken`` and anything containing ``token``, ``secret``, ``passw``, ``pwd``,
  ``authorization`` — fully masked;
- and, as a safety net, any 18-character resident identity number (GB 11643: valid date and
  check digit) that appears in free text such as an ``err_msg``.

JSON nested inside a string (an ``input`` sent as text, a body quoted in an error) is parsed
and masked too (what nests deeper than :data:`nhsa._nesting.MAX_DEPTH` is masked whole, never
walked); text that is not JSON (a truncated body, a Python ``repr``) is scrubbed by
pattern. :func:`get_logger` returns a logger with :class:`RedactionFilter` attached, so a
record's message and arguments are masked before any handler sees them.

Example:
    >>> redact({"psn_name": "测试甲", "certno": "440304199001011233", "infno": "2207"})
    {'psn_name': '***', 'certno': '**************1233', 'infno': '2207'}
    >>> redact(b'{"input": "{\\\\"certno\\\\": \\\\"440304199001011233\\\\"}"}')
    b'{"input":"{\\\\"certno\\\\":\\\\"**************1233\\\\"}"}'
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping
from typing import Any, Final, overload

import orjson

from nhsa._nesting import MAX_DEPTH
from nhsa.idcard import has_valid_check_char

__all__ = ["RedactionFilter", "get_logger", "redact"]

FULL_MASK: Final = "***"
KEPT_TAIL: Final = 4
# Values shorter than this are masked whole: a kept tail would be most of the value.
MIN_LENGTH_TO_KEEP_TAIL: Final = 8

_TAIL_KEYS = re.compile(
    r"(?:cert_?no|card_?sn|card_?no|id_?card(?:_?no)?|tel|phone|mob|mobile|telephone|"
    r"mobilephone|cellphone)$|(?:^|_)(?:tel|phone|mob|mobile)(?:_|$)",
)
_FULL_KEYS = re.compile(
    r"(?:^|_)(?:psn|patn|pat|patient|agnter)_?name$|addr|token|secret|passw|pwd|authorization",
)
# A key in text: bare (certno=…), quoted ("certno": …) or quoted at any escaping depth
# (\"certno\": … inside a JSON string, \\\"certno\\\" one level deeper).
_TEXT_PAIR = re.compile(
    r"""(?<![A-Za-z0-9_])(?P<kq>\\*["']|)(?P<key>[A-Za-z_][A-Za-z0-9_\-]*)(?P=kq)\s*[:=]\s*"""
    r"""(?:(?P<vq>\\*["'])(?P<quoted>.*?)(?:(?<!\\)(?P=vq)(?=\s*(?:[,;&}\])\s]|$))|$)"""
    r"""|(?P<bare>[^\s,;&}\])"'\\]+))""",
    re.DOTALL,
)
_ID_NUMBER = re.compile(
    r"(?<![0-9A-Za-z])\d{6}(?:19|20)\d{2}[01]\d[0-3]\d\d{3}[0-9Xx](?![0-9A-Za-z])"
)
_MAYBE_SENSITIVE = re.compile(r"[:=]|\d{17}")


@overload
def redact(value: str) -> str: ...
@overload
def redact(value: bytes) -> bytes: ...
@overload
def redact(value: Mapping[Any, Any]) -> dict[Any, Any]: ...
@overload
def redact(value: list[Any]) -> list[Any]: ...
@overload
def redact(value: object) -> object: ...


def redact(value: object) -> object:
    """A copy of ``value`` with personal data masked; the input is never modified.

    Dicts, lists and tuples are walked; strings and bytes are read as JSON when they are
    JSON and scrubbed by pattern otherwise; other values (numbers, ``None``) pass through.

    Example:
        >>> redact('sending {"conn_tel": "13800001234", "addr": "某路1号"}')
        'sending {"conn_tel": "*******1234", "addr": "***"}'
    """
    return _redact(value, 0)


def _redact(value: object, depth: int) -> object:
    if isinstance(value, str):
        return _redact_text(value)
    if isinstance(value, bytes | bytearray):
        # surrogateescape keeps bytes that are not UTF-8 (a GBK body) exactly as they were.
        text = bytes(value).decode("utf-8", "surrogateescape")
        return _redact_text(text).encode("utf-8", "surrogateescape")
    if isinstance(value, Mapping | list | tuple) and depth >= MAX_DEPTH:
        return FULL_MASK  # nested deeper than any message may: masked whole, not walked
    if isinstance(value, Mapping):
        return {key: _redact_member(str(key), member, depth) for key, member in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_redact(item, depth + 1) for item in value)
    return value


class RedactionFilter(logging.Filter):
    """A logging filter that masks personal data in a record's message and arguments.

    It formats the message itself (``msg % args``) from redacted arguments, scrubs the result
    once more (a body may have been pasted into the message with an f-string) and stores it
    back with no arguments, so every handler downstream sees only masked text.

    Example:
        >>> record = logging.LogRecord("nhsa", logging.DEBUG, __file__, 1, "body %s", (
        ...     {"certno": "440304199001011233"},), None)
        >>> RedactionFilter().filter(record), record.getMessage()
        (True, "body {'certno': '**************1233'}")
    """

    def filter(self, record: logging.LogRecord) -> bool:
        """Mask the record in place; always keeps the record."""
        args = record.args
        if isinstance(args, Mapping):
            safe_args: tuple[object, ...] | Mapping[str, object] = redact(args)
        else:
            safe_args = tuple(redact(arg) for arg in args or ())
        try:
            message = str(record.msg) % safe_args if safe_args else str(record.msg)
        except (TypeError, ValueError, KeyError):
            # A broken format string must not lose the record or leak the arguments.
            message = f"{record.msg} {safe_args!r}"
        record.msg = _redact_text(message)
        record.args = None
        return True


_FILTER = RedactionFilter()


def get_logger(name: str) -> logging.Logger:
    """``logging.getLogger(name)`` with the redaction filter attached (once).

    A filter on a parent logger does not see records that propagate from its children, so
    every module of the kit takes its logger from here.

    Example:
        >>> get_logger("nhsa.example").filters.count(_FILTER)
        1
    """
    logger = logging.getLogger(name)
    if not any(isinstance(f, RedactionFilter) for f in logger.filters):
        logger.addFilter(_FILTER)
    return logger


def _redact_member(key: str, value: object, depth: int) -> object:
    masker = _masker_for(key)
    if masker is None:
        return _redact(value, depth + 1)
    if value is None or value == "":
        return value
    return masker(value if isinstance(value, str) else str(value))


def _masker_for(key: str) -> Callable[[str], str] | None:
    lowered = key.lower()
    if _FULL_KEYS.search(lowered):
        return _mask_full
    if _TAIL_KEYS.search(lowered):
        return _mask_keep_tail
    return None


def _mask_full(_: str) -> str:
    return FULL_MASK


def _mask_keep_tail(value: str) -> str:
    if len(value) < MIN_LENGTH_TO_KEEP_TAIL:
        return "*" * len(value)
    return "*" * (len(value) - KEPT_TAIL) + value[-KEPT_TAIL:]


def _redact_text(text: str) -> str:
    stripped = text.lstrip()
    if stripped[:1] in ("{", "["):
        try:
            parsed = orjson.loads(text)
        except orjson.JSONDecodeError:
            pass
        else:
            return orjson.dumps(redact(parsed)).decode()
    if not _MAYBE_SENSITIVE.search(text):
        return text
    return _ID_NUMBER.sub(_mask_id_number, _scrub_pairs(text))


def _scrub_pairs(text: str) -> str:
    return _TEXT_PAIR.sub(_mask_pair, text)


def _mask_pair(match: re.Match[str]) -> str:
    quoted, bare = match.group("quoted"), match.group("bare")
    value = quoted if quoted is not None else bare
    masker = _masker_for(match.group("key"))
    if masker is not None and value and value != "null":
        replacement = masker(value)
    elif masker is None and quoted:
        # The value may itself hold quoted pairs one escaping level deeper.
        replacement = _scrub_pairs(quoted)
    else:
        return match.group(0)
    start, end = match.span("quoted" if quoted is not None else "bare")
    offset = match.start()
    whole = match.group(0)
    return whole[: start - offset] + replacement + whole[end - offset :]


def _mask_id_number(match: re.Match[str]) -> str:
    number = match.group(0)
    return _mask_keep_tail(number) if has_valid_check_char(number) else number

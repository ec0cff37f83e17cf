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

**Names in free text** (an ``err_msg`` such as "患者张晓峰已在他院结算", a log line) cannot be
told from other words by their shape, so a name is masked there when the text says or the
kit knows it is one:

- after a label: 姓名, 患者, 病人, 参保人, 就诊人, 持卡人, 人员姓名 followed by ``:``/``：``/
  ``=``, a bracket or a space (``患者：张晓峰``, ``患者(张晓峰)``) — the next two to four
  characters are masked (a label with no separator, as in 患者信息不存在, is not);
- anywhere, when the name sits under a name key (``psn_name``, …) elsewhere in the same value
  (a transcript record masks its ``err_msg`` with the names of its own request and answer);
- anywhere, when the process was told the name (:func:`remember_names`): the SDK tells it the
  name of every person its answers carry (1101, 2207, …), the mock the names of its fixtures.

A name that none of these reveal (free text naming someone the process never saw, with no
label) is not found: keep names out of messages you write.

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
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Final, overload

import orjson

from nhsa._nesting import MAX_DEPTH
from nhsa.idcard import has_valid_check_char

__all__ = [
    "RedactionFilter",
    "get_logger",
    "is_name_key",
    "names_in",
    "redact",
    "remember_names",
]

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
# "Authorization: Bearer <credentials>": the scheme is not secret, the word after it is.
_AUTH_SCHEMES: Final = frozenset({"bearer", "basic", "token"})
_AUTH_CREDENTIALS = re.compile(
    r"(?i)(?P<head>\bauthorization\s*[:=]\s*(?:bearer|basic|token)\s+)"
    r"(?P<credentials>[^\s,;&}\])\"']+)"
)
_LABELLED_NAME = re.compile(
    r"(?P<label>人员姓名|姓名|患者|病人|参保人|就诊人|持卡人)"
    r"(?P<sep>\s*[:：=]\s*|\s*[(（【\[「]\s*|\s+)"
    r"(?P<name>[\u3400-\u9fff][\u3400-\u9fff·]{1,3})"
)
_NAME_KEY = re.compile(r"(?:^|_)(?:psn|patn|pat|patient|agnter)_?name$")
MAX_KNOWN_NAMES: Final = 10_000
"""How many names :func:`remember_names` keeps (the oldest are forgotten first)."""


class _KnownNames:
    """Names the process was told, masked wherever they appear in text (thread-safe).

    Candidate positions are found by a character class of the names' first characters (a few
    hundred surnames), so a text with no such character costs one regex scan.
    """

    def __init__(self, limit: int = MAX_KNOWN_NAMES) -> None:
        self._limit = limit
        self._names: OrderedDict[str, None] = OrderedDict()
        self._lock = threading.Lock()
        self._lengths: tuple[int, ...] = ()
        self._starts: re.Pattern[str] | None = None

    def add(self, names: Iterable[str]) -> None:
        with self._lock:
            changed = False
            for given in names:
                name = given.strip()
                if len(name) < 2 or len(name) > 50:
                    continue  # a one-character "name" would mask half of every message
                if name in self._names:
                    self._names.move_to_end(name)
                    continue
                self._names[name] = None
                changed = True
                while len(self._names) > self._limit:
                    self._names.popitem(last=False)
            if changed:
                self._lengths = tuple(sorted({len(n) for n in self._names}, reverse=True))
                firsts = "".join(sorted({re.escape(n[0]) for n in self._names}))
                self._starts = re.compile(f"[{firsts}]")

    def mask(self, text: str, extra: frozenset[str] = frozenset()) -> str:
        starts, lengths, names = self._starts, self._lengths, self._names
        if extra:
            lengths = tuple(sorted({*lengths, *(len(n) for n in extra)}, reverse=True))
            firsts = "".join(sorted({re.escape(n[0]) for n in extra}))
            pattern = f"[{firsts}]" if starts is None else f"{starts.pattern[:-1]}{firsts}]"
            starts = re.compile(pattern)
        if starts is None:
            return text
        pieces: list[str] = []
        done = 0
        for found in starts.finditer(text):
            at = found.start()
            if at < done:
                continue
            for length in lengths:
                candidate = text[at : at + length]
                if len(candidate) == length and (candidate in extra or candidate in names):
                    pieces += (text[done:at], FULL_MASK)
                    done = at + length
                    break
        return "".join(pieces) + text[done:] if pieces else text


_KNOWN = _KnownNames()


def remember_names(*names: str) -> None:
    """Mask these names wherever they appear in text :func:`redact` sees, from now on.

    Example:
        >>> remember_names("测试乙")
        >>> redact("结算失败：测试乙的账户已冻结")
        '结算失败：***的账户已冻结'
    """
    _KNOWN.add(names)


def is_name_key(key: str) -> bool:
    """Whether a member of this name holds a person's name (``psn_name``, ``patn_name``, …).

    Example:
        >>> is_name_key("psn_name"), is_name_key("dept_name")
        (True, False)
    """
    return bool(_NAME_KEY.search(key.lower()))


def names_in(value: object) -> frozenset[str]:
    """The names held under name keys (``psn_name``, …) anywhere in ``value``.

    Example:
        >>> sorted(names_in({"baseinfo": {"psn_name": "测试甲", "psn_no": "P1"}}))
        ['测试甲']
    """
    found: set[str] = set()
    stack: list[tuple[object, int]] = [(value, 0)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            continue
        if isinstance(node, Mapping):
            for key, member in node.items():
                if isinstance(member, str) and is_name_key(str(key)):
                    if len(member.strip()) >= 2:
                        found.add(member.strip())
                else:
                    stack.append((member, depth + 1))
        elif isinstance(node, list | tuple):
            stack.extend((item, depth + 1) for item in node)
    return frozenset(found)


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
    names = names_in(value) if isinstance(value, Mapping | list | tuple) else frozenset()
    return _redact(value, 0, names)


def _redact(value: object, depth: int, names: frozenset[str]) -> object:
    if isinstance(value, str):
        return _redact_text(value, names)
    if isinstance(value, bytes | bytearray):
        # surrogateescape keeps bytes that are not UTF-8 (a GBK body) exactly as they were.
        text = bytes(value).decode("utf-8", "surrogateescape")
        return _redact_text(text, names).encode("utf-8", "surrogateescape")
    if isinstance(value, Mapping | list | tuple) and depth >= MAX_DEPTH:
        return FULL_MASK  # nested deeper than any message may: masked whole, not walked
    if isinstance(value, Mapping):
        return {
            key: _redact_member(str(key), member, depth, names) for key, member in value.items()
        }
    if isinstance(value, list | tuple):
        return type(value)(_redact(item, depth + 1, names) for item in value)
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


def _redact_member(key: str, value: object, depth: int, names: frozenset[str]) -> object:
    masker = _masker_for(key)
    if masker is None:
        return _redact(value, depth + 1, names)
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


def _redact_text(text: str, names: frozenset[str] = frozenset()) -> str:
    stripped = text.lstrip()
    if stripped[:1] in ("{", "["):
        try:
            parsed = orjson.loads(text)
        except orjson.JSONDecodeError:
            pass
        else:
            inner = names | names_in(parsed)
            return orjson.dumps(_redact(parsed, 0, inner)).decode()
    if _MAYBE_SENSITIVE.search(text):
        text = _AUTH_CREDENTIALS.sub(_mask_credentials, text)
        text = _ID_NUMBER.sub(_mask_id_number, _scrub_pairs(text))
    return _KNOWN.mask(_LABELLED_NAME.sub(_mask_labelled_name, text), names)


def _mask_labelled_name(match: re.Match[str]) -> str:
    return f"{match.group('label')}{match.group('sep')}{FULL_MASK}"


def _mask_credentials(match: re.Match[str]) -> str:
    return f"{match.group('head')}{FULL_MASK}"


def _scrub_pairs(text: str) -> str:
    return _TEXT_PAIR.sub(_mask_pair, text)


def _mask_pair(match: re.Match[str]) -> str:
    quoted, bare = match.group("quoted"), match.group("bare")
    value = quoted if quoted is not None else bare
    if bare is not None and bare.lower() in _AUTH_SCHEMES:
        return match.group(0)  # the scheme of an Authorization header; its credentials follow
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

"""Comparing what a platform recorded with what a fresh one recorded for the same request.

Field by field, over the members of a transcript record that say how the platform judged and
answered (:data:`COMPARED`), except what legitimately differs between two platforms, which is
ignored and counted (:data:`IGNORED`):

- **platform ids** — ``mdtrt_id``, ``setl_id``, ``sign_no``, ``file_qury_no`` and the like
  (and members named after them, ``reversed_setl_id``) come from each platform's own
  sequence. They are not compared but *mapped*: the first time an original id meets its
  replayed counterpart the pair is learned (:class:`IdMap`), later requests are sent with the
  replayed id, and a later answer naming another id differs;
- **times** — every member whose name ends in ``time`` (``setl_time``, ``respond_time`` …);
- **signatures** — ``cainfo``, ``signtype`` and the signing key's id (each side signs with
  its own key);
- ``inf_refmsgid`` — the platform's own message id (area, time and its own serial).

Example:
    >>> ids = IdMap()
    >>> diff({"setl_id": "4000000000009", "amt": 1}, {"setl_id": "4000000000002", "amt": 1}, ids)
    []
    >>> ids.replayed("4000000000009")
    '4000000000002'
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, Final

__all__ = ["COMPARED", "IGNORED", "Difference", "IdMap", "diff", "is_platform_id", "rewrite"]

PLATFORM_IDS: Final = frozenset(
    {"mdtrt_id", "setl_id", "sign_no", "file_qury_no", "line_id", "window_id", "ec_token"}
)
"""Members whose value a platform issues from its own sequence."""

SIGNATURES: Final = frozenset({"cainfo", "signtype", "key_id"})
OWN_MESSAGE_IDS: Final = frozenset({"inf_refmsgid"})

IGNORED: Final[dict[str, str]] = {
    "platform ids": "mapped original → replay, not compared: " + ", ".join(sorted(PLATFORM_IDS)),
    "times": "every member whose name ends in 'time' (the replay runs on the original's clock, "
    "but answer times are the platform's own)",
    "signatures": "cainfo, signtype, the signing key's id: each platform signs with its own key",
    "inf_refmsgid": "the platform's own message id",
}
"""What the comparison leaves out, and why (printed with every replay)."""

COMPARED: Final = (
    "infno",
    "route",
    "gateway",
    "signature",
    "validation",
    "infcode",
    "err_msg",
    "error_id",
    "response",
    "fault",
    "delivered",
    "state_changed",
    "effects",
)
"""The members of a record that are compared (``seq``, receipt times, headers and the request's
digest describe the sending, not the platform's judgement)."""


@dataclass
class IdMap:
    """Original platform id → the id the replaying platform issued in its place."""

    pairs: dict[str, str] = field(default_factory=dict)

    def replayed(self, original: str) -> str:
        """The replay's id for ``original`` (``original`` itself when none was learned)."""
        return self.pairs.get(original, original)


@dataclass(frozen=True)
class Difference:
    """One member whose value differs: where, and the two values."""

    path: str
    original: Any
    replay: Any

    def describe(self) -> str:
        """``path: original → replay``."""
        return f"{self.path}: {_shown(self.original)} → {_shown(self.replay)}"


@dataclass
class _Walk:
    ids: IdMap
    differences: list[Difference] = field(default_factory=list)
    ignored: dict[str, int] = field(default_factory=dict)


def diff(
    original: Any, replay: Any, ids: IdMap, *, ignored: dict[str, int] | None = None
) -> list[Difference]:
    """The differences between two values (``ignored`` counts what was left out, by reason)."""
    walk = _Walk(ids, ignored=ignored if ignored is not None else {})
    _compare("", None, original, replay, walk)
    return walk.differences


def rewrite(value: Any, ids: IdMap) -> Any:
    """``value`` with every learned platform id replaced by the replay's.

    Example:
        >>> rewrite({"data": {"mdtrt_id": "3001"}, "n": ["3001"]}, IdMap({"3001": "3009"}))
        {'data': {'mdtrt_id': '3009'}, 'n': ['3009']}
    """
    if isinstance(value, str):
        return ids.replayed(value)
    if isinstance(value, Mapping):
        return {key: rewrite(item, ids) for key, item in value.items()}
    if isinstance(value, list):
        return [rewrite(item, ids) for item in value]
    return value


def _compare(path: str, key: str | None, original: Any, replay: Any, walk: _Walk) -> None:
    reason = _ignored_because(key)
    if reason is not None:
        walk.ignored[reason] = walk.ignored.get(reason, 0) + 1
        return
    if is_platform_id(key) and isinstance(original, str) and isinstance(replay, str):
        _match_id(path, original, replay, walk)
        return
    if isinstance(original, Mapping) and isinstance(replay, Mapping):
        for name in sorted(set(original) | set(replay), key=str):
            _compare(f"{path}.{name}" if path else str(name), str(name),
                     original.get(name, _ABSENT), replay.get(name, _ABSENT), walk)  # fmt: skip
        return
    if isinstance(original, list) and isinstance(replay, list):
        for index in range(max(len(original), len(replay))):
            _compare(f"{path}[{index}]", key,
                     original[index] if index < len(original) else _ABSENT,
                     replay[index] if index < len(replay) else _ABSENT, walk)  # fmt: skip
        return
    if not _same(original, replay):
        walk.differences.append(Difference(path, original, replay))


def is_platform_id(key: str | None) -> bool:
    """Whether a member holds a platform id: one of :data:`PLATFORM_IDS`, or a name ending in
    one (``reversed_setl_id``).

    Example:
        >>> is_platform_id("reversed_setl_id"), is_platform_id("feedetl_sn")
        (True, False)
    """
    if key is None:
        return False
    return key in PLATFORM_IDS or any(key.endswith(f"_{name}") for name in PLATFORM_IDS)


def _match_id(path: str, original: str, replay: str, walk: _Walk) -> None:
    walk.ignored["platform ids"] = walk.ignored.get("platform ids", 0) + 1
    known = walk.ids.pairs.get(original)
    if known is None and original != replay:
        walk.ids.pairs[original] = replay
    elif known is not None and known != replay:
        walk.differences.append(Difference(path, f"{original} (replayed as {known})", replay))


def _ignored_because(key: str | None) -> str | None:
    if key is None:
        return None
    if key in SIGNATURES:
        return "signatures"
    if key in OWN_MESSAGE_IDS:
        return "inf_refmsgid"
    if key.lower().endswith("time"):
        return "times"
    return None


class _Absent:
    def __repr__(self) -> str:
        return "(absent)"


_ABSENT: Final = _Absent()


def _same(original: Any, replay: Any) -> bool:
    if isinstance(original, bool) or isinstance(replay, bool):
        return original is replay
    numbers = (int, Decimal, float)
    if isinstance(original, numbers) and isinstance(replay, numbers):
        try:
            return Decimal(str(original)) == Decimal(str(replay))
        except InvalidOperation:
            return False
    return bool(original == replay)


def _shown(value: Any) -> str:
    if isinstance(value, _Absent):
        return "(absent)"
    text = repr(value) if isinstance(value, str) else str(value)
    return text if len(text) <= 120 else text[:117] + "…"

"""How deeply untrusted JSON may nest: one bound for every reader of it in the kit.

The contract's deepest value sits four levels down (envelope → ``input`` → node → list item →
member), yet a body may nest as deep as its author likes, and several readers recurse: Python
code walking a value (the redaction of log lines, the transcript's masking) stops at the
interpreter's recursion limit (1000), orjson refuses to *encode* beyond 255 levels and to
*decode* beyond 1024, jsonschema-rs gives up in between. A request nested 500 levels deep got
through the parser and then broke one of them (an HTTP 500, no transcript record).

So every reader of untrusted JSON checks :data:`MAX_DEPTH` first: the mock refuses such a
request by name (rule ``max-depth``), the SDK cuts an answer's too-deep members and warns (the
rest of a definite answer is still read), and redaction masks what lies deeper whole. 32 levels
leave room for anything a province nests inside the contract's nodes and stay far below the
shallowest recursive reader (255).

Depth counts containers: a scalar is 0, ``{}`` and ``[]`` are 1, ``{"a": [1]}`` is 2.

Example:
    >>> deeper_than({"input": {"data": {"psn_no": "P1"}}}, 2)
    True
    >>> pruned({"a": {"b": {"c": 1}}, "d": 2}, 2)
    ({'a': {'b': '…'}, 'd': 2}, ['/a/b'])
"""

from __future__ import annotations

import re
from typing import Any, Final

__all__ = ["CUT", "MAX_DEPTH", "deeper_than", "pruned", "text_depth"]

MAX_DEPTH: Final = 32
"""The deepest nesting (containers inside containers) any reader of the kit accepts."""

CUT: Final = "…"
"""What stands in for a container that lay deeper than the bound, once it is cut."""

_STRING: Final = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"')
_BRACKET: Final = re.compile(rb"[\[\]{}]")


def deeper_than(value: object, limit: int = MAX_DEPTH) -> bool:
    """Whether ``value`` (parsed JSON) nests more than ``limit`` containers deep.

    Iterative, so it cannot itself run out of stack on the values it is meant to catch.

    Example:
        >>> deeper_than([[[]]], 3), deeper_than([[[]]], 2)
        (False, True)
    """
    stack: list[tuple[object, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        children = _children(node)
        if children is None:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children if _is_container(child))
    return False


def pruned(value: Any, limit: int = MAX_DEPTH) -> tuple[Any, list[str]]:
    """A copy of ``value`` with every container deeper than ``limit`` replaced by :data:`CUT`,
    and the JSON pointers of what was cut.

    Example:
        >>> pruned([[["x"]], 1], 2)
        ([['…'], 1], ['/0/0'])
    """
    cut: list[str] = []
    if not _is_container(value):
        return value, cut
    root: Any = {} if isinstance(value, dict) else []
    # (source container, its copy, depth of the source, pointer of the source)
    stack: list[tuple[Any, Any, int, str]] = [(value, root, 1, "")]
    while stack:
        source, copy, depth, pointer = stack.pop()
        items = source.items() if isinstance(source, dict) else enumerate(source)
        for key, child in items:
            where = f"{pointer}/{_escape(str(key))}"
            if not _is_container(child):
                kept: Any = child
            elif depth >= limit:
                kept = CUT
                cut.append(where)
            else:
                kept = {} if isinstance(child, dict) else []
                stack.append((child, kept, depth + 1, where))
            if isinstance(copy, dict):
                copy[key] = kept
            else:
                copy.append(kept)
    return root, cut


def text_depth(raw: bytes, limit: int = MAX_DEPTH) -> int:
    """The nesting depth of JSON text, counted no further than ``limit + 1``.

    For a body the parser refused (orjson stops at 1024 levels): whether it was refused
    for its depth rather than for its syntax. Brackets inside strings do not count.

    Example:
        >>> text_depth(b'{"a": "[[[", "b": [[1]]}')
        3
    """
    depth = deepest = 0
    for bracket in _BRACKET.findall(_STRING.sub(b'""', raw)):
        if bracket in (b"{", b"["):
            depth += 1
            deepest = max(deepest, depth)
            if deepest > limit:
                return deepest
        else:
            depth -= 1
    return deepest


def _children(node: object) -> Any:
    if isinstance(node, dict):
        return node.values()
    if isinstance(node, list | tuple):
        return node
    return None


def _is_container(value: object) -> bool:
    return isinstance(value, dict | list | tuple)


def _escape(key: str) -> str:
    return key.replace("~", "~0").replace("/", "~1")

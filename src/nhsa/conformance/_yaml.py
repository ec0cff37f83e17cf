"""YAML with line numbers: every value of a scenario file remembers the line it came from.

PyYAML's composer gives a node tree with marks; :func:`load_located` turns it into
:class:`Located` values (mappings, sequences, scalars) so the scenario reader can say
``stages/lab/a.yaml:12: unknown action 'chrage'`` instead of raising a ``KeyError``, and a
JSON Schema error's pointer can be followed back to its line (:meth:`Located.find`). Only the
safe YAML types are built; duplicate keys, non-string keys and several documents in one file
are errors, because each of them silently loses or hides data.

Example:
    >>> doc = load_located("id: a\\ndo:\\n  - sign_in: {}\\n", "x.yaml", error=ValueError)
    >>> doc.find(["do", 0, "sign_in"]).line
    3
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

__all__ = ["Located", "load_located"]

ErrorFactory = Callable[[str, int | None, str], Exception]


@dataclass(frozen=True)
class Located:
    """A YAML value and the (1-based) line it starts on.

    Exactly one of ``entries`` (a mapping: key → value, keys in file order), ``elements``
    (a sequence) or ``scalar`` (anything else) is meaningful, as ``kind`` says.

    Example:
        >>> doc = load_located("a: 1\\nb: [x, y]\\n", "f.yaml", error=ValueError)
        >>> doc.kind, doc.get("b").plain(), doc.get("a").line
        ('mapping', ['x', 'y'], 1)
    """

    kind: str
    line: int
    scalar: Any = None
    entries: dict[str, Located] = field(default_factory=dict)
    key_lines: dict[str, int] = field(default_factory=dict)
    elements: tuple[Located, ...] = ()

    def get(self, key: str) -> Located | None:
        """The value under ``key`` of a mapping, or ``None`` (also for non-mappings)."""
        return self.entries.get(key)

    def items(self) -> Iterator[tuple[str, Located]]:
        """Key/value pairs of a mapping in file order."""
        return iter(self.entries.items())

    def plain(self) -> Any:
        """The value as JSON data, without lines; YAML-only scalars (dates, ``.inf``) as text.

        Example:
            >>> doc = load_located("day: 2026-11-23\\nn: [1, .inf]\\n", "f.yaml", error=ValueError)
            >>> doc.plain()
            {'day': '2026-11-23', 'n': [1, 'inf']}
        """
        if self.kind == "mapping":
            return {key: value.plain() for key, value in self.entries.items()}
        if self.kind == "sequence":
            return [element.plain() for element in self.elements]
        value = self.scalar
        if isinstance(value, float) and not math.isfinite(value):
            return str(value)
        return value if value is None or isinstance(value, bool | int | float | str) else str(value)

    def find(self, pointer: Sequence[str | int]) -> Located:
        """The node a JSON pointer's parts lead to, or the deepest one of them that exists.

        Example:
            >>> doc = load_located("a:\\n  - x\\n  - y\\n", "f.yaml", error=ValueError)
            >>> doc.find(["a", 1]).line, doc.find(["a", 7]).line
            (3, 2)
        """
        node = self
        for part in pointer:
            if isinstance(part, str):
                child = node.entries.get(part)
            else:
                child = node.elements[part] if 0 <= part < len(node.elements) else None
            if child is None:
                break
            node = child
        return node


def load_located(text: str, path: str | Path, *, error: ErrorFactory) -> Located:
    """Parse one YAML document into :class:`Located` values.

    ``error(path, line, problem)`` builds the exception raised for a syntax error, a duplicate
    or non-string key, or a file holding several documents (or none).

    Example:
        >>> load_located("a: 1\\na: 2\\n", "f.yaml", error=ValueError)
        Traceback (most recent call last):
        ValueError: ('f.yaml', 2, "duplicate key 'a' (first at line 1)")
    """
    name = str(path)
    try:
        documents = list(yaml.compose_all(text, Loader=yaml.SafeLoader))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        raise error(name, line, f"not valid YAML: {exc.problem or exc.context}") from None
    except yaml.YAMLError as exc:
        raise error(name, None, f"not valid YAML: {exc}") from None
    if len(documents) != 1 or documents[0] is None:
        raise error(name, None, f"expected exactly one YAML document, found {len(documents)}")
    return _Builder(name, error).build(documents[0])


class _Builder:
    def __init__(self, path: str, error: ErrorFactory) -> None:
        self._path = path
        self._error = error
        self._constructor = SafeConstructor()

    def build(self, node: Node) -> Located:
        line = node.start_mark.line + 1
        if isinstance(node, MappingNode):
            return self._mapping(node, line)
        if isinstance(node, SequenceNode):
            return Located("sequence", line, elements=tuple(self.build(n) for n in node.value))
        if isinstance(node, ScalarNode):
            try:
                value = self._constructor.construct_object(node, deep=True)
            except (yaml.YAMLError, ValueError) as exc:  # ValueError: a date like 2026-13-45
                raise self._error(self._path, line, f"bad value: {exc}") from None
            return Located("scalar", line, scalar=value)
        raise self._error(self._path, line, f"unsupported YAML node {type(node).__name__}")

    def _mapping(self, node: MappingNode, line: int) -> Located:
        entries: dict[str, Located] = {}
        key_lines: dict[str, int] = {}
        for key_node, value_node in node.value:
            key_line = key_node.start_mark.line + 1
            if not isinstance(key_node, ScalarNode) or key_node.tag != "tag:yaml.org,2002:str":
                raise self._error(
                    self._path, key_line, f"keys must be plain strings, got {key_node.value!r}"
                )
            key = str(key_node.value)
            if key in entries:
                raise self._error(
                    self._path,
                    key_line,
                    f"duplicate key {key!r} (first at line {key_lines[key]})",
                )
            entries[key] = self.build(value_node)
            key_lines[key] = key_line
        return Located("mapping", line, entries=entries, key_lines=key_lines)

"""Broken requests generated from the contract: every field of every transaction's example
request, each broken one way at a time, in every way its schema forbids.

A field is named by its place in the example (``input.data.psn_no``, array items as index 0)
and read through :func:`nhsa.spec.iter_fields`, so what counts as broken is exactly what
``interface_specs/`` says: a value of a type the schema does not allow, ``null`` where it is
not nullable, a required member left out, a string over ``maxLength`` or under ``minLength``,
a value outside its pattern or code table, a number under its minimum or with too many
decimals, an empty array where items are required. Each mutation is checked against the
contract's own validator and dropped if the contract would accept it.

Example::

    for broken in broken_fields(base_requests(tenant), rng):
        broken.field.name, broken.rule, broken.document
"""

from __future__ import annotations

import copy
import random
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Final

from nhsa import spec
from nhsa.spec import FieldSpec, iter_fields

__all__ = ["MISSING", "Broken", "Field", "base_requests", "broken_fields", "fields_of", "put"]

Path = tuple[str | int, ...]


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


MISSING: Final = _Missing()
"""The value that removes a member."""

_TYPE_SAMPLES: Final[tuple[tuple[str, Any], ...]] = (
    ("string", "x"),
    ("integer", 7),
    ("number", 7.5),
    ("boolean", True),
    ("object", {"k": 1}),
    ("array", [1]),
    ("null", None),
)
_PATTERN_BREAKERS: Final = ("#", "", "0", "ZZ", "9" * 40)


@dataclass(frozen=True)
class Field:
    """One member of an example request: where it is and what the contract says of it."""

    infno: str
    path: Path
    spec: FieldSpec

    @property
    def name(self) -> str:
        """The member's wire name."""
        return self.spec.name

    @property
    def dotted(self) -> str:
        """``input.data.psn_no`` (array items as ``[0]``)."""
        return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in self.path)[1:]


@dataclass(frozen=True)
class Broken:
    """An example request with one field broken by one rule."""

    field: Field
    rule: str
    document: dict[str, Any]


def put(document: dict[str, Any], path: Path, value: object) -> dict[str, Any]:
    """A deep copy of ``document`` with the member at ``path`` set (or removed: MISSING)."""
    result = copy.deepcopy(document)
    node: Any = result
    for step in path[:-1]:
        node = node[step]
    if value is MISSING:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return result


def get(document: Mapping[str, Any], path: Path) -> Any:
    """The member at ``path``."""
    node: Any = document
    for step in path:
        node = node[step]
    return node


def base_requests(code: str, name: str, area: str, sign_no: str) -> dict[str, dict[str, Any]]:
    """The first example request of every transaction, sent as institution ``code`` (its
    msgid dated the example's inf_time); only those the contract accepts after the
    substitution (each does), by infno."""
    requests = {}
    for infno, transaction in spec.contract().transactions.items():
        if not transaction.examples:
            continue
        request = copy.deepcopy(dict(transaction.examples[0].request))
        stamp = re.sub(r"[^0-9]", "", str(request.get("inf_time", "")))  # msgid-time: the same
        request.update(
            fixmedins_code=code,
            fixmedins_name=name,
            mdtrtarea_admvs=area,
            msgid=f"{code}{stamp}{len(requests):04d}",
            sign_no=sign_no,
        )
        if not spec.validate_request(request):
            requests[infno] = request
    return requests


def fields_of(infno: str, document: Mapping[str, Any]) -> list[Field]:
    """Every member of ``document`` (an ``infno`` request) the contract describes, and every
    optional input member it leaves out whose node is there (those are added, broken)."""
    contract = spec.contract()
    envelope = {f.path: f for f in iter_fields(contract, contract.uri("envelope/request.json"))}
    where = contract.transaction(infno).schema_id + "#/$defs/input"
    inputs = {f.path: f for f in iter_fields(contract, where)}
    found = [Field(infno, (name,), envelope[name]) for name in document if name in envelope]
    found += _walk(infno, document.get("input"), ("input",), "", inputs)
    return found


def _walk(
    infno: str, node: object, path: Path, prefix: str, specs: Mapping[str, FieldSpec]
) -> Iterator[Field]:
    if not isinstance(node, Mapping):
        return
    children = {p.removeprefix(prefix) for p in specs if p.startswith(prefix)}
    for name in sorted(c for c in children if "." not in c and "[" not in c):
        field_spec = specs[prefix + name]
        yield Field(infno, (*path, name), field_spec)
        value = node.get(name)
        if isinstance(value, Mapping):
            yield from _walk(infno, value, (*path, name), f"{prefix}{name}.", specs)
        elif isinstance(value, list) and value and isinstance(value[0], Mapping):
            yield from _walk(infno, value[0], (*path, name, 0), f"{prefix}{name}[].", specs)


def broken_fields(requests: Mapping[str, dict[str, Any]], rng: random.Random) -> list[Broken]:
    """Every field of every request, broken in every way its schema forbids (each checked
    against the contract's validator), in a deterministic order."""
    found = []
    for infno, document in requests.items():
        for field in fields_of(infno, document):
            present = _present(document, field.path)
            for rule, value in _mutations(field.spec, present, rng):
                if not present and value is MISSING:
                    continue
                broken = put(document, field.path, value)
                if spec.validate_request(broken):  # the contract forbids it: a real case
                    found.append(Broken(field, rule, broken))
    return found


def _present(document: Mapping[str, Any], path: Path) -> bool:
    try:
        get(document, path)
    except (KeyError, IndexError, TypeError):
        return False
    return True


def _mutations(field: FieldSpec, present: bool, rng: random.Random) -> Iterator[tuple[str, Any]]:
    schema = field.schema
    allowed = _types(schema) | ({"null"} if field.nullable else set())
    wrong = [
        value
        for kind, value in _TYPE_SAMPLES
        if kind not in allowed
        and not (kind == "integer" and "number" in allowed)
        and kind != "null"
    ]
    if wrong:
        yield "type", rng.choice(wrong)
    if "null" not in allowed:
        yield "null", None
    if field.required and present:
        yield "required", MISSING
    if field.kind == "string":
        yield from _string_mutations(field, schema)
    if field.kind in ("number", "integer"):
        yield from _number_mutations(field, schema)
    if field.kind == "array" and schema.get("minItems", 0) >= 1:
        yield "minItems", []


def _string_mutations(field: FieldSpec, schema: Mapping[str, Any]) -> Iterator[tuple[str, Any]]:
    if field.max_length is not None:
        yield "maxLength", "9" * (field.max_length + 1)
    if schema.get("minLength", 0) >= 1:
        yield "minLength", ""
    if field.pattern is not None:
        pattern = re.compile(field.pattern)
        breaker = next((b for b in _PATTERN_BREAKERS if not pattern.search(b)), None)
        if breaker is not None:
            yield "pattern", breaker
    if "enum" in schema:
        yield "enum", "ZZ~"
    if field.common in ("date", "datetime"):
        yield "format", "2026-13-45"


def _number_mutations(field: FieldSpec, schema: Mapping[str, Any]) -> Iterator[tuple[str, Any]]:
    if "minimum" in schema:
        yield "minimum", float(Decimal(str(schema["minimum"])) - 1)
    if field.decimal is not None:
        _, scale = field.decimal
        yield "x-decimal", float(Decimal(1) + Decimal(1).scaleb(-(scale + 1)))
    if field.kind == "integer":
        yield "integer", 1.5


def _types(schema: Mapping[str, Any]) -> set[str]:
    kinds = schema.get("type")
    if kinds is None:
        return {kind for kind, _ in _TYPE_SAMPLES}  # the schema does not say: anything goes
    return {kinds} if isinstance(kinds, str) else set(kinds)

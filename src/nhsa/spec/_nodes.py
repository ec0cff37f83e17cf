"""The contract's nodes of one transaction, member by member: what dialects are checked against.

A transaction's ``input`` (or ``output``) is an object of named nodes; each node is an object or
a list of objects whose members are fields. :func:`nodes_of` gives that two-level view, with
each member's :class:`~nhsa.spec.FieldSpec` (so its code table), and :func:`envelope_members`
the envelope's own members.

Example:
    >>> nodes = nodes_of("2204", "request")
    >>> nodes["feedetail"].is_list, "medins_list_codg" in nodes["feedetail"].members
    (True, True)
    >>> "recer_admdvs" in envelope_members("request")
    True
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from types import MappingProxyType
from typing import Literal

from nhsa.spec._walk import FieldSpec, iter_fields

__all__ = ["NodeShape", "envelope_members", "nodes_of"]

Side = Literal["request", "answer"]


@dataclass(frozen=True)
class NodeShape:
    """One node of a transaction's input or output: a list of rows or one object."""

    name: str
    is_list: bool
    members: Mapping[str, FieldSpec]


@cache
def nodes_of(infno: str, side: Side) -> Mapping[str, NodeShape]:
    """The nodes of ``infno``'s input (``request``) or output (``answer``), by name; the
    root itself is the node ``input`` (or ``output``), whose members are the top-level ones.

    Raises :class:`~nhsa.spec.UnknownTransactionError` for an infno the contract lacks.
    """
    from nhsa.spec import contract  # noqa: PLC0415 - the package imports this module

    spec = contract()
    transaction = spec.transaction(infno)
    part = "input" if side == "request" else "output"
    kinds: dict[str, bool] = {part: False}
    members: dict[str, dict[str, FieldSpec]] = {part: {}}
    for field in iter_fields(spec, f"{transaction.schema_id}#/$defs/{part}"):
        head, _, rest = field.path.partition(".")
        node = head.removesuffix("[]")
        if not rest:
            members[part][node] = field
            if field.kind in ("object", "array"):
                kinds[node] = field.kind == "array"
                members.setdefault(node, {})
        elif "." not in rest:
            members.setdefault(node, {})[rest] = field
    return MappingProxyType(
        {
            name: NodeShape(name, kinds.get(name, False), MappingProxyType(fields))
            for name, fields in members.items()
        }
    )


@cache
def envelope_members(side: Side) -> Mapping[str, FieldSpec]:
    """The members of the request (``request``) or response (``answer``) envelope."""
    from nhsa.spec import contract  # noqa: PLC0415

    spec = contract()
    document = "envelope/request.json" if side == "request" else "envelope/response.json"
    return MappingProxyType({f.path: f for f in iter_fields(spec, spec.uri(document) + "#")})

"""Walking a node schema field by field, with every ``$ref`` resolved.

One walker serves ``nhsa spec show`` and the model/schema agreement test, so both read the
contract the same way.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin

if TYPE_CHECKING:
    from nhsa.spec._contract import Contract


@dataclass(frozen=True)
class FieldSpec:
    """One field of a node, as the contract states it.

    Attributes:
        path: dotted path from the node, ``[]`` marking array items (``feedetail[].cnt``).
        name: the field's wire name.
        title: the Chinese name; ``description``: its meaning.
        kind: ``string``, ``integer``, ``number``, ``boolean``, ``object`` or ``array``.
        common: the common.json type it uses (``money``, ``datetime``, …) or None.
        code_table: the code table it draws from, or None.
        required / nullable: as the schema says.
        max_length / pattern: string constraints; ``decimal``: (precision, scale) for numbers.
        schema: the resolved schema of the field; ``location``: where that schema lives.
    """

    path: str
    name: str
    title: str
    description: str
    kind: str
    common: str | None
    code_table: str | None
    required: bool
    nullable: bool
    max_length: int | None
    pattern: str | None
    decimal: tuple[int, int] | None
    schema: Mapping[str, Any]
    location: str


def resolve(ref: str, location: str) -> str:
    """Absolute location (``document#pointer``) of ``ref`` written inside ``location``."""
    base, _, pointer = ref.partition("#")
    here = location.partition("#")[0]
    return f"{urljoin(here, base) if base else here}#{pointer}"


def node_at(contract: Contract, location: str) -> Mapping[str, Any]:
    """The schema object at an absolute location."""
    document_id, _, pointer = location.partition("#")
    node: Any = contract.documents[document_id]
    for step in [s for s in pointer.split("/") if s]:
        key = step.replace("~1", "/").replace("~0", "~")
        node = node[int(key)] if isinstance(node, list) else node[key]
    if not isinstance(node, Mapping):
        raise ValueError(f"{location} is not a schema object")
    return node


def object_properties(
    contract: Contract, location: str
) -> tuple[dict[str, tuple[Mapping[str, Any], str]], set[str]]:
    """Properties (name → (schema, location of the object)) and required names of an object,
    following ``allOf`` parts and ``$ref`` to the object itself."""
    schema = node_at(contract, location)
    if "$ref" in schema:
        return object_properties(contract, resolve(schema["$ref"], location))
    properties: dict[str, tuple[Mapping[str, Any], str]] = {}
    required: set[str] = set(schema.get("required", []))
    for index, part in enumerate(schema.get("allOf", [])):
        part_location = (
            resolve(part["$ref"], location) if "$ref" in part else f"{location}/allOf/{index}"
        )
        more, more_required = object_properties(contract, part_location)
        properties.update(more)
        required |= more_required
    for name, prop in schema.get("properties", {}).items():
        properties[name] = (prop, location)
    return properties, required


def iter_fields(contract: Contract, location: str, prefix: str = "") -> Iterator[FieldSpec]:
    """Every field of the object at ``location``, depth first, nested nodes included.

    Example:
        >>> from nhsa.spec import contract
        >>> c = contract()
        >>> where = c.transaction("2207").schema_id + "#/$defs/input"
        >>> fields = {f.path: f for f in iter_fields(c, where)}
        >>> fields["data.medfee_sumamt"].common, fields["data.insutype"].code_table
        ('money', 'insutype')
    """
    properties, required = object_properties(contract, location)
    for name, (prop, owner) in properties.items():
        spec = _field(contract, name, prop, owner=owner, prefix=prefix, required=name in required)
        yield spec
        items = spec.schema.get("items") if spec.kind == "array" else None
        if spec.kind == "object" and ("properties" in spec.schema or "allOf" in spec.schema):
            yield from iter_fields(contract, spec.location, f"{spec.path}.")
        elif isinstance(items, Mapping):
            item_location = (
                resolve(items["$ref"], spec.location)
                if "$ref" in items
                else f"{spec.location}/items"
            )
            if node_at(contract, item_location).get("type") == "object":
                yield from iter_fields(contract, item_location, f"{spec.path}[].")


def _field(
    contract: Contract,
    name: str,
    prop: Mapping[str, Any],
    *,
    owner: str,
    prefix: str,
    required: bool,
) -> FieldSpec:
    location = f"{owner}/properties/{name}" if "#" in owner else f"{owner}#/properties/{name}"
    nullable = False
    schema: Mapping[str, Any] = prop
    if "anyOf" in schema:
        options = [s for s in schema["anyOf"] if s != {"type": "null"}]
        nullable = len(options) < len(schema["anyOf"])
        schema = options[0]
        location = f"{location}/anyOf/0"
    common = code_table = None
    while "$ref" in schema:
        location = resolve(schema["$ref"], location)
        document_id = location.partition("#")[0]
        if document_id == contract.uri("common.json"):
            common = location.rsplit("/", 1)[-1]
        elif document_id.startswith(contract.uri("codes/")):
            code_table = document_id.rsplit("/", 1)[-1].removesuffix(".json")
        schema = node_at(contract, location)
    kinds = schema.get("type", "object")
    kinds = [kinds] if isinstance(kinds, str) else list(kinds)
    nullable = nullable or "null" in kinds
    kind = next((k for k in kinds if k != "null"), "object")
    decimal = schema.get("x-decimal")
    return FieldSpec(
        path=prefix + name,
        name=name,
        title=str(prop.get("title", schema.get("title", ""))),
        description=str(prop.get("description", schema.get("description", ""))),
        kind=kind,
        common=common,
        code_table=code_table,
        required=required,
        nullable=nullable,
        max_length=schema.get("maxLength"),
        pattern=schema.get("pattern"),
        decimal=(int(decimal[0]), int(decimal[1])) if decimal else None,
        schema=schema,
        location=location,
    )

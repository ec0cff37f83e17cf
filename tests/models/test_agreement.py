"""Every generated model agrees with its schema: names, required, types, lengths, codes.

This is the test that makes drift between the contract and the models impossible to land:
it walks each schema object the models were generated from and compares it, field by field,
with the pydantic class that claims to model it (``nhsa_schema``).
"""

from __future__ import annotations

import types
import typing
from decimal import Decimal
from typing import Any, Literal, Union, get_args, get_origin

import pytest
from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo

import nhsa.models as models
from nhsa.models import Input2207Data, InputModel, OutputModel, SetldetailItem
from nhsa.models._types import COMMON_TYPES, PLAIN_TEXT_PATTERN, PlainText
from nhsa.spec import FieldSpec, contract, iter_fields, resolve_ref, schema_at
from nhsa.spec._walk import object_properties

CONTRACT = contract()
MODEL_CLASSES: list[type[BaseModel]] = sorted(
    {
        obj
        for obj in vars(models).values()
        if isinstance(obj, type) and issubclass(obj, BaseModel) and hasattr(obj, "nhsa_schema")
    },
    key=lambda cls: cls.__name__,
)


def _direct_fields(location: str) -> dict[str, FieldSpec]:
    return {f.name: f for f in iter_fields(CONTRACT, location) if f.path == f.name}


def _model_field(cls: type[BaseModel], wire_name: str) -> FieldInfo | None:
    for name, info in cls.model_fields.items():
        if (info.alias or name) == wire_name:
            return info
    return None


def _strip_optional(annotation: Any) -> tuple[Any, bool]:
    if get_origin(annotation) in (Union, types.UnionType):
        args = [a for a in get_args(annotation) if a is not type(None)]
        return (args[0] if len(args) == 1 else annotation), len(args) < len(get_args(annotation))
    return annotation, False


def _constraint(info: FieldInfo, name: str) -> Any:
    for item in info.metadata:
        if hasattr(item, name):
            return getattr(item, name)
    return None


def test_every_transaction_has_models() -> None:
    assert set(models.TRANSACTIONS) == set(CONTRACT.transactions)
    for infno, pair in models.TRANSACTIONS.items():
        assert pair.input.nhsa_schema.endswith(f"/{infno}.json#/$defs/input")  # type: ignore[attr-defined]
        assert pair.output.nhsa_schema.endswith(f"/{infno}.json#/$defs/output")  # type: ignore[attr-defined]


def test_model_classes_cover_envelopes_and_nodes() -> None:
    names = {cls.__name__ for cls in MODEL_CLASSES}
    assert {"RequestEnvelope", "ResponseEnvelope", "Setlinfo", "SetldetailItem"} <= names


@pytest.mark.parametrize("cls", MODEL_CLASSES, ids=lambda cls: cls.__name__)
def test_model_agrees_with_schema(cls: type[BaseModel]) -> None:
    location: str = cls.nhsa_schema  # type: ignore[attr-defined]
    schema = schema_at(CONTRACT, location)
    strict = schema.get("additionalProperties") is False
    assert issubclass(cls, InputModel if strict else OutputModel), "strictness follows the schema"
    fields = _direct_fields(location)
    wire_names = {info.alias or name for name, info in cls.model_fields.items()}
    assert wire_names == set(fields), "model fields and schema properties differ"
    _, required = object_properties(CONTRACT, location)
    for name, spec in fields.items():
        info = _model_field(cls, name)
        assert info is not None
        _check_field(cls, name, spec, info, strict=strict, required=name in required)


def _check_field(
    cls: type[BaseModel],
    name: str,
    spec: FieldSpec,
    info: FieldInfo,
    *,
    strict: bool,
    required: bool,
) -> None:
    where = f"{cls.__name__}.{name}"
    if not required:
        assert spec.nullable, f"{where}: optional fields must be nullable in the schema"
    annotation, optional = _strip_optional(info.annotation)
    if strict:
        assert info.is_required() == required, f"{where}: required differs"
        assert optional == (spec.nullable or not required), f"{where}: nullability differs"
    else:
        # What we read may lack or null any member: the reader checks the contract and warns.
        assert not info.is_required(), f"{where}: output fields are never required"
        assert optional, f"{where}: output fields accept null"
    if spec.code_table:
        codes = list(CONTRACT.code_table(spec.code_table).names)
        if strict:
            assert get_origin(annotation) is Literal, f"{where}: input codes are Literal"
            assert list(get_args(annotation)) == codes, f"{where}: codes differ"
        else:
            assert annotation is str, f"{where}: output codes are str"
            assert (info.json_schema_extra or {}).get("code_table") == spec.code_table
        return
    if spec.common:
        expected = COMMON_TYPES[spec.common]
        if get_origin(annotation) is typing.Annotated:
            # Inside ``X | None`` pydantic keeps the alias itself rather than merging it.
            assert annotation == expected, f"{where}: expected {spec.common}"
        else:
            assert annotation is get_args(expected)[0], f"{where}: expected {spec.common}"
            if spec.decimal:
                assert _constraint(info, "decimal_places") == spec.decimal[1], f"{where}: scale"
        return
    # Output models carry no length, pattern or range constraint: the reader reports those.
    if spec.kind == "string":
        assert _constraint(info, "max_length") == _if(strict, spec.max_length), f"{where}: length"
        if strict and spec.pattern is None:
            # The request envelope makes every string plain text (common.json plain_text).
            assert PlainText in (annotation, *get_args(info.annotation)) or (
                annotation is str and _constraint(info, "pattern") == PLAIN_TEXT_PATTERN
            ), f"{where}: expected PlainText"
        else:
            assert annotation is str, f"{where}: expected str"
            assert _constraint(info, "pattern") == _if(strict, spec.pattern), f"{where}: pattern"
    elif spec.kind == "integer":
        assert annotation is int, f"{where}: expected int"
    elif spec.kind == "number":
        assert annotation is Decimal, f"{where}: expected Decimal"
    elif spec.kind == "array":
        assert get_origin(annotation) is list, f"{where}: expected a list"
        minimum, maximum = spec.schema.get("minItems"), spec.schema.get("maxItems")
        assert _constraint(info, "min_length") == _if(strict, minimum), f"{where}: minItems"
        assert _constraint(info, "max_length") == _if(strict, maximum), f"{where}: maxItems"
        (item,) = get_args(annotation)
        _check_nested(where, item, spec)
    elif spec.kind == "object":
        _check_nested(where, annotation, spec)


def _if(strict: bool, constraint: Any) -> Any:
    return constraint if strict else None


def _check_nested(where: str, annotation: Any, spec: FieldSpec) -> None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        target = spec.location
        items = spec.schema.get("items")
        if spec.kind == "array" and isinstance(items, dict):
            target = _items_location(spec.location, items)
        assert annotation.nhsa_schema == target, f"{where}: models a different schema"  # type: ignore[attr-defined]
    else:
        assert spec.schema.get("properties") is None, f"{where}: a structured node needs a class"


def _items_location(location: str, items: dict[str, Any]) -> str:
    return resolve_ref(items["$ref"], location) if "$ref" in items else f"{location}/items"


@pytest.mark.parametrize("name", sorted(COMMON_TYPES))
def test_common_types_agree_with_common_json(name: str) -> None:
    schema = schema_at(CONTRACT, CONTRACT.uri("common.json") + f"#/$defs/{name}")
    python_type = COMMON_TYPES[name]
    metadata = list(get_args(python_type)[1:])
    constraints: dict[str, Any] = {}
    for item in metadata:
        for meta in getattr(item, "metadata", [item]):
            for key in ("decimal_places", "ge", "le", "pattern"):
                if getattr(meta, key, None) is not None:
                    constraints[key] = getattr(meta, key)
    if "x-decimal" in schema:
        assert constraints["decimal_places"] == schema["x-decimal"][1]
        assert constraints["ge"] == Decimal(str(schema["minimum"]))
        assert constraints["le"] == Decimal(str(schema["maximum"]))
    if name in ("admdvs", "plain_text"):
        assert constraints["pattern"] == schema["pattern"]


def test_the_request_envelope_applies_plain_text_to_every_string() -> None:
    request = schema_at(CONTRACT, CONTRACT.uri("envelope/request.json") + "#")
    assert {"$ref": "../common.json#/$defs/plain_json"} in request["allOf"]


def test_input_models_reject_unknown_fields_and_output_models_keep_them() -> None:
    example = CONTRACT.transaction("2207").examples[0]
    data = dict(example.request["input"]["data"])
    with pytest.raises(ValidationError, match="mdtrt_area_admvs"):
        Input2207Data.model_validate({**data, "mdtrt_area_admvs": "530100"})
    row = SetldetailItem.model_validate(
        {**example.response["output"]["setldetail"][0], "expContent": None}
    )
    assert row.model_extra == {"expContent": None}

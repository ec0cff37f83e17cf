"""The scenario vocabulary as a JSON Schema (2020-12), and its errors as ``file:line``.

``conformance/scenario.schema.json`` is generated from the action table (each action's
parameters, :mod:`nhsa.conformance._actions`), the mock's own fault model
(:class:`nhsa.mock.faults.FaultSpec`) and the fixed parts below (``given``, ``expect``). A test
keeps the file equal to :func:`render`; ``NHSA_UPDATE_EXPECTED=1 pytest
tests/conformance/test_scenario_schema.py`` rewrites it after a change. Editors that read JSON
Schema (the YAML language server) can check scenario files with it as they are typed.

:func:`check_scenario` validates a parsed file with jsonschema-rs and follows the first error's
JSON pointer back through the YAML node tree to its line. Messages read ``field: [rule] what
is wrong``, the rule being the schema keyword that failed; the one custom keyword,
``x-expected``, says in words what a value must be where the keyword alone (a pattern) would
not. What a schema cannot know — which steps came earlier, which patients and checks exist,
whether the requirements are covered — the reader checks next (:mod:`nhsa.conformance._loader`).

Example:
    >>> from nhsa.conformance._yaml import load_located
    >>> doc = load_located("id: Lab/x\\ntitle: x\\n", "a.yaml", error=ValueError)
    >>> try:
    ...     check_scenario(doc, "a.yaml")
    ... except ScenarioError as error:
    ...     print(error.line, error.problem)
    1 scenario: [required] needs 'requirements' (requirement ids; expect.checks must verify each)
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from functools import cache
from pathlib import Path
from typing import Any, Final

import jsonschema_rs

from nhsa._resources import data_dir
from nhsa.conformance._actions import ACTIONS, ALIAS, CERT_TYPES, Action, ref
from nhsa.conformance._errors import ScenarioError
from nhsa.conformance._yaml import Located
from nhsa.mock.faults import FaultKind, FaultSpec

__all__ = [
    "DEFAULTS",
    "EXPECTABLE_OUTCOMES",
    "SCHEMA_FILE",
    "check_scenario",
    "render",
    "scenario_schema",
]

SCHEMA_FILE: Final = "scenario.schema.json"
SCHEMA_ID: Final = "https://nhsa-kit.invalid/conformance/scenario.schema.json"
EXPECTABLE_OUTCOMES: Final = ("ok", "rejected", "unknown")
DEFAULTS: Final = {"profile": "tif+sm2", "mode": "window", "on_unknown": "reverse"}
"""Defaults of ``given`` (the certificate's depends on the mode: 01 at a kiosk, else 02)."""

_STEP_KEYS: Final = {
    "as": {
        "type": "string",
        "pattern": ALIAS,
        "x-expected": "lower_snake_case",
        "description": "the step's name (default: the action's, then _2, _3…)",
    },
    "timeout": {
        "type": "number",
        "minimum": 0.1,
        "description": "seconds the step may take (default: --step-timeout)",
    },
}
_DEFS: Final = {
    "text": {"type": "string", "pattern": r"\S", "x-expected": "non-empty text"},
    "code": {"type": "string", "pattern": "^[0-9]{2,6}$", "x-expected": "a code of 2 to 6 digits"},
    "insured_area": {
        "type": "string",
        "pattern": "^[0-9]{6}$",
        "x-expected": "a 6-digit area code",
    },
    "decimal": {
        "type": ["number", "string"],
        "pattern": r"^([0-9]*[1-9][0-9]*(\.[0-9]+)?|[0-9]+\.[0-9]*[1-9][0-9]*)$",
        "exclusiveMinimum": 0,
        "x-expected": "a positive decimal number such as 25.00",
    },
    "fees": {
        "type": "array",
        "minItems": 1,
        "items": {
            "type": "object",
            "additionalProperties": False,
            "required": ["code", "qty", "price"],
            "properties": {
                "code": ref("text", description="national catalogue code"),
                "qty": ref("decimal"),
                "price": ref("decimal", description="unit price"),
                "hospital_code": ref("text", description="the HIS's own item code"),
            },
        },
    },
    "refund_lines": {
        "type": "array",
        "minItems": 1,
        "items": {
            "type": "object",
            "additionalProperties": False,
            "required": ["code", "qty"],
            "properties": {"code": ref("text"), "qty": ref("decimal")},
        },
    },
    "patient": {
        "type": ["string", "object"],
        "pattern": r"\S",
        "x-expected": "a fixture psn_no, or a mapping of selectors",
        "additionalProperties": False,
        "properties": {
            "psn_no": ref("text"),
            "insured_area": {
                "type": "string",
                "pattern": "^[0-9]{2}([0-9]{2}){0,2}$",
                "x-expected": "an area code or its prefix (2, 4 or 6 digits)",
            },
            "locality": {"enum": ["local", "in_province", "cross_province"]},
            "filing": {"enum": ["filed", "unfiled", "referral", "emergency"]},
            "insutype": ref("code"),
            "med_type": ref("code", description="default 11, 13 for an emergency"),
            "certificate": {"enum": list(CERT_TYPES)},
        },
    },
    "outcome": {
        "type": ["string", "array"],
        "if": {"type": "string"},
        "then": {"enum": list(EXPECTABLE_OUTCOMES)},
        "else": {"minItems": 1, "items": {"enum": list(EXPECTABLE_OUTCOMES)}},
    },
    "check": {
        "type": ["string", "object"],
        "pattern": r"\S",
        "x-expected": "a check name, or {name, args, optional}",
        "additionalProperties": False,
        "required": ["name"],
        "properties": {
            "name": ref("text"),
            "args": {"type": "object"},
            "optional": {"type": "boolean", "description": "overrides the requirement's level"},
        },
    },
}
_GIVEN: Final = {
    "type": "object",
    "additionalProperties": False,
    "required": ["institution"],
    "properties": {
        "institution": {
            "type": "string",
            "pattern": "^H[0-9]{11}$",
            "x-expected": "a fixture institution code (H and 11 digits)",
        },
        "profile": {"enum": ["none", "tif", "sm2", "tif+sm2"], "default": DEFAULTS["profile"]},
        "mode": {"enum": ["window", "kiosk"], "default": DEFAULTS["mode"]},
        "on_unknown": {
            "enum": ["reverse", "hold"],
            "default": DEFAULTS["on_unknown"],
            "description": "hold: a window only",
        },
        "certificate": {
            "enum": list(CERT_TYPES),
            "description": "default: 02 at a window, 01 at a kiosk",
        },
        "patient": ref("patient", description="the one patient (alias 'patient')"),
        "patients": {
            "type": "object",
            "minProperties": 1,
            "propertyNames": {
                "title": "patient alias",
                "pattern": ALIAS,
                "x-expected": "lower_snake_case",
            },
            "additionalProperties": ref("patient"),
        },
        "fees": ref("fees", description="default fee lines of charge steps"),
        "faults": {"type": "array", "items": ref("fault"), "description": "armed first"},
        "downtime": {"type": "array", "items": ref("downtime"), "description": "scheduled first"},
    },
}
_EXPECT: Final = {
    "type": "object",
    "additionalProperties": False,
    "required": ["checks"],
    "properties": {
        "outcomes": {
            "type": "object",
            "additionalProperties": ref("outcome"),
            "description": "accepted driver outcomes per step (default: ok)",
        },
        "checks": {"type": "array", "minItems": 1, "items": ref("check")},
    },
}


def scenario_schema() -> dict[str, Any]:
    """The scenario schema, built from the action table and the mock's fault model.

    Example:
        >>> schema = scenario_schema()
        >>> schema["$defs"]["step"]["propertyNames"]["enum"][:3]
        ['sign_in', 'register', 'cancel_registration']
    """
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "nhsa-kit conformance scenario (conformance/stages/<stage>/<name>.yaml)",
        "description": "Generated from the suite's action table and the mock's fault model"
        " (nhsa.conformance._scenario_schema); the vocabulary: conformance/README.md."
        " x-expected says in words what a value must be.",
        "type": "object",
        "additionalProperties": False,
        "required": ["id", "title", "requirements", "given", "do", "expect"],
        "properties": {
            "id": {
                "type": "string",
                "pattern": "^[a-z0-9][a-z0-9-]*/[a-z0-9][a-z0-9-]*$",
                "x-expected": "<stage>/<name> in lower-case letters, digits and '-'",
            },
            "title": ref("text"),
            "description": ref("text"),
            "requirements": {
                "type": "array",
                "minItems": 1,
                "items": ref("text"),
                "description": "requirement ids; expect.checks must verify each",
            },
            "given": _GIVEN,
            "do": {"type": "array", "minItems": 1, "items": ref("step")},
            "expect": _EXPECT,
        },
        "$defs": {
            **_DEFS,
            "fault": _fault_schema(),
            "downtime": _parameters_schema(ACTIONS["schedule_downtime"]),
            "step": {
                "type": "object",
                "minProperties": 1,
                "maxProperties": 1,
                "x-expected": "a mapping with exactly one action,"
                " e.g. '- charge: {visit: $register.mdtrt_id}'",
                "propertyNames": {"title": "action", "enum": list(ACTIONS)},
                "properties": {name: _step_schema(action) for name, action in ACTIONS.items()},
            },
        },
    }


def _parameters_schema(action: Action) -> dict[str, Any]:
    schema: dict[str, Any] = {
        "type": "object",
        "additionalProperties": False,
        "properties": {name: dict(p.schema) for name, p in action.parameters.items()},
    }
    if action.required:
        schema["required"] = list(action.required)
    return schema


def _step_schema(action: Action) -> dict[str, Any]:
    schema = _parameters_schema(action)
    schema["properties"].update(_STEP_KEYS)
    # `- sign_in:` with nothing after it is a step without parameters
    return {
        "description": action.summary,
        **schema,
        "type": "object" if action.required else ["object", "null"],
    }


def _fault_schema() -> dict[str, Any]:
    """The mock's FaultSpec as pydantic describes it, plus the scenario's ``patient``."""
    model = FaultSpec.model_json_schema()
    properties = {
        name: _one_schema(schema)
        for name, schema in model["properties"].items()
        if name != "psn_no"  # a scenario names the patient by alias instead
    }
    properties["kind"] = {"enum": [kind.value for kind in FaultKind]}
    # the model also takes "2207" or "2206,2207", which its validator turns into a tuple
    properties["infno"] = {"type": ["string", "array", "null"], "items": {"type": "string"}}
    properties["seed"]["description"] = "seed of the probability draw, so a run repeats exactly"
    properties["patient"] = ref("text", description="scope: this patient (or their area)")
    return {
        "type": "object",
        "description": "a fault of the mock platform (nhsa.mock.faults.FaultSpec)",
        "additionalProperties": False,
        "required": model["required"],
        "properties": properties,
        "dependentRequired": {"probability": ["seed"]},
    }


def _one_schema(schema: Mapping[str, Any]) -> dict[str, Any]:
    """pydantic's ``anyOf: [X, {type: null}]`` for an optional field as one schema."""
    merged = {key: value for key, value in schema.items() if key not in ("title", "anyOf")}
    options = [option for option in schema.get("anyOf", ()) if option != {"type": "null"}]
    if len(options) == 1:
        merged = {**options[0], **merged, "type": [options[0]["type"], "null"]}
    return merged


# -- validating ---------------------------------------------------------------------------------


@cache
def _schema_document() -> Mapping[str, Any]:
    """The schema file of the checkout or the installed package (what labs' editors see)."""
    path = data_dir("conformance") / SCHEMA_FILE
    document: Mapping[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return document


@cache
def _validator() -> Any:
    return jsonschema_rs.validator_for(dict(_schema_document()))


def check_scenario(document: Located, path: str | Path) -> None:
    """Raise :class:`~nhsa.conformance.ScenarioError` for the first schema error in the file.

    "First" is by line: the problem a reader meets first when reading the file top down.
    """
    errors = list(_validator().iter_errors(document.plain()))
    if errors:
        located = [(_line(document, error), error) for error in errors]
        line, error = min(located, key=lambda pair: pair[0])
        raise ScenarioError(path, line, _problem(error))


def _line(document: Located, error: Any) -> int:
    node = document.find(list(error.instance_path))
    kind = type(error.kind).__name__
    if kind == "AdditionalProperties":
        key = next(k for k in node.entries if k in error.kind.unexpected)
        return node.key_lines[key]
    if kind == "PropertyNames":
        return node.key_lines.get(str(error.kind.error.instance), node.line)
    return node.line


def _problem(error: Any) -> str:
    path = list(error.schema_path)
    schema = _walk(_schema_document(), path[:-1])
    kind = type(error.kind).__name__
    rule = "propertyNames" if kind == "PropertyNames" else str(path[-1])
    return f"{_field(list(error.instance_path))}: [{rule}] {_wording(kind, error, schema)}"


def _wording(kind: str, error: Any, schema: Mapping[str, Any]) -> str:
    special = _SPECIAL.get(kind)
    if special is not None:
        return special(error, schema)
    value, expected = error.instance, schema.get("x-expected")
    if expected is not None:
        return f"must be {expected}, got {_shown(value)}{_quote_hint(value, schema)}"
    if kind == "Type":
        types = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        wanted = " or ".join(_TYPE_NAMES[t] for t in types)
        return f"must be {wanted}, got {_shown(value)}{_quote_hint(value, schema)}"
    if kind in ("MinItems", "MinProperties") and error.kind.limit == 1:
        return "must not be empty"
    if kind in _LIMITS:
        return f"must be {_LIMITS[kind]} {error.kind.limit}, got {_shown(value)}"
    return str(error.message)


def _required(error: Any, schema: Mapping[str, Any]) -> str:
    wanted = str(error.kind.property)
    described = schema.get("properties", {}).get(wanted, {}).get("description")
    needs = schema.get("dependentRequired", {})
    trigger = next((key for key in needs if wanted in needs[key] and key in error.instance), None)
    when = f" with {trigger!r}" if trigger else ""
    return f"needs {wanted!r}{when}" + (f" ({described})" if described else "")


def _unknown_key(error: Any, schema: Mapping[str, Any]) -> str:
    key = next(k for k in error.instance if k in error.kind.unexpected)
    return f"unknown key {key!r}; allowed: {', '.join(schema.get('properties', {}))}"


def _bad_name(error: Any, schema: Mapping[str, Any]) -> str:
    name, title = error.kind.error.instance, schema.get("title", "key")
    if "enum" in schema:
        return f"unknown {title} {name!r}; one of: {', '.join(schema['enum'])}"
    return f"{title} {name!r} must be {schema.get('x-expected')}"


def _not_a_choice(error: Any, schema: Mapping[str, Any]) -> str:
    value = error.instance
    options = ", ".join(str(option) for option in schema.get("enum", [schema.get("const")]))
    return f"{value!r} must be one of {options}{_quote_hint(value, schema)}"


_SPECIAL: Final[dict[str, Callable[[Any, Mapping[str, Any]], str]]] = {
    "Required": _required,
    "AdditionalProperties": _unknown_key,
    "PropertyNames": _bad_name,
    "Enum": _not_a_choice,
    "Constant": _not_a_choice,
}


_LIMITS: Final = {
    "Minimum": "at least",
    "ExclusiveMinimum": "more than",
    "Maximum": "at most",
    "ExclusiveMaximum": "less than",
    "MinLength": "at least this many characters long:",
    "MaxLength": "at most this many characters long:",
}
_QUOTE_HINT: Final = ' (quote codes such as "02" so YAML keeps them as text)'
_TYPE_NAMES: Final = {
    "string": "text",
    "integer": "an integer",
    "number": "a number",
    "boolean": "true or false",
    "object": "a mapping",
    "array": "a list",
    "null": "nothing",
}


def _quote_hint(value: Any, schema: Mapping[str, Any]) -> str:
    wants_text = schema.get("type") == "string" or (
        "enum" in schema and all(isinstance(option, str) for option in schema["enum"])
    )
    numeric = isinstance(value, int | float) and not isinstance(value, bool)
    return (
        ' (quote codes such as "02" so YAML keeps them as text)' if wants_text and numeric else ""
    )


def _shown(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, Mapping):
        return f"a mapping of {', '.join(value)}" if value else "an empty mapping"
    if isinstance(value, list):
        return "a list"
    return f"{type(value).__name__} {value!r}"


def _field(pointer: Sequence[str | int]) -> str:
    """``given.fees[0].qty`` for the pointer ``/given/fees/0/qty`` (``scenario`` for ``/``)."""
    text = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in pointer)
    return text.removeprefix(".") or "scenario"


def _walk(schema: Mapping[str, Any], path: Sequence[str | int]) -> Mapping[str, Any]:
    node: Any = schema
    for part in path:
        node = node[part]
    result: Mapping[str, Any] = node
    return result


def render() -> str:
    """The schema file's text: indented JSON, non-ASCII kept, one trailing newline."""
    return json.dumps(scenario_schema(), ensure_ascii=False, indent=2) + "\n"

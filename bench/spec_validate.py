"""Validation cost per message: jsonschema-rs (what nhsa.spec uses), python-jsonschema, pydantic.

Messages: the bundled 2207 request, and a 2204 request with 50 fee lines built from the bundled
example. Baseline, measured in the same run: ``json.loads`` of the same bytes. Every figure is
also given as a ratio to that baseline, because this machine is noisy and ratios travel.

Run: ``.venv/bin/python bench/spec_validate.py`` — prints a table and writes
``bench/results/spec_validate.json``. Each measurement is bounded (fixed count, ≤ ~2 s).
"""

from __future__ import annotations

import copy
import json
import platform
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import jsonschema
import referencing
from rich.console import Console
from rich.table import Table

from nhsa import spec
from nhsa.models import Input2204, Input2207, InputModel, RequestEnvelope

RESULTS = Path(__file__).resolve().parent / "results" / "spec_validate.json"
BUDGET_SECONDS = 2.0


def _messages() -> dict[str, bytes]:
    contract = spec.contract()
    settle = dict(contract.transaction("2207").examples[0].request)
    upload = copy.deepcopy(dict(contract.transaction("2204").examples[0].request))
    line = upload["input"]["feedetail"][0]
    upload["input"]["feedetail"] = [
        {**line, "feedetl_sn": f"{line['feedetl_sn'][:-3]}{i:03d}"} for i in range(50)
    ]
    return {
        "2207 request": json.dumps(settle, ensure_ascii=False).encode(),
        "2204 request, 50 lines": json.dumps(upload, ensure_ascii=False).encode(),
    }


def _python_jsonschema(infno: str) -> Callable[[Any], bool]:
    """A reused python-jsonschema validator over the same documents (Decimal-exact)."""
    contract = spec.contract()
    resources = [
        (uri, referencing.Resource.from_contents(json.loads(json.dumps(doc), parse_float=Decimal)))
        for uri, doc in contract.documents.items()
    ]
    registry: referencing.Registry[Any] = referencing.Registry().with_resources(resources)
    schema = {
        "$ref": contract.uri("envelope/request.json"),
        "properties": {"input": {"$ref": contract.transaction(infno).schema_id + "#/$defs/input"}},
    }
    return jsonschema.Draft202012Validator(schema, registry=registry).is_valid


def _per_call_us(function: Callable[[], object]) -> float:
    function()  # warm caches (compiled validators, pydantic schemas)
    count, started = 0, time.perf_counter()
    while True:
        function()
        count += 1
        elapsed = time.perf_counter() - started
        if elapsed >= BUDGET_SECONDS or count >= 200_000:
            return elapsed / count * 1e6


def _measure(name: str, raw: bytes) -> list[dict[str, Any]]:
    validators = spec.contract().validators
    parsed = json.loads(raw)
    exact = json.loads(raw, parse_float=Decimal)
    infno = parsed["infno"]
    input_models: dict[str, type[InputModel]] = {"2207": Input2207, "2204": Input2204}
    input_model = input_models[infno]
    python_jsonschema = _python_jsonschema(infno)
    assert validators.is_valid_request(parsed), name
    assert python_jsonschema(exact), name
    baseline = _per_call_us(lambda: json.loads(raw))
    candidates: dict[str, Callable[[], object]] = {
        "jsonschema-rs is_valid (hot path)": lambda: validators.is_valid_request(parsed),
        "jsonschema-rs full error list": lambda: validators.check_request(parsed),
        "pydantic envelope + input models": lambda: (
            RequestEnvelope.model_validate(parsed),
            input_model.model_validate(parsed["input"]),
        ),
        "python-jsonschema (reused validator)": lambda: python_jsonschema(exact),
    }
    costs = {"json.loads (baseline)": baseline}
    costs.update({label: _per_call_us(function) for label, function in candidates.items()})
    return [
        {
            "message": name,
            "bytes": len(raw),
            "validator": label,
            "us_per_message": round(cost, 2),
            "ratio_to_json_loads": round(cost / baseline, 2),
        }
        for label, cost in costs.items()
    ]


def main() -> None:
    rows = [row for name, raw in _messages().items() for row in _measure(name, raw)]
    table = Table(title="Validation cost per message (µs; ratio to json.loads of the same bytes)")
    for column in ("message", "bytes", "validator"):
        table.add_column(column)
    for column in ("µs", "× json.loads"):
        table.add_column(column, justify="right")
    for row in rows:
        table.add_row(
            row["message"],
            str(row["bytes"]),
            row["validator"],
            f"{row['us_per_message']:.1f}",
            f"{row['ratio_to_json_loads']:.1f}",
        )
    Console().print(table)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {"machine": platform.platform(), "python": platform.python_version(), "rows": rows},
            indent=2,
        )
        + "\n",
        encoding="utf-8",
    )
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()

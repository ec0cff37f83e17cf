"""What speaking a province dialect costs per message, against the national path in the same run.

For each dialect, on the bundled 2207 request and its answer, and on a 2204 request of 50 fee
lines:

- **SDK, request**: ``render_request`` (extra members, aliases, node names) — against the
  contract check the SDK makes of every request anyway (``is_valid_request``), the baseline;
- **mock, request**: ``decode_request`` (the dialect read back, every departure collected) —
  against the same baseline;
- **SDK, answer**: ``parse_response`` of the answer as the mock in that dialect spells it —
  against ``parse_response`` of the national answer (the ratio is what the dialect adds to
  reading).

Ratios travel between machines; microseconds are this machine's. Each figure is bounded (a fixed
count or ≤ ~0.5 s).

Run: ``.venv/bin/python bench/dialect_overhead.py`` — prints a table and writes
``bench/results/dialect_overhead.json``.
"""

from __future__ import annotations

import copy
import json
import platform
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
from rich.console import Console
from rich.table import Table

from nhsa import spec
from nhsa.envelope import decode_request, encode_answer, parse_response, render_request

RESULTS = Path(__file__).resolve().parent / "results" / "dialect_overhead.json"
BUDGET_SECONDS = 0.5


def _per_call_us(function: Callable[[], object]) -> float:
    function()
    count, started = 0, time.perf_counter()
    while True:
        function()
        count += 1
        elapsed = time.perf_counter() - started
        if elapsed >= BUDGET_SECONDS or count >= 100_000:
            return elapsed / count * 1e6


def _upload() -> dict[str, Any]:
    upload = copy.deepcopy(dict(spec.contract().transaction("2204").examples[0].request))
    line = upload["input"]["feedetail"][0]
    upload["input"]["feedetail"] = [
        {**line, "feedetl_sn": f"{line['feedetl_sn'][:-3]}{i:03d}"} for i in range(50)
    ]
    return upload


def _extras(dialect: spec.Dialect, message: dict[str, Any]) -> dict[str, str]:
    rows = message["input"].get("feedetail") or []
    return {
        f"feedetail/{i}/{e.member}": "示例"
        for e in dialect.extras_for(message["infno"], "feedetail", "request")
        for i in range(len(rows))
    }


def _measure(name: str) -> list[dict[str, Any]]:
    dialect = spec.dialect(name)
    validators = spec.contract().validators
    settle = dict(spec.contract().transaction("2207").examples[0].request)
    answer = dict(spec.contract().transaction("2207").examples[0].response)
    rows = []
    for label, message in (("2207 request", settle), ("2204 request, 50 lines", _upload())):
        national = orjson.loads(orjson.dumps(message))
        extras = _extras(dialect, message)
        spelt = orjson.loads(orjson.dumps(render_request(dialect, message, extras)))
        baseline = _per_call_us(lambda m=national: validators.is_valid_request(m))  # type: ignore[misc]
        for what, function in (
            ("SDK: render_request", lambda m=message, x=extras: render_request(dialect, m, x)),
            ("mock: decode_request", lambda s=spelt: decode_request(dialect, s)),
        ):
            cost = _per_call_us(function)  # type: ignore[arg-type]
            rows.append(_row(name, label, what, cost, baseline, "contract check"))
    national_body = orjson.dumps(answer)
    spelt_body = orjson.dumps(encode_answer(dialect, "2207", answer))
    baseline = _per_call_us(lambda: parse_response(national_body, "2207"))
    cost = _per_call_us(lambda: parse_response(spelt_body, "2207", dialect))
    rows.append(_row(name, "2207 answer", "SDK: parse_response", cost, baseline, "national read"))
    return rows


def _row(
    dialect: str, message: str, what: str, cost: float, baseline: float, against: str
) -> dict[str, Any]:
    return {
        "dialect": dialect,
        "message": message,
        "step": what,
        "us": round(cost, 2),
        "baseline": against,
        "baseline_us": round(baseline, 2),
        "ratio": round(cost / baseline, 3),
    }


def main() -> None:
    rows = [row for name in spec.dialect_names() for row in _measure(name)]
    table = Table(title="Dialect translation per message (µs; ratio to the national baseline)")
    for column in ("dialect", "message", "step", "baseline"):
        table.add_column(column)
    for column in ("µs", "baseline µs", "ratio"):
        table.add_column(column, justify="right")
    for row in rows:
        table.add_row(
            row["dialect"],
            row["message"],
            row["step"],
            row["baseline"],
            f"{row['us']:.1f}",
            f"{row['baseline_us']:.1f}",
            f"{row['ratio']:.2f}",
        )
    Console().print(table)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {"machine": platform.platform(), "python": platform.python_version(), "rows": rows},
            indent=2,
            ensure_ascii=False,
        )
        + "\n",
        encoding="utf-8",
    )
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()

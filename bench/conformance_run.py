"""Wall time of a whole conformance run, in-process and as ``make demo`` does it.

1. **full run** — every stage, ``sdk`` driver (the SDK in this process), in-process mock. Goal:
   ≤ 60 s on this machine. Measured in the same run as its baseline: the platform's share —
   the time the mock itself spent between receiving each request and answering it (deliberate
   fault delays included) — so the rest is the suite's, the SDK's and the checks' cost. Part
   of the suite's cost is reading the transcript into typed records (each record parsed once,
   ``nhsa.conformance.TranscriptRecord``): the run's records, as the mock serves them, are
   parsed again afterwards (median of repeats) and set against the run's wall time.
2. **make demo** — ``nhsa demo`` as a subprocess: the mock and the reference HIS as separate
   server processes, every stage over HTTP, report signed and verified. Goal: well under
   2 minutes. Baseline measured in the same run: how long the two servers take to start
   (each until it prints its URL), and the suite's own run time from the demo's report.

Run: ``.venv/bin/python bench/conformance_run.py`` — prints a table and writes
``bench/results/conformance_run.json``.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from nhsa.cli.demo_commands import _service
from nhsa.conformance import (
    STAGES,
    InProcessMock,
    Runner,
    bundled_stages_dir,
    default_registry,
    load_stages,
)
from nhsa.conformance._transcript import parse_records
from nhsa.conformance.drivers import SdkDriver
from nhsa.mock import MockPlatform

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results" / "conformance_run.json"
FULL_RUN_GOAL_S = 60.0
DEMO_GOAL_S = 120.0
PARSE_SHARE_GOAL = 0.05
PARSE_REPEATS = 15
NHSA = ("-c", "from nhsa.cli import main; main()")


def full_run() -> dict[str, Any]:
    """Every stage with the SDK in process against the in-process mock."""
    stages = load_stages(bundled_stages_dir(), STAGES, default_registry())
    with MockPlatform() as mock_platform:
        mock = InProcessMock(mock_platform)
        driver = SdkDriver.for_mock(mock)
        started = time.perf_counter()
        result = Runner(driver, mock).run(stages)
        wall = time.perf_counter() - started
        driver.close()
        records = [r for s in result.scenarios() for r in s.records]
        served = [r for s in result.scenarios() for r in mock_platform.transcript(s.institution)]
    platform_s = sum(max((r.answered_at - r.received_at).total_seconds(), 0.0) for r in records)
    parse_s = _parse_seconds(served)
    return {
        "wall_s": round(wall, 2),
        "result": result.status.value,
        "scenarios": len(list(result.scenarios())),
        "steps": sum(len(s.steps) for s in result.scenarios()),
        "messages": len(records),
        "platform_share_s": round(platform_s, 2),
        "goal_s": FULL_RUN_GOAL_S,
        "parse_records": len(served),
        "parse_s": round(parse_s, 4),
        "parse_us_per_record": round(parse_s / max(len(served), 1) * 1e6, 1),
        "parse_share": round(parse_s / wall, 4),
    }


def _parse_seconds(served: list[dict[str, Any]]) -> float:
    """Median time to parse every record once into a TranscriptRecord, as the runner does."""
    times = []
    for _ in range(PARSE_REPEATS):
        started = time.perf_counter()
        parse_records(served)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def demo_run() -> dict[str, Any]:
    """``nhsa demo`` end to end, as ``make demo`` runs it."""
    with tempfile.TemporaryDirectory(prefix="nhsa-bench-") as folder:
        reports = Path(folder) / "reports"
        started = time.perf_counter()
        finished = subprocess.run(
            [sys.executable, *NHSA, "demo", "--report-dir", str(reports)],
            capture_output=True,
            text=True,
            check=False,
            env={**os.environ, "COLUMNS": "160"},
        )
        wall = time.perf_counter() - started
        report = json.loads((reports / "report.json").read_text("utf-8"))
    return {
        "wall_s": round(wall, 2),
        "exit_code": finished.returncode,
        "result": report["result"],
        "suite_run_s": report["run"]["duration_s"],
        "goal_s": DEMO_GOAL_S,
    }


def startup() -> dict[str, float]:
    """Seconds until each server prints its URL (the demo's fixed cost)."""
    times: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="nhsa-bench-") as folder:
        work = Path(folder)
        started = time.perf_counter()
        mock_args = [*NHSA, "mock", "serve", "--port", "0", "--db", str(work / "m.db")]
        with _service("mock platform", mock_args, work):
            times["mock_serve_s"] = round(time.perf_counter() - started, 2)
        started = time.perf_counter()
        his_args = ["-m", "examples.reference_his", "--port", "0", "--data-dir", str(work / "h")]
        with _service("reference HIS", his_args, work, cwd=ROOT):
            times["reference_his_s"] = round(time.perf_counter() - started, 2)
    return times


def main() -> None:
    """Measure, print the table, write the JSON."""
    full = full_run()
    starts = startup()
    demo = demo_run()
    table = Table(title="conformance run wall time (all stages)")
    for column in ("run", "wall s", "baseline (same run)", "goal", "met"):
        table.add_column(column)
    table.add_row(
        f"full run: sdk driver, in-process mock ({full['scenarios']} scenarios, "
        f"{full['steps']} steps, {full['messages']} messages) → {full['result']}",
        f"{full['wall_s']:.1f}",
        f"platform's own share {full['platform_share_s']:.1f} s "
        f"({full['platform_share_s'] / full['wall_s']:.0%})",
        f"≤ {FULL_RUN_GOAL_S:.0f} s",
        "yes" if full["wall_s"] <= FULL_RUN_GOAL_S else "NO",
    )
    table.add_row(
        f"typed transcript parse: {full['parse_records']} records, each once "
        f"({full['parse_us_per_record']:.0f} µs a record)",
        f"{full['parse_s']:.3f}",
        f"{full['parse_share']:.1%} of the full run's wall time",
        f"< {PARSE_SHARE_GOAL:.0%} of the run",
        "yes" if full["parse_share"] < PARSE_SHARE_GOAL else "NO",
    )
    table.add_row(
        f"make demo: http driver, mock + reference HIS as processes → {demo['result']}",
        f"{demo['wall_s']:.1f}",
        f"startup {starts['mock_serve_s']:.1f} + {starts['reference_his_s']:.1f} s; "
        f"suite run {demo['suite_run_s']:.1f} s",
        f"< {DEMO_GOAL_S:.0f} s",
        "yes" if demo["wall_s"] < DEMO_GOAL_S and demo["exit_code"] == 0 else "NO",
    )
    Console(width=160).print(table)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {
                "machine": {"python": platform.python_version(), "cpus": os.cpu_count()},
                "full_run": full,
                "startup": starts,
                "demo": demo,
            },
            indent=2,
        )
        + "\n",
        "utf-8",
    )
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()

"""A compressed national day on PostgreSQL, and how the mock scales from one worker to two.

Runs ``bench/locustfile.py`` headless (real windows and kiosks, ``tif+sm2`` signing, one
institution per Locust user) against ``nhsa mock serve --db postgresql://… --workers N``:

1. **the day**: a sample of the national day's 130,000 settlements (``--sample``, default 2 %,
   i.e. 2,600) replayed with the day's hourly shape compressed into ``--seconds``, on two
   workers; settlements/s, p50/p99 per infno, errors, and what the whole day would take;
2. **workers**: the same fixed number of settlements on one worker, then on two; settlements/s
   and the server's CPU per settlement (the workers' own ``/proc`` counters, so the load
   generator — same machine, same two cores — is counted apart).

Writes ``bench/results/national_day.json`` and prints a table. Needs a PostgreSQL server
(``NHSA_BENCH_POSTGRES_URL``, default the one ``.ci/run`` starts); each run gets a new schema.

Example::

    .venv/bin/python bench/national_day.py --sample 0.02 --seconds 120
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import quote

import psycopg

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results" / "national_day.json"
DEFAULT_URL = "postgresql://nhsa:nhsa@127.0.0.1:5432/nhsa_test"
TOKEN = "bench-admin-token"
DAILY = 130_000
TICKS = os.sysconf("SC_CLK_TCK")


def _schema(url: str) -> tuple[str, str]:
    name = f"bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute(f'CREATE SCHEMA "{name}"')
    return name, f"{url}?options={quote(f'-csearch_path={name}')}"


def _drop(url: str, name: str) -> None:
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')


def _server(db: str, workers: int) -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(
        [sys.executable, "-c", "from nhsa.cli import main; main()", "mock", "serve",
         "--db", db, "--workers", str(workers), "--port", "0", "--admin-token", TOKEN],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    assert process.stdout is not None
    found = re.search(r"on (http://\S+)", process.stdout.readline())
    if found is None:
        raise SystemExit(f"the mock did not start: {process.stdout.read()}")
    time.sleep(1.0)  # the workers assemble after the banner
    return process, found[1]


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    found = [int(p) for p in path.read_text().split()] if path.exists() else []
    return found or [pid]  # one worker serves in the parent itself


def _cpu_seconds(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime + stime
    return total / TICKS


def _locust(url: str, *, sample: float, seconds: float, users: int, out: Path) -> float:
    env = {**os.environ, "NHSA_ADMIN_TOKEN": TOKEN, "NHSA_DAY_SAMPLE": str(sample),
           "NHSA_DAY_SECONDS": str(seconds), "NHSA_USERS": str(users)}  # fmt: skip
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "locust", "-f", str(ROOT / "bench" / "locustfile.py"),
         "--headless", "--host", url, "--csv", str(out), "--only-summary",
         "--run-time", f"{int(seconds) + 30}s"],
        env=env, check=True, capture_output=True, text=True, timeout=seconds + 120,
    )  # fmt: skip
    return time.perf_counter() - started


def _stats(prefix: Path) -> dict[str, dict[str, float]]:
    rows: dict[str, dict[str, float]] = {}
    with open(f"{prefix}_stats.csv", newline="") as handle:
        for row in csv.DictReader(handle):
            rows[row["Name"]] = {
                "requests": int(row["Request Count"]),
                "failures": int(row["Failure Count"]),
                "p50_ms": float(row["50%"] or 0),
                "p99_ms": float(row["99%"] or 0),
                "per_second": float(row["Requests/s"]),
            }
    return rows


def run(db_url: str, *, workers: int, sample: float, seconds: float, users: int) -> dict[str, Any]:
    """One headless Locust run against a fresh schema; its figures."""
    name, db = _schema(db_url)
    process, url = _server(db, workers)
    try:
        pids = _children(process.pid)
        before = _cpu_seconds(pids)
        with tempfile.TemporaryDirectory() as folder:
            elapsed = _locust(url, sample=sample, seconds=seconds, users=users,
                              out=Path(folder) / "run")  # fmt: skip
            stats = _stats(Path(folder) / "run")
        server_cpu = _cpu_seconds(pids) - before
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
        _drop(db_url, name)
    settled = stats.get("2207", {}).get("requests", 0) - stats.get("2207", {}).get("failures", 0)
    errors = sum(r["failures"] for n, r in stats.items() if n != "Aggregated")
    return {
        "workers": workers,
        "sample": sample,
        "elapsed_s": round(elapsed, 1),
        "settled": settled,
        "settlements_per_s": round(settled / elapsed, 1),
        "server_cpu_ms_per_settlement": round(server_cpu * 1000 / max(settled, 1), 2),
        "errors": errors,
        "per_infno": {n: r for n, r in stats.items() if n != "Aggregated"},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sample", type=float, default=0.02, help="share of the day's 130,000")
    parser.add_argument("--seconds", type=float, default=120, help="the day, compressed")
    parser.add_argument("--users", type=int, default=12, help="peak concurrent counters")
    parser.add_argument("--scaling-sample", type=float, default=0.004)
    options = parser.parse_args()
    db_url = os.environ.get("NHSA_BENCH_POSTGRES_URL", DEFAULT_URL)
    day = run(db_url, workers=2, sample=options.sample, seconds=options.seconds,
              users=options.users)  # fmt: skip
    day["full_day_hours_at_this_rate"] = round(DAILY / max(day["settlements_per_s"], 0.1) / 3600, 2)
    scaling = [
        run(
            db_url,
            workers=n,
            sample=options.scaling_sample,
            seconds=options.seconds,
            users=options.users,
        )
        for n in (1, 2)
    ]
    ratio = scaling[1]["settlements_per_s"] / max(scaling[0]["settlements_per_s"], 0.1)
    print(f"national day, sample {options.sample:.1%} of {DAILY:,} "
          f"({day['settled']:,} settlements) in {day['elapsed_s']} s on 2 workers:")  # fmt: skip
    print(f"  {day['settlements_per_s']} settlements/s, {day['errors']} errors; the whole day "
          f"would take {day['full_day_hours_at_this_rate']} h at this rate")  # fmt: skip
    print(f"  {'infno':6} {'requests':>9} {'failures':>9} {'p50 ms':>8} {'p99 ms':>8}")
    for infno, row in sorted(day["per_infno"].items()):
        print(f"  {infno:6} {row['requests']:>9} {row['failures']:>9} {row['p50_ms']:>8.0f} "
              f"{row['p99_ms']:>8.0f}")  # fmt: skip
    for entry in scaling:
        print(f"workers={entry['workers']}: {entry['settlements_per_s']} settlements/s, "
              f"server CPU {entry['server_cpu_ms_per_settlement']} ms per settlement")  # fmt: skip
    print(f"2 workers / 1 worker = {ratio:.2f}x (goal >= 1.7x)")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(
        {"day": day, "scaling": scaling, "two_over_one": round(ratio, 2),
         "goal_two_over_one": 1.7, "load_average": os.getloadavg()}, indent=2) + "\n")  # fmt: skip


if __name__ == "__main__":
    main()

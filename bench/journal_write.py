"""What one journal write costs: PostgreSQL (shared by machines) against SQLite ``FULL``.

Every state-changing call writes its journal entry before sending (``record_sending``) and its
outcome after (``mark``): two durable commits. This times both, alternating the two databases
in rounds so that machine noise hits them alike, and reports the median per write and the
ratio PostgreSQL / SQLite. Writes ``bench/results/journal_write.json``.

Example::

    .venv/bin/python bench/journal_write.py --writes 400
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
import uuid
from decimal import Decimal
from pathlib import Path
from urllib.parse import quote

import psycopg

from nhsa.client import Journal
from nhsa.client._journal import NewEntry

RESULTS = Path(__file__).resolve().parents[1] / "bench" / "results" / "journal_write.json"
DEFAULT_URL = "postgresql://nhsa:nhsa@127.0.0.1:5432/nhsa_test"
TENANT = "H53010100001"


def _round(journal: Journal, writes: int, prefix: str) -> float:
    """Seconds per write over ``writes`` entries (each: record_sending, then mark)."""
    started = time.perf_counter()
    for n in range(writes // 2):
        msgid = f"{TENANT}{prefix}{n:06d}"
        journal.record_sending(
            NewEntry(msgid, TENANT, "2207", "1", "C0001", "ab" * 32,
                     {"mdtrt_id": f"V{n}"}, {"medfee_sumamt": Decimal("74.80")})
        )  # fmt: skip
        journal.mark(msgid, "succeeded", result={"setl_id": f"S{n}"})
    return (time.perf_counter() - started) / (writes // 2 * 2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--writes", type=int, default=400, help="writes per round")
    parser.add_argument("--rounds", type=int, default=5)
    options = parser.parse_args()
    url = os.environ.get("NHSA_BENCH_POSTGRES_URL", DEFAULT_URL)
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute(f'CREATE SCHEMA "{schema}"')
    timings: dict[str, list[float]] = {"sqlite_full": [], "postgresql": []}
    try:
        with tempfile.TemporaryDirectory() as folder:
            journals = {
                "sqlite_full": Journal(Path(folder) / "journal.sqlite3"),
                "postgresql": Journal(f"{url}?options={quote(f'-csearch_path={schema}')}"),
            }
            for number in range(options.rounds):
                for name, journal in journals.items():
                    prefix = f"2026112310{number:02d}"[:10]
                    timings[name].append(_round(journal, options.writes, f"{prefix}{number:02d}"))
            for journal in journals.values():
                journal.close()
    finally:
        with psycopg.connect(url, autocommit=True) as admin:
            admin.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    medians = {name: statistics.median(values) * 1e6 for name, values in timings.items()}
    ratio = medians["postgresql"] / medians["sqlite_full"]
    print(f"{'journal':12} {'µs per write (median of rounds)':>32}")
    for name, value in medians.items():
        print(f"{name:12} {value:>32.0f}")
    print(f"PostgreSQL / SQLite FULL = {ratio:.2f}x")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({
        "writes_per_round": options.writes, "rounds": options.rounds,
        "us_per_write": {k: round(v, 1) for k, v in medians.items()},
        "postgresql_over_sqlite_full": round(ratio, 2), "load_average": os.getloadavg(),
    }, indent=2) + "\n")  # fmt: skip


if __name__ == "__main__":
    main()

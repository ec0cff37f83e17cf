"""The drills' short runs, each made once per test session and shared by its tests.

A drill run takes seconds, and several tests read one run (one per failure column), so the
run is made once: under pytest-xdist the first worker to need it runs it while holding a file
lock, writes its JSON results beside the workers' temporary folders, and every other worker
reads them. The drill code is the benchmark's own (``bench/drills``), only smaller.
"""

from __future__ import annotations

import fcntl
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

Compute = Callable[[Path], dict[str, Any]]


@pytest.fixture(scope="session")
def drill_run(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> Callable[..., Any]:
    """``drill_run(name, compute)``: ``compute(folder)``'s JSON results, made once."""
    base = tmp_path_factory.getbasetemp()
    shared = base.parent if worker_id != "master" else base

    def get(name: str, compute: Compute) -> dict[str, Any]:
        results = shared / f"drill-{name}.json"
        with (shared / f"drill-{name}.lock").open("w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if results.exists():
                loaded: dict[str, Any] = json.loads(results.read_text())
                return loaded
            folder = shared / f"drill-{name}"
            folder.mkdir(exist_ok=True)
            made = compute(folder)
            results.write_text(json.dumps(made, default=str))
            return made

    return get

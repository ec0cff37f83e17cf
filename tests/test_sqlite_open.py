"""Several processes opening one new SQLite file at the same moment (msgid counter, journal)."""

from __future__ import annotations

import multiprocessing
import sqlite3
import sys
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Barrier
from pathlib import Path

import pytest

from nhsa._sqlite import apply_schema, connect

ROUNDS = 100
PROCESSES = 3


def _open_at_once(path: str, start: Barrier, results: Queue[str | None]) -> None:
    start.wait()
    try:
        db = connect(path, synchronous="NORMAL")
        apply_schema(db, "CREATE TABLE IF NOT EXISTS counter (k TEXT PRIMARY KEY, v INTEGER);")
        db.execute("BEGIN IMMEDIATE")
        db.execute("INSERT INTO counter VALUES ('n', 1) ON CONFLICT (k) DO UPDATE SET v = v + 1")
        db.execute("COMMIT")
        db.close()
        results.put(None)
    except Exception as error:  # reported to the parent, which names it in the failure
        results.put(repr(error))


@pytest.mark.slow
@pytest.mark.skipif(sys.platform == "win32", reason="uses fork to start processes together")
def test_processes_creating_one_file_together_all_get_in(tmp_path: Path) -> None:
    # Switching a new file to WAL does not wait for locks: before connect() retried it, about
    # one process in thirty got "database is locked" here.
    context = multiprocessing.get_context("fork")
    failures: list[str] = []
    for round_number in range(ROUNDS):
        path = str(tmp_path / f"shared-{round_number}.db")
        start, results = context.Barrier(PROCESSES), context.Queue()
        workers = [
            context.Process(target=_open_at_once, args=(path, start, results))
            for _ in range(PROCESSES)
        ]
        for worker in workers:
            worker.start()
        failures += [error for _ in workers if (error := results.get(timeout=60)) is not None]
        for worker in workers:
            worker.join(timeout=30)
        with sqlite3.connect(path) as check:
            assert check.execute("PRAGMA journal_mode").fetchone() == ("wal",)
            assert check.execute("SELECT v FROM counter").fetchone() == (PROCESSES,)
    assert failures == []


def test_a_failed_schema_leaves_no_transaction_open(tmp_path: Path) -> None:
    db = connect(tmp_path / "bad.db", synchronous="FULL")
    with pytest.raises(sqlite3.OperationalError, match="syntax error"):
        apply_schema(db, "CREATE TABLE ok (x INTEGER); CREATE TABLE broken (;")
    assert not db.in_transaction
    assert db.execute("SELECT name FROM sqlite_master").fetchall() == []


def test_connect_sets_wal_and_the_durability_asked_for(tmp_path: Path) -> None:
    db = connect(tmp_path / "j.db", synchronous="FULL")
    assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    assert db.execute("PRAGMA synchronous").fetchone() == (2,)  # FULL
    assert db.isolation_level is None

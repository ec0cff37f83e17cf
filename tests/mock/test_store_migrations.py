"""Schema versions: a new file is created at the latest version, an old one is upgraded in
place with its data kept, and files this code cannot use are refused with a clear message."""

from __future__ import annotations

import sqlite3
from decimal import Decimal
from pathlib import Path

import pytest

from nhsa.mock.engine._stays import STAY_SETTLING
from nhsa.mock.store import (
    LATEST,
    MIGRATIONS,
    Balance,
    FilingOverride,
    SchemaVersionError,
    Settlement,
    SqliteStore,
)
from nhsa.mock.store._schema import migrate
from nhsa.mock.store._sql import where_clause
from nhsa.mock.store._sqlite import statements_of


def _version(path: Path) -> int:
    connection = sqlite3.connect(path)
    try:
        return int(connection.execute("SELECT version FROM schema_version").fetchone()[0])
    finally:
        connection.close()


def test_a_new_file_is_created_at_the_latest_version(tmp_path: Path) -> None:
    path = tmp_path / "new.db"
    SqliteStore(path).close()
    assert _version(path) == LATEST == MIGRATIONS[-1][0]


def test_an_old_file_is_upgraded_and_keeps_its_data(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    connection = sqlite3.connect(path, isolation_level=None)
    migrate(connection, path, upto=1)  # a file written before the public-services tables
    connection.execute(
        "INSERT INTO balances (tenant, psn_no, insutype, balance) VALUES (?, ?, ?, ?)",
        ("H53010100001", "P1", "310", "1253.63"),
    )
    tables = {r[0] for r in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    connection.close()
    assert "filings" not in tables
    assert _version(path) == 1

    with SqliteStore(path) as store, store.snapshot() as tx:
        balance = tx.get(Balance, "H53010100001", "P1", "310")
        assert tx.find(FilingOverride, tenant="H53010100001") == []
    assert balance is not None
    assert balance.balance == Decimal("1253.63")
    assert _version(path) == LATEST


def _columns(path: Path) -> dict[str, list[str]]:
    connection = sqlite3.connect(path)
    try:
        tables = [
            row[0]
            for row in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")
        ]
        return {
            table: [row[1] for row in connection.execute(f"PRAGMA table_info({table})")]
            for table in sorted(tables)
        }
    finally:
        connection.close()


@pytest.mark.parametrize("version", range(1, LATEST))
def test_a_file_at_every_older_version_ends_with_the_latest_schema(
    tmp_path: Path, version: int
) -> None:
    # e.g. a file at 5 (the dialect column) gains 6 (stays, fee-line times, mid_setl_flag)
    fresh = tmp_path / "fresh.db"
    SqliteStore(fresh).close()
    path = tmp_path / f"v{version}.db"
    connection = sqlite3.connect(path, isolation_level=None)
    migrate(connection, path, upto=version)
    connection.close()
    assert _version(path) == version
    SqliteStore(path).close()
    assert _version(path) == LATEST
    assert _columns(path) == _columns(fresh)


def test_a_newer_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "future.db"
    SqliteStore(path).close()
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("UPDATE schema_version SET version = ?", (LATEST + 5,))
    connection.close()
    with pytest.raises(SchemaVersionError, match=rf"schema version {LATEST + 5}.*upgrade nhsa-kit"):
        SqliteStore(path)


def test_a_foreign_sqlite_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("CREATE TABLE patients (id INTEGER)")
    connection.close()
    with pytest.raises(SchemaVersionError, match=r"not an nhsa mock database.*patients"):
        SqliteStore(path)


def test_an_empty_version_table_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "damaged.db"
    SqliteStore(path).close()
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("DELETE FROM schema_version")
    connection.close()
    with pytest.raises(SchemaVersionError, match="schema_version is empty"):
        SqliteStore(path)


def test_a_persons_stay_settlements_are_read_from_their_own_index(tmp_path: Path) -> None:
    # 2401 and the stay counters read a person's 2304 rows; without the index SQLite walks the
    # person's whole ledger (every outpatient settlement) row by row.
    path = tmp_path / "plan.db"
    SqliteStore(path).close()
    where, values = where_clause(
        Settlement, {"tenant": "H1", "psn_no": "P1", "infno": STAY_SETTLING}, None
    )
    connection = sqlite3.connect(path)
    try:
        plan = connection.execute(
            f"EXPLAIN QUERY PLAN {statements_of(Settlement).select}{where}", values
        ).fetchall()
    finally:
        connection.close()
    assert any("settlements_by_psn_no_infno" in str(step[-1]) for step in plan), plan

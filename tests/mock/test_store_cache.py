"""The store's memory of committed rows, lazy JSON columns and id blocks: faster reads that
never show what was rolled back, never hide what was committed, and never repeat an id."""

from __future__ import annotations

import contextlib
import sqlite3
from datetime import datetime
from decimal import Decimal
from pathlib import Path

from nhsa.envelope import CHINA_TIME
from nhsa.mock.store import (
    Balance,
    Downtime,
    RegisteredInstitution,
    SqliteStore,
    TenantSetting,
    YearToDate,
)
from nhsa.mock.store._rows import StoredJson

T1 = "H53010100001"
WHEN = datetime(2026, 11, 23, 10, 15, 30, tzinfo=CHINA_TIME)


def _balance(value: str) -> Balance:
    return Balance(T1, "P1", "310", Decimal(value))


def _raw_balance(path: Path) -> str | None:
    with sqlite3.connect(path) as db:
        row = db.execute("SELECT balance FROM balances WHERE psn_no = 'P1'").fetchone()
    return None if row is None else str(row[0])


def test_a_rolled_back_write_is_never_read_back(store: SqliteStore) -> None:
    with store.transaction() as tx:
        tx.put(_balance("10.00"))
    seen_inside: list[Balance | None] = []
    with contextlib.suppress(RuntimeError), store.transaction() as tx:
        tx.put(_balance("99.00"))
        seen_inside.append(tx.get(Balance, T1, "P1", "310"))
        raise RuntimeError

    assert seen_inside == [_balance("99.00")]  # its own write, inside the transaction

    with store.snapshot() as tx:
        assert tx.get(Balance, T1, "P1", "310") == _balance("10.00")


def test_savepoints_keep_or_drop_their_own_writes(store: SqliteStore) -> None:
    with store.transaction() as tx:
        tx.put(_balance("1.00"))
        with contextlib.suppress(RuntimeError), tx.savepoint():
            tx.put(_balance("2.00"))
            raise RuntimeError
        assert tx.get(Balance, T1, "P1", "310") == _balance("1.00")
        with tx.savepoint():
            tx.put(_balance("3.00"))
        assert tx.get(Balance, T1, "P1", "310") == _balance("3.00")
    with store.snapshot() as tx:
        assert tx.get(Balance, T1, "P1", "310") == _balance("3.00")
    assert store.path != ":memory:"
    assert _raw_balance(Path(store.path)) == "3.00"


def test_deletes_and_absent_rows_are_remembered_correctly(store: SqliteStore) -> None:
    with store.snapshot() as tx:
        assert tx.get(Balance, T1, "P1", "310") is None  # remembered as absent
    with store.transaction() as tx:
        tx.put(_balance("5.00"))
    with store.snapshot() as tx:
        assert tx.get(Balance, T1, "P1", "310") == _balance("5.00")
    with store.transaction() as tx:
        assert tx.delete(Balance, T1, "P1", "310")
    with store.snapshot() as tx:
        assert tx.get(Balance, T1, "P1", "310") is None


def test_reset_tenant_is_seen_at_once(store: SqliteStore) -> None:
    with store.transaction() as tx:
        tx.put(_balance("5.00"))
    with store.snapshot() as tx:
        tx.get(Balance, T1, "P1", "310")
    with store.transaction() as tx:
        tx.reset_tenant(T1)
        assert tx.get(Balance, T1, "P1", "310") is None
    with store.snapshot() as tx:
        assert tx.get(Balance, T1, "P1", "310") is None


def test_admin_tables_queries_follow_every_committed_write(store: SqliteStore) -> None:
    window = Downtime(T1, "W1", "440000", WHEN, WHEN.replace(hour=18), "升级")
    with store.snapshot() as tx:
        assert tx.find(Downtime, tenant=T1) == []
    seen_inside: list[list[Downtime]] = []
    with contextlib.suppress(RuntimeError), store.transaction() as tx:
        tx.put(window)
        seen_inside.append(tx.find(Downtime, tenant=T1))
        raise RuntimeError
    assert seen_inside == [[window]]
    with store.snapshot() as tx:
        assert tx.find(Downtime, tenant=T1) == []
    with store.transaction() as tx:
        tx.put(window)
        tx.put(TenantSetting(T1, "fixtures_dir", "/lab"))
        tx.put(RegisteredInstitution("H53010199999", "测试医院", "530100", "3", ("outpatient",)))
    with store.snapshot() as tx:
        assert tx.find(Downtime, tenant=T1) == [window]
        assert tx.find(TenantSetting, tenant=T1)[0].value == "/lab"
        assert [i.fixmedins_code for i in tx.find(RegisteredInstitution)] == ["H53010199999"]
    with store.transaction() as tx:
        tx.delete(Downtime, T1, "W1")
    with store.snapshot() as tx:
        assert tx.find(Downtime, tenant=T1) == []


def test_a_cached_row_reads_like_a_fresh_one(tmp_path: Path) -> None:
    path = tmp_path / "types.db"
    counters = {"deductible_used": Decimal("120.50"), "funds": {}}
    with SqliteStore(path) as store:
        with store.transaction() as tx:
            tx.put(YearToDate(T1, "P1", 2026, "530100", "rule", counters))
        with store.snapshot() as tx:
            cached = tx.get(YearToDate, T1, "P1", 2026, "530100", "rule")
    with SqliteStore(path) as store, store.snapshot() as tx:
        fresh = tx.get(YearToDate, T1, "P1", 2026, "530100", "rule")
    assert cached is not None
    assert fresh is not None
    assert cached == fresh
    assert type(cached.counters) is type(fresh.counters) is StoredJson
    assert cached.counters["deductible_used"] == Decimal("120.50")


def test_a_json_column_is_written_back_exactly_as_read(store: SqliteStore) -> None:
    with store.transaction() as tx:
        tx.put(YearToDate(T1, "P1", 2026, "530100", "rule", {"deductible_used": Decimal("1.10")}))
    with store.transaction() as tx:
        row = tx.get(YearToDate, T1, "P1", 2026, "530100", "rule")
        assert row is not None
        assert isinstance(row.counters, StoredJson)
        tx.put(row)  # unchanged payload: stored from its text, not encoded anew
    with sqlite3.connect(Path(store.path)) as db:
        (text,) = db.execute("SELECT counters FROM year_to_date").fetchone()
    assert text == '{"deductible_used":1.10}'


def test_stored_json_behaves_like_the_dict_it_encodes() -> None:
    stored = StoredJson('{"a":1.50,"b":{"c":[1,2]}}')
    assert stored == {"a": Decimal("1.50"), "b": {"c": [1, 2]}}
    assert {"a": Decimal("1.50"), "b": {"c": [1, 2]}} == stored
    assert dict(stored) == {**stored}
    assert sorted(stored) == ["a", "b"]
    assert len(stored) == 2
    assert repr(stored) == "{'a': Decimal('1.50'), 'b': {'c': [1, 2]}}"
    assert StoredJson.encode({"x": Decimal("2.0")}).text == '{"x":2.0}'
    assert stored != {"a": 1}


def test_ids_stay_unique_when_the_work_that_reserved_them_is_rolled_back(
    tmp_path: Path,
) -> None:
    path = tmp_path / "ids.db"
    kept: list[int] = []
    with SqliteStore(path) as store:
        with contextlib.suppress(RuntimeError), store.transaction() as tx:
            tx.next_id()
            raise RuntimeError
        with store.transaction() as tx:
            with contextlib.suppress(RuntimeError), tx.savepoint():
                tx.next_id()
                raise RuntimeError
            kept.append(tx.next_id())
        with store.transaction() as tx:
            kept += [tx.next_id() for _ in range(70)]  # crosses several blocks
    with SqliteStore(path) as store, store.transaction() as tx:
        kept.append(tx.next_id())
    assert len(set(kept)) == len(kept)
    assert kept[:71] == list(range(kept[0], kept[0] + 71))
    with sqlite3.connect(path) as db:
        (reserved,) = db.execute("SELECT value FROM id_sequence").fetchone()
    assert reserved >= max(kept)

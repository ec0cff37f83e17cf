"""The stores: exact round trips, units of work, savepoints, ids, transcript, tenants.

Tests taking ``store`` run on SQLite and on PostgreSQL; the others are about one of the two.
"""

from __future__ import annotations

import dataclasses
import sqlite3
import threading
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from nhsa.envelope import CHINA_TIME
from nhsa.mock.store import (
    ACTIVE,
    RECORD_TYPES,
    Balance,
    Downtime,
    EcToken,
    Message,
    PostgresStore,
    Settlement,
    SqliteStore,
    SqliteUnitOfWork,
    Store,
    StoredFile,
    StoreError,
    StoreUsageError,
    Visit,
)

T1, T2 = "H53010100001", "H53010200002"


@pytest.fixture
def store(either_store: Store) -> Store:
    return either_store


WHEN = datetime(2026, 11, 23, 10, 15, 30, 120000, tzinfo=CHINA_TIME)


def _settlement(setl_id: str, *, tenant: str = T1, day: date = date(2026, 11, 23)) -> Settlement:
    return Settlement(
        tenant=tenant,
        setl_id=setl_id,
        mdtrt_id="3001",
        psn_no="P1",
        insutype="310",
        insuplc_admdvs="530100",
        clr_type="11",
        clr_optins="530100",
        setl_time=datetime.combine(day, WHEN.timetz()),
        setl_date=day,
        year=day.year,
        medfee_sumamt=Decimal("124.52"),
        fund_pay_sumamt=Decimal("0.00"),
        acct_pay=Decimal("124.52"),
        psn_cash_pay=Decimal("0.00"),
        refd_setl_flag="0",
        status=ACTIVE,
        msgid=f"{tenant}202611231015300001",
        infno="2207",
        chrg_bchno="B1",
        line_ids=("7001", "7002"),
        calculation={"amounts": {"acct_pay": "124.52"}, "ratio": Decimal("0.6000")},
        setlinfo={"age": Decimal("41.0"), "psn_name": "张晓峰", "setl_id": setl_id},
    )


def test_records_round_trip_exactly(store: Store) -> None:
    settlement = _settlement("4001")
    stored_file = StoredFile(T1, "5001", "d.zip", "upload", b"PK\x03\x04\x00\xff", WHEN, WHEN)
    message = Message(
        T1,
        "M1",
        "2207",
        WHEN,
        0,
        "P1",
        {"setl_id": "4001"},
        None,
        {"setlinfo": {"balc": Decimal("1253.63")}},
        tombstone=False,
    )
    with store.transaction() as tx:
        for record in (settlement, stored_file, message):
            tx.put(record)
    with store.snapshot() as tx:
        assert tx.get(Settlement, T1, "4001") == settlement
        assert tx.get(StoredFile, T1, "5001") == stored_file
        again = tx.get(Message, T1, "M1")
    assert again == message
    assert again is not None
    # amounts inside JSON payloads stay Decimal with their scale; times keep their offset
    assert again.output == {"setlinfo": {"balc": Decimal("1253.63")}}
    assert again.received_at.utcoffset() == timedelta(hours=8)


def test_put_replaces_by_key_and_keeps_insertion_order(store: Store) -> None:
    with store.transaction() as tx:
        for setl_id in ("4001", "4002", "4003"):
            tx.put(_settlement(setl_id))
        tx.put(dataclasses.replace(_settlement("4001"), reversed_by="4009"))
    with store.snapshot() as tx:
        rows = tx.find(Settlement, tenant=T1)
    assert [row.setl_id for row in rows] == ["4001", "4002", "4003"]
    assert rows[0].reversed_by == "4009"


def test_find_between_and_delete(store: Store) -> None:
    with store.transaction() as tx:
        tx.put(_settlement("4001", day=date(2026, 11, 22)))
        tx.put(_settlement("4002", day=date(2026, 11, 23)))
        tx.put(_settlement("4003", day=date(2026, 11, 24)))
        tx.put(_settlement("4004", tenant=T2, day=date(2026, 11, 23)))
    with store.transaction() as tx:
        days = tx.between(
            Settlement, "setl_date", date(2026, 11, 23), date(2026, 11, 24), tenant=T1
        )
        assert [row.setl_id for row in days] == ["4002", "4003"]
        assert tx.delete(Settlement, T1, "4002") is True
        assert tx.delete(Settlement, T1, "4002") is False
        assert tx.get(Settlement, T1, "4002") is None
        assert [row.setl_id for row in tx.find(Settlement, tenant=T2)] == ["4004"]


def _put_then_fail(store: Store) -> None:
    with store.transaction() as tx:
        tx.put(Balance(T1, "P1", "310", Decimal("10.00")))
        raise RuntimeError("boom")


def test_an_exception_rolls_the_whole_transaction_back(store: Store) -> None:
    with pytest.raises(RuntimeError):
        _put_then_fail(store)
    with store.snapshot() as tx:
        assert tx.get(Balance, T1, "P1", "310") is None


def _change_then_refuse(tx: SqliteUnitOfWork) -> None:
    with tx.savepoint():
        tx.put(Balance(T1, "P1", "310", Decimal("99.00")))
        tx.put(Balance(T1, "P2", "310", Decimal("5.00")))
        raise ValueError("refused")


def test_a_savepoint_undoes_only_its_own_work(store: Store) -> None:
    with store.transaction() as tx:
        tx.put(Balance(T1, "P1", "310", Decimal("10.00")))
        with pytest.raises(ValueError, match="refused"):
            _change_then_refuse(tx)
        with tx.savepoint():
            tx.put(Balance(T1, "P3", "390", Decimal("1.00")))
    with store.snapshot() as tx:
        assert [(b.psn_no, b.balance) for b in tx.find(Balance, tenant=T1)] == [
            ("P1", Decimal("10.00")),
            ("P3", Decimal("1.00")),
        ]


def test_snapshot_is_read_only_and_transactions_do_not_nest(store: Store) -> None:
    with store.snapshot() as tx, pytest.raises(StoreUsageError, match="read-only"):
        tx.put(Balance(T1, "P1", "310", Decimal("1.00")))
    with store.transaction(), pytest.raises(StoreUsageError, match="savepoint"):
        store.transaction().__enter__()


def test_usage_errors_name_the_problem(store: Store) -> None:
    with store.transaction() as tx:
        with pytest.raises(StoreUsageError, match=r"key of 2 parts \(tenant, mdtrt_id\), got 1"):
            tx.get(Visit, "3001")
        with pytest.raises(StoreUsageError, match="has no column colour"):
            tx.find(Visit, colour="red")
        with pytest.raises(StoreUsageError, match="not a record type"):
            tx.get(dict, "x")  # type: ignore[arg-type]
        with pytest.raises(StoreUsageError, match="tenant"):
            tx.append_transcript({"infno": "9001"})


def test_ids_are_unique_across_threads_and_restarts(tmp_path: Path) -> None:
    path = tmp_path / "ids.db"
    seen: list[int] = []
    with SqliteStore(path) as store:

        def take() -> None:
            for _ in range(50):
                with store.transaction() as tx:
                    seen.append(tx.next_id())

        threads = [threading.Thread(target=take) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    with SqliteStore(path) as store, store.transaction() as tx:
        after_restart = tx.next_id()
    assert len(set(seen)) == 200
    assert after_restart > max(seen)  # the rest of a reserved block is skipped, never reused


def test_transcript_is_per_tenant_ordered_and_exact(store: Store) -> None:
    with store.transaction() as tx:
        first = store.append_transcript(tx, {"tenant": T1, "infno": "9001", "seq": 999})
        store.append_transcript(tx, {"tenant": T2, "infno": "9001"})
        third = store.append_transcript(
            tx, {"tenant": T1, "infno": "2207", "request": {"medfee_sumamt": Decimal("4.52")}}
        )
    records = store.transcript(T1)
    assert [r["seq"] for r in records] == [first, third]
    assert records[1]["request"]["medfee_sumamt"] == Decimal("4.52")
    assert [r["seq"] for r in store.transcript(T1, since_seq=first)] == [third]
    assert len(store.transcript(T2)) == 1


def test_reset_tenant_leaves_other_tenants_alone(store: Store) -> None:
    with store.transaction() as tx:
        tx.put(_settlement("4001"))
        tx.put(_settlement("4002", tenant=T2))
        tx.put(EcToken(T1, "EC1", "P1", WHEN, WHEN + timedelta(hours=1)))
        tx.put(Downtime(T2, "8001", "440300", WHEN, WHEN + timedelta(hours=1), "升级"))
        tx.append_transcript({"tenant": T1})
    assert store.transcript(T1)[0]["tenant"] == T1
    with store.transaction() as tx:
        assert tx.tenants() == [T1, T2]
        deleted = tx.reset_tenant(T1)
    assert deleted["settlements"] == 1
    assert deleted["ec_tokens"] == 1
    assert deleted["transcript"] == 1
    with store.snapshot() as tx:
        assert tx.find(Settlement, tenant=T1) == []
        assert len(tx.find(Settlement, tenant=T2)) == 1
        assert tx.tenants() == [T2]


def test_schema_columns_match_the_record_types(tmp_path: Path) -> None:
    SqliteStore(tmp_path / "mock.db").close()
    connection = sqlite3.connect(tmp_path / "mock.db")
    try:
        for kind in RECORD_TYPES:
            columns = [row[1] for row in connection.execute(f'PRAGMA table_info("{kind.TABLE}")')]
            fields = [f.name for f in dataclasses.fields(kind)]
            assert columns == fields, kind.__name__
    finally:
        connection.close()


def test_synchronous_mode_is_applied_and_checked(tmp_path: Path) -> None:
    with SqliteStore(tmp_path / "full.db", synchronous="full") as store:
        assert store._db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
        assert store._db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    with pytest.raises(ValueError, match="synchronous"):
        SqliteStore(tmp_path / "x.db", synchronous="off")  # type: ignore[arg-type]


def test_unopenable_files_are_refused_clearly(tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"this is not a database file at all" * 100)
    with pytest.raises(StoreError, match=r"garbage\.db cannot be used"):
        SqliteStore(garbage)


def test_checkpoints_run_off_the_request_path(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "wal.db", checkpoint_every=60)
    assert store._db.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == 0
    with store.transaction() as tx:
        tx.put(Balance(T1, "P1", "310", Decimal("10.00")))
    log, copied = store.checkpoint()
    assert log == copied > 0
    thread = store._checkpointer
    assert thread is not None
    assert thread.is_alive()
    store.close()
    assert not thread.is_alive()
    with SqliteStore(tmp_path / "wal.db", checkpoint_every=None) as reopened:
        assert reopened._checkpointer is None
        with reopened.snapshot() as tx:
            assert tx.get(Balance, T1, "P1", "310") is not None


def test_postgres_schema_columns_match_the_record_types(postgres_url: str) -> None:
    with PostgresStore(postgres_url) as store, store._db.cursor() as cursor:
        for kind in RECORD_TYPES:
            cursor.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_name = %s"
                " AND table_schema = current_schema() ORDER BY ordinal_position",
                (kind.TABLE,),
            )
            columns = [row[0] for row in cursor.fetchall()]
            # A column a later migration adds (institutions.dialect, settlements.mid_setl_flag)
            # comes after _order (PostgreSQL appends it).
            assert "_order" in columns, kind
            fields = [f.name for f in dataclasses.fields(kind)]
            assert [name for name in columns if name != "_order"] == fields, kind


def test_two_postgres_workers_never_share_an_id_and_see_each_other(postgres_url: str) -> None:
    first, second = PostgresStore(postgres_url), PostgresStore(postgres_url)
    try:
        taken: list[int] = []
        for _ in range(40):
            for worker in (first, second):
                with worker.transaction() as tx:
                    taken.append(tx.next_id())
        with first.transaction() as tx:
            tx.put(Balance(T1, "P1", "310", Decimal("10.00")))
        with second.snapshot() as tx:
            seen = tx.get(Balance, T1, "P1", "310")
    finally:
        first.close()
        second.close()
    assert len(set(taken)) == 80
    assert seen is not None
    assert seen.balance == Decimal("10.00")


def test_a_tenant_is_one_writer_at_a_time_across_workers(postgres_url: str) -> None:
    """Read-check-write of one tenant on two workers at once: the second waits for the first."""
    first, second = PostgresStore(postgres_url), PostgresStore(postgres_url)
    entered, release = threading.Event(), threading.Event()
    order: list[str] = []

    def slow_first() -> None:
        with first.transaction() as tx:
            tx.get(Balance, T1, "P1", "310")
            entered.set()
            release.wait(timeout=30)
            tx.put(Balance(T1, "P1", "310", Decimal("1.00")))
            order.append("first")

    worker = threading.Thread(target=slow_first)
    worker.start()
    assert entered.wait(timeout=30)
    threading.Timer(0.3, release.set).start()
    try:
        with second.transaction() as tx:
            found = tx.get(Balance, T1, "P1", "310")  # waits for the first's COMMIT
            order.append("second")
        with second.transaction() as tx:
            tx.put(Balance(T2, "P1", "310", Decimal("2.00")))  # another tenant: no waiting
    finally:
        worker.join(timeout=30)
        first.close()
        second.close()
    assert order == ["first", "second"]
    assert found is not None
    assert found.balance == Decimal("1.00")


def test_an_unreachable_postgres_is_one_line_with_the_password_masked() -> None:
    with pytest.raises(StoreError) as raised:
        PostgresStore("postgresql://lab:hunter2@127.0.0.1:1/mock")
    message = str(raised.value)
    assert message.startswith("cannot open database postgresql://lab:***@127.0.0.1:1/mock: ")
    assert "hunter2" not in message
    assert "\n" not in message

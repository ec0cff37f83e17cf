"""The SQLite store: WAL, one transaction per state change, durable before it is acknowledged.

Durability (measured on this machine, issue 4): ``synchronous=NORMAL`` commits ≈ 14,700/s and
survives a killed process — the default, because a crash of the mock, not a power cut, is what
tests provoke; ``synchronous=FULL`` ≈ 3,700/s and survives a power cut too. One connection is
shared by all threads behind a lock: the mock serves one process, and SQLite serialises
writers anyway, so a pool would only add contention.

Example:
    >>> import tempfile, pathlib
    >>> from decimal import Decimal
    >>> from nhsa.mock.store import Balance
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "mock.db"
    >>> with SqliteStore(path) as store:
    ...     with store.transaction() as tx:
    ...         tx.put(Balance("H53010100001", "P1", "310", Decimal("99.50")))
    >>> with SqliteStore(path) as store, store.snapshot() as tx:
    ...     tx.get(Balance, "H53010100001", "P1", "310").balance
    Decimal('99.50')
"""

from __future__ import annotations

import itertools
import sqlite3
import threading
from collections.abc import Iterator, Mapping
from concurrent.futures import Executor, Future
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, TypeVar

from nhsa._sqlite import connect
from nhsa.mock.store._cache import QUERY_CACHED, Overlay, RecordCache
from nhsa.mock.store._checkpoint import Checkpointer, checkpoint
from nhsa.mock.store._errors import StoreError, StoreUsageError
from nhsa.mock.store._ids import IdBlocks
from nhsa.mock.store._protocol import UnitOfWork
from nhsa.mock.store._records import RECORD_TYPES
from nhsa.mock.store._rows import (
    columns,
    dump_json,
    encode_key,
    from_values,
    load_json,
    row_values,
    stored_form,
)
from nhsa.mock.store._schema import migrate
from nhsa.mock.store._sql import check_key, check_table, delete_tenant, where_clause

R = TypeVar("R")
Synchronous = Literal["normal", "full"]
_SQLITE_SYNC: dict[Synchronous, Literal["NORMAL", "FULL"]] = {"normal": "NORMAL", "full": "FULL"}


def _quoted(name: str) -> str:
    return f'"{name}"'


@dataclass(frozen=True)
class _Statements:
    """The SQL of one record type, columns in field order (rows are read by position)."""

    select: str
    get: str
    upsert: str
    delete: str
    key_positions: tuple[int, ...]


_STATEMENTS_BY_KIND: dict[type[Any], _Statements] = {}


def statements_of(kind: type[Any]) -> _Statements:
    """The statements of a record type (built once per type)."""
    found = _STATEMENTS_BY_KIND.get(kind)
    if found is None:
        found = _STATEMENTS_BY_KIND[kind] = _build_statements(kind)
    return found


def _build_statements(kind: type[Any]) -> _Statements:
    table = _quoted(kind.TABLE)
    names = columns(kind)
    key: tuple[str, ...] = kind.KEY
    where = " AND ".join(f"{_quoted(n)} = ?" for n in key)
    updates = ", ".join(f"{_quoted(n)} = excluded.{_quoted(n)}" for n in names if n not in key)
    select = f"SELECT {', '.join(map(_quoted, names))} FROM {table}"  # noqa: S608 - fixed names
    upsert = (
        f"INSERT INTO {table} ({', '.join(map(_quoted, names))}) "  # noqa: S608 - fixed names
        f"VALUES ({', '.join('?' for _ in names)}) "
        f"ON CONFLICT ({', '.join(map(_quoted, key))}) DO UPDATE SET {updates}"
    )
    return _Statements(
        select=select,
        get=f"{select} WHERE {where}",
        upsert=upsert,
        delete=f"DELETE FROM {table} WHERE {where}",  # noqa: S608 - fixed names
        key_positions=tuple(names.index(n) for n in key),
    )


class SqliteUnitOfWork:
    """A unit of work over the store's connection (see :class:`~nhsa.mock.store.UnitOfWork`).

    Created by :meth:`SqliteStore.transaction` / :meth:`SqliteStore.snapshot`, never directly.
    Reads by key and of the admin-written tables go through the store's
    :class:`~nhsa.mock.store._cache.RecordCache`; writes go to SQLite at once and to this unit's
    overlay, which the cache takes only when the transaction commits.
    """

    def __init__(
        self,
        connection: sqlite3.Connection,
        *,
        writable: bool,
        cache: RecordCache | None = None,
        overlay: Overlay | None = None,
        ids: IdBlocks | None = None,
    ) -> None:
        self._db = connection
        self._writable = writable
        self._savepoints = itertools.count(1)
        self._cache = cache if cache is not None else RecordCache(limit=0)
        self._overlay = overlay if overlay is not None else Overlay()
        self._ids = ids if ids is not None else IdBlocks(size=1)

    # -- ids ------------------------------------------------------------------------------

    def next_id(self) -> int:
        """The next value of the global id sequence."""
        self._check_writable("next_id")
        value = self._ids.take(self._db)
        if self._ids.reserved:
            self._overlay.reserved_ids()
        return value

    # -- records --------------------------------------------------------------------------

    def get(self, kind: type[R], *key: object) -> R | None:
        """The record with this primary key, or ``None``."""
        check_key(kind, key)
        encoded = tuple(encode_key(v) for v in key)
        written, value = self._overlay.lookup(kind, encoded)
        if written:
            return value  # type: ignore[return-value]
        cached = not self._overlay.bypass
        if cached:
            known, value = self._cache.record(kind, encoded)
            if known:
                return value  # type: ignore[return-value]
        row = self._db.execute(statements_of(kind).get, encoded).fetchone()
        record = None if row is None else from_values(kind, row)
        if cached:
            self._cache.remember(kind, encoded, record)
        return record

    def find(self, kind: type[R], **equals: object) -> list[R]:
        """Records whose columns equal the given values, in insertion order."""
        return self._select(kind, equals, None)

    def between(
        self, kind: type[R], column: str, low: object, high: object, **equals: object
    ) -> list[R]:
        """Records with ``low <= column <= high`` (as stored: ISO dates compare in order)."""
        return self._select(kind, equals, (column, low, high))

    def put(self, record: object) -> None:
        """Insert or replace by primary key (an update keeps the row's insertion order)."""
        self._check_writable("put")
        kind = type(record)
        check_table(kind)
        statements = statements_of(kind)
        values = row_values(record)
        self._db.execute(statements.upsert, values)
        key = tuple(values[i] for i in statements.key_positions)
        self._overlay.write(kind, key, stored_form(record, values))

    def delete(self, kind: type[Any], *key: object) -> bool:
        """Delete by primary key; whether a row was there."""
        self._check_writable("delete")
        check_key(kind, key)
        encoded = tuple(encode_key(v) for v in key)
        cursor = self._db.execute(statements_of(kind).delete, encoded)
        self._overlay.write(kind, encoded, None)
        return cursor.rowcount > 0

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        """A nested transaction; an exception undoes only the work inside the block."""
        name = f"sp{next(self._savepoints)}"
        self._db.execute(f"SAVEPOINT {name}")
        self._overlay.push()
        try:
            yield
        except BaseException:
            self._db.execute(f"ROLLBACK TO {name}")
            self._db.execute(f"RELEASE {name}")
            if self._overlay.drop():
                self._ids.drop()
            raise
        self._db.execute(f"RELEASE {name}")
        self._overlay.release()

    # -- transcript -----------------------------------------------------------------------

    def append_transcript(self, record: Mapping[str, Any]) -> int:
        """Append a record (``seq`` is assigned here and not stored in the JSON)."""
        self._check_writable("append_transcript")
        tenant = record.get("tenant")
        if not isinstance(tenant, str) or not tenant:
            raise StoreUsageError("a transcript record needs its tenant (fixmedins_code)")
        body = {key: value for key, value in record.items() if key != "seq"}
        cursor = self._db.execute(
            "INSERT INTO transcript (tenant, record) VALUES (?, ?)", (tenant, dump_json(body))
        )
        if cursor.lastrowid is None:  # pragma: no cover - SQLite always reports it for INSERT
            raise StoreError("SQLite did not report the transcript sequence number")
        return cursor.lastrowid

    def transcript(self, tenant: str, since_seq: int = 0) -> list[dict[str, Any]]:
        """The tenant's records after ``since_seq``, each with ``seq`` first."""
        rows = self._db.execute(
            "SELECT seq, record FROM transcript WHERE tenant = ? AND seq > ? ORDER BY seq",
            (tenant, since_seq),
        )
        return [{"seq": seq, **load_json(text)} for seq, text in rows]

    # -- tenants --------------------------------------------------------------------------

    def tenants(self) -> list[str]:
        """Every tenant with a registration or any recorded state."""
        found = {code for (code,) in self._db.execute("SELECT fixmedins_code FROM institutions")}
        for kind in RECORD_TYPES:
            if "tenant" in columns(kind):
                table = _quoted(kind.TABLE)
                found.update(t for (t,) in self._db.execute(f"SELECT DISTINCT tenant FROM {table}"))  # noqa: S608
        found.update(t for (t,) in self._db.execute("SELECT DISTINCT tenant FROM transcript"))
        return sorted(found)

    def reset_tenant(self, tenant: str, *, keep_registration: bool = True) -> dict[str, int]:
        """Delete the tenant's rows in every table (transcript included)."""
        self._check_writable("reset_tenant")
        self._overlay.behind_the_api()
        return delete_tenant(
            lambda sql, params: self._db.execute(sql, params).rowcount,
            tenant,
            keep_registration=keep_registration,
        )

    # -- helpers --------------------------------------------------------------------------

    def _select(
        self,
        kind: type[R],
        equals: Mapping[str, object],
        span: tuple[str, object, object] | None,
    ) -> list[R]:
        where, values = where_clause(kind, equals, span)
        where_key = tuple(zip(equals, values[: len(equals)], strict=True))
        cacheable = (
            span is None
            and kind in QUERY_CACHED
            and not self._overlay.bypass
            and kind not in self._overlay.kinds
        )
        if cacheable:
            cached = self._cache.query(kind, where_key)
            if cached is not None:
                return list(cached)
        rows = self._db.execute(f"{statements_of(kind).select}{where} ORDER BY rowid", values)
        found = [from_values(kind, row) for row in rows]
        if cacheable:
            self._cache.remember_query(kind, where_key, found)
        return list(found)

    def _check_writable(self, operation: str) -> None:
        if not self._writable:
            raise StoreUsageError(f"{operation}: a snapshot is read-only; use transaction()")


class SqliteStore:
    """The default store: one SQLite file in WAL mode (see the module docstring).

    Args:
        path: the database file (created with its parent folder if missing), or ``":memory:"``.
        synchronous: ``"normal"`` (default; survives a process kill) or ``"full"`` (survives a
            power cut, about 4× slower commits).
        checkpoint_every: seconds between WAL checkpoints on a background thread, so no request
            pays for one; ``None`` leaves them to SQLite (inside an occasional COMMIT).

    Raises :class:`~nhsa.mock.store.SchemaVersionError` for a file this version cannot use.

    Example:
        >>> store = SqliteStore(":memory:")
        >>> with store.transaction() as tx:
        ...     first, second = tx.next_id(), tx.next_id()
        >>> second - first
        1
        >>> store.close()
    """

    def __init__(
        self,
        path: Path | str,
        *,
        synchronous: Synchronous = "normal",
        checkpoint_every: float | None = 1.0,
    ) -> None:
        if synchronous not in ("normal", "full"):
            raise ValueError(f"synchronous: {synchronous!r} must be 'normal' or 'full'")
        self.path = path if str(path) == ":memory:" else Path(path)
        self.synchronous = synchronous
        if isinstance(self.path, Path):
            self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._db = connect(
                self.path, synchronous=_SQLITE_SYNC[synchronous], cached_statements=512
            )
        except sqlite3.OperationalError as exc:
            raise StoreError(f"cannot open database {path}: {exc}") from exc
        except sqlite3.DatabaseError as exc:
            raise _unusable(path, exc) from exc
        self._lock = threading.Lock()
        self._cache = RecordCache()
        self._ids = IdBlocks()
        self._owner: int | None = None
        try:
            migrate(self._db, path)
        except sqlite3.DatabaseError as exc:
            self._db.close()
            raise _unusable(path, exc) from exc
        except StoreError:
            self._db.close()
            raise
        self._checkpointer: Checkpointer | None = None
        if isinstance(self.path, Path) and checkpoint_every is not None:
            self._db.execute("PRAGMA wal_autocheckpoint=0")
            self._checkpointer = Checkpointer(self.path, every=checkpoint_every)
            self._checkpointer.start()

    def __enter__(self) -> SqliteStore:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[SqliteUnitOfWork]:
        """A read-write unit of work; commit on leaving the block, roll back on an exception."""
        with self._exclusive("BEGIN IMMEDIATE") as tx:
            yield tx

    @contextmanager
    def snapshot(self) -> Iterator[SqliteUnitOfWork]:
        """A read-only unit of work (a consistent view; writes raise)."""
        with self._exclusive("BEGIN DEFERRED", writable=False) as tx:
            yield tx

    def append_transcript(self, tx: UnitOfWork, record: Mapping[str, Any]) -> int:
        """Append a transcript record inside ``tx``; returns its ``seq``."""
        return tx.append_transcript(record)

    def transcript(self, tenant: str, since_seq: int = 0) -> list[dict[str, Any]]:
        """The tenant's transcript records after ``since_seq``."""
        with self.snapshot() as tx:
            return tx.transcript(tenant, since_seq)

    def checkpoint(self) -> tuple[int, int]:
        """Checkpoint the WAL now: (frames in the log, frames copied into the database)."""
        with self._lock:
            return checkpoint(self._db)

    def close(self) -> None:
        """Stop the checkpointer and close the connection (committed work is durable)."""
        if self._checkpointer is not None:
            self._checkpointer.stop()
        with self._lock:
            self._db.close()

    def begin(self) -> OpenTransaction:
        """A read-write transaction left open: the seam of group commit
        (:class:`~nhsa.mock.store.GroupCommit`).

        The store's lock is held until :meth:`OpenTransaction.commit` or
        :meth:`~OpenTransaction.rollback` ends it, which may happen on another thread
        (:meth:`~OpenTransaction.commit_on`): the event loop goes on reading requests while the
        COMMIT waits for the disk, and whoever else wants the connection waits for the COMMIT.

        Example:
            >>> store = SqliteStore(":memory:")
            >>> pending = store.begin()
            >>> first = pending.unit.next_id()
            >>> pending.commit()
            >>> store.close()
        """
        return self._open("BEGIN IMMEDIATE", writable=True)

    @contextmanager
    def _exclusive(self, begin: str, *, writable: bool = True) -> Iterator[SqliteUnitOfWork]:
        pending = self._open(begin, writable=writable)
        try:
            yield pending.unit
        except BaseException:
            pending.rollback()
            raise
        if writable:
            pending.commit()
        else:
            pending.rollback()

    def _open(self, begin: str, *, writable: bool) -> OpenTransaction:
        # The lock is not reentrant (a COMMIT handed to another thread must release it there),
        # so a nested transaction on this thread is refused before it could wait for itself.
        if self._owner == threading.get_ident():
            raise StoreUsageError(
                "a transaction is already open on this thread: use tx.savepoint() to nest"
            )
        self._lock.acquire()
        try:
            self._owner = threading.get_ident()
            self._db.execute(begin)
        except BaseException:
            self._owner = None
            self._lock.release()
            raise
        overlay = Overlay()
        unit = SqliteUnitOfWork(
            self._db, writable=writable, cache=self._cache, overlay=overlay, ids=self._ids
        )
        return OpenTransaction(self, unit, overlay)


class OpenTransaction:
    """A transaction of :meth:`SqliteStore.begin`, holding the store's lock until it ends.

    Attributes:
        unit: its unit of work.
    """

    def __init__(self, store: SqliteStore, unit: SqliteUnitOfWork, overlay: Overlay) -> None:
        self._store = store
        self.unit = unit
        self._overlay = overlay
        self._ended = False

    def commit(self) -> None:
        """COMMIT: durable when this returns. A failed COMMIT rolls everything back (nothing
        half-written remains, the connection is ready for the next transaction) and raises."""
        store = self._store
        try:
            store._db.execute("COMMIT")
        except BaseException:
            self.rollback()
            raise
        store._cache.commit(self._overlay)
        self._end()

    def commit_on(self, executor: Executor) -> Future[None]:
        """:meth:`commit` on ``executor``'s thread; this thread may use the store meanwhile
        (it then waits for the COMMIT, as every other thread does)."""
        self._store._owner = None
        return executor.submit(self.commit)

    def rollback(self) -> None:
        """Undo the whole transaction (a no-op once it has ended)."""
        if self._ended:
            return
        store = self._store
        try:
            if store._db.in_transaction:  # a failed COMMIT may have rolled back already
                store._db.execute("ROLLBACK")
        finally:
            store._cache.rollback(self._overlay)
            if self._overlay.reserved_in is not None:
                store._ids.drop()
            self._end()

    def _end(self) -> None:
        self._ended = True
        self._store._owner = None
        self._store._lock.release()


def _unusable(path: Path | str, exc: sqlite3.DatabaseError) -> StoreError:
    return StoreError(
        f"database {path} cannot be used: {exc} — is it a SQLite file written by nhsa-kit?"
    )

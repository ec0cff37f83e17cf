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
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, TypeVar

from nhsa.mock.store._checkpoint import Checkpointer, checkpoint
from nhsa.mock.store._errors import StoreError, StoreUsageError
from nhsa.mock.store._protocol import UnitOfWork
from nhsa.mock.store._records import RECORD_TYPES
from nhsa.mock.store._rows import columns, dump_json, encode_key, from_row, load_json, to_row
from nhsa.mock.store._schema import migrate

R = TypeVar("R")
Synchronous = Literal["normal", "full"]


def _quoted(name: str) -> str:
    return f'"{name}"'


_STATEMENTS: dict[type[Any], tuple[str, str, str]] = {}


def _statements(kind: type[Any]) -> tuple[str, str, str]:
    """The get, upsert and delete statements of a record type (built once per type)."""
    if kind not in _STATEMENTS:
        _STATEMENTS[kind] = _build_statements(kind)
    return _STATEMENTS[kind]


def _build_statements(kind: type[Any]) -> tuple[str, str, str]:
    table = _quoted(kind.TABLE)
    names = columns(kind)
    key: tuple[str, ...] = kind.KEY
    where = " AND ".join(f"{_quoted(n)} = ?" for n in key)
    updates = ", ".join(f"{_quoted(n)} = excluded.{_quoted(n)}" for n in names if n not in key)
    upsert = (
        f"INSERT INTO {table} ({', '.join(map(_quoted, names))}) "  # noqa: S608 - fixed names
        f"VALUES ({', '.join('?' for _ in names)}) "
        f"ON CONFLICT ({', '.join(map(_quoted, key))}) DO UPDATE SET {updates}"
    )
    return (
        f"SELECT * FROM {table} WHERE {where}",  # noqa: S608 - fixed names
        upsert,
        f"DELETE FROM {table} WHERE {where}",  # noqa: S608 - fixed names
    )


class SqliteUnitOfWork:
    """A unit of work over the store's connection (see :class:`~nhsa.mock.store.UnitOfWork`).

    Created by :meth:`SqliteStore.transaction` / :meth:`SqliteStore.snapshot`, never directly.
    """

    def __init__(self, connection: sqlite3.Connection, *, writable: bool) -> None:
        self._db = connection
        self._writable = writable
        self._savepoints = itertools.count(1)

    # -- ids ------------------------------------------------------------------------------

    def next_id(self) -> int:
        """The next value of the global id sequence."""
        self._check_writable("next_id")
        row = self._db.execute(
            "UPDATE id_sequence SET value = value + 1 WHERE name = 'global' RETURNING value"
        ).fetchone()
        return int(row[0])

    # -- records --------------------------------------------------------------------------

    def get(self, kind: type[R], *key: object) -> R | None:
        """The record with this primary key, or ``None``."""
        self._key_of(kind, key)
        row = self._db.execute(_statements(kind)[0], [encode_key(v) for v in key]).fetchone()
        return None if row is None else from_row(kind, dict(row))

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
        self._table(kind)
        self._db.execute(_statements(kind)[1], list(to_row(record).values()))

    def delete(self, kind: type[Any], *key: object) -> bool:
        """Delete by primary key; whether a row was there."""
        self._check_writable("delete")
        self._key_of(kind, key)
        cursor = self._db.execute(_statements(kind)[2], [encode_key(v) for v in key])
        return cursor.rowcount > 0

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        """A nested transaction; an exception undoes only the work inside the block."""
        name = f"sp{next(self._savepoints)}"
        self._db.execute(f"SAVEPOINT {name}")
        try:
            yield
        except BaseException:
            self._db.execute(f"ROLLBACK TO {name}")
            self._db.execute(f"RELEASE {name}")
            raise
        self._db.execute(f"RELEASE {name}")

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
        deleted: dict[str, int] = {}
        for kind in RECORD_TYPES:
            if "tenant" in columns(kind):
                table = _quoted(kind.TABLE)
                cursor = self._db.execute(f"DELETE FROM {table} WHERE tenant = ?", (tenant,))  # noqa: S608
                deleted[kind.TABLE] = cursor.rowcount
        cursor = self._db.execute("DELETE FROM transcript WHERE tenant = ?", (tenant,))
        deleted["transcript"] = cursor.rowcount
        if not keep_registration:
            cursor = self._db.execute(
                "DELETE FROM institutions WHERE fixmedins_code = ?", (tenant,)
            )
            deleted["institutions"] = cursor.rowcount
        return deleted

    # -- helpers --------------------------------------------------------------------------

    def _select(
        self,
        kind: type[R],
        equals: Mapping[str, object],
        span: tuple[str, object, object] | None,
    ) -> list[R]:
        known = columns(kind)
        names = list(equals) + ([span[0]] if span else [])
        unknown = [n for n in names if n not in known]
        if unknown:
            raise StoreUsageError(
                f"{kind.__name__} has no column {', '.join(unknown)}; columns: {', '.join(known)}"
            )
        clauses = [f"{_quoted(n)} = ?" for n in equals]
        values = [encode_key(v) for v in equals.values()]
        if span is not None:
            clauses.append(f"{_quoted(span[0])} BETWEEN ? AND ?")
            values += [encode_key(span[1]), encode_key(span[2])]
        where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
        rows = self._db.execute(
            f"SELECT * FROM {_quoted(self._table(kind))}{where} ORDER BY rowid",  # noqa: S608
            values,
        )
        return [from_row(kind, dict(row)) for row in rows]

    @staticmethod
    def _table(kind: type[Any]) -> str:
        if kind not in RECORD_TYPES:
            raise StoreUsageError(f"{kind.__name__} is not a record type of the mock store")
        table: str = kind.TABLE
        return table

    def _key_of(self, kind: type[Any], key: tuple[object, ...]) -> tuple[str, ...]:
        self._table(kind)
        names: tuple[str, ...] = kind.KEY
        if len(key) != len(names):
            raise StoreUsageError(
                f"{kind.__name__} takes a key of {len(names)} parts ({', '.join(names)}), "
                f"got {len(key)}"
            )
        return names

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
            self._db = sqlite3.connect(
                self.path, timeout=30, isolation_level=None, check_same_thread=False
            )
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open database {path}: {exc}") from exc
        self._db.row_factory = sqlite3.Row
        self._lock = threading.RLock()
        self._owner: int | None = None
        try:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute(f"PRAGMA synchronous={synchronous.upper()}")
            migrate(self._db, path)
        except sqlite3.DatabaseError as exc:
            self._db.close()
            raise StoreError(
                f"database {path} cannot be used: {exc} — is it a SQLite file written by nhsa-kit?"
            ) from exc
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

    @contextmanager
    def _exclusive(self, begin: str, *, writable: bool = True) -> Iterator[SqliteUnitOfWork]:
        with self._lock:
            if self._owner is not None:
                raise StoreUsageError(
                    "a transaction is already open on this thread: use tx.savepoint() to nest"
                )
            self._owner = threading.get_ident()
            try:
                self._db.execute(begin)
                try:
                    yield SqliteUnitOfWork(self._db, writable=writable)
                except BaseException:
                    self._db.execute("ROLLBACK")
                    raise
                self._db.execute("COMMIT" if writable else "ROLLBACK")
            finally:
                self._owner = None

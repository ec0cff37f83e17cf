"""The PostgreSQL store: the same records and units of work, shared by several server workers.

``nhsa mock serve --db postgresql://… --workers N`` runs N processes over one database, so
nothing a worker keeps in memory may decide a request alone. What this store does about each
kind of state (the rest of the platform's shared state is in :mod:`nhsa.mock.store._shared`):

- **business rows** (visits, fee lines, settlements, …) are read from the database every time:
  no record cache, since another worker may have written them a moment ago;
- **one tenant at a time**: the first time a transaction touches a tenant's rows it takes that
  tenant's advisory lock (``pg_advisory_xact_lock``), held until COMMIT. Requests of one
  institution are thus serialised across workers exactly as SQLite's single writer serialises
  them (the engine's read-check-write rules stay correct at READ COMMITTED), while different
  institutions run in parallel;
- **ids** come from the same ``id_sequence`` row; each worker reserves its own blocks;
- **durable before the answer**: COMMIT returns once the server has flushed its WAL
  (``synchronous_commit`` as the server sets it — ``on`` by default).

The schema is the SQLite migrations in PostgreSQL's dialect (:func:`postgres_dialect`), plus
an ``_order`` column per table that keeps insertion order (SQLite's ``rowid``).

Example::

    with PostgresStore("postgresql://nhsa:…@127.0.0.1/nhsa_mock") as store:
        with store.transaction() as tx:
            tx.put(Balance("H53010100001", "P1", "310", Decimal("99.50")))
"""

from __future__ import annotations

import itertools
import re
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from types import TracebackType
from typing import TYPE_CHECKING, Any, Final, TypeVar

from nhsa._postgres import DatabaseUnavailable, connect, lock_key, masked, qmark
from nhsa.mock.store._errors import SchemaVersionError, StoreError, StoreUsageError
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
)
from nhsa.mock.store._schema import LATEST, MIGRATIONS
from nhsa.mock.store._shared import SHARED_SCHEMA, SharedState
from nhsa.mock.store._sql import check_key, check_table, delete_tenant, where_clause
from nhsa.mock.store._sqlite import statements_of

if TYPE_CHECKING:
    import psycopg

__all__ = ["PostgresStore", "PostgresUnitOfWork", "postgres_dialect"]

R = TypeVar("R")
_TENANT_KEYS: Final = ("tenant", "fixmedins_code")
_CREATE_TABLE: Final = re.compile(r"CREATE TABLE (?P<name>\w+) \((?P<body>.*?)\);", re.S)


def postgres_dialect(script: str) -> str:
    """A migration written for SQLite, in PostgreSQL's dialect (with an ``_order`` column).

    Example:
        >>> postgres_dialect("CREATE TABLE t (a TEXT NOT NULL, b BLOB);")
        'CREATE TABLE t (a TEXT NOT NULL, b BYTEA, _order BIGSERIAL);'
    """
    translated = script.replace("INTEGER PRIMARY KEY AUTOINCREMENT", "BIGSERIAL PRIMARY KEY")
    translated = re.sub(r"\bBLOB\b", "BYTEA", translated)
    translated = re.sub(r"\bINTEGER\b", "BIGINT", translated)

    def ordered(match: re.Match[str]) -> str:
        body = match["body"]
        if "BIGSERIAL PRIMARY KEY" in body:  # the transcript: seq is its order already
            return match[0]
        return f"CREATE TABLE {match['name']} ({body.rstrip()}, _order BIGSERIAL);"

    return _CREATE_TABLE.sub(ordered, translated)


class _Cursor:
    """``?``-placeholder statements on a psycopg connection (what :class:`IdBlocks` needs)."""

    def __init__(self, connection: psycopg.Connection[tuple[Any, ...]]) -> None:
        self._connection = connection

    def execute(self, sql: str, params: Sequence[Any] = ()) -> psycopg.Cursor[tuple[Any, ...]]:
        return self._connection.execute(qmark(sql), params)


class PostgresUnitOfWork:
    """A unit of work on the store's connection (see :class:`~nhsa.mock.store.UnitOfWork`).

    Created by :meth:`PostgresStore.transaction` / :meth:`PostgresStore.snapshot`.
    """

    def __init__(
        self,
        connection: psycopg.Connection[tuple[Any, ...]],
        *,
        writable: bool,
        ids: IdBlocks,
        namespace: str,
    ) -> None:
        self._db = _Cursor(connection)
        self._connection = connection
        self._writable = writable
        self._ids = ids
        self._namespace = namespace
        self._locked: set[str] = set()
        self._savepoints = itertools.count(1)
        self._depth = 0
        self.reserved_at: int | None = None
        """The savepoint depth that reserved a block of ids, if any (undone on its rollback)."""
        self.wrote: set[type[Any]] = set()
        """Record types this unit wrote (the store tells the other workers about some)."""
        self.behind_the_api = False

    # -- the tenant lock ------------------------------------------------------------------

    def _touch(self, tenant: object) -> None:
        """Take ``tenant``'s lock before the first read or write of its rows."""
        if not self._writable or not isinstance(tenant, str) or tenant in self._locked:
            return
        key = lock_key(self._namespace, "mock-tenant", tenant)
        self._connection.execute("SELECT pg_advisory_xact_lock(%s)", (key,))
        self._locked.add(tenant)

    # -- ids ------------------------------------------------------------------------------

    def next_id(self) -> int:
        """The next value of the global id sequence."""
        self._check_writable("next_id")
        value = self._ids.take(self._db)  # type: ignore[arg-type]  # duck-typed cursor
        if self._ids.reserved and self.reserved_at is None:
            self.reserved_at = self._depth
        return value

    # -- records --------------------------------------------------------------------------

    def get(self, kind: type[R], *key: object) -> R | None:
        """The record with this primary key, or ``None``."""
        check_key(kind, key)
        self._touch(key[0])
        encoded = tuple(encode_key(v) for v in key)
        row = self._db.execute(statements_of(kind).get, encoded).fetchone()
        return None if row is None else from_values(kind, row)

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
        values = row_values(record)
        self._touch(values[0])
        self._db.execute(statements_of(kind).upsert, values)
        self.wrote.add(kind)

    def delete(self, kind: type[Any], *key: object) -> bool:
        """Delete by primary key; whether a row was there."""
        self._check_writable("delete")
        check_key(kind, key)
        self._touch(key[0])
        encoded = tuple(encode_key(v) for v in key)
        cursor = self._db.execute(statements_of(kind).delete, encoded)
        self.wrote.add(kind)
        return cursor.rowcount > 0

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        """A nested transaction; an exception undoes only the work inside the block."""
        name = f"sp{next(self._savepoints)}"
        self._connection.execute(f"SAVEPOINT {name}")
        self._depth += 1
        try:
            yield
        except BaseException:
            self._connection.execute(f"ROLLBACK TO SAVEPOINT {name}")
            self._connection.execute(f"RELEASE SAVEPOINT {name}")
            if self.reserved_at is not None and self.reserved_at >= self._depth:
                self._ids.drop()
                self.reserved_at = None
            raise
        finally:
            self._depth -= 1
        self._connection.execute(f"RELEASE SAVEPOINT {name}")
        if self.reserved_at is not None and self.reserved_at > self._depth:
            self.reserved_at = self._depth

    # -- transcript -----------------------------------------------------------------------

    def append_transcript(self, record: Mapping[str, Any]) -> int:
        """Append a record (``seq`` is assigned here and not stored in the JSON)."""
        self._check_writable("append_transcript")
        tenant = record.get("tenant")
        if not isinstance(tenant, str) or not tenant:
            raise StoreUsageError("a transcript record needs its tenant (fixmedins_code)")
        body = {key: value for key, value in record.items() if key != "seq"}
        row = self._db.execute(
            "INSERT INTO transcript (tenant, record) VALUES (?, ?) RETURNING seq",
            (tenant, dump_json(body)),
        ).fetchone()
        if row is None:  # pragma: no cover - INSERT ... RETURNING always returns the row
            raise StoreError("PostgreSQL did not report the transcript sequence number")
        return int(row[0])

    def transcript(self, tenant: str, since_seq: int = 0) -> list[dict[str, Any]]:
        """The tenant's records after ``since_seq``, each with ``seq`` first."""
        rows = self._db.execute(
            "SELECT seq, record FROM transcript WHERE tenant = ? AND seq > ? ORDER BY seq",
            (tenant, since_seq),
        ).fetchall()
        return [{"seq": int(seq), **load_json(str(text))} for seq, text in rows]

    # -- tenants --------------------------------------------------------------------------

    def tenants(self) -> list[str]:
        """Every tenant with a registration or any recorded state."""
        found = {
            str(code)
            for (code,) in self._db.execute("SELECT fixmedins_code FROM institutions").fetchall()
        }
        for kind in RECORD_TYPES:
            if "tenant" in columns(kind):
                sql = f'SELECT DISTINCT tenant FROM "{kind.TABLE}"'  # noqa: S608 - fixed names
                found.update(str(t) for (t,) in self._db.execute(sql).fetchall())
        rows = self._db.execute("SELECT DISTINCT tenant FROM transcript").fetchall()
        found.update(str(t) for (t,) in rows)
        return sorted(found)

    def reset_tenant(self, tenant: str, *, keep_registration: bool = True) -> dict[str, int]:
        """Delete the tenant's rows in every table (transcript included)."""
        self._check_writable("reset_tenant")
        self._touch(tenant)
        self.behind_the_api = True
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
        for name in _TENANT_KEYS:
            if name in equals:
                self._touch(equals[name])
        sql = f"{statements_of(kind).select}{where} ORDER BY _order"
        return [from_values(kind, row) for row in self._db.execute(sql, values).fetchall()]

    def _check_writable(self, operation: str) -> None:
        if not self._writable:
            raise StoreUsageError(f"{operation}: a snapshot is read-only; use transaction()")


class PostgresStore:
    """The mock's state in PostgreSQL, shareable by several server workers (module docstring).

    Args:
        url: ``postgresql://user:password@host:port/database``; the schema is created or
            upgraded on open (one opener at a time).

    Raises :class:`~nhsa.mock.store.StoreError` naming the URL (password masked) when the
    database cannot be reached or holds a newer schema.
    """

    def __init__(self, url: str) -> None:
        self.path = masked(url)
        self.url = url
        try:
            self._db = connect(url, purpose="mock store")
        except DatabaseUnavailable as error:
            raise StoreError(f"cannot open database {error}") from None
        self._lock = threading.RLock()
        self._ids = IdBlocks()
        self._owner: int | None = None
        row = self._db.execute("SELECT current_schema()").fetchone()
        self.namespace = str(row[0]) if row else ""
        try:
            self._migrate()
        except Exception:
            self._db.close()
            raise
        self.shared = SharedState(self._db, self._lock, self.namespace)

    def __enter__(self) -> PostgresStore:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[PostgresUnitOfWork]:
        """A read-write unit of work; commit on leaving the block, roll back on an exception."""
        with self._unit("BEGIN", writable=True) as tx:
            yield tx

    @contextmanager
    def snapshot(self) -> Iterator[PostgresUnitOfWork]:
        """A read-only unit of work: one consistent view (REPEATABLE READ, READ ONLY)."""
        with self._unit("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", writable=False) as tx:
            yield tx

    def append_transcript(self, tx: UnitOfWork, record: Mapping[str, Any]) -> int:
        """Append a transcript record inside ``tx``; returns its ``seq``."""
        return tx.append_transcript(record)

    def transcript(self, tenant: str, since_seq: int = 0) -> list[dict[str, Any]]:
        """The tenant's transcript records after ``since_seq``."""
        with self.snapshot() as tx:
            return tx.transcript(tenant, since_seq)

    def close(self) -> None:
        """Close the connection (committed work is durable)."""
        with self._lock:
            self._db.close()

    @contextmanager
    def _unit(self, begin: str, *, writable: bool) -> Iterator[PostgresUnitOfWork]:
        with self._lock:
            if self._owner is not None:
                raise StoreUsageError(
                    "a transaction is already open on this thread: use tx.savepoint() to nest"
                )
            self._owner = threading.get_ident()
            try:
                self._db.execute(begin)
                tx = PostgresUnitOfWork(
                    self._db, writable=writable, ids=self._ids, namespace=self.namespace
                )
                try:
                    yield tx
                    if tx.wrote & self.shared.watched or tx.behind_the_api:
                        self.shared.changed_in(self._db)
                except BaseException:
                    self._db.execute("ROLLBACK")
                    if tx.reserved_at is not None:
                        self._ids.drop()
                    raise
                self._db.execute("COMMIT" if writable else "ROLLBACK")
            finally:
                self._owner = None

    def _migrate(self) -> None:
        with self._db.transaction():
            self._db.execute(
                "SELECT pg_advisory_xact_lock(%s)", (lock_key(self.namespace, "mock-schema"),)
            )
            found = self._db.execute("SELECT to_regclass('schema_version')").fetchone()
            if found is None or found[0] is None:
                tables = self._db.execute(
                    "SELECT count(*) FROM information_schema.tables"
                    " WHERE table_schema = current_schema()"
                ).fetchone()
                if tables and int(str(tables[0])) > 0:
                    raise SchemaVersionError(
                        f"database {self.path} already has tables in schema {self.namespace} "
                        "and no schema_version: point --db at an empty database or schema"
                    )
                self._db.execute("CREATE TABLE schema_version (version BIGINT NOT NULL)")
                version = 0
            else:
                row = self._db.execute("SELECT max(version) FROM schema_version").fetchone()
                version = int(str(row[0])) if row and row[0] is not None else 0
            if version > LATEST:
                raise SchemaVersionError(
                    f"database {self.path} has schema version {version}, but this nhsa-kit "
                    f"understands versions up to {LATEST}: upgrade nhsa-kit"
                )
            for number, _, script in MIGRATIONS:
                if version < number:
                    for statement in filter(str.strip, postgres_dialect(script).split(";")):
                        self._db.execute(statement)
            if version < LATEST:
                self._db.execute("DELETE FROM schema_version")
                self._db.execute("INSERT INTO schema_version (version) VALUES (%s)", (LATEST,))
            for statement in filter(str.strip, SHARED_SCHEMA.split(";")):
                self._db.execute(statement)

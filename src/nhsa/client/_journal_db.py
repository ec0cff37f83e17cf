"""The journal's two databases behind one small seam: SQLite on one machine, PostgreSQL for many.

:class:`JournalDatabase` is everything :class:`~nhsa.client.Journal` asks of a database:
autocommit writes that are durable when they return, reads, one exclusive section per visit
guard, and the guard holder's *beacon* — how another machine tells a live holder from a crashed
one. The SQL itself is written once, with ``?`` placeholders, in the journal.

=====================  =================================  ======================================
                       :class:`SqliteJournal`             :class:`PostgresJournal`
=====================  =================================  ======================================
shared by              processes on one machine (a file)  every window and kiosk, any machine
durable when           ``synchronous=FULL`` commit        ``COMMIT`` (server's WAL flushed)
exclusive section      ``BEGIN IMMEDIATE`` (file lock)    ``pg_advisory_xact_lock`` per visit
holder on another      assumed alive (only its host can   alive while its session holds the
host                   tell)                              beacon (a session advisory lock)
lost connection        n/a                                reconnect and retry, then JournalError
=====================  =================================  ======================================

Every statement the journal runs is idempotent (inserts are ``ON CONFLICT DO NOTHING``, the rest
are keyed updates and deletes), so repeating one after a lost connection cannot double it.

Example:
    >>> db = SqliteJournal(":memory:")
    >>> db.write("CREATE TABLE t (x INTEGER)", ())
    -1
    >>> db.write("INSERT INTO t (x) VALUES (?)", (7,)), db.read("SELECT x FROM t", ())
    (1, (['x'], [(7,)]))
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Protocol, TypeVar

from nhsa._postgres import DatabaseUnavailable, connect, is_connection_lost, lock_key, masked, qmark
from nhsa._sqlite import apply_schema
from nhsa._sqlite import connect as sqlite_connect

if TYPE_CHECKING:
    import psycopg

__all__ = [
    "JournalDatabase",
    "PostgresJournal",
    "Rows",
    "SqliteJournal",
    "Statements",
    "database_errors",
]

T = TypeVar("T")
Rows = tuple[list[str], list[tuple[Any, ...]]]
"""Column names and rows of a query."""


def database_errors() -> tuple[type[Exception], ...]:
    """The exceptions a journal database raises (psycopg's only when the driver is installed).

    Example:
        >>> sqlite3.Error in database_errors()
        True
    """
    try:
        import psycopg  # noqa: PLC0415 - optional driver
    except ImportError:
        return (sqlite3.Error, DatabaseUnavailable)
    return (sqlite3.Error, DatabaseUnavailable, psycopg.Error)


class Statements(Protocol):
    """What runs inside an exclusive section (the section's own connection)."""

    def one(self, sql: str, params: Sequence[Any]) -> tuple[Any, ...] | None:
        """The first row of a query, or ``None``."""
        ...

    def run(self, sql: str, params: Sequence[Any]) -> None:
        """Run a statement."""
        ...


class JournalDatabase(Protocol):
    """The journal's database (see the module docstring)."""

    where: str
    """The file, or the URL with its password masked: for messages."""

    def write(self, sql: str, params: Sequence[Any]) -> int:
        """Run one statement in its own transaction, durable on return; rows changed."""
        ...

    def read(self, sql: str, params: Sequence[Any]) -> Rows:
        """Run a query."""
        ...

    def schema_version(self) -> int:
        """The journal schema version the database holds (0 for a new one)."""
        ...

    def apply_schema(self, script: str, version: int) -> None:
        """Create the tables (``IF NOT EXISTS`` statements) and record ``version``, atomically."""
        ...

    def exclusive(self, *name: str) -> contextlib.AbstractContextManager[Statements]:
        """A transaction that only one holder of ``name`` may be in at a time, on any process."""
        ...

    def take_beacon(self, *name: str) -> None:
        """Show that this process holds ``name`` for as long as it lives (call inside
        :meth:`exclusive`, so the guard row and its beacon appear together)."""
        ...

    def drop_beacon(self, *name: str) -> None:
        """Stop showing ``name`` (the guard was released)."""
        ...

    def beacon_shown(self, *name: str) -> bool:
        """Whether some live session shows ``name`` (call inside :meth:`exclusive`)."""
        ...

    def close(self) -> None:
        """Release the database."""
        ...


class _SqliteStatements:
    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def one(self, sql: str, params: Sequence[Any]) -> tuple[Any, ...] | None:
        row: tuple[Any, ...] | None = self._db.execute(sql, params).fetchone()
        return row

    def run(self, sql: str, params: Sequence[Any]) -> None:
        self._db.execute(sql, params)


class SqliteJournal:
    """The journal in one SQLite file (WAL, ``synchronous=FULL``), shared by the processes of
    one machine; ``":memory:"`` for throw-away use.

    Raises :class:`sqlite3.Error` when the file cannot be opened.
    """

    def __init__(self, path: str | Path) -> None:
        self.where = str(path)
        if self.where != ":memory:":
            Path(self.where).parent.mkdir(parents=True, exist_ok=True)
        # FULL: a row the SDK relied on before sending must survive a power cut.
        self.connection = sqlite_connect(self.where, synchronous="FULL")
        self._lock = threading.RLock()

    def write(self, sql: str, params: Sequence[Any]) -> int:
        """See :class:`JournalDatabase`."""
        with self._lock:
            return self.connection.execute(sql, params).rowcount

    def read(self, sql: str, params: Sequence[Any]) -> Rows:
        """See :class:`JournalDatabase`."""
        with self._lock:
            cursor = self.connection.execute(sql, params)
            return [column[0] for column in cursor.description], cursor.fetchall()

    def schema_version(self) -> int:
        """See :class:`JournalDatabase` (``PRAGMA user_version``)."""
        with self._lock:
            return int(self.connection.execute("PRAGMA user_version").fetchone()[0])

    def apply_schema(self, script: str, version: int) -> None:
        """See :class:`JournalDatabase`."""
        with self._lock:
            apply_schema(self.connection, f"{script}\nPRAGMA user_version={version};")

    @contextlib.contextmanager
    def exclusive(self, *name: str) -> Iterator[Statements]:
        """The file's write lock (``BEGIN IMMEDIATE``): one writer at a time, whatever ``name``."""
        del name  # SQLite has one write lock per file
        with self._lock:
            self.connection.execute("BEGIN IMMEDIATE")
            try:
                yield _SqliteStatements(self.connection)
            except BaseException:
                self.connection.execute("ROLLBACK")
                raise
            self.connection.execute("COMMIT")

    def take_beacon(self, *name: str) -> None:
        """Nothing to do: on one machine the holder's process id is the beacon."""
        del name

    def drop_beacon(self, *name: str) -> None:
        """Nothing to do (see :meth:`take_beacon`)."""
        del name

    def beacon_shown(self, *name: str) -> bool:
        """A holder on another host is assumed alive: only that host can tell."""
        del name
        return True

    def close(self) -> None:
        """Close the file."""
        with self._lock:
            self.connection.close()


_RECONNECT_PAUSE: Final = 0.2


class _PostgresStatements:
    def __init__(self, connection: psycopg.Connection[tuple[object, ...]]) -> None:
        self._connection = connection

    def one(self, sql: str, params: Sequence[Any]) -> tuple[Any, ...] | None:
        return self._connection.execute(qmark(sql), params).fetchone()

    def run(self, sql: str, params: Sequence[Any]) -> None:
        self._connection.execute(qmark(sql), params)


class PostgresJournal:
    """The journal in a PostgreSQL database, shared by every window and kiosk on any machine.

    Args:
        url: ``postgresql://user:password@host:port/database`` (libpq parameters allowed).
        reconnect_seconds: how long a statement whose connection was lost keeps reconnecting
            and retrying before it fails.

    Raises :class:`~nhsa._postgres.DatabaseUnavailable` when the database cannot be reached.
    """

    def __init__(self, url: str, *, reconnect_seconds: float = 10.0) -> None:
        self.where = masked(url)
        self._url = url
        self._reconnect_seconds = reconnect_seconds
        self._lock = threading.RLock()
        self._beacons: set[int] = set()
        self.connection = connect(url, purpose="journal")
        # Advisory locks are per database, not per schema: two journals in two schemas of one
        # database must not share lock keys.
        row = self.connection.execute("SELECT current_schema()").fetchone()
        self._namespace = str(row[0]) if row else ""

    def write(self, sql: str, params: Sequence[Any]) -> int:
        """See :class:`JournalDatabase`."""
        return self._retrying(lambda c: c.execute(qmark(sql), params).rowcount)

    def read(self, sql: str, params: Sequence[Any]) -> Rows:
        """See :class:`JournalDatabase`."""

        def query(connection: psycopg.Connection[tuple[object, ...]]) -> Rows:
            cursor = connection.execute(qmark(sql), params)
            names = [column.name for column in cursor.description or ()]
            return names, cursor.fetchall()

        return self._retrying(query)

    def schema_version(self) -> int:
        """See :class:`JournalDatabase` (the ``journal_schema`` table)."""

        def version(connection: psycopg.Connection[tuple[object, ...]]) -> int:
            found = connection.execute("SELECT to_regclass('journal_schema')").fetchone()
            if found is None or found[0] is None:
                return 0
            row = connection.execute("SELECT max(version) FROM journal_schema").fetchone()
            return int(str(row[0])) if row and row[0] is not None else 0

        return self._retrying(version)

    def apply_schema(self, script: str, version: int) -> None:
        """See :class:`JournalDatabase`; one process at a time creates the tables."""
        with self.exclusive("journal-schema") as section:
            for statement in filter(str.strip, script.split(";")):
                section.run(statement, ())
            section.run("CREATE TABLE IF NOT EXISTS journal_schema (version INTEGER NOT NULL)", ())
            section.run("DELETE FROM journal_schema", ())
            section.run("INSERT INTO journal_schema (version) VALUES (?)", (version,))

    @contextlib.contextmanager
    def exclusive(self, *name: str) -> Iterator[Statements]:
        """A transaction holding the advisory lock of ``name`` (released at its end)."""
        with self._lock:
            connection = self._live_connection()
            with connection.transaction():
                connection.execute("SELECT pg_advisory_xact_lock(%s)", (self._key(*name),))
                yield _PostgresStatements(connection)

    def take_beacon(self, *name: str) -> None:
        """A session advisory lock: it lasts until released or until this session ends."""
        key = self._key("beacon", *name)
        with self._lock:
            self.connection.execute("SELECT pg_advisory_lock(%s)", (key,))
            self._beacons.add(key)

    def drop_beacon(self, *name: str) -> None:
        """Release the beacon (nothing to do if the session that held it is gone)."""
        key = self._key("beacon", *name)
        with self._lock:
            if key in self._beacons:
                self._beacons.discard(key)
                with contextlib.suppress(Exception):
                    self.connection.execute("SELECT pg_advisory_unlock(%s)", (key,))

    def beacon_shown(self, *name: str) -> bool:
        """Whether another session holds the beacon (a try-lock that fails means it does)."""
        key = self._key("beacon", *name)
        with self._lock:
            row = self.connection.execute("SELECT pg_try_advisory_xact_lock(%s)", (key,)).fetchone()
        return not (row and row[0])

    def _key(self, *name: str) -> int:
        return lock_key(self._namespace, *name)

    def close(self) -> None:
        """Close the connection (its beacons go with it)."""
        with self._lock:
            self.connection.close()

    # -- a lost connection ---------------------------------------------------------------

    def _retrying(self, work: Callable[[psycopg.Connection[tuple[object, ...]]], T]) -> T:
        """Run ``work``; after a lost connection reconnect and run it again, until the deadline.

        Only idempotent statements come here, so a statement that did commit before the
        connection broke is harmless to repeat.
        """
        deadline = time.monotonic() + self._reconnect_seconds
        while True:
            with self._lock:
                try:
                    return work(self._live_connection())
                except Exception as error:
                    if not is_connection_lost(error) or time.monotonic() >= deadline:
                        raise
            time.sleep(_RECONNECT_PAUSE)

    def _live_connection(self) -> psycopg.Connection[tuple[object, ...]]:
        """The connection, opened again if it was lost (re-showing the beacons still ours)."""
        if not self.connection.closed and not self.connection.broken:
            return self.connection
        try:
            self.connection = connect(self._url, purpose="journal")
        except DatabaseUnavailable as error:
            import psycopg  # noqa: PLC0415 - connect() succeeded once, so the driver is there

            raise psycopg.OperationalError(str(error)) from None
        for key in list(self._beacons):
            row = self.connection.execute("SELECT pg_try_advisory_lock(%s)", (key,)).fetchone()
            if not (row and row[0]):  # taken over while we were away: that guard is lost
                self._beacons.discard(key)
        return self.connection

"""Opening a SQLite file that several processes may create at the same moment.

The msgid counter and the client journal are shared by every process of one HIS, and the mock
platform's database by every thread of the server. SQLite waits out a busy lock (the
connection's ``timeout``) almost everywhere, but not in two places that matter on a new file:

- switching the file to WAL needs an exclusive lock, and when another process holds any lock
  at that moment SQLite answers "database is locked" at once, without waiting;
- a schema statement in autocommit mode first reads, then writes; if another process wrote in
  between, SQLite cannot upgrade the stale read and again answers at once.

So :func:`connect` retries the WAL switch until the timeout, and :func:`apply_schema` runs the
schema inside ``BEGIN IMMEDIATE``, which takes the write lock first (and does wait).

Example:
    >>> db = connect(":memory:", synchronous="FULL")
    >>> apply_schema(db, "CREATE TABLE IF NOT EXISTS t (x INTEGER);")
    >>> db.execute("SELECT count(*) FROM t").fetchone()
    (0,)
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import Literal

__all__ = ["apply_schema", "connect"]

Synchronous = Literal["NORMAL", "FULL"]

_RETRY_PAUSE = 0.005


def connect(
    path: str | Path,
    *,
    synchronous: Synchronous,
    timeout: float = 30.0,
    cached_statements: int = 128,
) -> sqlite3.Connection:
    """A connection in WAL mode with ``synchronous`` set, in autocommit (``BEGIN`` is explicit).

    Waits up to ``timeout`` seconds for other connections' locks, the WAL switch included.
    Raises :class:`sqlite3.Error` when the file cannot be opened or stays locked.
    """
    db = sqlite3.connect(
        path,
        timeout=timeout,
        isolation_level=None,
        check_same_thread=False,
        cached_statements=cached_statements,
    )
    try:
        _switch_to_wal(db, deadline=time.monotonic() + timeout)
        db.execute(f"PRAGMA synchronous={synchronous}")
    except BaseException:
        db.close()
        raise
    return db


def apply_schema(db: sqlite3.Connection, script: str) -> None:
    """Run ``script`` (``CREATE ... IF NOT EXISTS`` statements) atomically under the write lock."""
    try:
        db.executescript(f"BEGIN IMMEDIATE;\n{script}\nCOMMIT;")
    except BaseException:
        if db.in_transaction:
            db.execute("ROLLBACK")
        raise


def _switch_to_wal(db: sqlite3.Connection, *, deadline: float) -> None:
    while True:
        try:
            db.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as error:
            if not _is_busy(error) or time.monotonic() >= deadline:
                raise
        time.sleep(_RETRY_PAUSE)


def _is_busy(error: sqlite3.OperationalError) -> bool:
    code = getattr(error, "sqlite_errorcode", None)
    return code is not None and code & 0xFF in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)

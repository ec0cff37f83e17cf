"""One way to open the store ``--db`` names: a SQLite file, or a ``postgresql://`` URL.

Example:
    >>> store = open_store(":memory:")
    >>> type(store).__name__
    'SqliteStore'
    >>> store.close()
"""

from __future__ import annotations

from pathlib import Path

from nhsa._postgres import is_postgres_url
from nhsa.mock.store._postgres import PostgresStore
from nhsa.mock.store._sqlite import SqliteStore, Synchronous

__all__ = ["open_store"]


def open_store(
    target: str | Path, *, synchronous: Synchronous = "normal"
) -> SqliteStore | PostgresStore:
    """The store at ``target``; ``synchronous`` applies to SQLite (PostgreSQL's own setting,
    ``synchronous_commit``, decides there). Raises ``StoreError`` naming the file or URL."""
    if is_postgres_url(target):
        return PostgresStore(str(target))
    return SqliteStore(target, synchronous=synchronous)

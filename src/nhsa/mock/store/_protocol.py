"""The store's interface: what the engine and the server may ask of any database.

A :class:`Store` hands out units of work; a :class:`UnitOfWork` reads and writes records by
their table and key (see :mod:`nhsa.mock.store._records`), hands out ids from one global
sequence, nests savepoints, and appends transcript records. A PostgreSQL store implements the
same two protocols; nothing above the store knows which database it talks to.

Example::

    with store.transaction() as tx:          # leaving the block commits
        visit = tx.get(Visit, tenant, mdtrt_id)
        tx.put(replace(visit, status=REGISTERED))
    # an exception inside the block rolls everything back
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import AbstractContextManager
from typing import Any, Protocol, TypeVar

R = TypeVar("R")


class UnitOfWork(Protocol):
    """One database transaction. Records are frozen dataclasses; ``put`` inserts or replaces."""

    def next_id(self) -> int:
        """The next value of the global id sequence (never repeats, survives restarts)."""
        ...

    def get(self, kind: type[R], *key: object) -> R | None:
        """The record of ``kind`` with this primary key (values in ``kind.KEY`` order)."""
        ...

    def find(self, kind: type[R], **equals: object) -> list[R]:
        """Records whose columns equal the given values, in insertion order."""
        ...

    def between(
        self, kind: type[R], column: str, low: object, high: object, **equals: object
    ) -> list[R]:
        """Records with ``low <= column <= high`` and the given equalities, by insertion order."""
        ...

    def put(self, record: object) -> None:
        """Insert the record, or replace the one with the same primary key."""
        ...

    def delete(self, kind: type[Any], *key: object) -> bool:
        """Delete the record with this key; whether there was one."""
        ...

    def savepoint(self) -> AbstractContextManager[None]:
        """A nested transaction: an exception leaving the block undoes only what it did."""
        ...

    def append_transcript(self, record: Mapping[str, Any]) -> int:
        """Append one transcript record (it must carry ``tenant``); returns its ``seq``."""
        ...

    def transcript(self, tenant: str, since_seq: int = 0) -> list[dict[str, Any]]:
        """The tenant's transcript records with ``seq`` greater than ``since_seq``, in order."""
        ...

    def tenants(self) -> list[str]:
        """Every tenant with registered data or recorded state, sorted."""
        ...

    def reset_tenant(self, tenant: str, *, keep_registration: bool = True) -> dict[str, int]:
        """Delete a tenant's state (and its registration unless kept); rows deleted per table."""
        ...


class Store(Protocol):
    """A durable store: units of work, and the transcript log the server writes and exports."""

    def transaction(self) -> AbstractContextManager[UnitOfWork]:
        """A read-write unit of work; leaving the block commits, an exception rolls back."""
        ...

    def snapshot(self) -> AbstractContextManager[UnitOfWork]:
        """A read-only unit of work (writes raise); a consistent view for reports and exports."""
        ...

    def append_transcript(self, tx: UnitOfWork, record: Mapping[str, Any]) -> int:
        """Append a transcript record inside ``tx`` (the same transaction as the state change)."""
        ...

    def transcript(self, tenant: str, since_seq: int = 0) -> list[dict[str, Any]]:
        """The tenant's transcript records after ``since_seq``, each with its ``seq``."""
        ...

    def close(self) -> None:
        """Release the database; the store is unusable afterwards."""
        ...

"""What the store has committed, kept in memory so that a request reads SQLite less.

Two kinds of entries, both holding only **committed** state:

- records by primary key (``get``): each write of a transaction goes into that transaction's
  overlay — one layer per open savepoint — and reaches the cache only when the transaction
  commits; a rolled-back layer is simply dropped. A read looks in the overlays first, then
  here, then in SQLite (and keeps what it found, which is committed state since no overlay
  holds that key);
- whole query results (``find``) of the few tables every request reads and only the admin
  API writes (:data:`QUERY_CACHED`): dropped for a table as soon as a transaction writes it.

The cache trusts that this store is the only writer of its database file, as the rest of the
mock does (the app's directory of institutions is in memory too). A transaction that writes
behind the record API (``reset_tenant``) clears everything when it ends.

Example:
    >>> from nhsa.mock.store._records import Balance
    >>> cache = RecordCache(limit=10)
    >>> overlay = Overlay()
    >>> overlay.write(Balance, ("H1", "P1", "310"), "row")
    >>> cache.commit(overlay)
    >>> cache.record(Balance, ("H1", "P1", "310"))
    (True, 'row')
"""

from __future__ import annotations

from typing import Any, Final

from nhsa.mock.store._records import Downtime, RegisteredInstitution, TenantSetting

__all__ = ["QUERY_CACHED", "Overlay", "RecordCache"]

QUERY_CACHED: Final = frozenset({RegisteredInstitution, TenantSetting, Downtime})
"""Tables whose ``find`` results are cached: read on every call, written by the admin API."""

_MISSING: Final = object()

Key = tuple[type[Any], tuple[Any, ...]]


class Overlay:
    """The uncommitted writes of one transaction, one layer per open savepoint."""

    def __init__(self) -> None:
        """An overlay with one layer (the transaction itself)."""
        self.layers: list[dict[Key, object]] = [{}]
        self.kinds: set[type[Any]] = set()
        self.bypass = False
        self.reserved_in: int | None = None
        """The layer that reserved a block of ids, if one did (see ``_ids``)."""

    def write(self, kind: type[Any], key: tuple[Any, ...], value: object) -> None:
        """Record a write (``value`` ``None`` for a delete) in the innermost layer."""
        self.layers[-1][(kind, key)] = value
        self.kinds.add(kind)

    def behind_the_api(self) -> None:
        """Raw SQL changed rows: forget this transaction's writes and read from SQLite."""
        self.bypass = True
        self.layers = [{} for _ in self.layers]

    def lookup(self, kind: type[Any], key: tuple[Any, ...]) -> tuple[bool, object]:
        """(True, value) when this transaction wrote the key, else (False, None)."""
        for layer in reversed(self.layers):
            value = layer.get((kind, key), _MISSING)
            if value is not _MISSING:
                return True, value
        return False, None

    def reserved_ids(self) -> None:
        """The innermost layer reserved a block of ids."""
        if self.reserved_in is None:
            self.reserved_in = len(self.layers) - 1

    def push(self) -> None:
        """Open a savepoint layer."""
        self.layers.append({})

    def release(self) -> None:
        """Fold the innermost layer into the one below (the savepoint was released)."""
        top = self.layers.pop()
        self.layers[-1].update(top)
        if self.reserved_in is not None and self.reserved_in > len(self.layers) - 1:
            self.reserved_in = len(self.layers) - 1

    def drop(self) -> bool:
        """Forget the innermost layer (the savepoint was rolled back).

        Returns whether that layer had reserved ids (their reservation is undone too).
        """
        self.layers.pop()
        undone = self.reserved_in is not None and self.reserved_in > len(self.layers) - 1
        if undone:
            self.reserved_in = None
        return undone


class RecordCache:
    """Committed records by key and small tables' query results (see the module docstring).

    Args:
        limit: entries kept at most; past it the record entries are dropped all at once (the
            next reads refill them), which keeps memory bounded without per-read bookkeeping.
    """

    def __init__(self, limit: int = 100_000) -> None:
        """An empty cache."""
        self._limit = limit
        self._records: dict[Key, object] = {}
        self._queries: dict[tuple[type[Any], tuple[Any, ...]], list[Any]] = {}

    def record(self, kind: type[Any], key: tuple[Any, ...]) -> tuple[bool, object]:
        """(True, record or ``None``) when the committed value of this key is known."""
        value = self._records.get((kind, key), _MISSING)
        return (False, None) if value is _MISSING else (True, value)

    def remember(self, kind: type[Any], key: tuple[Any, ...], value: object) -> None:
        """Keep a committed value just read from the database."""
        if len(self._records) >= self._limit:
            self._records.clear()
        self._records[(kind, key)] = value

    def query(self, kind: type[Any], where: tuple[Any, ...]) -> list[Any] | None:
        """The cached result of a ``find`` on a :data:`QUERY_CACHED` table, if any."""
        return self._queries.get((kind, where))

    def remember_query(self, kind: type[Any], where: tuple[Any, ...], rows: list[Any]) -> None:
        """Keep a ``find`` result of a :data:`QUERY_CACHED` table."""
        if len(self._queries) >= self._limit:
            self._queries.clear()
        self._queries[(kind, where)] = rows

    def forget_queries(self, kind: type[Any]) -> None:
        """Drop every cached query of ``kind`` (a transaction wrote the table)."""
        for entry in [entry for entry in self._queries if entry[0] is kind]:
            del self._queries[entry]

    def commit(self, overlay: Overlay) -> None:
        """Take a committed transaction's writes."""
        if overlay.bypass:
            self.clear()
            return
        if len(self._records) + len(overlay.layers[0]) >= self._limit:
            self._records.clear()
        self._records.update(overlay.layers[0])
        for kind in overlay.kinds:
            self.forget_queries(kind)

    def rollback(self, overlay: Overlay) -> None:
        """Forget what a rolled-back transaction may have disturbed."""
        if overlay.bypass:
            self.clear()
        for kind in overlay.kinds:
            self.forget_queries(kind)

    def clear(self) -> None:
        """Forget everything (after writes behind the record API)."""
        self._records.clear()
        self._queries.clear()

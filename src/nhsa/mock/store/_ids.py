"""The global id sequence, reserved from the database a block at a time.

Each id must never repeat, not even after a crash, so the database holds the highest id ever
handed out *or reserved*. Reserving a block of ids is one ``UPDATE`` inside the transaction
that needs the first of them; the rest are handed out from memory by later calls. A restart
skips what was left of the block — ids are opaque, so gaps are harmless.

A reservation made inside work that is rolled back (a refused call's savepoint, or a whole
transaction) is undone in the database too, so the block is dropped from memory at the same
moment: the next call reserves again from the value the database kept.

Example:
    >>> import sqlite3
    >>> db = sqlite3.connect(":memory:", isolation_level=None)
    >>> _ = db.execute("CREATE TABLE id_sequence (name TEXT PRIMARY KEY, value INTEGER)")
    >>> _ = db.execute("INSERT INTO id_sequence VALUES ('global', 0)")
    >>> ids = IdBlocks(size=4)
    >>> [ids.take(db) for _ in range(5)], db.execute("SELECT value FROM id_sequence").fetchone()
    ([1, 2, 3, 4, 5], (8,))
"""

from __future__ import annotations

import sqlite3

__all__ = ["IdBlocks"]

_RESERVE = "UPDATE id_sequence SET value = value + ? WHERE name = 'global' RETURNING value"


class IdBlocks:
    """Hands out ids from a block reserved in the database (see the module docstring).

    Args:
        size: ids reserved per ``UPDATE``.
    """

    def __init__(self, size: int = 32) -> None:
        """No block yet: the first ``take`` reserves one."""
        self._size = size
        self._next = 1
        self._limit = 0

    def take(self, db: sqlite3.Connection) -> int:
        """The next id; reserves a new block (in the open transaction) when this one is used up.

        Returns the id; :attr:`reserved` tells the caller whether this call wrote the database.
        """
        self.reserved = False
        if self._next > self._limit:
            row = db.execute(_RESERVE, (self._size,)).fetchone()
            self._limit = int(row[0])
            self._next = self._limit - self._size + 1
            self.reserved = True
        value = self._next
        self._next += 1
        return value

    reserved: bool = False
    """Whether the last :meth:`take` reserved a new block."""

    def drop(self) -> None:
        """Forget the block: its reservation was rolled back."""
        self._next, self._limit = 1, 0

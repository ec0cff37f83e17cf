"""The mock's database read beside the running server: business rows and transcript records.

Read-only SQLite connections (WAL lets them read while the server writes). The business
tables are the ones README names — everything but the msgid memory (``messages``) and the
``transcript``, which a refusal may write.

Example::

    before = business_rows(server.db)
    ...                                # requests that must change nothing
    changed = changed_rows(before, business_rows(server.db))
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from contextlib import closing
from pathlib import Path
from typing import Any, Final

import orjson

__all__ = ["BUSINESS_TABLES", "Transcript", "business_rows", "changed_rows", "connect", "last_seq"]

BUSINESS_TABLES: Final = (
    "visits", "fee_lines", "presettlements", "settlements", "balances", "year_to_date",
    "sign_ins", "filings", "ec_tokens", "files", "downtime", "institutions", "tenant_settings",
    "id_sequence",
)  # fmt: skip

Rows = dict[str, set[tuple[Any, ...]]]


def connect(db: Path) -> sqlite3.Connection:
    """A read-only connection to the mock's database."""
    return sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)


def business_rows(db: Path) -> Rows:
    """Every row of every business table."""
    with closing(connect(db)) as connection:
        return {
            table: set(connection.execute(f"SELECT * FROM {table}")) for table in BUSINESS_TABLES
        }


def changed_rows(before: Mapping[str, set[tuple[Any, ...]]], after: Rows) -> int:
    """How many rows were added, removed or changed between two readings."""
    return sum(len(before[table] ^ after[table]) for table in BUSINESS_TABLES)


def last_seq(db: Path) -> int:
    """The sequence number of the latest transcript record (0: none yet)."""
    with closing(connect(db)) as connection:
        row = connection.execute("SELECT COALESCE(MAX(seq), 0) FROM transcript").fetchone()
    return int(row[0])


class Transcript:
    """The transcript table read incrementally: the records written since the last read."""

    def __init__(self, db: Path) -> None:
        """Start after the records already there."""
        self._connection = connect(db)
        self._seen = last_seq(db)

    def new(self) -> list[dict[str, Any]]:
        """The records written since the previous call."""
        rows = self._connection.execute(
            "SELECT seq, record FROM transcript WHERE seq > ? ORDER BY seq", (self._seen,)
        ).fetchall()
        if rows:
            self._seen = int(rows[-1][0])
        return [orjson.loads(record) for _, record in rows]

    def close(self) -> None:
        """Close the connection."""
        self._connection.close()

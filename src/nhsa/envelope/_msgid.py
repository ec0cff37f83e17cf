"""msgid: fixmedins_code (12) + yyyyMMddHHmmss (14) + 4-digit sequence = 30 characters.

msgid is the key a reversal (2601) names, so it must never repeat for an institution — across
threads, across processes of one HIS, and across restarts. Vendors in the field append a random
number (collisions after a few thousand ids per second); we keep a per-second counter instead.

The counter lives in a small SQLite file: SQLite's write lock serializes every process on the
machine portably (HIS servers are often Windows, where ``fcntl`` does not exist), and the file
outlives a restart. Given a ``postgresql://`` URL it lives in PostgreSQL instead, where the
counter row's lock serializes every window and kiosk of the institution on any machine. Either
way one statement (an upsert that returns the new value) takes the next id.

Four sequence digits allow 10,000 ids per second per institution; the 10,001st id of a second
waits until the next second starts. If the clock steps backwards the
generator keeps counting from the latest second it issued, so ids stay unique (their time part
may then run ahead of the wall clock by the size of the step).
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Final, Protocol

from nhsa._postgres import connect as postgres_connect
from nhsa._postgres import is_connection_lost, is_postgres_url, lock_key, masked, qmark
from nhsa._sqlite import apply_schema, connect, network_filesystem
from nhsa.envelope._clock import CHINA_TIME, Clock, china_now

MSGID_PATTERN = re.compile(r"^(?P<code>[A-Z0-9]{12})(?P<time>[0-9]{14})(?P<seq>[0-9]{4})$")
SEQUENCE_LIMIT = 10_000
_TIME_FORMAT = "%Y%m%d%H%M%S"
_TABLE: Final = (
    "CREATE TABLE IF NOT EXISTS msgid_counter (fixmedins_code TEXT PRIMARY KEY,"
    " second BIGINT NOT NULL, seq INTEGER NOT NULL)"
)
# One statement for both databases: the row lock (PostgreSQL) or the file's write lock
# (SQLite) is held from reading the last value to writing the next. SET sees the old row.
_ALLOCATE: Final = (
    "INSERT INTO msgid_counter (fixmedins_code, second, seq) VALUES (?, ?, 0)"
    " ON CONFLICT (fixmedins_code) DO UPDATE SET"
    " second = CASE WHEN excluded.second > msgid_counter.second"
    " THEN excluded.second ELSE msgid_counter.second END,"
    " seq = CASE WHEN excluded.second > msgid_counter.second THEN 0"
    " WHEN msgid_counter.seq + 1 > ? THEN ?"
    " ELSE msgid_counter.seq + 1 END"
    " RETURNING second, seq"
)

_CAP: Final = (SEQUENCE_LIMIT, SEQUENCE_LIMIT)
# Which journal a counter serves, per institution: two journals on one counter cannot guard a
# visit together (each holds its own visit guard), so the second one is refused.
_OWNER_TABLE: Final = (
    "CREATE TABLE IF NOT EXISTS msgid_journal (fixmedins_code TEXT PRIMARY KEY,"
    " journal_id TEXT NOT NULL, journal TEXT NOT NULL)"
)
_CLAIM: Final = (
    "INSERT INTO msgid_journal (fixmedins_code, journal_id, journal) VALUES (?, ?, ?)"
    " ON CONFLICT (fixmedins_code) DO NOTHING"
)
_OWNER: Final = "SELECT journal_id, journal FROM msgid_journal WHERE fixmedins_code = ?"


class CounterInUseError(ValueError):
    """The msgid counter serves another journal of the same institution.

    Attributes:
        journal: where that other journal lives (a path, or a URL with its password masked).
    """

    def __init__(self, message: str, journal: str) -> None:
        super().__init__(message)
        self.journal = journal


class _Counter(Protocol):
    def allocate(self, code: str, now: int) -> tuple[int, int]: ...

    def owner(self, code: str, journal_id: str, journal: str) -> tuple[str, str]: ...

    def close(self) -> None: ...


class _SqliteCounter:
    def __init__(self, path: Path) -> None:
        shared = network_filesystem(path)
        if shared is not None:
            raise ValueError(
                f"msgid counter {path} is on a network filesystem ({shared}): SQLite's locks do "
                "not hold there, so two machines could issue one msgid; keep it on a local disk "
                "of one machine, or use a postgresql:// URL for many"
            )
        path.parent.mkdir(parents=True, exist_ok=True)
        # NORMAL: losing the last allocation in a power cut cannot repeat an id: a restart
        # takes longer than one second, so the time part has moved on.
        self._db = connect(path, synchronous="NORMAL")
        apply_schema(self._db, f"{_TABLE}; {_OWNER_TABLE};")

    def allocate(self, code: str, now: int) -> tuple[int, int]:
        second, seq = self._db.execute(_ALLOCATE, (code, now, *_CAP)).fetchone()
        return int(second), int(seq)

    def owner(self, code: str, journal_id: str, journal: str) -> tuple[str, str]:
        self._db.execute(_CLAIM, (code, journal_id, journal))
        found, where = self._db.execute(_OWNER, (code,)).fetchone()
        return str(found), str(where)

    def close(self) -> None:
        self._db.close()


class _PostgresCounter:
    """The counter row in PostgreSQL; a lost connection is opened again once per call (a
    repeated allocation can only skip an id, never repeat one)."""

    def __init__(self, url: str) -> None:
        self._url = url
        self._db = postgres_connect(url, purpose="msgid counter")
        with self._db.transaction():
            self._db.execute("SELECT pg_advisory_xact_lock(%s)", (lock_key("msgid-schema"),))
            self._db.execute(_TABLE)
            self._db.execute(_OWNER_TABLE)

    def owner(self, code: str, journal_id: str, journal: str) -> tuple[str, str]:
        self._db.execute(qmark(_CLAIM), (code, journal_id, journal))
        row = self._db.execute(qmark(_OWNER), (code,)).fetchone()
        assert row is not None, "the row was just claimed"
        return str(row[0]), str(row[1])

    def allocate(self, code: str, now: int) -> tuple[int, int]:
        params: Sequence[Any] = (code, now, *_CAP)
        try:
            row = self._db.execute(qmark(_ALLOCATE), params).fetchone()
        except Exception as error:
            if not is_connection_lost(error):
                raise
            self._db = postgres_connect(self._url, purpose="msgid counter")
            row = self._db.execute(qmark(_ALLOCATE), params).fetchone()
        assert row is not None, "INSERT ... RETURNING always returns the row"
        return int(str(row[0])), int(str(row[1]))

    def close(self) -> None:
        self._db.close()


class MsgidGenerator:
    """Issues unique msgids for one institution.

    Args:
        fixmedins_code: the institution's 12-character code.
        state_path: the counter file shared by every process of this HIS on this machine, or a
            ``postgresql://`` URL shared by every machine; ``None`` keeps the counter in memory
            (unique within this process only).
        clock: current time source (China time); injectable for tests.
        sleep: how to wait for the next second when a second's 10,000 ids are used up.

    Example:
        >>> from datetime import datetime
        >>> from nhsa.envelope import CHINA_TIME
        >>> fixed = lambda: datetime(2026, 11, 23, 10, 15, 30, tzinfo=CHINA_TIME)
        >>> ids = MsgidGenerator("H53010100001", clock=fixed)
        >>> ids.next(), ids.next()
        ('H53010100001202611231015300000', 'H53010100001202611231015300001')
    """

    def __init__(
        self,
        fixmedins_code: str,
        state_path: Path | str | None = None,
        *,
        clock: Clock = china_now,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not re.fullmatch(r"[A-Z0-9]{12}", fixmedins_code):
            raise ValueError(
                f"fixmedins_code {fixmedins_code!r}: must be 12 upper-case letters or digits"
            )
        self.fixmedins_code = fixmedins_code
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._memory: tuple[int, int] = (0, -1)  # (second as yyyyMMddHHmmss int, last seq)
        self._where = (
            None
            if state_path is None
            else masked(str(state_path))
            if is_postgres_url(state_path)
            else str(state_path)
        )
        self._counter: _Counter | None = None
        if is_postgres_url(state_path):
            self._counter = _PostgresCounter(str(state_path))
        elif state_path is not None:
            self._counter = _SqliteCounter(Path(state_path))

    def __repr__(self) -> str:
        where = self._where or "memory"
        return f"<MsgidGenerator {self.fixmedins_code} state={where}>"

    def serve_journal(self, journal_id: str, journal: str) -> None:
        """Bind this counter to the journal ``journal_id`` (at ``journal``) for the
        institution, or raise :class:`CounterInUseError` when it already serves another one.

        A counter in memory serves whoever made it; nothing is recorded.

        Example:
            >>> import tempfile
            >>> from pathlib import Path
            >>> with tempfile.TemporaryDirectory() as folder:
            ...     ids = MsgidGenerator("H53010100001", Path(folder) / "msgids.sqlite3")
            ...     ids.serve_journal("a1", "/var/lib/his/journal-a.sqlite3")
            ...     try:
            ...         ids.serve_journal("b2", "/var/lib/his/journal-b.sqlite3")
            ...     except CounterInUseError as error:
            ...         print(error.journal)
            ...     ids.close()
            /var/lib/his/journal-a.sqlite3
        """
        if self._counter is None:
            return
        with self._lock:
            owner, where = self._counter.owner(self.fixmedins_code, journal_id, journal)
        if owner != journal_id:
            raise CounterInUseError(
                f"msgid counter {self._where} already serves the journal {where} of "
                f"{self.fixmedins_code}; this one is {journal}",
                where,
            )

    def next(self) -> str:
        """Issue the next msgid (blocks briefly if this second's 10,000 ids are used up)."""
        with self._lock:
            while True:
                now = int(self._clock().astimezone(CHINA_TIME).strftime(_TIME_FORMAT))
                second, seq = self._allocate(now)
                if seq < SEQUENCE_LIMIT:
                    return f"{self.fixmedins_code}{second:014d}{seq:04d}"
                self._sleep(_until_next_second(self._clock()))

    def _allocate(self, now: int) -> tuple[int, int]:
        """Reserve (second, seq); seq == SEQUENCE_LIMIT means this second is exhausted."""
        if self._counter is None:
            if self._where is not None:
                raise RuntimeError(f"{self!r} is closed; ids issued after close could repeat")
            self._memory = _advance(self._memory, now)
            return self._memory
        return self._counter.allocate(self.fixmedins_code, now)

    def close(self) -> None:
        """Release the counter (ids already issued stay reserved)."""
        if self._counter is not None:
            self._counter.close()
            self._counter = None


def _advance(last: tuple[int, int], now: int) -> tuple[int, int]:
    second, seq = last
    if now > second:
        return now, 0
    # Same second, or the clock stepped back: keep counting in the latest second issued.
    return second, min(seq + 1, SEQUENCE_LIMIT)


def _until_next_second(now: datetime) -> float:
    following = now.replace(microsecond=0) + timedelta(seconds=1)
    return max((following - now).total_seconds(), 0.001)


def parse_msgid(msgid: str) -> tuple[str, datetime, int]:
    """Split a msgid into (fixmedins_code, time, sequence); ``ValueError`` names what is wrong.

    Example:
        >>> code, when, seq = parse_msgid("H53010100001202611231015300042")
        >>> code, when.isoformat(), seq
        ('H53010100001', '2026-11-23T10:15:30+08:00', 42)
    """
    match = MSGID_PATTERN.match(msgid)
    if match is None:
        raise ValueError(
            f"msgid {msgid!r}: expected fixmedins_code(12) + yyyyMMddHHmmss(14) + sequence(4)"
        )
    try:
        when = datetime.strptime(match["time"], _TIME_FORMAT).replace(tzinfo=CHINA_TIME)
    except ValueError:
        raise ValueError(f"msgid {msgid!r}: {match['time']} is not a valid time") from None
    return match["code"], when, int(match["seq"])

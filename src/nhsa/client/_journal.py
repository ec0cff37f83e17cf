"""The local journal: every state-changing call is written down before it is sent.

A settlement whose answer is lost can only be undone by naming its msgid (2601), so the msgid
must be on disk *before* the request leaves — otherwise a crash between sending and hearing
back leaves money nobody can trace. The journal is a SQLite file in WAL mode with
``synchronous=FULL``: a committed row survives a power cut, not only a process kill (the cost,
about 3,700 commits/s on this machine, is far below a HIS's call rate). Given a
``postgresql://`` URL instead, it lives in PostgreSQL and is shared by every window and kiosk
of the institution on any machine (:mod:`nhsa.client._journal_db` compares the two).

Life of an entry::

    sending ──► succeeded | rejected | not_sent | abandoned (safe to repeat, outcome unknown)
       │
       └──► unknown ──► reversing ──► reversed | manual
                 └────► held (window: the cashier decides)       └─► still reversing: recover()

``client.recover()`` (run at start-up) resolves every entry left in ``sending``, ``unknown`` or
``reversing`` by a process that is no longer running. An ``adopted`` entry is no call: it records
a visit registered outside the SDK that this journal now guards (``client.adopt_visit``).

The journal also carries the **visit guard**: a row per visit being charged or refunded, keyed
(tenant, mdtrt_id). A second charge of the same visit — a kiosk double tap, another thread,
another process on the same journal, another machine on the same PostgreSQL journal — finds
the row and is refused before anything is sent. A guard left by a crashed process is taken over
once that process is gone (on PostgreSQL, once its database session is gone, on any machine).
A guard holds only among the clients of one journal, so a visit is charged or refunded only
through the journal that registered it (:meth:`Journal.holds_visit`): a window on another
journal is refused, whatever it does at the same moment. The journal has an identity
(:attr:`Journal.journal_id`), which the msgid counter it uses is bound to.

Example:
    >>> journal = Journal(":memory:")
    >>> with journal.visit_guard("H53010100001", "530100000000001001"):
    ...     journal.guard_holder("H53010100001", "530100000000001001") is not None
    True
"""

from __future__ import annotations

import contextlib
import os
import socket
import sys
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, Final, Literal

import orjson

from nhsa._postgres import DatabaseUnavailable, is_postgres_url
from nhsa._sqlite import network_filesystem
from nhsa.client._journal_db import (
    JournalDatabase,
    PostgresJournal,
    SqliteJournal,
    database_errors,
)
from nhsa.client.errors import JournalError, VisitBusyError
from nhsa.envelope import Clock, china_now

JournalState = Literal[
    "sending",
    "succeeded",
    "rejected",
    "not_sent",
    "abandoned",
    "unknown",
    "reversing",
    "reversed",
    "held",
    "manual",
    "adopted",
]
PENDING_STATES: Final = ("sending", "unknown", "reversing")
"""States ``recover()`` resolves (when the owning process is gone)."""
OPENS_VISIT: Final = ("2201", "2401")
"""Transactions that open a visit: outpatient registration, inpatient admission."""

_SCHEMA_VERSION: Final = 2
_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS journal (
    msgid TEXT PRIMARY KEY,
    tenant TEXT NOT NULL,
    infno TEXT NOT NULL,
    state TEXT NOT NULL,
    psn_no TEXT,
    mdtrt_id TEXT,
    chrg_bchno TEXT,
    setl_id TEXT,
    insuplc_admdvs TEXT,
    insutype TEXT,
    opter_type TEXT NOT NULL,
    opter TEXT NOT NULL,
    body_sha256 TEXT NOT NULL,
    facts TEXT NOT NULL,
    amounts TEXT NOT NULL,
    result TEXT,
    detail TEXT,
    reverses TEXT,
    resolved_by TEXT,
    original_found INTEGER,
    owner_host TEXT NOT NULL,
    owner_pid INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS journal_state ON journal (tenant, state);
CREATE INDEX IF NOT EXISTS journal_visit ON journal (tenant, mdtrt_id, infno);
CREATE TABLE IF NOT EXISTS journal_meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS visit_guard (
    tenant TEXT NOT NULL,
    mdtrt_id TEXT NOT NULL,
    owner TEXT NOT NULL,
    owner_host TEXT NOT NULL,
    owner_pid INTEGER NOT NULL,
    acquired_at TEXT NOT NULL,
    PRIMARY KEY (tenant, mdtrt_id)
);
"""


@dataclass(frozen=True)
class NewEntry:
    """What is written before a state-changing call is sent.

    Attributes:
        facts: identifiers and codes read from the input (psn_no, mdtrt_id, chrg_bchno, …);
            personal data (certificate numbers, names) is never stored.
        amounts: the input's money fields, exact.
        reverses: for an undo (2601, 2205, …), the msgid it undoes.
    """

    msgid: str
    tenant: str
    infno: str
    opter_type: str
    opter: str
    body_sha256: str
    facts: Mapping[str, str]
    amounts: Mapping[str, Decimal]
    insuplc_admdvs: str | None = None
    reverses: str | None = None


@dataclass(frozen=True)
class JournalEntry:
    """One row of the journal.

    Example:
        >>> journal = Journal(":memory:")
        >>> journal.record_sending(NewEntry("H53010100001202611231015300001", "H53010100001",
        ...     "2207", "1", "C01", "ab" * 32, {"mdtrt_id": "V1"}, {}))
        >>> journal.get("H53010100001202611231015300001").state
        'sending'
    """

    msgid: str
    tenant: str
    infno: str
    state: JournalState
    setl_id: str | None
    """The settlement the call concerns: the one its answer issued (2207), or the one its
    input named (2208 names the settlement it refunds)."""
    facts: Mapping[str, str]
    amounts: Mapping[str, Decimal]
    result: Mapping[str, Any]
    insuplc_admdvs: str | None
    opter_type: str
    opter: str
    body_sha256: str
    detail: str | None
    reverses: str | None
    resolved_by: str | None
    original_found: bool | None
    owner_host: str
    owner_pid: int
    created_at: datetime
    updated_at: datetime

    @property
    def psn_no(self) -> str | None:
        """The person the call concerned, if its input named one."""
        return self.facts.get("psn_no")

    @property
    def mdtrt_id(self) -> str | None:
        """The visit the call concerned: named by its input, or issued by its answer (2201)."""
        return self.facts.get("mdtrt_id") or self.result.get("mdtrt_id")

    @property
    def owner_alive(self) -> bool:
        """Whether the process that wrote the entry may still be working on it (an entry
        written on another host is assumed to be: only that host can tell)."""
        return self.owner_host != _HOST or process_alive(self.owner_pid)


_HOST: Final = socket.gethostname()


class Journal:
    """The journal, shareable by threads and processes (see the module docstring).

    Args:
        target: the journal file (SQLite, WAL, ``synchronous=FULL``), or a
            ``postgresql://user:password@host/database`` URL; ``":memory:"`` for throw-away
            use in examples and tests only (nothing survives, and no other process can see it).
        clock: China-time clock for the timestamps.

    Raises :class:`~nhsa.client.errors.JournalError` naming the file or the URL (its password
    masked) when the journal cannot be opened.

    Example:
        What a registration leaves in the client's journal — the state-changing calls only,
        each closed with its outcome (1101 is a query, so it is not there):

        >>> visit = client.register(card, insutype="310", clinic=clinic)
        >>> [(entry.infno, entry.state) for entry in client.journal.entries("H53010100001")]
        [('9001', 'succeeded'), ('2201', 'succeeded')]
        >>> client.journal.pending("H53010100001")  # nothing for recover() to do
        []
    """

    def __init__(self, target: str | Path, *, clock: Clock = china_now) -> None:
        self.path = str(target)
        self._clock = clock
        self._errors = database_errors()
        self._journal_id: str | None = None
        self._db: JournalDatabase
        try:
            if is_postgres_url(target):
                self._db = PostgresJournal(str(target))
                self.path = self._db.where
            else:
                _refuse_network_filesystem(self.path)
                self._db = SqliteJournal(target)
            version = self._db.schema_version()
            if version > _SCHEMA_VERSION:
                raise JournalError(
                    f"journal {self.path} has schema version {version}; this SDK reads "
                    f"up to {_SCHEMA_VERSION}: upgrade nhsa-kit"
                )
            self._db.apply_schema(_SCHEMA, _SCHEMA_VERSION)
            if 0 < version < 2:
                self._fill_id_columns()
        except DatabaseUnavailable as error:
            raise JournalError(f"cannot open the journal {error}") from None
        except self._errors as error:
            raise JournalError(f"cannot open the journal {self.path}: {error}") from None

    def __repr__(self) -> str:
        return f"<Journal {self.path}>"

    def _fill_id_columns(self) -> None:
        """Schema 1 left ``mdtrt_id``/``setl_id`` empty where only the answer named them; fill
        them from the recorded answers (once, on upgrade; repeating it changes nothing)."""
        _, rows = self._query(
            "SELECT msgid, result FROM journal WHERE result IS NOT NULL"
            " AND (mdtrt_id IS NULL OR setl_id IS NULL)",
            (),
        )
        for msgid, result in rows:
            ids = orjson.loads(result)
            self._write(
                "fill the id columns",
                "UPDATE journal SET mdtrt_id = COALESCE(mdtrt_id, ?),"
                " setl_id = COALESCE(setl_id, ?) WHERE msgid = ?",
                (_text_or_none(ids.get("mdtrt_id")), _text_or_none(ids.get("setl_id")), msgid),
            )

    @property
    def journal_id(self) -> str:
        """This journal's identity, the same for every client that opens it (a UUID written
        when it was created)."""
        if self._journal_id is None:
            self._write(
                "name the journal",
                "INSERT INTO journal_meta (key, value) VALUES ('journal_id', ?)"
                " ON CONFLICT (key) DO NOTHING",
                (uuid.uuid4().hex,),
            )
            _, rows = self._query("SELECT value FROM journal_meta WHERE key = 'journal_id'", ())
            self._journal_id = str(rows[0][0])
        return self._journal_id

    @property
    def shared_across_machines(self) -> bool:
        """Whether the journal lives in PostgreSQL (every machine of the HIS may share it)."""
        return isinstance(self._db, PostgresJournal)

    def close(self) -> None:
        """Close the file or the connection (entries already written stay)."""
        self._db.close()

    # -- writing ---------------------------------------------------------------------------

    def record_sending(self, entry: NewEntry) -> None:
        """Durably record that ``entry`` is about to be sent (state ``sending``).

        Raises :class:`~nhsa.client.errors.JournalError` when it cannot: then the call is
        not sent.
        """
        written = self._insert("record_sending", entry, "sending")
        if written == 0:
            # Either our own insert, committed just before a lost connection was retried, or
            # a msgid that is already in the journal for another message: only the first is ok.
            existing = self.get(entry.msgid)
            if existing is None or existing.body_sha256 != entry.body_sha256:
                raise JournalError(
                    f"journal {self.path}: msgid {entry.msgid} is already journaled for "
                    "another message; nothing was sent (two clients share no msgid counter?)"
                )

    def mark(
        self,
        msgid: str,
        state: JournalState,
        *,
        detail: str | None = None,
        result: Mapping[str, Any] | None = None,
        resolved_by: str | None = None,
        original_found: bool | None = None,
    ) -> None:
        """Move an entry to ``state``, keeping any detail already recorded unless replaced.

        The visit and settlement an answer issued (2201's ``mdtrt_id``, 2207's ``setl_id``) fill
        those columns when the request did not name them, so a visit's registration and a
        settlement can be found by id (a refund keeps the ``setl_id`` it named: the one it
        refunds).
        """
        ids = result or {}
        self._write(
            f"mark {msgid} {state}",
            "UPDATE journal SET state = ?, detail = COALESCE(?, detail),"
            " result = COALESCE(?, result), resolved_by = COALESCE(?, resolved_by),"
            " original_found = COALESCE(?, original_found),"
            " mdtrt_id = COALESCE(mdtrt_id, ?), setl_id = COALESCE(setl_id, ?),"
            " updated_at = ? WHERE msgid = ?",
            (
                state,
                detail,
                _dumps(_plain(result)) if result is not None else None,
                resolved_by,
                None if original_found is None else int(original_found),
                _text_or_none(ids.get("mdtrt_id")),
                _text_or_none(ids.get("setl_id")),
                self._now(),
                msgid,
            ),
        )

    def record_adopted(self, entry: NewEntry) -> bool:
        """Record a visit registered outside the SDK (state ``adopted``; nothing is sent).

        Returns whether it was recorded: ``False`` when the journal holds the visit already.
        """
        mdtrt_id = entry.facts.get("mdtrt_id")
        if mdtrt_id and self.holds_visit(entry.tenant, mdtrt_id) is not None:
            return False
        self._insert(
            "record an adopted visit",
            entry,
            "adopted",
            result=entry.facts,
            detail="registered outside the SDK; adopted",
        )
        return True

    def _insert(
        self,
        operation: str,
        entry: NewEntry,
        state: JournalState,
        *,
        result: Mapping[str, Any] | None = None,
        detail: str | None = None,
    ) -> int:
        now = self._now()
        facts = dict(entry.facts)
        return self._write(
            operation,
            "INSERT INTO journal (msgid, tenant, infno, state, psn_no, mdtrt_id, chrg_bchno,"
            " setl_id, insuplc_admdvs, insutype, opter_type, opter, body_sha256, facts, amounts,"
            " result, detail, reverses, owner_host, owner_pid, created_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (msgid) DO NOTHING",
            (
                entry.msgid,
                entry.tenant,
                entry.infno,
                state,
                facts.get("psn_no"),
                facts.get("mdtrt_id"),
                facts.get("chrg_bchno"),
                facts.get("setl_id"),
                entry.insuplc_admdvs,
                facts.get("insutype"),
                entry.opter_type,
                entry.opter,
                entry.body_sha256,
                _dumps(facts),
                _dumps({k: str(v) for k, v in entry.amounts.items()}),
                _dumps(_plain(result)) if result is not None else None,
                detail,
                entry.reverses,
                _HOST,
                os.getpid(),
                now,
                now,
            ),
        )

    # -- reading ---------------------------------------------------------------------------

    def holds_visit(self, tenant: str, mdtrt_id: str) -> JournalEntry | None:
        """The entry by which this journal holds a visit: its registration (2201, or 2401 for
        a stay) that succeeded, or its adoption; ``None`` when the visit is not this journal's.

        Example:
            >>> visit = client.register(card, insutype="310", clinic=clinic)
            >>> client.journal.holds_visit("H53010100001", visit.mdtrt_id).infno
            '2201'
            >>> client.journal.holds_visit("H53010100001", "3000000000999") is None
            True
        """
        marks = ", ".join("?" for _ in OPENS_VISIT)
        rows = self._read(
            # Only "?" placeholders are interpolated; every value is a bound parameter.
            f"SELECT * FROM journal WHERE tenant = ? AND mdtrt_id = ? AND infno IN ({marks})"  # noqa: S608
            " AND state IN ('succeeded', 'adopted') ORDER BY created_at LIMIT 1",
            (tenant, mdtrt_id, *OPENS_VISIT),
        )
        return rows[0] if rows else None

    def get(self, msgid: str) -> JournalEntry | None:
        """The entry of ``msgid``, or ``None``."""
        rows = self._read("SELECT * FROM journal WHERE msgid = ?", (msgid,))
        return rows[0] if rows else None

    def pending(self, tenant: str) -> list[JournalEntry]:
        """Entries left in ``sending``, ``unknown`` or ``reversing``, oldest first."""
        marks = ", ".join("?" for _ in PENDING_STATES)
        return self._read(
            # Only "?" placeholders are interpolated; every value is a bound parameter.
            f"SELECT * FROM journal WHERE tenant = ? AND state IN ({marks})"  # noqa: S608
            " ORDER BY created_at",
            (tenant, *PENDING_STATES),
        )

    def entries(
        self,
        tenant: str,
        *,
        infno: Sequence[str] = (),
        states: Sequence[str] = (),
        mdtrt_id: str | None = None,
        reverses: str | None = None,
    ) -> list[JournalEntry]:
        """Entries of ``tenant`` filtered by transaction, state, visit or undone msgid.

        Example:
            >>> visit = client.register(card, insutype="310", clinic=clinic)
            >>> (registration,) = client.journal.entries("H53010100001", infno=["2201"])
            >>> (registration.psn_no, registration.result["mdtrt_id"] == visit.mdtrt_id)
            ('P53010000000001', True)
        """
        clauses, params = ["tenant = ?"], [tenant]
        if infno:
            clauses.append(f"infno IN ({', '.join('?' for _ in infno)})")
            params.extend(infno)
        if states:
            clauses.append(f"state IN ({', '.join('?' for _ in states)})")
            params.extend(states)
        if mdtrt_id is not None:
            clauses.append("mdtrt_id = ?")
            params.append(mdtrt_id)
        if reverses is not None:
            clauses.append("reverses = ?")
            params.append(reverses)
        where = " AND ".join(clauses)  # fixed clauses with "?" placeholders only
        sql = f"SELECT * FROM journal WHERE {where} ORDER BY created_at"  # noqa: S608
        return self._read(sql, params)

    # -- the visit guard -------------------------------------------------------------------

    @contextlib.contextmanager
    def visit_guard(self, tenant: str, mdtrt_id: str) -> Iterator[str]:
        """Hold the visit for one charge or refund; :class:`VisitBusyError` if someone does.

        The row is the lock, so it holds across threads and processes sharing this journal
        (and across machines sharing a PostgreSQL journal).
        """
        owner = f"{_HOST}:{os.getpid()}:{uuid.uuid4().hex}"
        self._acquire(tenant, mdtrt_id, owner)
        try:
            yield owner
        finally:
            self._write(
                f"release the guard of visit {mdtrt_id}",
                "DELETE FROM visit_guard WHERE tenant = ? AND mdtrt_id = ? AND owner = ?",
                (tenant, mdtrt_id, owner),
            )
            self._db.drop_beacon(tenant, mdtrt_id)

    def guard_holder(self, tenant: str, mdtrt_id: str) -> str | None:
        """Who holds the visit's guard (``host:pid:token``), or ``None``."""
        _, rows = self._query(
            "SELECT owner FROM visit_guard WHERE tenant = ? AND mdtrt_id = ?", (tenant, mdtrt_id)
        )
        return str(rows[0][0]) if rows else None

    def clear_stale_guards(self) -> int:
        """Drop guards whose process on this host has ended; returns how many."""
        _, rows = self._query(
            "SELECT tenant, mdtrt_id, owner, owner_pid FROM visit_guard WHERE owner_host = ?",
            (_HOST,),
        )
        dropped = 0
        for tenant, mdtrt_id, owner, pid in rows:
            if not process_alive(int(pid)):
                self._write(
                    "drop a stale guard",
                    "DELETE FROM visit_guard WHERE tenant = ? AND mdtrt_id = ? AND owner = ?",
                    (tenant, mdtrt_id, owner),
                )
                dropped += 1
        return dropped

    def _acquire(self, tenant: str, mdtrt_id: str, owner: str) -> None:
        try:
            with self._db.exclusive("visit-guard", tenant, mdtrt_id) as section:
                row = section.one(
                    "SELECT owner, owner_host, owner_pid FROM visit_guard"
                    " WHERE tenant = ? AND mdtrt_id = ?",
                    (tenant, mdtrt_id),
                )
                if row is not None:
                    holder, host, pid = row
                    alive = (
                        process_alive(int(pid))
                        if host == _HOST
                        else self._db.beacon_shown(tenant, mdtrt_id)
                    )
                    if alive:
                        raise VisitBusyError(
                            f"visit {mdtrt_id} is already being charged or refunded "
                            f"(by {holder}); a second one was refused before sending"
                        )
                    # The holder crashed: its guard protects nothing any more.
                    section.run(
                        "DELETE FROM visit_guard WHERE tenant = ? AND mdtrt_id = ?",
                        (tenant, mdtrt_id),
                    )
                self._db.take_beacon(tenant, mdtrt_id)
                try:
                    section.run(
                        "INSERT INTO visit_guard (tenant, mdtrt_id, owner, owner_host, owner_pid,"
                        " acquired_at) VALUES (?, ?, ?, ?, ?, ?)",
                        (tenant, mdtrt_id, owner, _HOST, os.getpid(), self._now()),
                    )
                except BaseException:
                    self._db.drop_beacon(tenant, mdtrt_id)
                    raise
        except self._errors as error:
            raise JournalError(
                f"journal {self.path}: cannot take the visit guard: {error}; nothing was sent"
            ) from None

    # -- plumbing --------------------------------------------------------------------------

    def _now(self) -> str:
        return self._clock().isoformat(timespec="microseconds")

    def _write(self, operation: str, sql: str, params: Sequence[Any]) -> int:
        try:
            return self._db.write(sql, params)
        except self._errors as error:
            raise JournalError(
                f"journal {self.path}: {operation} failed: {error}"
                + ("; nothing was sent" if operation == "record_sending" else "")
            ) from None

    def _query(self, sql: str, params: Sequence[Any]) -> tuple[list[str], list[tuple[Any, ...]]]:
        try:
            return self._db.read(sql, params)
        except self._errors as error:
            raise JournalError(f"journal {self.path}: read failed: {error}") from None

    def _read(self, sql: str, params: Sequence[Any]) -> list[JournalEntry]:
        names, rows = self._query(sql, params)
        return [_entry(dict(zip(names, row, strict=True))) for row in rows]


def _refuse_network_filesystem(path: str) -> None:
    """A journal file on a network share would let two machines each think they hold a visit:
    SQLite's locks do not hold there."""
    shared = network_filesystem(path) if path != ":memory:" else None
    if shared is not None:
        raise JournalError(
            f"journal {path} is on a network filesystem ({shared}): SQLite's locks do not hold "
            "there, so windows on two machines could charge one visit at once; keep the "
            "journal on a local disk of one machine, or give every machine "
            "journal_url='postgresql://…'"
        )


def process_alive(pid: int) -> bool:
    """Whether a process with this id runs on this host.

    Example:
        >>> process_alive(os.getpid())
        True
    """
    if pid == os.getpid():
        return True
    if sys.platform == "win32":
        import ctypes  # noqa: PLC0415 - Windows only

        # OpenProcess with PROCESS_QUERY_LIMITED_INFORMATION; 0 means no such process.
        handle = ctypes.windll.kernel32.OpenProcess(0x1000, False, pid)
        if not handle:
            return False
        ctypes.windll.kernel32.CloseHandle(handle)
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _entry(row: dict[str, Any]) -> JournalEntry:
    found = row["original_found"]
    return JournalEntry(
        msgid=row["msgid"],
        tenant=row["tenant"],
        infno=row["infno"],
        state=row["state"],
        setl_id=row["setl_id"],
        facts=orjson.loads(row["facts"]),
        amounts={k: Decimal(v) for k, v in orjson.loads(row["amounts"]).items()},
        result=orjson.loads(row["result"]) if row["result"] else {},
        insuplc_admdvs=row["insuplc_admdvs"],
        opter_type=row["opter_type"],
        opter=row["opter"],
        body_sha256=row["body_sha256"],
        detail=row["detail"],
        reverses=row["reverses"],
        resolved_by=row["resolved_by"],
        original_found=None if found is None else bool(found),
        owner_host=row["owner_host"],
        owner_pid=row["owner_pid"],
        created_at=datetime.fromisoformat(row["created_at"]),
        updated_at=datetime.fromisoformat(row["updated_at"]),
    )


def _plain(value: Any) -> Any:
    """Decimals (and dates) as strings, so the JSON keeps every digit."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


def _text_or_none(value: object) -> str | None:
    return str(value) if value not in (None, "") else None


def _dumps(value: Any) -> str:
    return orjson.dumps(_plain(value)).decode()

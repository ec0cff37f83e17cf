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

import os
import sqlite3
import sys
import time
from pathlib import Path
from typing import Final, Literal

__all__ = ["apply_schema", "connect", "network_filesystem"]

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


NETWORK_FILESYSTEMS: Final = frozenset(
    {
        "nfs", "nfs4", "cifs", "smb3", "smbfs", "9p", "ceph", "glusterfs", "afs", "lustre",
        "ncpfs", "coda", "gfs2", "ocfs2", "beegfs", "gpfs", "davfs", "fuse.sshfs",
        "fuse.glusterfs", "fuse.cephfs", "fuse.s3fs", "fuse.rclone", "fuse.davfs2",
        "fuse.juicefs",
    }
)  # fmt: skip
"""Filesystems shared by several machines, where SQLite's locks do not hold (sqlite.org:
"SQLite over a network filesystem" — POSIX advisory locks are broken or missing on many, and
WAL mode needs shared memory on one host)."""


def network_filesystem(path: str | Path, *, mounts: str | None = None) -> str | None:
    """What shares ``path`` over the network (e.g. ``nfs4 server:/export at /mnt/his``), or
    ``None`` when it is on a local disk — or when this system cannot tell (only Linux's
    ``/proc/self/mountinfo`` and Windows drive types are read).

    ``mounts`` is the mount table's text (``/proc/self/mountinfo`` when not given).

    Example:
        >>> table = "\\n".join(["36 1 0:32 / /mnt/his rw - nfs4 files:/export rw",
        ...                      "1 0 8:1 / / rw - ext4 /dev/sda1 rw"])
        >>> network_filesystem("/mnt/his/journal.sqlite3", mounts=table)
        'nfs4 files:/export at /mnt/his'
        >>> network_filesystem("/var/lib/his/journal.sqlite3", mounts=table) is None
        True
    """
    if sys.platform == "win32" and mounts is None:
        return _windows_network_drive(Path(path))
    if mounts is None:
        try:
            mounts = Path("/proc/self/mountinfo").read_text("utf-8", "replace")
        except OSError:
            return None
    where = os.path.abspath(os.path.realpath(path))
    best: tuple[int, str, str, str] | None = None
    for line in mounts.splitlines():
        head, _, tail = line.partition(" - ")
        fields, described = head.split(), tail.split()
        if len(fields) < 5 or len(described) < 2:
            continue
        point = _unescape(fields[4])
        inside = where == point or where.startswith(point.rstrip("/") + "/")
        if inside and (best is None or len(point) > best[0]):
            best = (len(point), point, described[0], described[1])
    if best is None or best[2] not in NETWORK_FILESYSTEMS:
        return None
    return f"{best[2]} {best[3]} at {best[1]}"


def _unescape(field: str) -> str:
    """Mount table fields escape space, tab, newline and backslash as octal (``\\040``)."""
    for code, char in (("\\040", " "), ("\\011", "\t"), ("\\012", "\n"), ("\\134", "\\")):
        field = field.replace(code, char)
    return field


def _windows_network_drive(path: Path) -> str | None:  # pragma: no cover - Windows only
    text = str(path.resolve())
    if text.startswith("\\\\"):
        return f"the network share {text.split(chr(92))[2]}"
    import ctypes  # noqa: PLC0415 - Windows only

    drive_remote = 4
    root = text[:3]
    kind = ctypes.windll.kernel32.GetDriveTypeW(root)  # type: ignore[attr-defined]
    return f"the network drive {root}" if kind == drive_remote else None

"""Opening PostgreSQL: one reading of ``postgresql://`` URLs, one error wording, masked passwords.

The client journal, the msgid counter and the mock platform's store all accept a PostgreSQL
URL where they take a SQLite file. They share this module for the parts that must agree:

- :func:`is_postgres_url` decides which backend a target means;
- :func:`masked` removes the password from a URL before it reaches a message or a log line;
- :func:`connect` opens an autocommit connection (every ``BEGIN`` is explicit, as with
  :mod:`nhsa._sqlite`) and turns any failure into one :class:`DatabaseUnavailable` line that
  names the masked URL and what went wrong;
- :func:`qmark` turns the ``?`` placeholders of SQL written once for both databases into
  psycopg's ``%s``;
- :func:`lock_key` maps a name to the 64-bit key of a PostgreSQL advisory lock.

The driver is psycopg 3 (the ``postgresql`` extra), imported only when a URL is used, so a HIS
on SQLite never needs it.

Example:
    >>> masked("postgresql://his:s3cret@db.local:5432/nhsa")
    'postgresql://his:***@db.local:5432/nhsa'
    >>> is_postgres_url("journal.sqlite3"), is_postgres_url("postgres://db/nhsa")
    (False, True)
    >>> qmark("SELECT a FROM t WHERE b = ? AND c = ?")
    'SELECT a FROM t WHERE b = %s AND c = %s'
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    import psycopg

__all__ = [
    "DatabaseUnavailable",
    "connect",
    "is_connection_lost",
    "is_postgres_url",
    "lock_key",
    "masked",
    "qmark",
]

_SCHEMES: Final = ("postgresql://", "postgres://")
_PASSWORD: Final = re.compile(r"^(?P<head>[a-z]+://[^:/@]*):(?P<password>[^@]*)@")
_PASSWORD_PARAMETER: Final = re.compile(r"(?P<name>[?&]password=)[^&]*")
CONNECT_TIMEOUT_SECONDS: Final = 5


class DatabaseUnavailable(RuntimeError):  # noqa: N818 - reads as the condition it reports
    """PostgreSQL could not be reached or used; the message names the masked URL.

    Example:
        >>> str(DatabaseUnavailable("postgresql://his:***@db/nhsa: connection refused"))
        'postgresql://his:***@db/nhsa: connection refused'
    """


def is_postgres_url(target: str | Path | None) -> bool:
    """Whether ``target`` names a PostgreSQL database rather than a SQLite file."""
    return isinstance(target, str) and target.startswith(_SCHEMES)


def masked(url: str) -> str:
    """``url`` with its password (in the authority or as a parameter) replaced by ``***``."""
    hidden = _PASSWORD.sub(r"\g<head>:***@", url)
    return _PASSWORD_PARAMETER.sub(r"\g<name>***", hidden)


def connect(url: str, *, purpose: str) -> psycopg.Connection[tuple[object, ...]]:
    """An autocommit connection to ``url``; :class:`DatabaseUnavailable` when that fails.

    ``purpose`` becomes the session's ``application_name`` (seen in ``pg_stat_activity``).
    The connect timeout is five seconds, so a wrong host fails start-up quickly.
    """
    try:
        import psycopg  # noqa: PLC0415 - the optional driver, needed only for PostgreSQL
    except ImportError:
        raise DatabaseUnavailable(
            f"{masked(url)}: PostgreSQL needs the psycopg driver: "
            "pip install 'nhsa-kit[postgresql]'"
        ) from None
    try:
        return psycopg.connect(
            url,
            autocommit=True,
            application_name=f"nhsa-kit {purpose}",
            connect_timeout=CONNECT_TIMEOUT_SECONDS,
        )
    except psycopg.Error as error:
        raise DatabaseUnavailable(f"{masked(url)}: {_one_line(error)}") from None


def is_connection_lost(error: BaseException) -> bool:
    """Whether ``error`` means the connection itself is gone (server stopped, network cut)."""
    try:
        import psycopg  # noqa: PLC0415 - see connect()
    except ImportError:  # pragma: no cover - only PostgreSQL code calls this
        return False
    return isinstance(error, psycopg.OperationalError | psycopg.InterfaceError)


def qmark(sql: str) -> str:
    """SQL written with ``?`` placeholders, in psycopg's ``%s`` style (``%`` escaped first)."""
    return sql.replace("%", "%%").replace("?", "%s")


def lock_key(*parts: str) -> int:
    """A signed 64-bit advisory-lock key for ``parts`` (stable across processes and hosts).

    Example:
        >>> lock_key("visit", "H53010100001", "3001") == lock_key("visit", "H53010100001", "3001")
        True
    """
    digest = hashlib.blake2b("\x1f".join(parts).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def _one_line(error: BaseException) -> str:
    text = " ".join(str(error).split())
    return text or type(error).__name__

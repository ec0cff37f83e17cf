"""Why the store refused: every error names the database file or the record and the rule.

Exception tree::

    StoreError (RuntimeError)
     ├── SchemaVersionError     the file is newer than this nhsa-kit, or not a mock database
     └── StoreUsageError        a record type or key the store does not know
"""

from __future__ import annotations


class StoreError(RuntimeError):
    """Base of every store error; ``str(error)`` says what is wrong and what to do.

    Example:
        >>> import pathlib, tempfile
        >>> from nhsa.mock.store import SqliteStore
        >>> junk = pathlib.Path(tempfile.mkdtemp(), "junk.db")
        >>> _ = junk.write_bytes(b"not a database " * 100)
        >>> try:
        ...     SqliteStore(junk)
        ... except StoreError as error:
        ...     print(str(error).split(": ", 1)[1])
        file is not a database — is it a SQLite file written by nhsa-kit?
    """


class SchemaVersionError(StoreError):
    """The database file cannot be opened by this version of nhsa-kit.

    Example:
        >>> isinstance(SchemaVersionError("database x: version 9"), StoreError)
        True
    """


class StoreUsageError(StoreError):
    """A programming error: an unknown record type, or a key with the wrong number of parts.

    Example:
        >>> from nhsa.mock.store import SqliteStore, Visit
        >>> with SqliteStore(":memory:").snapshot() as tx:
        ...     try:
        ...         tx.get(Visit, "H53010100001")
        ...     except StoreUsageError as error:
        ...         print(error)
        Visit takes a key of 2 parts (tenant, mdtrt_id), got 1
    """

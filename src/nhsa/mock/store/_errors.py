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
        >>> str(StoreError("database busy"))
        'database busy'
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
        >>> str(StoreUsageError("Visit takes a key of 2 parts (tenant, mdtrt_id), got 1"))
        'Visit takes a key of 2 parts (tenant, mdtrt_id), got 1'
    """

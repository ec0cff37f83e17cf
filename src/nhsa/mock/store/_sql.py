"""SQL both stores build alike: checked record types and keys, WHERE clauses, tenant deletes.

Written with ``?`` placeholders; the PostgreSQL store converts them (``nhsa._postgres.qmark``).

Example:
    >>> from nhsa.mock.store._records import Balance
    >>> where_clause(Balance, {"tenant": "H1"}, ("balance", "0", "9"))
    (' WHERE "tenant" = ? AND "balance" BETWEEN ? AND ?', ['H1', '0', '9'])
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from nhsa.mock.store._errors import StoreUsageError
from nhsa.mock.store._records import RECORD_TYPES
from nhsa.mock.store._rows import SqlValue, columns, encode_key

__all__ = ["check_key", "check_table", "delete_tenant", "where_clause"]

Run = Callable[[str, Sequence[Any]], int]
"""Runs one statement; the number of rows it changed."""


def check_table(kind: type[Any]) -> str:
    """The table of a record type; :class:`StoreUsageError` for anything else."""
    if kind not in RECORD_TYPES:
        raise StoreUsageError(f"{kind.__name__} is not a record type of the mock store")
    table: str = kind.TABLE
    return table


def check_key(kind: type[Any], key: tuple[object, ...]) -> tuple[str, ...]:
    """The key columns of ``kind``; :class:`StoreUsageError` when ``key`` has another length."""
    check_table(kind)
    names: tuple[str, ...] = kind.KEY
    if len(key) != len(names):
        raise StoreUsageError(
            f"{kind.__name__} takes a key of {len(names)} parts ({', '.join(names)}), "
            f"got {len(key)}"
        )
    return names


def where_clause(
    kind: type[Any], equals: Mapping[str, object], span: tuple[str, object, object] | None
) -> tuple[str, list[SqlValue]]:
    """`` WHERE …`` for equalities and an optional ``BETWEEN``, with its values."""
    known = columns(kind)
    names = list(equals) + ([span[0]] if span else [])
    unknown = [n for n in names if n not in known]
    if unknown:
        raise StoreUsageError(
            f"{kind.__name__} has no column {', '.join(unknown)}; columns: {', '.join(known)}"
        )
    check_table(kind)
    clauses = [f'"{n}" = ?' for n in equals]
    values = [encode_key(v) for v in equals.values()]
    if span is not None:
        clauses.append(f'"{span[0]}" BETWEEN ? AND ?')
        values += [encode_key(span[1]), encode_key(span[2])]
    return (f" WHERE {' AND '.join(clauses)}" if clauses else ""), values


def delete_tenant(run: Run, tenant: str, *, keep_registration: bool) -> dict[str, int]:
    """Delete the tenant's rows in every table (transcript included); rows per table."""
    deleted: dict[str, int] = {}
    for kind in RECORD_TYPES:
        if "tenant" in columns(kind):
            sql = f'DELETE FROM "{kind.TABLE}" WHERE tenant = ?'  # noqa: S608 - fixed names
            deleted[kind.TABLE] = run(sql, (tenant,))
    deleted["transcript"] = run("DELETE FROM transcript WHERE tenant = ?", (tenant,))
    if not keep_registration:
        deleted["institutions"] = run(
            "DELETE FROM institutions WHERE fixmedins_code = ?", (tenant,)
        )
    return deleted

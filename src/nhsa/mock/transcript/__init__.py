"""The transcript: every request the mock platform saw, what it checked, and what it answered.

One record per request (see :class:`TranscriptDraft` for the shape, and
``conformance/transcript-record.schema.json``, version :data:`SCHEMA_VERSION`), written durably
into the store in the same transaction as the state change it describes, so the record and the
ledger never disagree — not even after a crash. The conformance suite judges a HIS from these
records alone (plus its driver's report). Records are read back per tenant after a sequence
number and exported as JSON Lines, with personal data masked by :func:`nhsa.redaction.redact`
unless the caller asks for the lab's own unmasked archive.

Example:
    >>> from nhsa.mock.store import SqliteStore
    >>> store = SqliteStore(":memory:")
    >>> with store.transaction() as tx:
    ...     seq = store.append_transcript(tx, {"tenant": "H53010100001", "psn_name": "张三"})
    >>> jsonl(records(store, "H53010100001"))
    b'{"seq":1,"tenant":"H53010100001","psn_name":"***"}\\n'
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from nhsa.envelope import dumps
from nhsa.mock.store import Store
from nhsa.mock.transcript._draft import (
    RECORDED_HEADERS,
    SCHEMA_VERSION,
    UNATTRIBUTED,
    Route,
    TranscriptDraft,
    iso_millis,
)
from nhsa.redaction import redact

__all__ = [
    "RECORDED_HEADERS",
    "SCHEMA_VERSION",
    "UNATTRIBUTED",
    "Route",
    "TranscriptDraft",
    "iso_millis",
    "jsonl",
    "jsonl_lines",
    "masked",
    "records",
]


def records(store: Store, tenant: str, since_seq: int = 0) -> list[dict[str, Any]]:
    """The tenant's records with ``seq`` greater than ``since_seq``, oldest first.

    Example:
        >>> from nhsa.mock.store import SqliteStore
        >>> records(SqliteStore(":memory:"), "H53010100001")
        []
    """
    return store.transcript(tenant, since_seq)


def masked(record: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``record`` with names, ID and card numbers, phones and tokens masked.

    Example:
        >>> masked({"request": {"input": {"data": {"certno": "530102198503150018"}}}})
        {'request': {'input': {'data': {'certno': '**************0018'}}}}
    """
    hidden: dict[str, Any] = redact(record)
    return hidden


def jsonl_lines(items: Iterable[dict[str, Any]], *, mask: bool = True) -> Iterator[bytes]:
    """One JSON line (with its newline) per record; amounts stay exact.

    Example:
        >>> list(jsonl_lines([{"seq": 1}], mask=False))
        [b'{"seq":1}\\n']
    """
    for record in items:
        yield dumps(masked(record) if mask else record) + b"\n"


def jsonl(items: Iterable[dict[str, Any]], *, mask: bool = True) -> bytes:
    """All records as one JSON Lines document (masked unless ``mask`` is false)."""
    return b"".join(jsonl_lines(items, mask=mask))

"""The mock platform's durable state: a small store interface and its SQLite implementation.

Everything the platform remembers lives here, keyed by tenant (the institution's
``fixmedins_code``): sign-ins, the msgids it has handled, visits, fee lines, pre-settlements,
the settlement ledger (positive rows and negative reversal rows), account balances and
year-to-date accumulators, filing overrides, e-voucher tokens, files, downtime windows,
chronic-disease recognitions, and the transcript. Ids (``mdtrt_id``, ``setl_id``,
``file_qury_no``, ``sign_no``) come from one global sequence.

- :class:`Store` / :class:`UnitOfWork` — the interface (a PostgreSQL store can implement it);
- :class:`SqliteStore` — the default (WAL; ``synchronous`` NORMAL, or FULL as an option);
- :class:`PostgresStore` — for several server workers over one database (``postgresql://``);
- :func:`open_store` — the one or the other, by what ``--db`` names;
- :class:`GroupCommit` — one COMMIT shared by the requests that queued during the last one
  (SQLite); :func:`committer` picks it or :class:`EachAlone`;
- the record types, one per table; :data:`LATEST` — the schema version this code writes.

Example:
    >>> from decimal import Decimal
    >>> store = SqliteStore(":memory:")
    >>> with store.transaction() as tx:
    ...     tx.put(Balance("H53010100001", "P1", "310", Decimal("1373.63")))
    ...     seq = store.append_transcript(tx, {"tenant": "H53010100001", "infno": "9001"})
    >>> store.transcript("H53010100001")[0]["seq"] == seq
    True
    >>> store.close()
"""

from nhsa.mock.store._errors import SchemaVersionError, StoreError, StoreUsageError
from nhsa.mock.store._group import CommitError, Committer, EachAlone, GroupCommit, committer
from nhsa.mock.store._open import open_store
from nhsa.mock.store._postgres import PostgresStore, PostgresUnitOfWork
from nhsa.mock.store._protocol import Store, UnitOfWork
from nhsa.mock.store._records import (
    ACTIVE,
    ADMITTED,
    CANCELLED,
    DISCHARGED,
    RECORD_TYPES,
    REGISTERED,
    SETTLED,
    UNSETTLED,
    VOIDED,
    Balance,
    Downtime,
    EcToken,
    FilingOverride,
    LabInstitution,
    LabReport,
    LabRun,
    Message,
    PreSettlement,
    Recognition,
    RegisteredInstitution,
    Settlement,
    SignIn,
    Stay,
    StoredFile,
    TenantSetting,
    UploadedFeeLine,
    Visit,
    YearToDate,
)
from nhsa.mock.store._schema import LATEST, MIGRATIONS
from nhsa.mock.store._shared import SharedState
from nhsa.mock.store._sqlite import OpenTransaction, SqliteStore, SqliteUnitOfWork, Synchronous

__all__ = [
    "ACTIVE",
    "ADMITTED",
    "CANCELLED",
    "DISCHARGED",
    "LATEST",
    "MIGRATIONS",
    "RECORD_TYPES",
    "REGISTERED",
    "SETTLED",
    "UNSETTLED",
    "VOIDED",
    "Balance",
    "CommitError",
    "Committer",
    "Downtime",
    "EachAlone",
    "EcToken",
    "FilingOverride",
    "GroupCommit",
    "LabInstitution",
    "LabReport",
    "LabRun",
    "Message",
    "OpenTransaction",
    "PostgresStore",
    "PostgresUnitOfWork",
    "PreSettlement",
    "Recognition",
    "RegisteredInstitution",
    "SchemaVersionError",
    "Settlement",
    "SharedState",
    "SignIn",
    "SqliteStore",
    "SqliteUnitOfWork",
    "Stay",
    "Store",
    "StoreError",
    "StoreUsageError",
    "StoredFile",
    "Synchronous",
    "TenantSetting",
    "UnitOfWork",
    "UploadedFeeLine",
    "Visit",
    "YearToDate",
    "committer",
    "open_store",
]

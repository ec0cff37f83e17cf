"""The SDK a HIS embeds: window and kiosk workflows that never lose or double a payment.

- :class:`Client` / :class:`AsyncClient` — one policy core, two drivers; a typed method per
  transaction of the contract, plus the workflows ``register``, ``cancel_registration``,
  ``charge`` (a chronic visit with ``chronic=ChronicDisease(...)``), ``refund``,
  ``reconcile``, ``recover``, for chronic care ``recognitions``, ``register_chronic``,
  ``cancel_chronic`` and, for an inpatient stay, ``admit``, ``upload_stay_fees``,
  ``settle_midway``, ``discharge``, ``settle_stay``, ``cancel_stay_settlement``,
  ``cancel_discharge``, ``cancel_admission``;
- :class:`WindowMode` / :class:`KioskMode` — who operates, which certificates are accepted,
  what an unknown outcome does;
- outcomes :class:`Succeeded`, :class:`Rejected`, :class:`NotSent`, :class:`Unknown` and the
  resolutions of an unknown one; errors in :mod:`nhsa.client.errors`;
- the journal (SQLite, written before every state-changing call) and the visit guard.

Example:
    >>> from decimal import Decimal
    >>> from nhsa.client import Certificate, Clinic, Diagnosis, FeeLine
    >>> card = Certificate.social_security_card("TA5300001", "530100D15600000500000000A1B2C3D4")
    >>> clinic = Clinic("0301", "内科门诊", "D530100000101", "医师丁", "A03")
    >>> FeeLine("110200001000000", "HIS-ZC-0001", cnt=1, pric=Decimal("20")).total
    Decimal('20.00')

    A visit, end to end (against ``nhsa mock serve`` or the in-process mock)::

        with Client(config, WindowMode("C0001", "收费员甲"), transport=transport) as client:
            client.recover()
            visit = client.register(card, insutype="310", clinic=clinic)
            paid = client.charge(visit, fees, diagnoses=[Diagnosis("J06.900", "急性上呼吸道感染")])
            client.refund(paid)
"""

from __future__ import annotations

from nhsa.client import errors
from nhsa.client._breaker import BreakerPolicy, DowntimeNotice
from nhsa.client._classify import AnswerPatterns
from nhsa.client._client import AsyncClient, Client
from nhsa.client._config import ClientConfig, Timeouts
from nhsa.client._inputs import Certificate, ChronicDisease, Clinic, Diagnosis, FeeLine, Ward
from nhsa.client._journal import Journal, JournalEntry
from nhsa.client._load_bearing import LOAD_BEARING, LoadBearing, Shortfall
from nhsa.client._modes import KioskMode, Mode, WindowMode
from nhsa.client._outcomes import (
    Attempt,
    Held,
    NeedsManualDecision,
    NotSent,
    Outcome,
    Rejected,
    Resolution,
    Reversed,
    StillPending,
    Succeeded,
    Unknown,
)
from nhsa.client._results import (
    Charge,
    ChronicRegistration,
    GroupReconciliation,
    LedgerTotals,
    Recognition,
    ReconcileReport,
    RecoveredEntry,
    RecoveryReport,
    Refund,
    Registration,
    SettlementTotals,
)
from nhsa.client._retry import RetryPolicy
from nhsa.client._stay_results import FeeBatch, Stay, StayCancellation, StaySettlement
from nhsa.client.errors import (
    AlreadySettledError,
    BusinessError,
    ForbiddenCertificateError,
    InsuredPlaceOffline,
    InvalidInputError,
    NhsaClientError,
    NotSentError,
    OutcomeUnknownError,
    PatientMessage,
    SettlementMismatchError,
    SignInError,
    UnusableAnswerError,
    VisitBusyError,
    VisitNotInJournalError,
)
from nhsa.envelope import AnswerWarning, ResultRow

__all__ = [
    "LOAD_BEARING",
    "AlreadySettledError",
    "AnswerPatterns",
    "AnswerWarning",
    "AsyncClient",
    "Attempt",
    "BreakerPolicy",
    "BusinessError",
    "Certificate",
    "Charge",
    "ChronicDisease",
    "ChronicRegistration",
    "Client",
    "ClientConfig",
    "Clinic",
    "Diagnosis",
    "DowntimeNotice",
    "FeeBatch",
    "FeeLine",
    "ForbiddenCertificateError",
    "GroupReconciliation",
    "Held",
    "InsuredPlaceOffline",
    "InvalidInputError",
    "Journal",
    "JournalEntry",
    "KioskMode",
    "LedgerTotals",
    "LoadBearing",
    "Mode",
    "NeedsManualDecision",
    "NhsaClientError",
    "NotSent",
    "NotSentError",
    "Outcome",
    "OutcomeUnknownError",
    "PatientMessage",
    "Recognition",
    "ReconcileReport",
    "RecoveredEntry",
    "RecoveryReport",
    "Refund",
    "Registration",
    "Rejected",
    "Resolution",
    "ResultRow",
    "RetryPolicy",
    "Reversed",
    "SettlementMismatchError",
    "SettlementTotals",
    "Shortfall",
    "SignInError",
    "Stay",
    "StayCancellation",
    "StaySettlement",
    "StillPending",
    "Succeeded",
    "Timeouts",
    "Unknown",
    "UnusableAnswerError",
    "VisitBusyError",
    "VisitNotInJournalError",
    "Ward",
    "WindowMode",
    "errors",
]

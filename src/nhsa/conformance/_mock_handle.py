"""The mock platform as the suite's instrument: what the runner needs from it, and nothing more.

The runner never reaches into the mock's internals. It registers the scenario's fresh
institution (and its keys), arms and clears faults, reads the transcript, asks for ledger
totals and resets a tenant — through :class:`MockHandle`. Two adapters implement it:
:class:`~nhsa.conformance.InProcessMock` (Python calls on ``nhsa.mock.MockPlatform``) and
:class:`~nhsa.conformance.RemoteMock` (the mock's admin HTTP API). A test can pass any
object with these methods.

Every tenant (institution code) sees only its own state, faults and transcript, so each
scenario of each run gets a fresh code and parallel runs against one mock never collide.

Example:
    >>> FaultSpec("commit-then-drop", infno="2207").count
    1
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Final, Literal, Protocol, get_args, runtime_checkable

from nhsa.conformance._errors import MockError

__all__ = [
    "FAULT_KINDS",
    "FaultKind",
    "FaultSpec",
    "InstitutionRegistration",
    "InstitutionTakenError",
    "MockHandle",
    "PlatformTotals",
]

FaultKind = Literal[
    "latency",
    "hang",
    "reset",
    "http-5xx",
    "empty-body",
    "garbled-body",
    "business-error",
    "bad-signature",
    "downtime",
    "network-failure",
    "commit-then-drop",
]
FAULT_KINDS: Final[tuple[str, ...]] = get_args(FaultKind)
"""Fault kinds a scenario may arm; adapters translate them to the mock's own names."""

UNTRUSTED_ANSWER_FAULTS: Final = frozenset(
    {
        "hang",
        "reset",
        "http-5xx",
        "empty-body",
        "garbled-body",
        "bad-signature",
        "commit-then-drop",
    }
)
"""Faults after which the HIS cannot trust (or did not get) the answer: the outcome is unknown."""


class InstitutionTakenError(MockError):
    """The institution code chosen for a scenario is already registered on the mock.

    Example:
        >>> issubclass(InstitutionTakenError, MockError)
        True
    """


@dataclass(frozen=True, slots=True)
class InstitutionRegistration:
    """A fresh institution for one scenario, copied from a fixture institution's area and level.

    Example:
        >>> InstitutionRegistration("H53010112345", "测试医院", "530100", "3", ("outpatient",),
        ...                         "tif").profile
        'tif'
    """

    fixmedins_code: str
    fixmedins_name: str
    mdtrtarea_admvs: str
    level: str
    networked: tuple[str, ...]
    profile: str
    paasid: str | None = None
    token: str | None = field(default=None, repr=False)
    public_key_pem: str | None = None
    key_id: str | None = None


@dataclass(frozen=True, slots=True)
class FaultSpec:
    """One fault to arm for a tenant, in the suite's vocabulary (:data:`FAULT_KINDS`).

    Scope: ``infno`` (any when ``None``), ``psn_no`` (any when ``None``); ``count`` matching
    calls (the next N), or ``probability`` with ``seed`` for a deterministic random share.
    ``delay_ms`` is for latency, ``status`` for http-5xx, ``err_msg`` for business-error,
    ``area`` and ``minutes`` for downtime and network-failure of an insured place.

    Example:
        >>> FaultSpec("downtime", area="440300", minutes=30).describe()
        'downtime area=440300 minutes=30 count=1'
    """

    kind: FaultKind
    infno: str | None = None
    count: int | None = 1
    probability: float | None = None
    seed: int | None = None
    psn_no: str | None = None
    delay_ms: int | None = None
    status: int | None = None
    err_msg: str | None = None
    area: str | None = None
    minutes: int | None = None

    def describe(self) -> str:
        """A one-line description for reports."""
        parts: list[str] = [self.kind]
        for name in ("infno", "psn_no", "area", "minutes", "delay_ms", "status", "err_msg"):
            value = getattr(self, name)
            if value is not None:
                parts.append(f"{name}={value}")
        if self.probability is not None:
            parts.append(f"probability={self.probability} seed={self.seed}")
        elif self.count is not None:
            parts.append(f"count={self.count}")
        return " ".join(parts)

    def as_dict(self) -> dict[str, Any]:
        """The fields that are set, for reports and the admin API."""
        return {
            f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name) is not None
        }


@dataclass(frozen=True, slots=True)
class PlatformTotals:
    """The platform's own totals for a tenant and date range, reversals counted negative.

    ``setl_cnt`` counts settlement rows as 3201's ``fixmedins_setl_cnt`` does on this mock.

    Example:
        >>> PlatformTotals(2, Decimal("50.00"), Decimal("30.00"), Decimal("5.00")).as_dict()
        {'setl_cnt': 2, 'medfee_sumamt': '50.00', 'fund_pay_sumamt': '30.00', 'acct_pay': '5.00'}
    """

    setl_cnt: int
    medfee_sumamt: Decimal
    fund_pay_sumamt: Decimal
    acct_pay: Decimal

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready view (amounts as decimal strings)."""
        return {
            "setl_cnt": self.setl_cnt,
            "medfee_sumamt": str(self.medfee_sumamt),
            "fund_pay_sumamt": str(self.fund_pay_sumamt),
            "acct_pay": str(self.acct_pay),
        }


@runtime_checkable
class MockHandle(Protocol):
    """What the runner needs from the mock platform (see the module docstring).

    Every method raises :class:`~nhsa.conformance.MockError` (or its subclass
    :class:`~nhsa.conformance.MockUnavailableError`) with a message naming the URL or call
    when the mock cannot do it.

    Example::

        mock.register_institution(registration)
        fault_id = mock.arm_fault("H53010112345", FaultSpec("commit-then-drop", infno="2207"))
        records = mock.transcript("H53010112345", since_seq=0)
    """

    def describe(self) -> str:
        """Where the mock is, for reports: a URL or ``in-process``."""
        ...

    def platform_url(self) -> str:
        """The base URL a HIS sends business calls to (in-process: the transport's base URL)."""
        ...

    def platform_public_key_pem(self) -> str | None:
        """The PEM of the key the platform signs its answers with (``None`` when unsigned)."""
        ...

    def now(self) -> datetime:
        """The platform's current time (China time); reconciliation days follow it."""
        ...

    def register_institution(self, registration: InstitutionRegistration) -> None:
        """Register a fresh institution; raise InstitutionTakenError when the code is in use."""
        ...

    def arm_fault(self, tenant: str, fault: FaultSpec) -> str:
        """Arm a fault for one tenant; return its id."""
        ...

    def clear_faults(self, tenant: str) -> None:
        """Clear every fault (and downtime window) armed for the tenant."""
        ...

    def transcript(self, tenant: str, since_seq: int = 0) -> list[Mapping[str, Any]]:
        """The tenant's transcript records with ``seq`` greater than ``since_seq``, in order."""
        ...

    def ledger_totals(self, tenant: str, begin: date, end: date) -> PlatformTotals:
        """The tenant's settlement totals for settlement days ``begin``..``end`` inclusive."""
        ...

    def reset_tenant(self, tenant: str) -> None:
        """Forget the tenant's state (visits, settlements, transcript, faults)."""
        ...

    def close(self) -> None:
        """Release connections (the remote adapter's HTTP client)."""
        ...

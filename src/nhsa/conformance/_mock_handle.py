"""The mock platform as the suite's instrument: what the runner needs from it, and nothing more.

The runner never reaches into the mock's internals. It registers the scenario's fresh
institution (and its keys), arms and clears faults, reads the transcript, asks for ledger
totals and resets a tenant — through :class:`MockHandle`. Two adapters implement it:
:class:`~nhsa.conformance.InProcessMock` (Python calls on ``nhsa.mock.MockPlatform``) and
:class:`~nhsa.conformance.RemoteMock` (the mock's admin HTTP API). A test can pass any
object with these methods.

Faults are the mock's own (:class:`nhsa.mock.faults.FaultSpec`, armed as they are); a downtime
(停机) is not a fault on the mock but a scheduled window of an insured area, shown on its
notice board (:class:`Downtime`).

Every tenant (institution code) sees only its own state, faults and transcript, so each
scenario of each run gets a fresh code and parallel runs against one mock never collide.

Example:
    >>> fault_body(FaultSpec(kind=FaultKind.HTTP_ERROR, infno=("2207",), status=502))
    {'kind': 'http-error', 'infno': ['2207'], 'status': 502}
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Final, Protocol, runtime_checkable

from nhsa.conformance._errors import MockError
from nhsa.mock.faults import FaultKind, FaultSpec

__all__ = [
    "AREA_SCOPED_FAULTS",
    "Downtime",
    "InstitutionRegistration",
    "InstitutionTakenError",
    "MockHandle",
    "PlatformTotals",
    "describe_fault",
    "fault_body",
]

AREA_SCOPED_FAULTS: Final = frozenset(
    {FaultKind.INSURED_PLACE_DOWNTIME, FaultKind.INSURED_PLACE_UNREACHABLE}
)
"""Faults of an insured place: a scenario's ``patient`` scopes them to that patient's area."""


def fault_body(spec: FaultSpec) -> dict[str, Any]:
    """The fault as the admin API takes it (and as reports show it): set parameters only.

    Example:
        >>> fault_body(FaultSpec(kind=FaultKind.RESET, times=None, probability=0.5, seed=7))
        {'kind': 'reset', 'times': None, 'probability': 0.5, 'seed': 7}
    """
    return spec.model_dump(mode="json", exclude_defaults=True)


def describe_fault(spec: FaultSpec) -> str:
    """A one-line description for reports: the kind, how often it fires, the parameters set.

    Example:
        >>> describe_fault(FaultSpec(kind=FaultKind.LATENCY, infno=("2206",), ms=300))
        'latency infno=2206 times=1 ms=300'
    """
    shown = [spec.kind.value]
    for name, value in spec.model_dump(mode="json").items():
        if name == "times" or (name != "kind" and value != FaultSpec.model_fields[name].default):
            shown.append(f"{name}={','.join(value) if isinstance(value, list) else value}")
    return " ".join(shown)


@dataclass(frozen=True, slots=True)
class Downtime:
    """A downtime window (停机) of insured area ``area``, ``minutes`` long from its scheduling.

    Example:
        >>> Downtime("440300", 30).describe()
        'downtime area=440300 minutes=30'
    """

    area: str
    minutes: int

    def describe(self) -> str:
        """A one-line description for reports."""
        return f"downtime area={self.area} minutes={self.minutes}"


class InstitutionTakenError(MockError):
    """The institution code chosen for a scenario is already registered on the mock.

    Example:
        >>> issubclass(InstitutionTakenError, MockError)
        True
    """


@dataclass(frozen=True, slots=True)
class InstitutionRegistration:
    """A fresh institution for one scenario, copied from a fixture institution's area and level."""

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
    dialect: str = "national"


@dataclass(frozen=True, slots=True)
class PlatformTotals:
    """The platform's own totals for a tenant and date range, reversals counted negative.

    ``setl_cnt`` counts rows as 3201's ``fixmedins_setl_cnt`` does (the contract's rule).

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
        fault_id = mock.arm_fault("H53010112345", FaultSpec(kind="commit-then-drop", infno="2207"))
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

    def schedule_downtime(self, tenant: str, downtime: Downtime) -> str:
        """Schedule a downtime window for one tenant, in force from now; return its id."""
        ...

    def clear_faults(self, tenant: str) -> None:
        """Clear every fault (and downtime window) armed for the tenant."""
        ...

    def transcript(self, tenant: str, since_seq: int = 0) -> list[Mapping[str, Any]]:
        """The tenant's transcript records with ``seq`` greater than ``since_seq``, in order."""
        ...

    def ledger_totals(
        self, tenant: str, begin: date, end: date, refd_setl_flag: str | None = None
    ) -> PlatformTotals:
        """The tenant's settlement totals for settlement days ``begin``..``end`` inclusive,
        counted as 3201 counts them when sent ``refd_setl_flag`` (``x-counting`` of 3201)."""
        ...

    def reset_tenant(self, tenant: str) -> None:
        """Forget the tenant's state (visits, settlements, transcript, faults)."""
        ...

    def close(self) -> None:
        """Release connections (the remote adapter's HTTP client)."""
        ...

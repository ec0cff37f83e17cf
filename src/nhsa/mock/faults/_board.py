"""The armed faults of every tenant, and the one decision per call: does a fault fire?

Faults are kept in memory, per tenant (an institution's ``fixmedins_code``), in arming order.
For each call the oldest armed fault whose scope matches and whose draw succeeds fires; at
most one fault acts on a call. A fault armed for ``times`` calls disarms itself after its last
firing. Draws come from a private ``random.Random(seed)`` per fault, so the same sequence of
calls fires the same faults on every run. Faults do not survive a restart of the server: they
belong to the test run that armed them.

Several server workers share one board through a :class:`FaultLedger` (the PostgreSQL store's
``armed_faults`` table): a fault armed through any worker fires on all of them, and a fault
armed for ``times`` calls fires that often in all. Each worker caches the armed faults until
:meth:`FaultBoard.refresh` (the platform calls it when the shared state changed); probability
draws are made per worker.

Example:
    >>> from nhsa.mock.faults._model import FaultKind, FaultSpec
    >>> board = FaultBoard()
    >>> armed = board.arm("H53010100001", FaultSpec(kind=FaultKind.RESET, infno=("2207",)))
    >>> board.take("H53010100001", CallFacts("2206")) is None
    True
    >>> board.take("H53010100001", CallFacts("2207")).fault_id == armed.fault_id
    True
    >>> board.faults("H53010100001")
    []
"""

from __future__ import annotations

import itertools
import random
import threading
from dataclasses import dataclass, field
from typing import Any, Final, Literal, Protocol

from nhsa.mock.faults._model import FaultKind, FaultSpec

__all__ = [
    "AppliedFault",
    "ArmedFault",
    "CallFacts",
    "FaultBoard",
    "FaultLedger",
    "Origin",
]

_INSURED_PLACE_KINDS: Final = frozenset(
    {FaultKind.INSURED_PLACE_DOWNTIME, FaultKind.INSURED_PLACE_UNREACHABLE}
)

Origin = Literal["admin", "python", "header"]
"""How a fault was armed: admin API, a Python call on MockPlatform, or the request header."""


@dataclass(frozen=True, slots=True)
class CallFacts:
    """What a fault's scope is matched against, read from the request envelope.

    Example:
        >>> board = FaultBoard()
        >>> _ = board.arm("H1", FaultSpec(kind=FaultKind.RESET, area="440300"))
        >>> board.take("H1", CallFacts("2207", area="530100")) is None
        True
        >>> board.take("H1", CallFacts("2207", area="440300")).kind.value
        'reset'
    """

    infno: str | None
    psn_no: str | None = None
    area: str | None = None
    routed: bool = True
    """Whether the platform forwards this call to the insured place."""


@dataclass(frozen=True, slots=True)
class AppliedFault:
    """A fault that fired on one call; what the transcript's ``fault`` member records.

    Example:
        >>> applied = AppliedFault("f-1", FaultSpec(kind=FaultKind.HANG), "admin")
        >>> applied.record()
        {'id': 'f-1', 'kind': 'hang', 'stage': 'before', 'armed_by': 'admin'}
    """

    fault_id: str
    spec: FaultSpec
    origin: Origin

    @property
    def kind(self) -> FaultKind:
        """The fault's kind."""
        return self.spec.kind

    def record(self) -> dict[str, Any]:
        """The transcript's description of this fault."""
        described: dict[str, Any] = {"id": self.fault_id, "kind": self.spec.kind.value}
        for name in ("ms", "status", "mode", "area"):
            value = getattr(self.spec, name)
            if value is not None and (name != "status" or self.kind is FaultKind.HTTP_ERROR):
                described[name] = value
        if self.spec.after_commit:
            described["after_commit"] = True
        described["stage"] = self.spec.stage
        described["armed_by"] = self.origin
        return described


@dataclass(slots=True)
class ArmedFault:
    """A fault waiting on a tenant's board.

    Attributes:
        fault_id: ``f-<n>``, unique within this server's lifetime.
        tenant: the institution it applies to.
        spec: the fault.
        origin: who armed it.
        fired: how many calls it has acted on so far.
    """

    fault_id: str
    tenant: str
    spec: FaultSpec
    origin: Origin
    fired: int = 0
    _draws: random.Random = field(default_factory=random.Random, repr=False)

    @property
    def remaining(self) -> int | None:
        """Calls it will still act on (``None``: no limit)."""
        return None if self.spec.times is None else self.spec.times - self.fired

    def describe(self) -> dict[str, Any]:
        """The armed fault as JSON data (admin API, ``MockPlatform.faults``).

        Example:
            >>> ArmedFault("f-2", "H53010100001", FaultSpec(kind=FaultKind.RESET), "python"
            ...           ).describe()["remaining"]
            1
        """
        return {
            "id": self.fault_id,
            "tenant": self.tenant,
            **self.spec.describe(),
            "armed_by": self.origin,
            "fired": self.fired,
            "remaining": self.remaining,
        }

    def fires(self) -> bool:
        """Draw once: whether this matching call is one the fault acts on."""
        return self.spec.probability >= 1.0 or self._draws.random() < self.spec.probability

    def matches(self, call: CallFacts) -> bool:
        """Whether the call lies inside this fault's scope."""
        spec = self.spec
        if spec.kind in _INSURED_PLACE_KINDS and spec.infno is None and not call.routed:
            return False
        return (
            (spec.infno is None or call.infno in spec.infno)
            and (spec.psn_no is None or call.psn_no == spec.psn_no)
            and (spec.area is None or call.area == spec.area)
        )


class FaultLedger(Protocol):
    """Armed faults kept where several server workers see them (numbered by the ledger)."""

    def arm_fault(self, tenant: str, spec_json: str, origin: str, times: int | None) -> int:
        """Store a fault; its number."""
        ...

    def armed_faults(self, tenant: str) -> list[tuple[int, str, str, int]]:
        """(number, spec JSON, origin, fired) of the tenant's faults, oldest first."""
        ...

    def fire_fault(self, fault_id: int) -> int | None:
        """Count one firing if one is left (its new count), else ``None``."""
        ...

    def clear_faults(self, tenant: str, fault_id: int | None) -> int:
        """Remove one or all of the tenant's faults; how many."""
        ...


class FaultBoard:
    """Thread-safe store of armed faults, keyed by tenant (in memory, or in a ledger).

    Example:
        >>> from nhsa.mock.faults._model import FaultKind, FaultSpec
        >>> board = FaultBoard()
        >>> _ = board.arm("H1", FaultSpec(kind=FaultKind.HANG, times=None))
        >>> [board.take("H1", CallFacts("1101")).kind.value for _ in range(2)]
        ['hang', 'hang']
        >>> board.take("H2", CallFacts("1101")) is None
        True
    """

    def __init__(self, ledger: FaultLedger | None = None) -> None:
        """An empty board (kept in ``ledger`` when given)."""
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._by_tenant: dict[str, list[ArmedFault]] = {}
        self._ledger = ledger
        self._draws: dict[str, random.Random] = {}

    def refresh(self) -> None:
        """Forget the cached faults of a ledger (another worker armed, cleared or used one)."""
        with self._lock:
            self._by_tenant.clear()

    def _from_ledger(self, ledger: FaultLedger, tenant: str) -> list[ArmedFault]:
        """The tenant's faults as the ledger holds them (call with the lock held)."""
        armed = []
        for number, spec_json, origin, fired in ledger.armed_faults(tenant):
            spec = FaultSpec.model_validate_json(spec_json)
            fault_id = f"f-{number}"
            draws = self._draws.setdefault(fault_id, random.Random(spec.seed))
            armed.append(ArmedFault(fault_id, tenant, spec, origin, fired, _draws=draws))  # type: ignore[arg-type]
        self._by_tenant[tenant] = armed
        return armed

    def arm(self, tenant: str, spec: FaultSpec, origin: Origin = "python") -> ArmedFault:
        """Arm ``spec`` for ``tenant``; it acts on matching calls from the next one on."""
        if self._ledger is not None:
            number = self._ledger.arm_fault(tenant, spec.model_dump_json(), origin, spec.times)
            with self._lock:
                self._by_tenant.pop(tenant, None)
                return ArmedFault(f"f-{number}", tenant, spec, origin)
        with self._lock:
            armed = ArmedFault(
                f"f-{next(self._ids)}", tenant, spec, origin, _draws=random.Random(spec.seed)
            )
            self._by_tenant.setdefault(tenant, []).append(armed)
            return armed

    def faults(self, tenant: str) -> list[ArmedFault]:
        """The tenant's armed faults, oldest first."""
        with self._lock:
            if self._ledger is not None:
                return list(self._from_ledger(self._ledger, tenant))
            return list(self._by_tenant.get(tenant, ()))

    def clear(self, tenant: str, fault_id: str | None = None) -> int:
        """Disarm one fault (by id) or all of the tenant's; returns how many were removed."""
        if self._ledger is not None:
            number = _number(fault_id) if fault_id is not None else None
            removed = 0 if number == -1 else self._ledger.clear_faults(tenant, number)
            with self._lock:
                self._by_tenant.pop(tenant, None)
            return removed
        with self._lock:
            armed = self._by_tenant.get(tenant, [])
            kept = [] if fault_id is None else [f for f in armed if f.fault_id != fault_id]
            removed = len(armed) - len(kept)
            self._by_tenant[tenant] = kept
            return removed

    def take(self, tenant: str, call: CallFacts) -> AppliedFault | None:
        """The fault that acts on this call, if any; counts it as fired."""
        with self._lock:
            armed = self._by_tenant.get(tenant)
            if armed is None and self._ledger is not None:
                armed = self._from_ledger(self._ledger, tenant)
            if not armed:
                return None
            for fault in armed:
                if not fault.matches(call) or not fault.fires():
                    continue
                if self._ledger is not None:
                    fired = self._ledger.fire_fault(_number(fault.fault_id))
                    if fired is None:  # another worker used its last firing
                        continue
                    fault.fired = fired - 1
                fault.fired += 1
                if fault.remaining == 0:
                    armed.remove(fault)
                return AppliedFault(fault.fault_id, fault.spec, fault.origin)
            return None

    def one_shot(self, spec: FaultSpec) -> AppliedFault:
        """A fault armed by a request's own header: it acts on that request only."""
        with self._lock:
            return AppliedFault(f"h-{next(self._ids)}", spec, "header")


def _number(fault_id: str) -> int:
    """The ledger number of ``f-<n>`` (-1 for an id no ledger issued)."""
    digits = fault_id.removeprefix("f-")
    return int(digits) if digits.isdigit() else -1

"""The HIS's own record of visits, stays and settlements, kept beside the SDK's journal.

The driver API names visits and settlements by the platform's ids (``mdtrt_id``,
``setl_id``); the SDK's workflows take the objects its earlier calls returned
(:class:`~nhsa.client.Registration`, :class:`~nhsa.client.Charge`, :class:`~nhsa.client.Stay`,
:class:`~nhsa.client.StaySettlement`). A :class:`VisitBook` maps one to the other, per
institution (tenant), and remembers which settlements still stand — which is how the HIS
refuses to cancel a registration over a standing settlement before anything is sent — which
chronic-disease registrations (2503) it made, the only ones it may cancel (2504), and, for a
stay, every fee line it uploaded and which settlement settled it: the HIS's own total of what
it settles next.

:class:`MemoryBook` keeps everything in memory (the in-process ``sdk`` driver: a run is
throw-away); the reference HIS keeps the same in SQLite (``examples/reference_his/store.py``)
so a restart loses nothing.

Example:
    >>> book = MemoryBook()
    >>> book.registration("H53010112345", "M1") is None
    True
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from nhsa.client import Charge, ChronicRegistration, FeeLine, Registration, Stay, StaySettlement

__all__ = ["MemoryBook", "VisitBook"]


@runtime_checkable
class VisitBook(Protocol):
    """Where the HIS keeps registrations and settlements, keyed by institution.

    Example::

        book.add_registration("H53010112345", registration)
        book.live_charges("H53010112345", registration.mdtrt_id)  # []
    """

    def add_registration(self, tenant: str, registration: Registration) -> None:
        """Remember a registered visit."""
        ...

    def registration(self, tenant: str, mdtrt_id: str) -> Registration | None:
        """The visit ``mdtrt_id``, or ``None`` when this HIS did not register it."""
        ...

    def registrations(self, tenant: str) -> list[Registration]:
        """Every visit of the institution, oldest first."""
        ...

    def add_charge(self, tenant: str, charge: Charge) -> None:
        """Remember a settlement that now stands."""
        ...

    def charge(self, tenant: str, setl_id: str) -> Charge | None:
        """The settlement ``setl_id`` (standing or refunded), or ``None``."""
        ...

    def close_charge(self, tenant: str, setl_id: str) -> None:
        """Mark settlement ``setl_id`` as refunded (it no longer stands)."""
        ...

    def live_charges(self, tenant: str, mdtrt_id: str) -> list[Charge]:
        """The settlements of visit ``mdtrt_id`` that still stand."""
        ...

    def add_chronic(self, tenant: str, registration: ChronicRegistration) -> None:
        """Remember a chronic-disease registration this HIS made (2503)."""
        ...

    def chronic(self, tenant: str, trt_dcla_detl_sn: str) -> ChronicRegistration | None:
        """The registration ``trt_dcla_detl_sn`` this HIS made and has not cancelled."""
        ...

    def forget_chronic(self, tenant: str, trt_dcla_detl_sn: str) -> None:
        """The registration was cancelled (2504): it is no longer this HIS's to cancel."""
        ...

    def add_stay(self, tenant: str, stay: Stay) -> None:
        """Remember a stay, or its new state (discharged, admitted again)."""
        ...

    def stay(self, tenant: str, mdtrt_id: str) -> Stay | None:
        """The stay ``mdtrt_id``, or ``None`` when this HIS did not admit it."""
        ...

    def stays(self, tenant: str) -> list[Stay]:
        """Every stay of the institution, oldest first."""
        ...

    def add_stay_fees(self, tenant: str, mdtrt_id: str, lines: Sequence[FeeLine]) -> None:
        """Remember fee lines the platform accepted for the stay."""
        ...

    def stay_fees(self, tenant: str, mdtrt_id: str) -> list[tuple[FeeLine, str | None]]:
        """The stay's fee lines, each with the ``setl_id`` that settled it (``None``: open)."""
        ...

    def drop_stay_fees(self, tenant: str, mdtrt_id: str) -> None:
        """Forget the stay's unsettled fee lines (cancelled on the platform)."""
        ...

    def add_stay_settlement(
        self, tenant: str, settlement: StaySettlement, serials: Sequence[str]
    ) -> None:
        """Remember a standing settlement of a stay and the fee lines (serials) it settled."""
        ...

    def stay_settlement(self, tenant: str, setl_id: str) -> StaySettlement | None:
        """The stay settlement ``setl_id`` (standing or cancelled), or ``None``."""
        ...

    def close_stay_settlement(self, tenant: str, setl_id: str) -> None:
        """Mark a stay settlement cancelled: its fee lines are open again."""
        ...

    def live_stay_settlements(self, tenant: str, mdtrt_id: str) -> list[StaySettlement]:
        """The stay's settlements that still stand, oldest first."""
        ...


class MemoryBook:
    """A :class:`VisitBook` in memory, safe to share between threads.

    Example:
        >>> book = MemoryBook()
        >>> book.registrations("H53010112345")
        []
    """

    def __init__(self) -> None:
        """An empty book."""
        self._lock = threading.Lock()
        self._visits: dict[tuple[str, str], Registration] = {}
        self._charges: dict[tuple[str, str], Charge] = {}
        self._closed: set[tuple[str, str]] = set()
        self._chronic: dict[tuple[str, str], ChronicRegistration] = {}
        self._stays: dict[tuple[str, str], Stay] = {}
        self._stay_fees: dict[tuple[str, str], list[tuple[FeeLine, str | None]]] = {}
        self._stay_settlements: dict[tuple[str, str], StaySettlement] = {}

    def add_registration(self, tenant: str, registration: Registration) -> None:
        """Remember a registered visit."""
        with self._lock:
            self._visits[(tenant, registration.mdtrt_id)] = registration

    def registration(self, tenant: str, mdtrt_id: str) -> Registration | None:
        """The visit ``mdtrt_id``, or ``None``."""
        with self._lock:
            return self._visits.get((tenant, mdtrt_id))

    def registrations(self, tenant: str) -> list[Registration]:
        """Every visit of the institution, in the order registered."""
        with self._lock:
            return [r for (t, _), r in self._visits.items() if t == tenant]

    def add_charge(self, tenant: str, charge: Charge) -> None:
        """Remember a standing settlement."""
        with self._lock:
            self._charges[(tenant, charge.setl_id)] = charge

    def charge(self, tenant: str, setl_id: str) -> Charge | None:
        """The settlement ``setl_id``, or ``None``."""
        with self._lock:
            return self._charges.get((tenant, setl_id))

    def close_charge(self, tenant: str, setl_id: str) -> None:
        """Mark ``setl_id`` refunded."""
        with self._lock:
            self._closed.add((tenant, setl_id))

    def live_charges(self, tenant: str, mdtrt_id: str) -> list[Charge]:
        """Standing settlements of the visit."""
        with self._lock:
            return [
                c
                for key, c in self._charges.items()
                if key[0] == tenant
                and key not in self._closed
                and c.registration.mdtrt_id == mdtrt_id
            ]

    def add_chronic(self, tenant: str, registration: ChronicRegistration) -> None:
        """Remember a chronic-disease registration."""
        with self._lock:
            self._chronic[(tenant, registration.trt_dcla_detl_sn)] = registration

    def chronic(self, tenant: str, trt_dcla_detl_sn: str) -> ChronicRegistration | None:
        """The registration, or ``None``."""
        with self._lock:
            return self._chronic.get((tenant, trt_dcla_detl_sn))

    def forget_chronic(self, tenant: str, trt_dcla_detl_sn: str) -> None:
        """Drop a cancelled registration."""
        with self._lock:
            self._chronic.pop((tenant, trt_dcla_detl_sn), None)

    def add_stay(self, tenant: str, stay: Stay) -> None:
        """Remember a stay (or its new state)."""
        with self._lock:
            self._stays[(tenant, stay.mdtrt_id)] = stay

    def stay(self, tenant: str, mdtrt_id: str) -> Stay | None:
        """The stay, or ``None``."""
        with self._lock:
            return self._stays.get((tenant, mdtrt_id))

    def stays(self, tenant: str) -> list[Stay]:
        """Every stay of the institution, in the order admitted."""
        with self._lock:
            return [stay for (t, _), stay in self._stays.items() if t == tenant]

    def add_stay_fees(self, tenant: str, mdtrt_id: str, lines: Sequence[FeeLine]) -> None:
        """Remember accepted fee lines of the stay."""
        with self._lock:
            self._stay_fees.setdefault((tenant, mdtrt_id), []).extend(
                (line, None) for line in lines
            )

    def stay_fees(self, tenant: str, mdtrt_id: str) -> list[tuple[FeeLine, str | None]]:
        """The stay's fee lines with the settlement that settled each."""
        with self._lock:
            return list(self._stay_fees.get((tenant, mdtrt_id), ()))

    def drop_stay_fees(self, tenant: str, mdtrt_id: str) -> None:
        """Forget the stay's open fee lines."""
        with self._lock:
            held = self._stay_fees.get((tenant, mdtrt_id), [])
            self._stay_fees[(tenant, mdtrt_id)] = [(line, s) for line, s in held if s is not None]

    def add_stay_settlement(
        self, tenant: str, settlement: StaySettlement, serials: Sequence[str]
    ) -> None:
        """Remember a standing stay settlement; its lines are settled by it."""
        key = (tenant, settlement.stay.mdtrt_id)
        with self._lock:
            self._stay_settlements[(tenant, settlement.setl_id)] = settlement
            self._stay_fees[key] = [
                (line, settlement.setl_id if line.feedetl_sn in serials else setl_id)
                for line, setl_id in self._stay_fees.get(key, [])
            ]

    def stay_settlement(self, tenant: str, setl_id: str) -> StaySettlement | None:
        """The stay settlement, or ``None``."""
        with self._lock:
            return self._stay_settlements.get((tenant, setl_id))

    def close_stay_settlement(self, tenant: str, setl_id: str) -> None:
        """Mark a stay settlement cancelled; its lines are open again."""
        with self._lock:
            settlement = self._stay_settlements.get((tenant, setl_id))
            if settlement is None:
                return
            self._closed.add((tenant, setl_id))
            key = (tenant, settlement.stay.mdtrt_id)
            self._stay_fees[key] = [
                (line, None if held == setl_id else held)
                for line, held in self._stay_fees.get(key, [])
            ]

    def live_stay_settlements(self, tenant: str, mdtrt_id: str) -> list[StaySettlement]:
        """The stay's standing settlements, in the order settled."""
        with self._lock:
            return [
                s
                for key, s in self._stay_settlements.items()
                if key[0] == tenant and key not in self._closed and s.stay.mdtrt_id == mdtrt_id
            ]

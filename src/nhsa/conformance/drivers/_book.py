"""The HIS's own record of visits and settlements, kept beside the SDK's journal.

The driver API names visits and settlements by the platform's ids (``mdtrt_id``,
``setl_id``); the SDK's workflows take the objects its earlier calls returned
(:class:`~nhsa.client.Registration`, :class:`~nhsa.client.Charge`). A :class:`VisitBook`
maps one to the other, per institution (tenant), and remembers which settlements still stand
— which is how the HIS refuses to cancel a registration over a standing settlement before
anything is sent — and which chronic-disease registrations (2503) it made, the only ones it
may cancel (2504).

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
from typing import Protocol, runtime_checkable

from nhsa.client import Charge, ChronicRegistration, Registration

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

"""What earlier steps of a scenario leave for later ones: results, visits, settled fee lines.

References (``$register.mdtrt_id``) are looked up in the results of earlier steps; the
patient, certificate and ``ipt_otp_no`` of a visit come from the register step that created
it; fee lines of a settlement come from the charge (or partial refund) that made it, so a
partial refund takes lines back at the price they were charged. The action table
(:mod:`nhsa.conformance._actions`) builds each driver request from these.

Example:
    >>> inputs = StepInputs(results={"register": DriverResult("rejected")})
    >>> try:
    ...     inputs.value(Reference("register", "mdtrt_id", 12))
    ... except UnresolvedReferenceError as error:
    ...     print(error)
    needs $register.mdtrt_id, but step 'register' ended with rejected and no mdtrt_id
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from nhsa.conformance._driver import DriverCertificate, DriverResult, FeeItem
from nhsa.conformance._scenario import Reference

__all__ = ["StepInputs", "UnresolvedReferenceError", "Visit", "remaining_items"]


class UnresolvedReferenceError(LookupError):
    """A reference names a step that produced no value (it failed, was skipped or timed out).

    The runner skips the step that needed it, with this message as the reason.
    """


@dataclass(frozen=True)
class Visit:
    """The visit a register step created: who, with which certificate, under which numbers;
    ``chronic`` is the disease of a chronic visit (med_type 14)."""

    patient: str
    certificate: DriverCertificate
    ipt_otp_no: str
    insutype: str
    med_type: str
    chronic: str | None = None


@dataclass
class StepInputs:
    """What earlier steps left for later ones: results, visits, settled fee lines."""

    results: dict[str, DriverResult] = field(default_factory=dict)
    visits: dict[str, Visit] = field(default_factory=dict)
    settled: dict[str, tuple[FeeItem, ...]] = field(default_factory=dict)
    registrations: dict[str, str] = field(default_factory=dict)
    """register_chronic step → the patient alias it registered a disease for."""

    def value(self, reference: Reference) -> Any:
        """The referenced result field; UnresolvedReferenceError when there is none."""
        result = self.results.get(reference.step)
        value = result.field(reference.field) if result is not None else None
        if value is None or value == "":
            status = result.status if result is not None else "no result"
            raise UnresolvedReferenceError(
                f"needs {reference}, but step {reference.step!r} ended with {status} and no "
                f"{reference.field}"
            )
        return value

    def visit(self, reference: Reference) -> tuple[str, Visit]:
        """The ``mdtrt_id`` a visit reference names and the visit its register step made."""
        mdtrt_id = str(self.value(reference))
        visit = self.visits.get(reference.step)
        if visit is None:
            raise UnresolvedReferenceError(f"needs the visit of step {reference.step!r}")
        return mdtrt_id, visit


def remaining_items(
    settled: tuple[FeeItem, ...], taken_back: tuple[FeeItem, ...]
) -> tuple[FeeItem, ...]:
    """The fee lines a settlement keeps once ``taken_back`` is refunded (quantities by code).

    Example:
        >>> charged = (FeeItem("X", "H", Decimal("2"), Decimal("5")),)
        >>> back = (FeeItem("X", "H", Decimal("1"), Decimal("5")),)
        >>> [(i.code, i.qty) for i in remaining_items(charged, back)]
        [('X', Decimal('1'))]
    """
    taken = {item.code: item.qty for item in taken_back}
    remaining: list[FeeItem] = []
    for item in settled:
        qty = item.qty - taken.get(item.code, Decimal(0))
        if qty > 0:
            remaining.append(FeeItem(item.code, item.hospital_code, qty, item.price))
    return tuple(remaining)

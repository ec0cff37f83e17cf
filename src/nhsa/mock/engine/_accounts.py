"""A person's state as one tenant sees it: account balance, year-to-date counters, filing.

The fixtures give the opening state (``balc``, the filing on record); the store keeps what this
tenant's settlements changed. Counters are kept per person × year × insured area × benefit
rule (the calculator's unit), and a reversal changes the year of the settlement it reverses.

Example::

    before = balance(ctx, person, "310")
    counters = year_to_date(ctx, person.psn_no, 2026, "530100", "emp-outpatient")
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from nhsa.mock.engine._context import Context
from nhsa.mock.fixtures import InsuredPerson
from nhsa.mock.settlement import (
    Access,
    Accumulators,
    FilingKind,
    FundCounter,
    FundKind,
    Visit,
    access_for,
    locality_of,
    pooling_area,
)
from nhsa.mock.store import Balance, FilingOverride, YearToDate

EMERGENCY = "emergency"
"""Filing-override kind for 急诊抢救 without a filing (the visit settles as an emergency)."""

FILING_KINDS = (*(kind.value for kind in FilingKind), EMERGENCY)
"""Every kind a filing override may name."""

_EMERGENCY_MED_TYPE = "13"  # 急诊


def _decimal(value: object) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(str(value))


def balance(ctx: Context, person: InsuredPerson, insutype: str) -> Decimal:
    """The personal-account balance now: the tenant's, else the fixture's opening ``balc``."""
    stored = ctx.tx.get(Balance, ctx.tenant, person.psn_no, insutype)
    if stored is not None:
        return stored.balance
    record = person.record(insutype)
    return record.balc if record is not None else Decimal("0.00")


def set_balance(ctx: Context, psn_no: str, insutype: str, value: Decimal) -> None:
    """Record the balance after a settlement or a reversal."""
    ctx.tx.put(Balance(ctx.tenant, psn_no, insutype, value))


def year_to_date(
    ctx: Context, psn_no: str, year: int, insuplc_admdvs: str, benefit_id: str
) -> Accumulators:
    """This year's counters of one benefit rule (zero when nothing was settled yet)."""
    row = ctx.tx.get(YearToDate, ctx.tenant, psn_no, year, insuplc_admdvs, benefit_id)
    return Accumulators() if row is None else accumulators_from_json(row.counters)


def add_year_to_date(
    ctx: Context,
    psn_no: str,
    year: int,
    insuplc_admdvs: str,
    benefit_id: str,
    *,
    delta: Accumulators,
) -> None:
    """Add a settlement's (or a reversal's) delta to the counters."""
    now = year_to_date(ctx, psn_no, year, insuplc_admdvs, benefit_id) + delta
    ctx.tx.put(
        YearToDate(ctx.tenant, psn_no, year, insuplc_admdvs, benefit_id, accumulators_to_json(now))
    )


def accumulators_to_json(counters: Accumulators) -> dict[str, Any]:
    """Counters as JSON values (exact Decimals).

    Example:
        >>> accumulators_to_json(Accumulators(deductible_used=Decimal("1.00")))["deductible_used"]
        Decimal('1.00')
    """
    return {
        "deductible_used": counters.deductible_used,
        "pooling_paid": counters.pooling_paid,
        "funds": {
            kind.value: {"base": counter.base, "paid": counter.paid}
            for kind, counter in counters.funds
        },
    }


def accumulators_from_json(data: Mapping[str, Any]) -> Accumulators:
    """The inverse of :func:`accumulators_to_json`.

    Example:
        >>> data = {"deductible_used": Decimal("1.00"), "pooling_paid": 0, "funds": {}}
        >>> accumulators_from_json(data).deductible_used
        Decimal('1.00')
    """
    funds = {
        FundKind(kind): FundCounter(_decimal(counter["base"]), _decimal(counter["paid"]))
        for kind, counter in dict(data.get("funds") or {}).items()
    }
    return Accumulators.of(
        deductible_used=_decimal(data.get("deductible_used", 0)),
        pooling_paid=_decimal(data.get("pooling_paid", 0)),
        funds=funds,
    )


@dataclass(frozen=True)
class FilingOnRecord:
    """The filing (备案) that applies to a person for this tenant.

    Example:
        >>> f = FilingOnRecord("referral", "530100", date(2026, 1, 1), None)
        >>> f.covers("530102", date(2026, 6, 1)), f.covers("440300", date(2026, 6, 1))
        (True, False)
    """

    kind: str
    area: str
    begndate: date
    enddate: date | None

    def covers(self, mdtrtarea_admvs: str, on: date) -> bool:
        """Whether the filing is in force on ``on`` for a visit at this treatment area."""
        in_force = self.begndate <= on and (self.enddate is None or on <= self.enddate)
        return in_force and pooling_area(self.area) == pooling_area(mdtrtarea_admvs)

    def to_json(self) -> dict[str, str | None]:
        """The filing as JSON values (as the store and the admin API carry it)."""
        return {
            "kind": self.kind,
            "area": self.area,
            "begndate": self.begndate.isoformat(),
            "enddate": self.enddate.isoformat() if self.enddate else None,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> FilingOnRecord:
        """Read a filing written by :meth:`to_json`."""
        end = data.get("enddate")
        return cls(
            str(data["kind"]),
            str(data["area"]),
            date.fromisoformat(str(data["begndate"])),
            date.fromisoformat(str(end)) if end else None,
        )


def filing_of(ctx: Context, person: InsuredPerson) -> FilingOnRecord | None:
    """The tenant's override of the person's filing, else the fixture's filing."""
    override = ctx.tx.get(FilingOverride, ctx.tenant, person.psn_no)
    if override is not None:
        return None if override.filing is None else FilingOnRecord.from_json(override.filing)
    fixture = person.filing
    if fixture is None:
        return None
    return FilingOnRecord(fixture.kind.value, fixture.area, fixture.begndate, fixture.enddate)


def access_of(ctx: Context, person: InsuredPerson, med_type: str) -> Access:
    """The cross-region access class of a visit at this tenant's treatment place today."""
    filing = filing_of(ctx, person)
    area = ctx.institution.mdtrtarea_admvs
    covering = filing if filing is not None and filing.covers(area, ctx.today) else None
    emergency = med_type == _EMERGENCY_MED_TYPE or (
        covering is not None and covering.kind == EMERGENCY
    )
    kind = FilingKind(covering.kind) if covering and covering.kind != EMERGENCY else None
    return access_for(kind, emergency=emergency)


def visit_terms(
    ctx: Context,
    person: InsuredPerson,
    insuplc_admdvs: str,
    med_type: str,
    *,
    dise_codg: str | None = None,
) -> Visit:
    """The calculator's view of the visit: med_type, hospital tier, locality, access, and the
    recognised disease of a chronic visit."""
    locality = locality_of(insuplc_admdvs, ctx.institution.mdtrtarea_admvs)
    return Visit(
        med_type=med_type,
        hosp_level=ctx.institution.level,
        locality=locality,
        access=access_of(ctx, person, med_type),
        dise_codg=dise_codg,
    )

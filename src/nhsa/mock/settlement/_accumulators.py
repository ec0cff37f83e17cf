"""Year-to-date counters: what the deductible, the pooling cap and each supplementary fund have
already absorbed this calendar year.

The store keeps one :class:`Accumulators` per person × insured area × insutype × benefit rule ×
calendar year, passes it to :func:`~nhsa.mock.settlement.settle`, and adds the settlement's
``delta`` when it commits. A reversal carries the negated delta, so applying it restores the
counters exactly (Decimal addition of two-decimal numbers is exact).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

from nhsa.mock.settlement._money import ZERO


class FundKind(StrEnum):
    """A supplementary fund of one-bill settlement (一单式结算), named like its setlinfo field.

    Example:
        >>> FundKind.HIFMI.setlinfo_field
        'hifmi_pay'
    """

    HIFMI = "hifmi"
    """居民大病保险 (serious-illness insurance, residents)."""
    HIFOB = "hifob"
    """职工大额医疗费用补助 (large-expense subsidy, employees)."""
    CVLSERV = "cvlserv"
    """公务员医疗补助 (civil-servant subsidy)."""
    HIFES = "hifes"
    """企业补充医疗保险 (enterprise supplementary insurance)."""
    MAF = "maf"
    """医疗救助 (medical assistance)."""
    HIFDM = "hifdm"
    """伤残人员医疗保障 (disability medical security, fund_pay_type 350100)."""
    OTH = "oth"
    """其他 (any other payer)."""

    @property
    def setlinfo_field(self) -> str:
        """The ``setlinfo`` amount this fund's payment goes to."""
        return f"{self.value}_pay"


@dataclass(frozen=True)
class FundCounter:
    """One supplementary fund's year-to-date counters.

    ``base`` is the cost the fund has counted towards its thresholds and tiers; ``paid`` is
    what it has paid (bounded by its annual cap).

    Example:
        >>> total = FundCounter(Decimal("100"), Decimal("60.00")) + FundCounter(paid=Decimal("9"))
        >>> total.paid, (total + -total).is_zero
        (Decimal('69.00'), True)
    """

    base: Decimal = ZERO
    paid: Decimal = ZERO

    def __add__(self, other: FundCounter) -> FundCounter:
        return FundCounter(self.base + other.base, self.paid + other.paid)

    def __neg__(self) -> FundCounter:
        return FundCounter(-self.base, -self.paid)

    @property
    def is_zero(self) -> bool:
        """True when both counters are zero."""
        return self.base == 0 and self.paid == 0


def _normalised(funds: Mapping[FundKind, FundCounter]) -> tuple[tuple[FundKind, FundCounter], ...]:
    # A fund that never counted anything and one at zero are the same state: dropping zero
    # counters makes "settle, reverse" compare equal to "never settled".
    kept = [(kind, counter) for kind, counter in funds.items() if not counter.is_zero]
    return tuple(sorted(kept, key=lambda pair: pair[0]))


@dataclass(frozen=True)
class Accumulators:
    """Year-to-date counters of one benefit rule, or a change to them (a settlement's delta).

    Example:
        >>> ytd = Accumulators(deductible_used=Decimal("300.00"))
        >>> counter = FundCounter(Decimal("10"), Decimal("9"))
        >>> delta = Accumulators.of(pooling_paid=Decimal("70.00"), funds={FundKind.HIFOB: counter})
        >>> after = ytd + delta
        >>> after.pooling_paid, after.fund(FundKind.HIFOB).paid
        (Decimal('70.00'), Decimal('9.00'))
        >>> after - delta == ytd
        True
    """

    deductible_used: Decimal = ZERO
    pooling_paid: Decimal = ZERO
    funds: tuple[tuple[FundKind, FundCounter], ...] = field(default=())

    def __post_init__(self) -> None:
        object.__setattr__(self, "funds", _normalised(dict(self.funds)))

    @classmethod
    def of(
        cls,
        *,
        deductible_used: Decimal = ZERO,
        pooling_paid: Decimal = ZERO,
        funds: Mapping[FundKind, FundCounter] | None = None,
    ) -> Accumulators:
        """Build counters from a mapping of supplementary funds."""
        return cls(deductible_used, pooling_paid, tuple((funds or {}).items()))

    def fund(self, kind: FundKind) -> FundCounter:
        """The counters of one supplementary fund (zero when it never counted anything)."""
        return dict(self.funds).get(kind, FundCounter())

    def __add__(self, other: Accumulators) -> Accumulators:
        kinds = {kind for kind, _ in self.funds} | {kind for kind, _ in other.funds}
        return Accumulators.of(
            deductible_used=self.deductible_used + other.deductible_used,
            pooling_paid=self.pooling_paid + other.pooling_paid,
            funds={kind: self.fund(kind) + other.fund(kind) for kind in kinds},
        )

    def __neg__(self) -> Accumulators:
        return Accumulators.of(
            deductible_used=-self.deductible_used,
            pooling_paid=-self.pooling_paid,
            funds={kind: -counter for kind, counter in self.funds},
        )

    def __sub__(self, other: Accumulators) -> Accumulators:
        return self + (-other)

    def is_non_negative(self) -> bool:
        """True when no counter is negative (a valid year-to-date state)."""
        values = [self.deductible_used, self.pooling_paid]
        values += [v for _, c in self.funds for v in (c.base, c.paid)]
        return all(v >= 0 for v in values)

"""Decimal rounding and the constrained number types of policy and catalogue data.

Every amount the calculator produces is rounded half-up to 0.01 (the spec's 数值型(16,2)) by
:func:`nhsa.money.cents`, the rounding every room shares; ratios to 0.0001 (数值型(5,4)). Data
types reject floats' usual surprises by construction: YAML and JSON numbers reach them as
:class:`~decimal.Decimal`.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Annotated

from pydantic import Field

ZERO = Decimal("0.00")
RATIO_STEP = Decimal("0.0001")
NO_PRICE_CAP = Decimal("999999")
"""``pric_uplmt_amt`` value that means "no price cap" (seen in a real 2204 answer)."""

Amount = Annotated[Decimal, Field(ge=0, max_digits=15, decimal_places=2)]
"""A non-negative amount in yuan with at most two decimal places (deductibles, caps)."""

UnitPrice = Annotated[Decimal, Field(ge=0, max_digits=16, decimal_places=6)]
"""A unit price, 数值型(16,6)."""

Ratio = Annotated[Decimal, Field(ge=0, le=1, decimal_places=4)]
"""A ratio in [0, 1] with at most four decimal places."""

RatioDelta = Annotated[Decimal, Field(ge=-1, le=1, decimal_places=4)]
"""A change of a ratio, in the same units (−0.1000 is "10 percentage points lower")."""


def ratio4(value: Decimal) -> Decimal:
    """Round a ratio half-up to 0.0001.

    Example:
        >>> ratio4(Decimal("0.7"))
        Decimal('0.7000')
    """
    return value.quantize(RATIO_STEP, rounding=ROUND_HALF_UP)


def to_decimal(value: object) -> Decimal:
    """Read an int, str or Decimal as a Decimal; floats are refused because they are inexact.

    Example:
        >>> to_decimal("4.52"), to_decimal(3)
        (Decimal('4.52'), Decimal('3'))
    """
    if isinstance(value, Decimal):
        return value
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise TypeError(f"expected a Decimal, int or str amount, got {type(value).__name__}")
    return Decimal(value)


def clamp(value: Decimal, low: Decimal, high: Decimal) -> Decimal:
    """``value`` limited to ``[low, high]``.

    Example:
        >>> clamp(Decimal("1.05"), Decimal(0), Decimal(1))
        Decimal('1')
    """
    return max(low, min(high, value))

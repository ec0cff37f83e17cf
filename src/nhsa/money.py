"""Amounts to the cent: the contract's 数值型(16,2), rounded half-up — one rule for every room.

The platform rounds half-up (四舍五入), never to even, so the SDK's line totals, the mock's
settlement arithmetic and the suite's checks all round here and cannot drift apart.

Example:
    >>> from decimal import Decimal
    >>> cents(Decimal("0.225")), cents(Decimal("-0.225")), cents(Decimal("2") * Decimal("18.505"))
    (Decimal('0.23'), Decimal('-0.23'), Decimal('37.01'))
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Final

__all__ = ["CENT", "cents"]

CENT: Final = Decimal("0.01")
"""The smallest amount the contract carries."""


def cents(value: Decimal) -> Decimal:
    """``value`` rounded half-up to two decimals (halves away from zero, as the platform does).

    Example:
        >>> from decimal import Decimal
        >>> cents(Decimal("0.125")), Decimal("0.125").quantize(CENT)  # not the default, half-even
        (Decimal('0.13'), Decimal('0.12'))
    """
    return value.quantize(CENT, rounding=ROUND_HALF_UP)

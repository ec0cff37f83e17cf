"""Money in the suite: ``Decimal`` only, rounded half-up to the cent like the platform.

Example:
    >>> cents(Decimal("4.525")), amount("25.1"), amount(3)
    (Decimal('4.53'), Decimal('25.10'), Decimal('3.00'))
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from nhsa.money import CENT, cents

__all__ = ["CENT", "amount", "cents"]


def amount(value: object) -> Decimal:
    """An amount from a JSON number, a Decimal or a decimal string, to the cent.

    Floats are accepted because a transcript parsed by a generic JSON reader carries them; they
    go through ``str`` first, so ``25.1`` becomes ``25.10``, never ``25.0999…``. Anything else
    raises ``ValueError`` naming the value.

    Example:
        >>> amount(4.52)
        Decimal('4.52')
    """
    if isinstance(value, bool) or value is None:
        raise ValueError(f"not an amount: {value!r}")
    if isinstance(value, Decimal):
        return cents(value)
    if isinstance(value, int | float | str):
        try:
            return cents(Decimal(str(value).strip()))
        except InvalidOperation:
            raise ValueError(f"not an amount: {value!r}") from None
    raise ValueError(f"not an amount: {value!r}")

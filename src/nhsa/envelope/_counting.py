"""What 3201 and 3202 count: one rule for the platform (the mock), the HIS (the SDK) and the suite.

The rule is data in the contract (``x-counting`` of ``transactions/3201.json``): a settlement is a
row, a refund is a row of its own with negated amounts and ``refd_setl_flag`` 1, and a
settlement reversed by 2601 is void, counted by neither side. The request's ``refd_setl_flag``
picks a counting model:

=====  ==========================================================  ==========================
model  counted                                                     ``refd_setl_flag``
=====  ==========================================================  ==========================
A      settlements that stand (a refunded one and its refund out)  ``0``
B      every row: settlements, refunded ones too, and refunds      ``1``, empty, null, absent
C      settlements, refunded ones too; no refund rows              (no switch value)
=====  ==========================================================  ==========================

Each side keeps its own rows (the mock its ledger, the SDK its journal, the suite the mock's
ledger as the admin API serves it) and asks :func:`counted` about each live one.

Example:
    >>> counting_model(None), counting_model("0")
    ('B', 'A')
    >>> rows = [(False, False), (False, True), (True, False)]  # (refund row?, refunded?)
    >>> [counted("A", refund_row=row, refunded=done) for row, done in rows]
    [True, False, False]
"""

from __future__ import annotations

from functools import cache
from typing import Final, Literal, cast

from nhsa.spec import contract

__all__ = ["REFUND_ROW", "SETTLEMENT_ROW", "CountingModel", "counted", "counting_model"]

CountingModel = Literal["A", "B", "C"]
SETTLEMENT_ROW: Final = "0"
"""``refd_setl_flag`` of a settlement's row (3202 files and result files)."""
REFUND_ROW: Final = "1"
"""``refd_setl_flag`` of a refund's row (negated amounts)."""


@cache
def _rule() -> tuple[dict[str, CountingModel], CountingModel]:
    counting = contract().transaction("3201").document["x-counting"]
    by_flag = {str(k): cast(CountingModel, v) for k, v in counting["by_refd_setl_flag"].items()}
    return by_flag, cast(CountingModel, counting["default"])


def counting_model(refd_setl_flag: str | None) -> CountingModel:
    """The model a request's ``refd_setl_flag`` picks (the default when empty or absent).

    Example:
        >>> counting_model("1"), counting_model("")
        ('B', 'B')
    """
    by_flag, default = _rule()
    return by_flag.get(refd_setl_flag or "", default)


def counted(model: CountingModel, *, refund_row: bool, refunded: bool) -> bool:
    """Whether one live (not voided) ledger row counts under ``model``.

    Args:
        refund_row: the row is a refund's (2208/2305: negated amounts, ``refd_setl_flag`` 1).
        refunded: the row is a settlement a live refund has refunded.

    Example:
        >>> [counted(model, refund_row=True, refunded=False) for model in ("B", "C")]
        [True, False]
    """
    if model == "B":
        return True
    if model == "C":
        return not refund_row
    return not refund_row and not refunded

"""Undoing a settlement (2208 结算撤销, or 2601 冲正 of a 2207): the same bill, negated.

The real 2208 answer (reference §3.12) returns every amount negated and ``balc`` as the
balance after the refund. The reversal's ``delta`` is the original's negated, so the store
restores the year-to-date counters exactly, and its ``acct_pay`` (negative) gives the account
back what the settlement took.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from nhsa.mock.settlement._errors import ReversalError
from nhsa.mock.settlement._result import SETLINFO_NUMBER_FIELDS, Settlement, negate
from nhsa.money import CENT

# The ratio is a rate, not an amount; the balance is a state, not a flow. Neither is negated.
_NOT_NEGATED = frozenset({"pool_prop_selfpay", "balc"})


def reverse(original: Settlement, *, balance_now: Decimal) -> Settlement:
    """The reversal of ``original``; ``balance_now`` is the account balance before refunding.

    Example::

        undo = reverse(settlement, balance_now=store.balance(psn_no))
        store.commit(ytd + undo.delta, balance=undo.balc)
        assert undo.medfee_sumamt == -settlement.medfee_sumamt
    """
    if original.is_reversal:
        raise ReversalError(
            "setl_id", "this settlement is itself a reversal and cannot be reversed"
        )
    if balance_now < 0 or balance_now != balance_now.quantize(CENT):
        raise ReversalError(
            "balance_now", f"{balance_now} must be a non-negative amount with two decimals"
        )
    negated: dict[str, object] = {
        name: negate(getattr(original, name))
        for name in SETLINFO_NUMBER_FIELDS
        if name not in _NOT_NEGATED
    }
    return replace(
        original,
        **negated,  # type: ignore[arg-type]  # every key is a Decimal field of Settlement
        balc=balance_now + original.acct_pay,
        setldetail=tuple(row.negated() for row in original.setldetail),
        delta=-original.delta,
        is_reversal=True,
    )

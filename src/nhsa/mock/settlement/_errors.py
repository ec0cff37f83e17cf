"""Why the calculator refused: every error names the field and the rule it broke.

The engine turns these into an ``infcode -1`` answer whose ``err_msg`` is ``str(error)``, so
each message is written for the cashier and the HIS developer who will read it.

Exception tree::

    SettlementError (ValueError)
     ├── FeeLineError            a fee line cannot be priced
     │    └── AmountMismatchError    det_item_fee_sumamt ≠ round(pric × cnt, 2)
     ├── NoBenefitRuleError      the insured place has no rule for this insutype/med_type/level
     ├── SettlementInputError    a bill, person, visit or counter the calculator cannot settle
     └── ReversalError           the settlement cannot be reversed (e.g. it is a reversal)
"""

from __future__ import annotations


class SettlementError(ValueError):
    """Base of every refusal by the calculator; ``str(error)`` is a complete ``err_msg``.

    Example:
        >>> str(SettlementError("medfee_sumamt", "must not be negative"))
        'medfee_sumamt: must not be negative'
    """

    def __init__(self, field: str, rule: str) -> None:
        self.field = field
        self.rule = rule
        super().__init__(f"{field}: {rule}")


class FeeLineError(SettlementError):
    """A fee line (2204 ``feedetail`` row) that cannot be priced.

    Example:
        >>> str(FeeLineError("F001", "cnt", "must be greater than 0"))
        "feedetail feedetl_sn 'F001': cnt: must be greater than 0"
    """

    def __init__(self, feedetl_sn: str, field: str, rule: str) -> None:
        self.feedetl_sn = feedetl_sn
        super().__init__(field, rule)
        self.args = (f"feedetail feedetl_sn {feedetl_sn!r}: {field}: {rule}",)

    def __str__(self) -> str:
        return str(self.args[0])


class AmountMismatchError(FeeLineError):
    """``det_item_fee_sumamt`` disagrees with ``pric × cnt`` rounded half-up to 0.01.

    Example:
        >>> err = AmountMismatchError(
        ...     "F001", declared="4.53", expected="4.52", pric="4.52", cnt="1")
        >>> "must equal round(pric × cnt, 2) = 4.52" in str(err)
        True
    """

    def __init__(
        self, feedetl_sn: str, *, declared: object, expected: object, pric: object, cnt: object
    ) -> None:
        super().__init__(
            feedetl_sn,
            "det_item_fee_sumamt",
            f"{declared} must equal round(pric × cnt, 2) = {expected} "
            f"(pric {pric} × cnt {cnt}); fix the line total or the price",
        )


class NoBenefitRuleError(SettlementError):
    """The insured place's policy does not cover this insutype, med_type and hospital level.

    Example:
        >>> str(NoBenefitRuleError("530100", "310", "51", "3")).startswith("med_type: ")
        True
    """

    def __init__(self, admdvs: str, insutype: str, med_type: str, hosp_level: str) -> None:
        super().__init__(
            "med_type",
            f"the policy of insured area {admdvs} has no benefit rule for insutype {insutype}, "
            f"med_type {med_type} at a level-{hosp_level} hospital; "
            "settle this visit as self-paid or check the visit's med_type",
        )


class SettlementInputError(SettlementError):
    """A bill, person, visit or year-to-date counter the calculator cannot settle.

    Example:
        >>> str(SettlementInputError("lines", "a bill needs at least one fee line"))
        'lines: a bill needs at least one fee line'
    """


class ReversalError(SettlementError):
    """The settlement cannot be reversed.

    Example:
        >>> str(ReversalError("settlement", "a reversal cannot itself be reversed"))
        'settlement: a reversal cannot itself be reversed'
    """

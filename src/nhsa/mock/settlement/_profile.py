"""Province profiles: where provinces read the same setlinfo field differently.

Known difference (reference anchors §5.1): ``fund_pay_sumamt`` *excludes* the personal-account
payment in Hunan (and in the real Hebei and Chongqing samples, reference §5.8) but *includes*
it in Zhuhai. A :class:`Profile` says which reading applies at a treatment place, and spells
out the amount identities that must then hold (:meth:`Profile.identities`), so the mock, the
SDK's checks and the conformance suite test the same equations.

``psn_part_amt`` (个人负担总金额) keeps one meaning in every profile: everything the person
bears, whether from the account or in cash. [inference] The reference does not say how Zhuhai
fills it; we keep it invariant so that only ``fund_pay_sumamt`` moves between profiles.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field

from nhsa import spec

FUND_FIELDS = spec.contract().fund_fields
"""The setlinfo fields of every fund payment (the personal account is not a fund): the
contract's ``x-sum-of`` of ``fund_pay_sumamt``, the one definition the SDK and the suite share."""


@dataclass(frozen=True)
class AmountIdentity:
    """One equation between setlinfo amounts: ``field = Σ plus − Σ minus``.

    Example:
        >>> same = AmountIdentity("psn-cash", "psn_cash_pay", ("psn_part_amt",), ("acct_pay",))
        >>> same.holds({"psn_cash_pay": Decimal("3"), "psn_part_amt": Decimal("5"),
        ...             "acct_pay": Decimal("2")})
        True
        >>> same.formula
        'psn_cash_pay = psn_part_amt − acct_pay'
    """

    name: str
    field: str
    plus: tuple[str, ...]
    minus: tuple[str, ...] = ()

    def expected(self, amounts: Mapping[str, Decimal]) -> Decimal:
        """The right-hand side computed from ``amounts``."""
        return sum((amounts[f] for f in self.plus), Decimal(0)) - sum(
            (amounts[f] for f in self.minus), Decimal(0)
        )

    def holds(self, amounts: Mapping[str, Decimal]) -> bool:
        """Whether the equation holds exactly."""
        return amounts[self.field] == self.expected(amounts)

    @property
    def formula(self) -> str:
        """The equation as text, for reports and error messages."""
        text = " + ".join(self.plus)
        for name in self.minus:
            text += f" − {name}"
        return f"{self.field} = {text}"


class Profile(BaseModel):
    """Field semantics of one province or city's platform.

    ``areas`` are area-code prefixes (2 digits: a province, 4: a city, 6: one area); the
    longest prefix matching the treatment area selects the profile.

    Example:
        >>> zhuhai = Profile(name="zhuhai", description="Zhuhai", areas=["4404"],
        ...                  fund_pay_sumamt_includes_acct=True)
        >>> zhuhai.fund_pay_sumamt(funds=Decimal("70"), acct_pay=Decimal("30"))
        Decimal('100')
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(min_length=1, pattern=r"^[a-z0-9_-]+$")
    description: str = Field(min_length=1)
    areas: tuple[str, ...] = ()
    fund_pay_sumamt_includes_acct: bool

    def fund_pay_sumamt(self, *, funds: Decimal, acct_pay: Decimal) -> Decimal:
        """``fund_pay_sumamt`` as this profile reports it."""
        return funds + acct_pay if self.fund_pay_sumamt_includes_acct else funds

    def identities(self) -> tuple[AmountIdentity, ...]:
        """The amount identities (reference §5.8) every settlement must satisfy here."""
        if self.fund_pay_sumamt_includes_acct:
            fund_sum = AmountIdentity("fund-sum", "fund_pay_sumamt", (*FUND_FIELDS, "acct_pay"))
            part = AmountIdentity(
                "person-part",
                "psn_part_amt",
                ("medfee_sumamt", "acct_pay"),
                ("fund_pay_sumamt", "hosp_part_amt"),
            )
        else:
            fund_sum = AmountIdentity("fund-sum", "fund_pay_sumamt", FUND_FIELDS)
            part = AmountIdentity(
                "person-part",
                "psn_part_amt",
                ("medfee_sumamt",),
                ("fund_pay_sumamt", "hosp_part_amt"),
            )
        return (
            AmountIdentity(
                "fee-split",
                "medfee_sumamt",
                ("fulamt_ownpay_amt", "overlmt_selfpay", "preselfpay_amt", "inscp_scp_amt"),
            ),
            fund_sum,
            part,
            AmountIdentity(
                "cash", "psn_cash_pay", ("psn_part_amt",), ("acct_pay", "acct_mulaid_pay")
            ),
        )


@dataclass(frozen=True)
class IdentityViolation:
    """An identity that does not hold: what it says and the numbers that break it.

    Example:
        >>> v = IdentityViolation("cash", "psn_cash_pay = psn_part_amt − acct_pay",
        ...                       Decimal("1.00"), Decimal("2.00"))
        >>> str(v)
        'cash: psn_cash_pay = psn_part_amt − acct_pay, but 1.00 ≠ 2.00'
    """

    name: str
    formula: str
    actual: Decimal
    expected: Decimal

    def __str__(self) -> str:
        return f"{self.name}: {self.formula}, but {self.actual} ≠ {self.expected}"


def identity_violations(
    amounts: Mapping[str, Decimal],
    setldetail: Sequence[Mapping[str, object]],
    profile: Profile,
) -> list[IdentityViolation]:
    """Every §5.8 identity that ``amounts`` (setlinfo) and ``setldetail`` break; [] if none.

    Besides the profile's identities, the payer rows must add up to what setlinfo says was
    paid by funds, the account and the hospital (a "setldetail-sum" identity).

    Example:
        >>> national = Profile(name="national", description="n",
        ...                    fund_pay_sumamt_includes_acct=False)
        >>> zero = dict.fromkeys(("medfee_sumamt", "fulamt_ownpay_amt", "overlmt_selfpay",
        ...     "preselfpay_amt", "inscp_scp_amt", "fund_pay_sumamt", "psn_part_amt",
        ...     "acct_pay", "psn_cash_pay", "hosp_part_amt", "acct_mulaid_pay",
        ...     *FUND_FIELDS), Decimal(0))
        >>> identity_violations({**zero, "medfee_sumamt": Decimal(1)}, [], national)[0].name
        'fee-split'
    """
    violations = [
        IdentityViolation(i.name, i.formula, amounts[i.field], i.expected(amounts))
        for i in profile.identities()
        if not i.holds(amounts)
    ]
    funds = sum((amounts[f] for f in FUND_FIELDS), Decimal(0))
    paid = funds + amounts["acct_pay"] + amounts["hosp_part_amt"]
    rows = sum((_as_decimal(row["fund_payamt"]) for row in setldetail), Decimal(0))
    if rows != paid:
        violations.append(
            IdentityViolation(
                "setldetail-sum",
                "Σ setldetail.fund_payamt = funds + acct_pay + hosp_part_amt",
                rows,
                paid,
            )
        )
    return violations


def _as_decimal(value: object) -> Decimal:
    if isinstance(value, Decimal):
        return value
    return Decimal(str(value))

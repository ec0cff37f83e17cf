"""What a settlement produces: the setlinfo amounts, the payer rows, the counter changes.

Field names are the contract's (``interface_specs/v1/nodes.json``: ``setlinfo``,
``setldetail_item``); a test pins them. The engine adds the identity fields it owns
(``mdtrt_id``, ``setl_id``, ``psn_name``, ``setl_time``, ``medins_setl_id``, ``clr_type``…).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from nhsa.mock.settlement._accumulators import Accumulators, FundCounter, FundKind
from nhsa.mock.settlement._codes import fund_pay_type_name
from nhsa.mock.settlement._money import ZERO

HOSPITAL_FUND_PAY_TYPE = "999996"
"""医院垫付/医院负担: the setldetail row of an amount the hospital bears."""


def negate(value: Decimal) -> Decimal:
    """``−value`` without producing a negative zero (which JSON would show as ``-0.0``).

    Example:
        >>> negate(Decimal("0.00")), negate(Decimal("4.52"))
        (Decimal('0.00'), Decimal('-4.52'))
    """
    return ZERO - value


@dataclass(frozen=True)
class SetlDetail:
    """One payer row of ``setldetail`` (a fund, the personal account, or the hospital).

    Example:
        >>> row = SetlDetail("310200", Decimal("4.52"), Decimal("4.29"), None, None)
        >>> row.to_wire()["fund_pay_type_name"]
        '职工基本医疗保险个人账户基金'
    """

    fund_pay_type: str
    fund_payamt: Decimal
    inscp_scp_amt: Decimal | None
    crt_payb_lmt_amt: Decimal | None
    setl_proc_info: str | None

    @property
    def fund_pay_type_name(self) -> str:
        """The payer's Chinese name from the ``fund_pay_type`` code table."""
        return fund_pay_type_name(self.fund_pay_type)

    def to_wire(self) -> dict[str, object]:
        """The row as a ``setldetail_item`` node (amounts stay Decimal)."""
        return {
            "fund_pay_type": self.fund_pay_type,
            "inscp_scp_amt": self.inscp_scp_amt,
            "crt_payb_lmt_amt": self.crt_payb_lmt_amt,
            "fund_payamt": self.fund_payamt,
            "fund_pay_type_name": self.fund_pay_type_name,
            "setl_proc_info": self.setl_proc_info,
        }

    def negated(self) -> SetlDetail:
        """The row of a reversal: amounts negated, no payable limit (it is not a payment)."""
        return SetlDetail(
            fund_pay_type=self.fund_pay_type,
            fund_payamt=negate(self.fund_payamt),
            inscp_scp_amt=None if self.inscp_scp_amt is None else negate(self.inscp_scp_amt),
            crt_payb_lmt_amt=None,
            setl_proc_info=f"reversal of: {self.setl_proc_info}" if self.setl_proc_info else None,
        )


@dataclass(frozen=True)
class Settlement:
    """A settled (or reversed) bill: every setlinfo amount, the payer rows, the counter delta.

    ``delta`` is what the store adds to the year-to-date :class:`Accumulators` of rule
    ``benefit_id`` when it commits; ``acct_pay`` is what it takes from the account balance
    (a reversal carries negative values and so gives them back).

    Example::

        settlement = settle(lines, insured=insured, visit=visit, policy=policy,
                            accumulators=ytd, acct_used=True, profile=profile)
        output = {"setlinfo": {**engine_fields, **settlement.setlinfo_amounts()},
                  "setldetail": settlement.setldetail_rows()}
        store.commit(ytd + settlement.delta, balance=settlement.balc)
    """

    benefit_id: str
    medfee_sumamt: Decimal
    fulamt_ownpay_amt: Decimal
    overlmt_selfpay: Decimal
    preselfpay_amt: Decimal
    inscp_scp_amt: Decimal
    act_pay_dedc: Decimal
    hifp_pay: Decimal
    pool_prop_selfpay: Decimal
    cvlserv_pay: Decimal
    hifes_pay: Decimal
    hifmi_pay: Decimal
    hifob_pay: Decimal
    maf_pay: Decimal
    hifdm_pay: Decimal
    oth_pay: Decimal
    fund_pay_sumamt: Decimal
    psn_part_amt: Decimal
    acct_pay: Decimal
    psn_cash_pay: Decimal
    hosp_part_amt: Decimal
    balc: Decimal
    acct_mulaid_pay: Decimal
    setldetail: tuple[SetlDetail, ...]
    delta: Accumulators
    is_reversal: bool = False

    def setlinfo_amounts(self) -> dict[str, Decimal]:
        """Every amount of ``setlinfo`` (and ``pool_prop_selfpay``), by contract field name."""
        return {name: getattr(self, name) for name in SETLINFO_NUMBER_FIELDS}

    def setldetail_rows(self) -> list[dict[str, object]]:
        """The ``setldetail`` array as contract nodes."""
        return [row.to_wire() for row in self.setldetail]

    def to_record(self) -> dict[str, Any]:
        """A JSON-safe dict (amounts as decimal strings) that :meth:`from_record` restores.

        The store keeps this so a later 2208 or 2601 can :func:`~.reverse` the settlement.

        Example::

            row.settlement_json = orjson.dumps(settlement.to_record())
            original = Settlement.from_record(orjson.loads(row.settlement_json))
        """
        return {
            "benefit_id": self.benefit_id,
            "is_reversal": self.is_reversal,
            "amounts": {name: str(value) for name, value in self.setlinfo_amounts().items()},
            "setldetail": [
                {
                    "fund_pay_type": row.fund_pay_type,
                    "fund_payamt": str(row.fund_payamt),
                    "inscp_scp_amt": _text(row.inscp_scp_amt),
                    "crt_payb_lmt_amt": _text(row.crt_payb_lmt_amt),
                    "setl_proc_info": row.setl_proc_info,
                }
                for row in self.setldetail
            ],
            "delta": {
                "deductible_used": str(self.delta.deductible_used),
                "pooling_paid": str(self.delta.pooling_paid),
                "funds": {kind.value: [str(c.base), str(c.paid)] for kind, c in self.delta.funds},
            },
        }

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> Settlement:
        """Rebuild a settlement from :meth:`to_record`'s output."""
        delta = record["delta"]
        return cls(
            benefit_id=record["benefit_id"],
            is_reversal=record["is_reversal"],
            **{name: _amount(record["amounts"], name) for name in SETLINFO_NUMBER_FIELDS},
            setldetail=tuple(
                SetlDetail(
                    fund_pay_type=row["fund_pay_type"],
                    fund_payamt=Decimal(row["fund_payamt"]),
                    inscp_scp_amt=_number(row["inscp_scp_amt"]),
                    crt_payb_lmt_amt=_number(row["crt_payb_lmt_amt"]),
                    setl_proc_info=row["setl_proc_info"],
                )
                for row in record["setldetail"]
            ),
            delta=Accumulators.of(
                deductible_used=Decimal(delta["deductible_used"]),
                pooling_paid=Decimal(delta["pooling_paid"]),
                funds={
                    FundKind(kind): FundCounter(Decimal(base), Decimal(paid))
                    for kind, (base, paid) in delta["funds"].items()
                },
            ),
        )


def _amount(amounts: Mapping[str, str], name: str) -> Decimal:
    # Records written before hifdm_pay existed lack it: that fund paid nothing then.
    return Decimal(amounts.get(name, "0.00"))


def _text(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _number(value: str | None) -> Decimal | None:
    return None if value is None else Decimal(value)


SETLINFO_NUMBER_FIELDS = (
    "medfee_sumamt",
    "fulamt_ownpay_amt",
    "overlmt_selfpay",
    "preselfpay_amt",
    "inscp_scp_amt",
    "act_pay_dedc",
    "hifp_pay",
    "pool_prop_selfpay",
    "cvlserv_pay",
    "hifes_pay",
    "hifmi_pay",
    "hifob_pay",
    "maf_pay",
    "hifdm_pay",
    "oth_pay",
    "fund_pay_sumamt",
    "psn_part_amt",
    "acct_pay",
    "psn_cash_pay",
    "hosp_part_amt",
    "balc",
    "acct_mulaid_pay",
)
"""The ``setlinfo`` fields the calculator fills, in spec order: every amount and the ratio."""

"""What the workflows return: a registration, a charge, a refund, reports, a person's
recognised chronic diseases and a chronic-disease registration.

Personal data stays out of ``repr`` (names and certificate numbers are masked), so printing a
result into a log does not leak it.

Example:
    >>> from decimal import Decimal
    >>> zero = SettlementTotals(*(Decimal("0"),) * 10)
    >>> zero.differences(zero.replace(psn_cash_pay=Decimal("1.00")))
    {'psn_cash_pay': (Decimal('0'), Decimal('1.00'))}
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from nhsa.client._inputs import Certificate, ChronicDisease, Clinic, FeeLine
from nhsa.client._outcomes import Resolution
from nhsa.envelope import ResultRow
from nhsa.models import SetldetailItem
from nhsa.money import cents


@dataclass(frozen=True)
class SettlementTotals:
    """The amounts of a (pre-)settlement that must agree between 2206 and 2207; ``None`` where
    the answer did not carry the amount (a real platform may leave members out).

    Example:
        Read from an answer that carries ``74.8`` and leaves out what is zero (a real platform
        may): a missing amount stays ``None`` rather than being taken for 0.

        >>> totals = SettlementTotals.of({"medfee_sumamt": 74.8, "acct_pay": 74.8})
        >>> (totals.medfee_sumamt, totals.acct_pay, totals.psn_cash_pay)
        (Decimal('74.80'), Decimal('74.80'), None)
    """

    medfee_sumamt: Decimal | None
    fulamt_ownpay_amt: Decimal | None
    overlmt_selfpay: Decimal | None
    preselfpay_amt: Decimal | None
    inscp_scp_amt: Decimal | None
    fund_pay_sumamt: Decimal | None
    psn_part_amt: Decimal | None
    acct_pay: Decimal | None
    psn_cash_pay: Decimal | None
    hosp_part_amt: Decimal | None

    @classmethod
    def of(cls, setlinfo: Any) -> SettlementTotals:
        """Read the totals from a setlinfo model or mapping, to the cent (a JSON answer may
        carry ``74.8`` for ``74.80``); an amount the answer lacks stays ``None``."""
        values = {}
        for item in fields(cls):
            if isinstance(setlinfo, dict):
                value = setlinfo.get(item.name)
            else:
                value = getattr(setlinfo, item.name, None)
            values[item.name] = None if value is None else cents(Decimal(str(value)))
        return cls(**values)

    def replace(self, **changes: Decimal | None) -> SettlementTotals:
        """A copy with some amounts changed."""
        return replace(self, **changes)

    def differences(
        self, other: SettlementTotals
    ) -> dict[str, tuple[Decimal | None, Decimal | None]]:
        """Amounts both carry that differ: field → (this value, the other value). An amount
        one of them lacks is not a difference: nothing says it changed."""
        pairs = (
            (item.name, getattr(self, item.name), getattr(other, item.name))
            for item in fields(self)
        )
        return {
            name: (mine, theirs)
            for name, mine, theirs in pairs
            if mine is not None and theirs is not None and mine != theirs
        }


@dataclass(frozen=True, repr=False)
class Registration:
    """A registered outpatient visit (1101 + 2201): the handle every later step takes.

    Attributes:
        psn_no, psn_name: the person (the name never appears in ``repr``).
        mdtrt_id: the visit id the platform issued.
        ipt_otp_no: the hospital's visit serial sent with 2201.
        insutype, insuplc_admdvs: the insurance chosen and its insured place.
        balc: personal-account balance 1101 reported (``None`` when it did not say).
        msgid: the 2201 msgid.

    Example:
        >>> visit = client.register(card, insutype="310", clinic=clinic)
        >>> (visit.psn_name, visit.psn_name in repr(visit), visit.ipt_otp_no[:2])
        ('张晓峰', False, 'MZ')
    """

    psn_no: str
    psn_name: str
    mdtrt_id: str
    ipt_otp_no: str
    insutype: str
    insuplc_admdvs: str
    certificate: Certificate
    clinic: Clinic
    begntime: datetime
    balc: Decimal | None
    msgid: str

    def __repr__(self) -> str:
        return (
            f"Registration(psn_no={self.psn_no!r}, mdtrt_id={self.mdtrt_id!r}, "
            f"insutype={self.insutype!r}, insuplc_admdvs={self.insuplc_admdvs!r}, "
            f"certificate={self.certificate!r})"
        )


@dataclass(frozen=True)
class Charge:
    """A settled charge (2203 + 2204 + 2206 + 2207).

    Attributes:
        chrg_bchno: the charge batch of the fee lines.
        med_type, psn_setlway, acct_used_flag: as sent with 2206 and 2207.
        msgid: the 2207 msgid (the platform echoes it as ``medins_setl_id``).
        setl_id: the settlement id.
        lines: the fee lines as uploaded (serials assigned).
        pre_settlement, totals: 2206 and 2207 amounts (equal, or the charge was refunded and
            :class:`~nhsa.client.errors.SettlementMismatchError` raised).
        setlinfo, setldetail: the settlement answer as the platform gave it.
        chronic: the recognised disease of a chronic visit (med_type 14), else ``None``.

    Example:
        >>> paid = client.charge(client.register(card, insutype="310", clinic=clinic), fees,
        ...                      diagnoses=diagnoses)
        >>> (paid.msgid == paid.setlinfo.medins_setl_id, paid.setl_id == paid.setlinfo.setl_id)
        (True, True)
        >>> (paid.totals.medfee_sumamt, sum(line.total for line in paid.lines))
        (Decimal('25.00'), Decimal('25.00'))
    """

    registration: Registration
    chrg_bchno: str
    msgid: str
    setl_id: str
    med_type: str
    psn_setlway: str
    acct_used_flag: str
    lines: tuple[FeeLine, ...]
    pre_settlement: SettlementTotals
    totals: SettlementTotals
    setlinfo: Any
    setldetail: tuple[SetldetailItem, ...]
    chronic: ChronicDisease | None = None


@dataclass(frozen=True)
class Recognition:
    """A chronic disease the person has on record with the insured place (a 5301 row), as the
    platform answered it: the code may be a local one, so it is kept as text.

    Example:
        >>> from datetime import date
        >>> row = Recognition("M03900", "高血压病", date(2022, 3, 1), None)
        >>> (row.valid_on(date(2026, 11, 23)), row.disease)
        (True, ChronicDisease(code='M03900', name='高血压病'))
    """

    opsp_dise_code: str
    opsp_dise_name: str
    begndate: date | None
    enddate: date | None

    def valid_on(self, day: date) -> bool:
        """Whether the recognition applies on ``day`` (a missing date does not limit it)."""
        started = self.begndate is None or self.begndate <= day
        return started and (self.enddate is None or day <= self.enddate)

    @property
    def disease(self) -> ChronicDisease:
        """The disease to charge a chronic visit under (raises InvalidInputError for a code
        that is not of the national shape: a local code needs your own handling)."""
        return ChronicDisease(self.opsp_dise_code, self.opsp_dise_name or self.opsp_dise_code)


@dataclass(frozen=True)
class ChronicRegistration:
    """A chronic-disease registration the HIS made (2503): what ``cancel_chronic`` takes.

    Attributes:
        trt_dcla_detl_sn: the platform's serial of the registration.
        psn_no, insutype, insuplc_admdvs: whose, under which insurance, for which insured place.
        disease, begndate, enddate: what was registered, from when to when.
        msgid: the 2503 msgid.

    Example:
        >>> from datetime import datetime
        >>> from nhsa.envelope import CHINA_TIME
        >>> done = client.register_chronic(card, ChronicDisease.of("M03900"), insutype="310",
        ...                                clinic=clinic)
        >>> platform_today = datetime.now(CHINA_TIME).date()
        >>> (done.disease.code, done.insuplc_admdvs, done.begndate == platform_today)
        ('M03900', '530100', True)
    """

    trt_dcla_detl_sn: str
    psn_no: str
    insutype: str
    insuplc_admdvs: str
    disease: ChronicDisease
    begndate: date
    enddate: date | None
    msgid: str


@dataclass(frozen=True)
class Refund:
    """A refund (2208 + 2205, and for a partial refund the kept lines settled again).

    Attributes:
        charge: what was refunded.
        msgid, setl_id: the 2208 msgid and the negative settlement's id.
        refunded: the negated amounts the platform returned.
        fee_batch_cancelled: whether 2205 cancelled the charge's fee lines.
        recharge: for a partial refund, the new charge of the kept lines.

    Example:
        A partial refund: the settlement is reversed whole, the kept line settled again.

        >>> from decimal import Decimal
        >>> from nhsa.client import FeeLine
        >>> drug = FeeLine("XJ01DCC035A001010100002", "HIS-YP-0002", cnt=2, pric=Decimal("18.50"))
        >>> paid = client.charge(client.register(card, insutype="310", clinic=clinic),
        ...                      [*fees, drug], diagnoses=diagnoses)
        >>> refund = client.refund(paid, lines=[paid.lines[1].feedetl_sn])
        >>> (refund.refunded.medfee_sumamt, refund.recharge.totals.medfee_sumamt)
        (Decimal('-62.00'), Decimal('25.00'))
    """

    charge: Charge
    msgid: str
    setl_id: str
    refunded: SettlementTotals
    fee_batch_cancelled: bool
    recharge: Charge | None = None


@dataclass(frozen=True)
class LedgerTotals:
    """Totals the HIS sends to 3201/3202 for one group.

    Example:
        >>> LedgerTotals(Decimal("120.00"), Decimal("72.80"), Decimal("40.00"), 1).cash_payamt
        Decimal('7.20')
    """

    medfee_sumamt: Decimal
    fund_pay_sumamt: Decimal
    acct_pay: Decimal
    count: int

    @property
    def cash_payamt(self) -> Decimal:
        """Cash part: medfee_sumamt − fund_pay_sumamt − acct_pay (reference §5.4)."""
        return self.medfee_sumamt - self.fund_pay_sumamt - self.acct_pay


@dataclass(frozen=True)
class GroupReconciliation:
    """3201 (and 3202 where needed) for one insutype × clr_type × setl_optins.

    Attributes:
        his: the HIS's totals from the journal.
        stmt_rslt, stmt_rslt_dscr: the platform's 3201 verdict (``0`` balanced).
        mismatches: rows 3202 did not find balanced (3202 runs where 3201 did not balance, or
            everywhere with ``reconcile(details=True)``); a row the HIS does not know is given
            to the first group of its clearing category and agency.

    Example:
        >>> paid = client.charge(client.register(card, insutype="310", clinic=clinic), fees,
        ...                      diagnoses=diagnoses)
        >>> (group,) = client.reconcile(paid.setlinfo.setl_time.date()).groups
        >>> (group.insutype, group.clr_type, group.setl_optins, group.his.medfee_sumamt)
        ('310', '11', '530100', Decimal('25.00'))
        >>> (group.stmt_rslt, group.balanced, group.mismatches)
        ('0', True, ())
    """

    insutype: str
    clr_type: str
    setl_optins: str
    his: LedgerTotals
    stmt_rslt: str
    stmt_rslt_dscr: str | None
    mismatches: tuple[ResultRow, ...] = ()

    @property
    def balanced(self) -> bool:
        """Whether 3201 balanced."""
        return self.stmt_rslt == "0"


@dataclass(frozen=True)
class ReconcileReport:
    """Day-end reconciliation.

    Attributes:
        unresolved: msgids of settlements still unknown, held or being reversed; the day
            cannot be reconciled exactly until they are closed.
        confirmed: msgids of ``manual`` entries that 3202 showed booked on the platform, now
            ``succeeded`` in the journal with the platform's row (the day was compared again).

    Example:
        A settlement and its refund on one day: the pair cancels out, and the day balances.

        >>> paid = client.charge(client.register(card, insutype="310", clinic=clinic), fees,
        ...                      diagnoses=diagnoses)
        >>> refund = client.refund(paid)
        >>> report = client.reconcile(paid.setlinfo.setl_time.date())
        >>> (report.balanced, report.unresolved, [group.his.count for group in report.groups])
        (True, (), [2])
    """

    day: date
    groups: tuple[GroupReconciliation, ...]
    unresolved: tuple[str, ...] = ()
    confirmed: tuple[str, ...] = ()

    @property
    def balanced(self) -> bool:
        """Every group balanced and nothing is unresolved."""
        return not self.unresolved and all(group.balanced for group in self.groups)

    @property
    def mismatches(self) -> tuple[ResultRow, ...]:
        """Every mismatching row of every group."""
        return tuple(row for group in self.groups for row in group.mismatches)


@dataclass(frozen=True)
class RecoveredEntry:
    """One journal entry ``recover()`` closed, and how.

    Example:
        A settlement left ``unknown``, as a crash after its answer was lost would leave it:

        >>> from nhsa.client import Client, OutcomeUnknownError, WindowMode
        >>> with Client(config, WindowMode("C0001", "收费员甲", on_unknown="hold"),
        ...             transport=mock.transport) as cashier:
        ...     visit = cashier.register(card, insutype="310", clinic=clinic)
        ...     fault = mock.arm_fault("H53010100001", "commit-then-drop", infno="2207")
        ...     try:
        ...         cashier.charge(visit, fees, diagnoses=diagnoses)
        ...     except OutcomeUnknownError as error:
        ...         cashier.journal.mark(error.msgid, "unknown", detail="process killed")
        >>> (entry,) = client.recover().resolved
        >>> (entry.infno, entry.resolution.by_infno, client.journal.get(entry.msgid).state)
        ('2207', '2601', 'reversed')
    """

    msgid: str
    infno: str
    resolution: Resolution


@dataclass(frozen=True)
class RecoveryReport:
    """What ``recover()`` found and did.

    Attributes:
        resolved: entries it resolved (reversed, undone, or marked for a person).
        held: msgids held for a cashier's decision (left alone).
        abandoned: msgids of calls that are safe to repeat (or undo calls) whose outcome
            was never learned; closed with no action.
        in_flight: msgids another live process is still sending (left alone).
        stale_guards_cleared: visit guards of crashed processes removed.

    Example:
        A sign-in whose answer was lost is safe to repeat: there is nothing to undo.

        >>> import httpx
        >>> from nhsa.client import Client, OutcomeUnknownError
        >>> down = httpx.MockTransport(lambda request: httpx.Response(503))
        >>> with Client(config, window, transport=down) as offline:
        ...     try:
        ...         offline.sign_in()
        ...     except OutcomeUnknownError:
        ...         pass
        >>> report = client.recover()
        >>> (report.clean, report.resolved, len(report.abandoned))
        (True, (), 0)
    """

    resolved: tuple[RecoveredEntry, ...]
    held: tuple[str, ...]
    abandoned: tuple[str, ...]
    in_flight: tuple[str, ...]
    stale_guards_cleared: int

    @property
    def clean(self) -> bool:
        """Nothing needed doing."""
        return not (self.resolved or self.held or self.abandoned or self.in_flight)

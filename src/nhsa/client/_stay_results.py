"""What the inpatient workflows return: a stay, its fee batches, its settlements, a cancellation.

Personal data stays out of ``repr``, as for the outpatient results.

Example:
    >>> from decimal import Decimal
    >>> from nhsa.client import FeeLine
    >>> bed = FeeLine("110900001000000", "HIS-CW-0001", cnt=1, pric=Decimal("50"))
    >>> sum(line.total for line in (bed, bed))
    Decimal('100.00')
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from nhsa.client._inputs import Certificate, FeeLine, Ward
from nhsa.client._results import SettlementTotals
from nhsa.models import SetldetailItem

__all__ = ["FeeBatch", "Stay", "StayCancellation", "StaySettlement"]


@dataclass(frozen=True, repr=False)
class Stay:
    """An inpatient stay (1101 + 2401): the handle every later step of the stay takes.

    Attributes:
        psn_no, psn_name: the person (the name never appears in ``repr``).
        mdtrt_id: the stay's id the platform issued (2401).
        ipt_no: the hospital's admission serial (住院号) sent with 2401.
        insutype, insuplc_admdvs: the insurance chosen and its insured place.
        med_type: the inpatient category (``21`` 普通住院, …).
        certificate: what the patient presented at admission.
        ward: department, bed and doctors.
        begntime: the admission time; ``endtime``: the discharge time once discharged (2402).
        balc: the personal-account balance 1101 reported.
        msgid: the 2401 msgid.

    Example:
        >>> stay = client.admit(card, insutype="310", ward=ward, diagnoses=diagnoses)
        >>> (stay.psn_no, stay.med_type, stay.discharged, stay.psn_name in repr(stay))
        ('P53010000000001', '21', False, False)
    """

    psn_no: str
    psn_name: str
    mdtrt_id: str
    ipt_no: str
    insutype: str
    insuplc_admdvs: str
    med_type: str
    certificate: Certificate
    ward: Ward
    begntime: datetime
    balc: Decimal | None
    msgid: str
    endtime: datetime | None = None

    @property
    def discharged(self) -> bool:
        """Whether the discharge (2402) is recorded."""
        return self.endtime is not None

    def with_endtime(self, endtime: datetime | None) -> Stay:
        """The same stay, discharged at ``endtime`` (``None``: the discharge undone)."""
        return replace(self, endtime=endtime)

    def __repr__(self) -> str:
        return (
            f"Stay(psn_no={self.psn_no!r}, mdtrt_id={self.mdtrt_id!r}, "
            f"insutype={self.insutype!r}, insuplc_admdvs={self.insuplc_admdvs!r}, "
            f"med_type={self.med_type!r}, discharged={self.discharged})"
        )


@dataclass(frozen=True)
class FeeBatch:
    """One 2301 upload of the stay's fee lines (the platform keeps the batch by its msgid).

    Attributes:
        msgid: the 2301 msgid.
        lines: the lines as uploaded (serials and fee times assigned).
        results: the platform's ``result`` row of each line (its catalogue split).

    Example:
        >>> stay = client.admit(card, insutype="310", ward=ward, diagnoses=diagnoses)
        >>> (batch,) = client.upload_stay_fees(stay, fees)
        >>> (batch.total, len(batch.results), batch.lines[0].feedetl_sn[:2])
        (Decimal('25.00'), 1, 'ZF')
    """

    stay: Stay
    msgid: str
    lines: tuple[FeeLine, ...]
    results: tuple[Any, ...] = ()

    @property
    def total(self) -> Decimal:
        """The batch's total (Σ det_item_fee_sumamt)."""
        return sum((line.total for line in self.lines), Decimal("0.00"))


@dataclass(frozen=True)
class StaySettlement:
    """A settled stay, or a mid-way part of it (2303 + 2304).

    Attributes:
        msgid: the 2304 msgid (the platform echoes it as ``medins_setl_id``).
        setl_id: the settlement id (2305 names it).
        mid_setl_flag: ``1`` a mid-way settlement (中途结算), ``0`` the final one.
        until: for a mid-way settlement, the last day of fees it settles (``dscgTime``).
        pre_settlement, totals: the 2303 and 2304 amounts (equal, or the settlement was
            cancelled and :class:`~nhsa.client.errors.SettlementMismatchError` raised).
        setlinfo, setldetail: the settlement answer as the platform gave it.

    Example:
        >>> stay = client.admit(card, insutype="310", ward=ward, diagnoses=diagnoses)
        >>> batches = client.upload_stay_fees(stay, fees)
        >>> part = client.settle_midway(stay, sum(b.total for b in batches),
        ...                             until=batches[0].lines[0].fee_ocur_time.date(),
        ...                             card_token=card.card_sn)
        >>> (part.midway, part.totals.medfee_sumamt, part.totals == part.pre_settlement)
        (True, Decimal('25.00'), True)
    """

    stay: Stay
    msgid: str
    setl_id: str
    mid_setl_flag: str
    until: date | None
    psn_setlway: str
    acct_used_flag: str
    pre_settlement: SettlementTotals
    totals: SettlementTotals
    setlinfo: Any
    setldetail: tuple[SetldetailItem, ...]

    @property
    def midway(self) -> bool:
        """Whether this is a mid-way settlement (the patient stays in hospital)."""
        return self.mid_setl_flag == "1"


@dataclass(frozen=True)
class StayCancellation:
    """A cancelled stay settlement (2305): the negative row the platform booked.

    Attributes:
        settlement: what was cancelled.
        msgid, setl_id: the 2305 msgid and the negative row's id.
        refunded: the negated amounts the platform returned.

    Example:
        >>> stay = client.admit(card, insutype="310", ward=ward, diagnoses=diagnoses)
        >>> batches = client.upload_stay_fees(stay, fees)
        >>> stay = client.discharge(stay, diagnoses=diagnoses)
        >>> paid = client.settle_stay(stay, batches[0].total, card_token=card.card_sn)
        >>> client.cancel_stay_settlement(paid).refunded.medfee_sumamt
        Decimal('-25.00')
    """

    settlement: StaySettlement
    msgid: str
    setl_id: str
    refunded: SettlementTotals

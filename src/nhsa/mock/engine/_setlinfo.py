"""Building ``setlinfo`` nodes: the person's identity fields plus the calculator's amounts.

The contract's node shapes (``interface_specs/v1/nodes.json``): ``setlinfo`` for 2206/2207/5203
and the cancellation subset for 2208. Dates and times are wire strings; amounts stay Decimal.

Example:
    >>> from decimal import Decimal
    >>> age_on(date(1985, 3, 15), date(2026, 3, 14))
    Decimal('40.0')
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from nhsa.mock.fixtures import InsuranceRecord, InsuredPerson
from nhsa.mock.settlement import SETLINFO_NUMBER_FIELDS
from nhsa.mock.settlement import Settlement as Calculation

DATETIME = "%Y-%m-%d %H:%M:%S"

OUTPATIENT_CLR_TYPE = "11"
"""清算类别 门诊 (the real Hebei 2207 sample answers 11)."""
INPATIENT_CLR_TYPE = "21"
"""清算类别 住院 (national table; the Chongqing 2304 and Hainan 5261 samples answer 21; Hebei's
local table differs)."""
CLR_WAY_BY_ITEM = "01"
"""清算方式 按项目 (samples show "1"; the code table's form is "01")."""

CANCELLATION_FIELDS = (
    "mdtrt_id",
    "setl_id",
    "clr_optins",
    "setl_time",
    *SETLINFO_NUMBER_FIELDS,
    "medins_setl_id",
)
"""The 2208 and 2305 answers' ``setlinfo`` members (reference §3.12; ``psn_cash_pay`` spelt
right)."""


def age_on(brdy: date, day: date) -> Decimal:
    """Age in whole years on ``day``, in the contract's 数值型(4,1) form."""
    years = day.year - brdy.year - ((day.month, day.day) < (brdy.month, brdy.day))
    return Decimal(years).quantize(Decimal("0.1"))


def person_fields(person: InsuredPerson, record: InsuranceRecord, day: date) -> dict[str, Any]:
    """The identity members of ``setlinfo`` for this person and insurance row."""
    return {
        "psn_no": person.psn_no,
        "psn_name": person.psn_name,
        "psn_cert_type": person.psn_cert_type,
        "certno": person.certno,
        "gend": person.gend,
        "naty": person.naty,
        "brdy": person.brdy.isoformat(),
        "age": age_on(person.brdy, day),
        "insutype": record.insutype,
        "psn_type": record.psn_type,
        "cvlserv_flag": record.cvlserv_flag,
    }


def setlinfo(
    calculation: Calculation,
    *,
    identity: Mapping[str, Any],
    mdtrt_id: str,
    med_type: str,
    mdtrt_cert_type: str,
    setl_id: str | None,
    setl_time: datetime | None,
    medins_setl_id: str | None,
    clr_optins: str | None,
    clr_type: str = OUTPATIENT_CLR_TYPE,
) -> dict[str, Any]:
    """A full ``setlinfo`` node; a pre-settlement passes ``None`` for the settlement's ids."""
    return {
        "mdtrt_id": mdtrt_id,
        "setl_id": setl_id,
        **identity,
        "setl_time": setl_time.strftime(DATETIME) if setl_time else None,
        "mdtrt_cert_type": mdtrt_cert_type,
        "med_type": med_type,
        **calculation.setlinfo_amounts(),
        "medins_setl_id": medins_setl_id,
        "clr_optins": clr_optins,
        "clr_way": CLR_WAY_BY_ITEM if setl_id else None,
        "clr_type": clr_type,
    }


def cancellation(full: Mapping[str, Any]) -> dict[str, Any]:
    """The 2208 ``setlinfo`` subset of a reversal row's full ``setlinfo``."""
    return {name: full.get(name) for name in CANCELLATION_FIELDS}

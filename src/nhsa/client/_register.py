"""Registration workflows: ``register`` (1101 + 2201) and ``cancel_registration`` (2202).

1101 answers with one ``insuinfo`` row per insurance the person holds; the visit needs the row
of the chosen ``insutype``, and every later call carries that row's ``insuplc_admdvs`` — the
classic integration bug is sending the hospital's own area there.

Example:
    >>> new_serial("MZ", "H53010100001202611231015300042")
    'MZ202611231015300042'
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

import orjson
from pydantic import ValidationError

from nhsa.client._flow import Flow
from nhsa.client._inputs import Certificate, Clinic
from nhsa.client._journal import NewEntry
from nhsa.client._load_bearing import loaded
from nhsa.client._results import Registration
from nhsa.client._stay_results import Stay
from nhsa.client._unwrap import unwrap
from nhsa.client._validation import check_code, check_text, error_from_pydantic
from nhsa.client.errors import InvalidInputError
from nhsa.models import (
    Input1101,
    Input1101Data,
    Input2201,
    Input2201Data,
    Input2202,
    Input2202Data,
    Output1101,
    Output1101InsuinfoItem,
    Output2201,
)

if TYPE_CHECKING:
    from nhsa.client._core import Core

INSURED_NORMALLY = "1"
"""psn_insu_stas of a person whose insurance is in force (正常参保)."""


def new_serial(prefix: str, msgid: str) -> str:
    """A hospital-side serial (visit number, charge batch) unique per institution.

    The time-and-sequence part of a fresh msgid is unique per institution by construction,
    so it serves as the serial's body.
    """
    return prefix + msgid[12:]


@dataclass(frozen=True, repr=False)
class FoundPerson:
    """Who 1101 found, and the insurance row chosen: what every later call of theirs carries.

    The name never appears in ``repr``.
    """

    psn_no: str
    psn_name: str
    insutype: str
    insuplc_admdvs: str
    balc: Decimal | None

    def __repr__(self) -> str:
        return (
            f"FoundPerson(psn_no={self.psn_no!r}, insutype={self.insutype!r}, "
            f"insuplc_admdvs={self.insuplc_admdvs!r})"
        )


def find_person(core: Core, certificate: Certificate, *, insutype: str) -> Flow[FoundPerson]:
    """1101: the person the certificate names, with the insured area of ``insutype``'s row."""
    check_code("insutype", insutype, "insutype")
    lookup = Input1101(
        data=Input1101Data(
            mdtrt_cert_type=certificate.mdtrt_cert_type,
            mdtrt_cert_no=certificate.mdtrt_cert_no,
            card_sn=certificate.card_sn,
            psn_cert_type="01",
            certno=certificate.certno,
        )
    )
    person: Output1101 = yield from core.typed("1101", lookup)
    rows: list[Output1101InsuinfoItem] = loaded(person, "insuinfo")
    index = next((i for i, r in enumerate(rows) if r.insutype == insutype), None)
    held = ", ".join(sorted({str(r.insutype) for r in rows})) or "none"
    if index is None:
        raise InvalidInputError(
            f"insutype: the person holds no insurance of type {insutype} (1101 lists {held})",
            field="insutype",
            rule="held-by-person",
            infno="1101",
        )
    row = rows[index]
    # Some provinces leave psn_insu_stas out (Guangdong); then the platform judges at 2201.
    if row.psn_insu_stas not in (None, INSURED_NORMALLY):
        raise InvalidInputError(
            f"insutype: insurance {insutype} is not in force (psn_insu_stas {row.psn_insu_stas})",
            field="insutype",
            rule="insured-normally",
            infno="1101",
        )
    return FoundPerson(
        psn_no=loaded(person, "baseinfo.psn_no"),
        psn_name=(person.baseinfo.psn_name if person.baseinfo else None) or "",
        insutype=insutype,
        insuplc_admdvs=loaded(person, f"insuinfo[{index}].insuplc_admdvs"),
        balc=row.balc,
    )


def register(
    core: Core,
    certificate: Certificate,
    *,
    insutype: str,
    clinic: Clinic,
    ipt_otp_no: str | None = None,
) -> Flow[Registration]:
    """1101 to find the person, then 2201 to open the visit under ``insutype``."""
    check_code("insutype", insutype, "insutype")
    check_text(ipt_otp_no, "ipt_otp_no", 30, required=False)
    found = yield from find_person(core, certificate, insutype=insutype)
    psn_no, insuplc_admdvs = found.psn_no, found.insuplc_admdvs
    begntime = core.clock()
    serial = ipt_otp_no or new_serial("MZ", core.msgids.next())
    try:
        visit = Input2201(
            data=Input2201Data(
                psn_no=psn_no,
                insutype=insutype,
                begntime=begntime,
                mdtrt_cert_type=certificate.mdtrt_cert_type,
                mdtrt_cert_no=certificate.mdtrt_cert_no,
                ipt_otp_no=serial,
                atddr_no=clinic.atddr_no,
                dr_name=clinic.dr_name,
                dept_code=clinic.dept_code,
                dept_name=clinic.dept_name,
                caty=clinic.caty,
            )
        )
    except ValidationError as error:
        raise error_from_pydantic(error, "2201.data") from None
    outcome = yield from core.call("2201", visit, insuplc_admdvs=insuplc_admdvs)
    registered: Output2201 = unwrap(outcome)
    return Registration(
        psn_no=psn_no,
        psn_name=found.psn_name,
        mdtrt_id=loaded(registered, "data.mdtrt_id"),
        ipt_otp_no=serial,
        insutype=insutype,
        insuplc_admdvs=insuplc_admdvs,
        certificate=certificate,
        clinic=clinic,
        begntime=begntime,
        balc=found.balc,
        msgid=outcome.msgid,
    )


def cancel_registration(core: Core, registration: Registration) -> Flow[str]:
    """2202: cancel the visit; returns the 2202 msgid. A settled visit must be refunded first
    (the platform refuses otherwise, and says so)."""
    cancel = Input2202(
        data=Input2202Data(
            psn_no=registration.psn_no,
            mdtrt_id=registration.mdtrt_id,
            ipt_otp_no=registration.ipt_otp_no,
        )
    )
    outcome = yield from core.call("2202", cancel, insuplc_admdvs=registration.insuplc_admdvs)
    unwrap(outcome)
    return outcome.msgid


def adopt(core: Core, visit: Registration | Stay) -> bool:
    """Take a visit (or a stay) opened outside the SDK into this journal, which then guards it.

    Journaled as a ``2201`` (a stay: ``2401``) entry in state ``adopted`` (nothing is sent; its
    msgid is drawn from the counter, so it never meets a real one). Returns ``False`` when the
    journal holds the visit already. Adopt a visit in one journal only: two journals that both
    hold a visit can both charge it.
    """
    check_text(visit.mdtrt_id, "mdtrt_id", 30)
    check_text(visit.psn_no, "psn_no", 30)
    check_code("insutype", visit.insutype, "insutype")
    facts = {"psn_no": visit.psn_no, "mdtrt_id": visit.mdtrt_id, "insutype": visit.insutype}
    if isinstance(visit, Stay):
        infno, facts["ipt_no"], facts["med_type"] = "2401", visit.ipt_no, visit.med_type
    else:
        infno, facts["ipt_otp_no"] = "2201", visit.ipt_otp_no
    if visit.msgid:
        facts["registered_msgid"] = visit.msgid
    operator = core.operator
    digest = hashlib.sha256(orjson.dumps(facts, option=orjson.OPT_SORT_KEYS)).hexdigest()
    return core.journal.record_adopted(
        NewEntry(
            msgid=core.msgids.next(),
            tenant=core.tenant,
            infno=infno,
            opter_type=operator.opter_type,
            opter=operator.opter,
            body_sha256=digest,
            facts=facts,
            amounts={},
            insuplc_admdvs=visit.insuplc_admdvs,
        )
    )

"""Chronic and special outpatient care (门慢/门特): the person's recognised diseases (5301),
registering one (2503), cancelling the registration (2504).

A chronic visit itself is a charge: ``charge(visit, fees, diagnoses=..., chronic=disease)``
sends med_type 14 with the disease in 2203 ``mdtrtinfo.dise_codg`` and 2204 ``dise_codg``; the
platform refuses a disease the person has not recognised (in force today, by the visit's insured
place), and the SDK never retries such a refusal as an ordinary visit — whether the patient pays
the visit as an ordinary outpatient one is the patient's and the cashier's decision.

Each workflow takes the person as a :class:`~nhsa.client.Certificate` (then 1101 finds them
under ``insutype``) or as a visit's :class:`~nhsa.client.Registration` (no lookup).

Example::

    on_record = client.recognitions(card, insutype="310")
    today = [r.disease for r in on_record if r.valid_on(date.today())]
    paid = client.charge(visit, fees, diagnoses=diagnoses, chronic=today[0])
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from pydantic import ValidationError

from nhsa.client._flow import Flow
from nhsa.client._inputs import Certificate, ChronicDisease, Clinic
from nhsa.client._load_bearing import loaded
from nhsa.client._register import FoundPerson, find_person
from nhsa.client._results import ChronicRegistration, Recognition, Registration
from nhsa.client._unwrap import unwrap
from nhsa.client._validation import check_text, error_from_pydantic
from nhsa.client.errors import InvalidInputError
from nhsa.models import (
    Input2503,
    Input2503Data,
    Input2504,
    Input2504Data,
    Input5301,
    Input5301Data,
    Output2503,
    Output5301,
    Output5301FeedetailItem,
)

if TYPE_CHECKING:
    from nhsa.client._core import Core

Person = Certificate | Registration
"""Whose: the certificate the patient presents, or a visit of theirs already registered."""


def recognitions(
    core: Core, person: Person, *, insutype: str | None = None
) -> Flow[tuple[Recognition, ...]]:
    """5301: the person's chronic diseases on record with the insured place, expired included."""
    found = yield from _whose(core, person, insutype)
    query = Input5301(data=Input5301Data(psn_no=found.psn_no))
    answer: Output5301 = yield from core.typed("5301", query, insuplc_admdvs=found.insuplc_admdvs)
    return tuple(_recognition(row) for row in answer.feedetail or () if row is not None)


def register_chronic(
    core: Core,
    person: Person,
    disease: ChronicDisease,
    *,
    clinic: Clinic,
    insutype: str | None = None,
    begndate: date | None = None,
    enddate: date | None = None,
    identified_on: date | None = None,
) -> Flow[ChronicRegistration]:
    """2503: register the person's disease, identified by ``clinic``'s doctor at this hospital."""
    if not isinstance(disease, ChronicDisease):
        raise InvalidInputError(
            "disease: give a ChronicDisease (e.g. ChronicDisease.of('M03900'))",
            field="disease",
            rule="type",
        )
    today = core.clock().date()
    starts = begndate or today
    if enddate is not None and enddate < starts:
        raise InvalidInputError(
            f"enddate: {enddate} is before begndate {starts}",
            field="enddate",
            rule="after-begndate",
        )
    identified = identified_on or today
    if identified > today:
        raise InvalidInputError(
            f"identified_on: {identified} is after today ({today}): a disease is identified "
            "before it is registered",
            field="identified_on",
            rule="not-in-future",
        )
    found = yield from _whose(core, person, insutype)
    config = core.config
    try:
        registration = Input2503(
            data=Input2503Data(
                psn_no=found.psn_no,
                insutype=found.insutype,
                opsp_dise_code=disease.code,
                opsp_dise_name=disease.name,
                insu_optins=found.insuplc_admdvs,
                ide_fixmedins_no=config.fixmedins_code,
                ide_fixmedins_name=config.fixmedins_name,
                hosp_ide_date=identified,
                diag_dr_codg=clinic.atddr_no,
                diag_dr_name=clinic.dr_name,
                begndate=starts,
                enddate=enddate,
            )
        )
    except ValidationError as error:
        raise error_from_pydantic(error, "2503.data") from None
    outcome = yield from core.call("2503", registration, insuplc_admdvs=found.insuplc_admdvs)
    registered: Output2503 = unwrap(outcome)
    return ChronicRegistration(
        trt_dcla_detl_sn=loaded(registered, "result.trt_dcla_detl_sn"),
        psn_no=found.psn_no,
        insutype=found.insutype,
        insuplc_admdvs=found.insuplc_admdvs,
        disease=disease,
        begndate=starts,
        enddate=enddate,
        msgid=outcome.msgid,
    )


def cancel_chronic(core: Core, registration: ChronicRegistration, *, reason: str) -> Flow[str]:
    """2504: cancel a registration this HIS made; returns the 2504 msgid."""
    check_text(reason, "reason", 500)
    cancel = Input2504(
        data=Input2504Data(
            trt_dcla_detl_sn=registration.trt_dcla_detl_sn,
            psn_no=registration.psn_no,
            memo=reason,
        )
    )
    outcome = yield from core.call("2504", cancel, insuplc_admdvs=registration.insuplc_admdvs)
    unwrap(outcome)
    return outcome.msgid


def _whose(core: Core, person: Person, insutype: str | None) -> Flow[FoundPerson]:
    if isinstance(person, Registration):
        if insutype not in (None, person.insutype):
            raise InvalidInputError(
                f"insutype: the visit is under {person.insutype}, not {insutype}",
                field="insutype",
                rule="the-visits-insurance",
            )
        return FoundPerson(
            person.psn_no, person.psn_name, person.insutype, person.insuplc_admdvs, person.balc
        )
    if not isinstance(person, Certificate):
        raise InvalidInputError(
            "person: give the patient's Certificate or a visit's Registration",
            field="person",
            rule="type",
        )
    if insutype is None:
        raise InvalidInputError(
            "insutype: required with a certificate (whose insurance's insured place?)",
            field="insutype",
            rule="required",
        )
    return (yield from find_person(core, person, insutype=insutype))


def _recognition(row: Output5301FeedetailItem) -> Recognition:
    # opsp_dise_code is load-bearing (the core refused an answer lacking it); a missing name or
    # date is tolerated: the code alone names the disease, and no date does not limit it.
    return Recognition(
        opsp_dise_code=str(row.opsp_dise_code),
        opsp_dise_name=row.opsp_dise_name or "",
        begndate=row.begndate,
        enddate=row.enddate,
    )

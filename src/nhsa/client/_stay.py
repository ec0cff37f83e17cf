"""The inpatient workflows: admit, upload fees in batches, settle mid-way, discharge, settle,
cancel a settlement, cancel the discharge or the admission.

A stay, as hospitals run it (C1, C2, H)::

    admit (1101 + 2401) ─▶ upload_stay_fees (2301, a batch per call) … ─▶ settle_midway
    (2303 + 2304 mid_setl_flag 1, up to a day) … ─▶ discharge (2402) ─▶ settle_stay
    (2303 + 2304 mid_setl_flag 0)        undo: cancel_stay_settlement (2305, newest first),
                                         cancel_discharge (2405), cancel_admission (2302 + 2404)

Guarantees, as for an outpatient charge:

- **no two settlements of one stay in flight** — the visit guard (journal row keyed by the
  stay's ``mdtrt_id``) holds the stay for one settlement or cancellation at a time, in any
  thread or process; a stay whose settlement is unresolved in the journal is refused, and so is
  a second final settlement;
- **2304 echoes 2303** — the total and the four scope amounts come from the pre-settlement's
  answer and the settled totals are compared with it: a difference is cancelled (2305) at
  once and reported (:class:`~nhsa.client.errors.SettlementMismatchError`);
- **the HIS's own total is the one checked** — ``medfee_sumamt`` is the HIS's total of what it
  settles; the platform compares it with the lines it holds (2303 refuses a difference);
- **an unknown outcome is undone, never resent** — 2304 and 2401 by 2601, 2402 by 2405 (the
  core's resolution); an unknown 2301 batch by 2302 of its own lines, which this workflow knows
  (the journal does not hold them, so after a crash ``recover()`` leaves it to a person);
- **the password rule** — a local or in-province 2304 carries the medium read with the
  patient's password (``card_token``: the e-voucher token or the card's identification code)
  in ``exp_content``; a cross-province one needs none [inference: how the check travels].

The four scope amounts 2303 requires are sent as 0.00, as H does: the platform recomputes them
from the lines it holds, and 2304 echoes what 2303 answered.

Example:
    >>> is_inpatient("21"), is_inpatient("52"), is_inpatient("11")
    (True, True, False)
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import orjson
from pydantic import ValidationError

from nhsa.client._charge import UNRESOLVED, check_visit_held, chunks, decimal_of, numbered
from nhsa.client._flow import Flow
from nhsa.client._inputs import Certificate, Diagnosis, FeeLine, Ward
from nhsa.client._load_bearing import ECHOED, loaded
from nhsa.client._outcomes import NeedsManualDecision, Rejected, Reversed, Succeeded, Unknown
from nhsa.client._register import find_person, new_serial
from nhsa.client._results import SettlementTotals
from nhsa.client._stay_results import FeeBatch, Stay, StayCancellation, StaySettlement
from nhsa.client._unwrap import error_for, unwrap
from nhsa.client._validation import check_code, check_text, error_from_pydantic
from nhsa.client.errors import (
    AlreadySettledError,
    InvalidInputError,
    NhsaClientError,
    OutcomeUnknownError,
    SettlementMismatchError,
    VisitBusyError,
)
from nhsa.models import (
    Input2301,
    Input2301FeedetailItem,
    Input2302,
    Input2302DataItem,
    Input2303,
    Input2303Data,
    Input2304,
    Input2304Data,
    Input2305,
    Input2305Data,
    Input2401,
    Input2401Mdtrtinfo,
    Input2402,
    Input2402DiseinfoItem,
    Input2402Dscginfo,
    Input2404,
    Input2404Data,
    Input2405,
    Input2405Data,
    IptDiseinfoItem,
    Output2401,
)

if TYPE_CHECKING:
    from nhsa.client._core import Core

MID_WAY, FINAL = "1", "0"
ALL_LINES = "0000"
"""2302 ``feedetl_sn`` that cancels every unsettled line of the stay."""
_ZERO = Decimal("0.00")
_SCOPE = ECHOED[1:]


def is_inpatient(med_type: str) -> bool:
    """Whether a med_type is an inpatient category (2x, or 52 生育住院)."""
    return med_type.startswith("2") or med_type == "52"


# -- admission -------------------------------------------------------------------------------


def admit(
    core: Core,
    certificate: Certificate,
    *,
    insutype: str,
    ward: Ward,
    diagnoses: Sequence[Diagnosis],
    med_type: str = "21",
    ipt_no: str | None = None,
    begntime: datetime | None = None,
) -> Flow[Stay]:
    """1101 to find the person, then 2401 to admit them under ``insutype``."""
    check_code("med_type", med_type, "med_type")
    if not is_inpatient(med_type):
        raise InvalidInputError(
            f"med_type: {med_type} is not an inpatient category (21 普通住院, 22 … 28, 52); "
            "register an outpatient visit instead",
            field="med_type",
            rule="inpatient-med-type",
        )
    check_text(ipt_no, "ipt_no", 30, required=False)
    _need_diagnoses(diagnoses)
    person = yield from find_person(core, certificate, insutype=insutype)
    start = begntime or core.clock()
    serial = ipt_no or new_serial("ZY", core.msgids.next())
    main = diagnoses[0]
    try:
        admission = Input2401(
            mdtrtinfo=Input2401Mdtrtinfo(
                psn_no=person.psn_no,
                insutype=insutype,
                begntime=start,
                mdtrt_cert_type=certificate.mdtrt_cert_type,
                mdtrt_cert_no=certificate.mdtrt_cert_no,
                med_type=med_type,
                ipt_no=serial,
                atddr_no=ward.atddr_no,
                chfpdr_name=ward.chfpdr_name,
                adm_diag_dscr=main.diag_name,
                adm_dept_codg=ward.dept_code,
                adm_dept_name=ward.dept_name,
                adm_bed=ward.bed,
                dscg_maindiag_code=main.diag_code,
                dscg_maindiag_name=main.diag_name,
            ),
            diseinfo=[
                IptDiseinfoItem(psn_no=person.psn_no, **row)
                for row in _diagnosis_rows(diagnoses, ward, start)
            ],
        )
    except ValidationError as error:
        raise error_from_pydantic(error, "2401") from None
    outcome = yield from core.call("2401", admission, insuplc_admdvs=person.insuplc_admdvs)
    admitted: Output2401 = unwrap(outcome)
    return Stay(
        psn_no=person.psn_no,
        psn_name=person.psn_name,
        mdtrt_id=loaded(admitted, "result.mdtrt_id"),
        ipt_no=serial,
        insutype=insutype,
        insuplc_admdvs=person.insuplc_admdvs,
        med_type=med_type,
        certificate=certificate,
        ward=ward,
        begntime=start,
        balc=person.balc,
        msgid=outcome.msgid,
    )


def cancel_admission(core: Core, stay: Stay) -> Flow[str]:
    """2302 "0000" (when the journal shows fees uploaded), then 2404; the 2404 msgid."""
    area = stay.insuplc_admdvs
    uploads = core.journal.entries(
        core.tenant, infno=["2301"], states=["succeeded"], mdtrt_id=stay.mdtrt_id
    )
    if uploads:
        outcome = yield from core.call(
            "2302", _cancel_input(stay, [ALL_LINES]), insuplc_admdvs=area
        )
        nothing_left = isinstance(outcome, Rejected) and core.config.patterns.matches(
            "nothing_to_undo", outcome.err_msg
        )
        if not nothing_left:
            unwrap(outcome)
    cancel = Input2404(data=Input2404Data(mdtrt_id=stay.mdtrt_id, psn_no=stay.psn_no))
    outcome = yield from core.call("2404", cancel, insuplc_admdvs=area)
    unwrap(outcome)
    return outcome.msgid


# -- fees --------------------------------------------------------------------------------------


def upload_stay_fees(core: Core, stay: Stay, fees: Sequence[FeeLine]) -> Flow[tuple[FeeBatch, ...]]:
    """2301 in batches of ``config.fee_lines_per_upload``; the batches, in order.

    A batch the platform refuses stops the upload (earlier batches stand; the error's notes
    name them); an unknown one is cancelled (2302 of its lines) before the error is raised.
    """
    if stay.discharged:
        raise InvalidInputError(
            f"stay {stay.mdtrt_id} is discharged: undo the discharge (cancel_discharge, 2405) "
            "before uploading more fees",
            field="stay",
            rule="fees-while-admitted",
        )
    if not fees or not all(isinstance(line, FeeLine) for line in fees):
        raise InvalidInputError(
            "fees: at least one fee line, each a FeeLine", field="fees", rule="minItems"
        )
    check_visit_held(core, stay.mdtrt_id, "fee upload", "2301")
    lines = numbered(fees, new_serial("ZF", core.msgids.next()), core)
    batches: list[FeeBatch] = []
    for chunk in chunks(lines, core.config.fee_lines_per_upload):
        upload = _upload_input(stay, chunk)
        outcome = yield from core.call("2301", upload, insuplc_admdvs=stay.insuplc_admdvs)
        if isinstance(outcome, Succeeded) and outcome.usable:
            results = tuple(outcome.output.result or ())
            batches.append(FeeBatch(stay, outcome.msgid, tuple(chunk), results))
            continue
        error = error_for(outcome)
        if isinstance(outcome, Unknown) and isinstance(outcome.resolution, NeedsManualDecision):
            error = yield from _undo_upload(core, stay, chunk, outcome)
        if batches:
            error.add_note(
                f"{len(batches)} earlier batch(es) of this upload stand: "
                + ", ".join(batch.msgid for batch in batches)
            )
        raise error
    return tuple(batches)


def _undo_upload(
    core: Core, stay: Stay, chunk: Sequence[FeeLine], lost: Unknown
) -> Flow[NhsaClientError]:
    """Cancel the lines of a 2301 whose outcome is unknown (the newest batch, so allowed)."""
    serials = [line.feedetl_sn or "" for line in chunk]
    try:
        undo = yield from core.call(
            "2302",
            _cancel_input(stay, serials),
            insuplc_admdvs=stay.insuplc_admdvs,
            resolve=False,
            reverses=lost.msgid,
            check_breaker=False,
        )
    except NhsaClientError as error:
        failed = error_for(lost)
        failed.add_note(f"cancelling its lines (2302) failed too: {error}")
        return failed
    never_arrived = isinstance(undo, Rejected) and core.config.patterns.matches(
        "nothing_to_undo", undo.err_msg
    )
    if isinstance(undo, Succeeded) or never_arrived:
        detail = undo.err_msg if isinstance(undo, Rejected) else "undone by 2302"
        core.journal.mark(
            lost.msgid,
            "reversed",
            detail=detail,
            resolved_by=undo.msgid,
            original_found=False if never_arrived else None,
        )
        resolution = Reversed("2302", undo.msgid, False if never_arrived else None, detail)
        return OutcomeUnknownError(
            f"2301 {lost.msgid}: {lost.reason}; its lines were cancelled (2302 {undo.msgid}), "
            "upload them again",
            resolution=resolution,
            infno="2301",
            msgid=lost.msgid,
            attempts=len(lost.attempts),
        )
    failed = error_for(lost)
    failed.add_note(f"cancelling its lines (2302 {undo.msgid}) did not succeed: {undo.kind}")
    return failed


# -- discharge ---------------------------------------------------------------------------------


def discharge(
    core: Core,
    stay: Stay,
    *,
    diagnoses: Sequence[Diagnosis],
    endtime: datetime | None = None,
    dscg_way: str = "1",
) -> Flow[Stay]:
    """2402: the discharge, with the discharge diagnoses; the stay, discharged."""
    check_code("dscg_way", dscg_way, "dscg_way")
    _need_diagnoses(diagnoses)
    check_visit_held(core, stay.mdtrt_id, "discharge", "2402")
    end = endtime or core.clock()
    ward = stay.ward
    try:
        leave = Input2402(
            dscginfo=Input2402Dscginfo(
                mdtrt_id=stay.mdtrt_id,
                psn_no=stay.psn_no,
                insutype=stay.insutype,
                endtime=end,
                dscg_dept_codg=ward.dept_code,
                dscg_dept_name=ward.dept_name,
                dscg_bed=ward.bed,
                dscg_way=dscg_way,
            ),
            diseinfo=[
                Input2402DiseinfoItem(mdtrt_id=stay.mdtrt_id, psn_no=stay.psn_no, **row)
                for row in _diagnosis_rows(diagnoses, ward, end)
            ],
        )
    except ValidationError as error:
        raise error_from_pydantic(error, "2402") from None
    yield from core.typed("2402", leave, insuplc_admdvs=stay.insuplc_admdvs)
    return stay.with_endtime(end)


def cancel_discharge(core: Core, stay: Stay) -> Flow[Stay]:
    """2405: undo the discharge (no final settlement may stand); the stay, admitted again."""
    cancel = Input2405(data=Input2405Data(mdtrt_id=stay.mdtrt_id, psn_no=stay.psn_no))
    yield from core.typed("2405", cancel, insuplc_admdvs=stay.insuplc_admdvs)
    return stay.with_endtime(None)


# -- settlement --------------------------------------------------------------------------------


def settle(
    core: Core,
    stay: Stay,
    medfee_sumamt: Decimal,
    *,
    until: date | None,
    midway: bool,
    psn_setlway: str = "01",
    acct_used_flag: str = "1",
    card_token: str | None = None,
) -> Flow[StaySettlement]:
    """2303, 2304 and the totals check, holding the stay's guard (see the module docstring)."""
    check_code("psn_setlway", psn_setlway, "psn_setlway")
    check_code("acct_used_flag", acct_used_flag, "acct_used_flag")
    if not isinstance(medfee_sumamt, Decimal) or medfee_sumamt <= 0:
        raise InvalidInputError(
            f"medfee_sumamt: {medfee_sumamt!r} must be a positive Decimal (the HIS's own total "
            "of what it settles)",
            field="medfee_sumamt",
            rule="positive-decimal",
        )
    if midway == stay.discharged:
        what = (
            "a discharged stay is settled finally (settle_stay)"
            if midway
            else "discharge the stay (discharge, 2402) before its final settlement"
        )
        raise InvalidInputError(
            f"stay {stay.mdtrt_id}: {what}", field="stay", rule="discharge-before-final"
        )
    check_visit_held(core, stay.mdtrt_id, "stay settlement", "2304")
    extension = _password_medium(core, stay, card_token)
    check_stay_settlements(core, stay.mdtrt_id, final=not midway)
    with core.journal.visit_guard(core.tenant, stay.mdtrt_id):
        # Checked again under the guard: a settlement may have finished while we waited.
        check_stay_settlements(core, stay.mdtrt_id, final=not midway)
        return (
            yield from _settle(
                core,
                stay,
                medfee_sumamt,
                flag=MID_WAY if midway else FINAL,
                until=until if midway else None,
                psn_setlway=psn_setlway,
                acct_used_flag=acct_used_flag,
                extension=extension,
            )
        )


def _settle(
    core: Core,
    stay: Stay,
    medfee_sumamt: Decimal,
    *,
    flag: str,
    until: date | None,
    psn_setlway: str,
    acct_used_flag: str,
    extension: str | None,
) -> Flow[StaySettlement]:
    area = stay.insuplc_admdvs
    shared: dict[str, Any] = {
        "psn_no": stay.psn_no,
        "mdtrt_cert_type": stay.certificate.mdtrt_cert_type,
        "mdtrt_cert_no": stay.certificate.mdtrt_cert_no,
        "psn_setlway": psn_setlway,
        "mdtrt_id": stay.mdtrt_id,
        "insutype": stay.insutype,
        "acct_used_flag": acct_used_flag,
        "mid_setl_flag": flag,
        "dscgTime": until if flag == MID_WAY else (stay.endtime.date() if stay.endtime else None),
    }
    pre_input = Input2303(
        data=Input2303Data(**shared, medfee_sumamt=medfee_sumamt, **dict.fromkeys(_SCOPE, _ZERO))
    )
    pre_output = yield from core.typed("2303", pre_input, insuplc_admdvs=area)
    settle_input = Input2304(
        data=Input2304Data(
            **shared,
            **{name: loaded(pre_output, f"setlinfo.{name}") for name in ECHOED},
            exp_content=extension,
        )
    )
    outcome = yield from core.call("2304", settle_input, insuplc_admdvs=area)
    if not isinstance(outcome, Succeeded) or not outcome.usable:
        # Rejected and NotSent booked nothing; an Unknown was reversed (2601) or is held; a
        # usable-less success stands. The fee lines stay for the next try in every case.
        raise error_for(outcome)
    setl_id: str = loaded(outcome.output, "setlinfo.setl_id")
    expected = SettlementTotals.of(pre_output.setlinfo)
    settled = SettlementTotals.of(outcome.output.setlinfo)
    result = StaySettlement(
        stay=stay,
        msgid=outcome.msgid,
        setl_id=setl_id,
        mid_setl_flag=flag,
        until=until,
        psn_setlway=psn_setlway,
        acct_used_flag=acct_used_flag,
        pre_settlement=expected,
        totals=settled,
        setlinfo=outcome.output.setlinfo,
        setldetail=tuple(outcome.output.setldetail or ()),
    )
    differences = expected.differences(settled)
    if differences:
        cancelled = yield from _cancel_mismatch(core, result)
        raise SettlementMismatchError(
            f"2304 {outcome.msgid}: the settlement differs from the pre-settlement in "
            + ", ".join(f"{name} ({a} → {b})" for name, (a, b) in differences.items())
            + ("; it was cancelled (2305)" if cancelled else "; the cancellation (2305) failed"),
            differences=dict(differences),
            refunded=cancelled,
            msgid=outcome.msgid,
        )
    return result


def cancel_stay_settlement(core: Core, settlement: StaySettlement) -> Flow[StayCancellation]:
    """2305 of the stay's newest settlement in force (the journal refuses an older one)."""
    stay = settlement.stay
    newer = _newer_settlements(core, settlement)
    if newer:
        raise InvalidInputError(
            f"settlement: {settlement.setl_id} is not the newest of stay {stay.mdtrt_id}; "
            f"cancel {', '.join(newer)} first (a stay's settlements are cancelled newest first)",
            field="settlement",
            rule="newest-first",
        )
    check_visit_held(core, stay.mdtrt_id, "stay settlement cancellation", "2305")
    with core.journal.visit_guard(core.tenant, stay.mdtrt_id):
        return (yield from _cancel(core, settlement))


def _cancel(core: Core, settlement: StaySettlement) -> Flow[StayCancellation]:
    stay = settlement.stay
    cancel = Input2305(
        data=Input2305Data(mdtrt_id=stay.mdtrt_id, setl_id=settlement.setl_id, psn_no=stay.psn_no)
    )
    outcome = yield from core.call("2305", cancel, insuplc_admdvs=stay.insuplc_admdvs)
    output = unwrap(outcome)
    return StayCancellation(
        settlement=settlement,
        msgid=outcome.msgid,
        setl_id=loaded(output, "setlinfo.setl_id"),
        refunded=SettlementTotals.of(output.setlinfo),
    )


def _cancel_mismatch(core: Core, settlement: StaySettlement) -> Flow[bool]:
    try:
        yield from _cancel(core, settlement)
    except NhsaClientError:
        return False
    return True


def check_stay_settlements(core: Core, mdtrt_id: str, *, final: bool) -> None:
    """Refuse to settle a stay whose settlement is unresolved in the journal, or (for the
    final settlement) one that is finally settled already."""
    settlements = core.journal.entries(core.tenant, infno=["2304"], mdtrt_id=mdtrt_id)
    cancelled = _cancelled(core, mdtrt_id)
    for entry in settlements:
        if entry.state in UNRESOLVED:
            raise VisitBusyError(
                f"stay {mdtrt_id}: settlement {entry.msgid} is {entry.state}; resolve it "
                "(recover(); reverse_held() for a held one) before settling again",
                infno="2304",
                msgid=entry.msgid,
            )
        standing = entry.state == "succeeded" and entry.result.get("setl_id") not in cancelled
        if final and standing and entry.facts.get("mid_setl_flag") == FINAL:
            raise AlreadySettledError(
                f"stay {mdtrt_id} is finally settled (setl_id {entry.result.get('setl_id')}, "
                f"msgid {entry.msgid}); cancel it (2305) to settle again",
                infno="2304",
                msgid=entry.msgid,
            )


def _newer_settlements(core: Core, settlement: StaySettlement) -> list[str]:
    mdtrt_id = settlement.stay.mdtrt_id
    entries = core.journal.entries(
        core.tenant, infno=["2304"], states=["succeeded"], mdtrt_id=mdtrt_id
    )
    mine = next((e for e in entries if e.msgid == settlement.msgid), None)
    cancelled = _cancelled(core, mdtrt_id)
    return [
        str(e.result.get("setl_id"))
        for e in entries
        if mine is not None
        and e.created_at > mine.created_at
        and e.result.get("setl_id") not in cancelled
    ]


def _cancelled(core: Core, mdtrt_id: str) -> set[object]:
    cancels = core.journal.entries(
        core.tenant, infno=["2305"], states=["succeeded"], mdtrt_id=mdtrt_id
    )
    return {entry.facts.get("setl_id") for entry in cancels}


def _password_medium(core: Core, stay: Stay, card_token: str | None) -> str | None:
    """The 2304 extension carrying the password medium; required unless cross-province."""
    cross_province = stay.insuplc_admdvs[:2] != core.config.mdtrtarea_admvs[:2]
    if card_token is None:
        if cross_province:
            return None
        raise InvalidInputError(
            f"card_token: stay {stay.mdtrt_id} is insured in the province "
            f"({stay.insuplc_admdvs}): its settlement (2304, 住院结算（验密）) needs the medium "
            "read with the patient's password — the e-voucher token or the card's "
            "identification code",
            field="card_token",
            rule="password-in-province",
        )
    check_text(card_token, "card_token", 200)
    return orjson.dumps({"card_token": card_token}).decode()


# -- inputs -------------------------------------------------------------------------------------


def _upload_input(stay: Stay, lines: Sequence[FeeLine]) -> Input2301:
    ward = stay.ward
    try:
        return Input2301(
            feedetail=[
                Input2301FeedetailItem(
                    feedetl_sn=line.feedetl_sn or "",
                    mdtrt_id=stay.mdtrt_id,
                    psn_no=stay.psn_no,
                    med_type=stay.med_type,
                    fee_ocur_time=line.fee_ocur_time or stay.begntime,
                    med_list_codg=line.med_list_codg,
                    medins_list_codg=line.medins_list_codg,
                    det_item_fee_sumamt=line.total,
                    cnt=decimal_of(line.cnt),
                    pric=decimal_of(line.pric),
                    bilg_dept_codg=ward.dept_code,
                    bilg_dept_name=ward.dept_name,
                    bilg_dr_codg=ward.atddr_no,
                    bilg_dr_name=ward.chfpdr_name,
                    hosp_appr_flag=line.hosp_appr_flag,
                )
                for line in lines
            ]
        )
    except ValidationError as error:
        raise error_from_pydantic(error, "2301.feedetail") from None


def _cancel_input(stay: Stay, serials: Sequence[str]) -> Input2302:
    return Input2302(
        data=[
            Input2302DataItem(feedetl_sn=serial, mdtrt_id=stay.mdtrt_id, psn_no=stay.psn_no)
            for serial in serials
        ]
    )


def _diagnosis_rows(
    diagnoses: Sequence[Diagnosis], ward: Ward, at: datetime
) -> list[dict[str, Any]]:
    """The members an admission (2401) and a discharge (2402) diagnosis row share; the first
    diagnosis is the main one."""
    return [
        {
            "diag_type": d.diag_type,
            "maindiag_flag": "1" if index == 1 else "0",
            "diag_srt_no": index,
            "diag_code": d.diag_code,
            "diag_name": d.diag_name,
            "diag_dept": ward.dept_name,
            "dise_dor_no": ward.atddr_no,
            "dise_dor_name": ward.chfpdr_name,
            "diag_time": d.diag_time or at,
        }
        for index, d in enumerate(diagnoses, start=1)
    ]


def _need_diagnoses(diagnoses: Sequence[Diagnosis]) -> None:
    if not diagnoses or not all(isinstance(d, Diagnosis) for d in diagnoses):
        raise InvalidInputError(
            "diagnoses: at least one Diagnosis (2401/2402 diseinfo)",
            field="diagnoses",
            rule="minItems",
        )

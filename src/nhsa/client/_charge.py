"""The charge workflow: 2203 visit info, 2204 fee lines, 2206 pre-settlement, 2207 settlement.

Guarantees:

- **no double charge** — the visit guard (journal row) refuses a second charge of the same
  visit while one is in flight, in any thread or process; a visit whose settlement is live or
  unresolved in the journal is refused too, and so is a visit another journal registered
  (its guard is there, not here);
- **2207 echoes 2206** — the four amount fields and the total come from the pre-settlement
  answer, and the settled totals are compared with it: a difference is refunded (2208) at once
  and reported (:class:`~nhsa.client.errors.SettlementMismatchError`);
- **nothing left half-done** — when a step fails after fee lines were uploaded, the batch is
  cancelled (2205); an unknown 2207 is reversed (2601) before the batch is cancelled, unless a
  window holds it for the cashier;
- **no chronic visit without its disease** — med_type 14 (门诊慢特病) is sent only with the
  recognised disease (``chronic=ChronicDisease(...)``), in 2203 ``dise_codg`` and on every 2204
  line; a refusal of the disease is raised as it is, never retried as an ordinary visit.

Example:
    >>> [len(chunk) for chunk in chunks(list(range(5)), 2)]
    [2, 2, 1]
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import replace
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import ValidationError

from nhsa.client._flow import Flow
from nhsa.client._inputs import ChronicDisease, Diagnosis, FeeLine
from nhsa.client._load_bearing import ECHOED, loaded
from nhsa.client._outcomes import Held, Rejected, Succeeded, Unknown
from nhsa.client._register import new_serial
from nhsa.client._results import Charge, Registration, SettlementTotals
from nhsa.client._unwrap import error_for
from nhsa.client._validation import check_code, error_from_pydantic
from nhsa.client.errors import (
    AlreadySettledError,
    InvalidInputError,
    NhsaClientError,
    SettlementMismatchError,
    VisitBusyError,
    VisitNotInJournalError,
)
from nhsa.models import (
    Input2203,
    Input2203Mdtrtinfo,
    Input2204,
    Input2204FeedetailItem,
    Input2205,
    Input2205Data,
    Input2206,
    Input2206Data,
    Input2207,
    Input2207Data,
    Input2208,
    Input2208Data,
    OtpDiseinfoItem,
)
from nhsa.redaction import get_logger

if TYPE_CHECKING:
    from nhsa.client._core import Core

T = TypeVar("T")
_log = get_logger("nhsa.client")
ORDINARY, CHRONIC = "11", "14"
"""med_type 普通门诊 (the default) and 门诊慢特病 (a chronic visit: needs its disease)."""
UNRESOLVED = ("sending", "unknown", "reversing", "held", "manual")
"""States of a settlement that may or may not stand: the visit is not charged again until a
person or ``recover()`` has closed it."""


def chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    """``items`` in consecutive slices of at most ``size``."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


def charge(
    core: Core,
    registration: Registration,
    fees: Sequence[FeeLine],
    *,
    diagnoses: Sequence[Diagnosis],
    med_type: str | None = None,
    chronic: ChronicDisease | None = None,
    psn_setlway: str = "01",
    acct_used_flag: str = "1",
    invono: str | None = None,
) -> Flow[Charge]:
    """Upload the visit and its fee lines, pre-settle, settle, and check the totals agree."""
    category = medical_category(med_type, chronic)
    _check_charge_input(
        core,
        fees=fees,
        diagnoses=diagnoses,
        med_type=category,
        psn_setlway=psn_setlway,
        acct_used_flag=acct_used_flag,
    )
    check_visit_held(core, registration.mdtrt_id, "charge", "2207")
    check_live_settlement(core, registration.mdtrt_id)
    with core.journal.visit_guard(core.tenant, registration.mdtrt_id):
        # Checked again under the guard: a charge may have finished while we waited.
        check_live_settlement(core, registration.mdtrt_id)
        yield from _upload_visit(core, registration, diagnoses, category, chronic)
        return (
            yield from settle_lines(
                core,
                registration,
                fees,
                med_type=category,
                chronic=chronic,
                psn_setlway=psn_setlway,
                acct_used_flag=acct_used_flag,
                invono=invono,
            )
        )


def medical_category(med_type: str | None, chronic: ChronicDisease | None) -> str:
    """The visit's med_type: 14 with a chronic disease, else ``med_type`` (default 11).

    med_type 14 without its disease, or a disease with another med_type, is refused: the
    platform settles a chronic visit only under a disease the person has recognised.

    Example:
        >>> medical_category(None, ChronicDisease.of("M03900")), medical_category(None, None)
        ('14', '11')
        >>> medical_category("14", None)
        Traceback (most recent call last):
        ...
        nhsa.client.errors.InvalidInputError: chronic: med_type 14 (门诊慢特病) needs the \
recognised disease: charge(..., chronic=ChronicDisease(code, name))
    """
    if chronic is not None and not isinstance(chronic, ChronicDisease):
        raise InvalidInputError(
            "chronic: give a ChronicDisease (e.g. ChronicDisease.of('M03900'))",
            field="chronic",
            rule="type",
        )
    if chronic is None:
        if med_type == CHRONIC:
            raise InvalidInputError(
                "chronic: med_type 14 (门诊慢特病) needs the recognised disease: "
                "charge(..., chronic=ChronicDisease(code, name))",
                field="chronic",
                rule="required-for-med_type-14",
            )
        return med_type or ORDINARY
    if med_type not in (None, CHRONIC):
        raise InvalidInputError(
            f"med_type: a chronic visit (chronic={chronic.code}) is med_type 14, not {med_type}",
            field="med_type",
            rule="chronic-is-14",
        )
    return CHRONIC


def settle_lines(
    core: Core,
    registration: Registration,
    fees: Sequence[FeeLine],
    *,
    med_type: str,
    psn_setlway: str,
    acct_used_flag: str,
    invono: str | None,
    chronic: ChronicDisease | None = None,
) -> Flow[Charge]:
    """2204 (in chunks, one batch), 2206, 2207 and the totals check; the caller holds the guard."""
    batch = new_serial("CB", core.msgids.next())
    lines = numbered(fees, batch, core)
    area = registration.insuplc_admdvs
    uploaded = False
    try:
        for chunk in chunks(lines, core.config.fee_lines_per_upload):
            upload = _fee_upload(registration, batch, chunk, chronic)
            uploaded = True
            yield from core.typed("2204", upload, insuplc_admdvs=area, extras=_line_extras(chunk))
        total = sum((line.total for line in lines), Decimal(0))
        pre_input = Input2206(
            data=Input2206Data(
                psn_no=registration.psn_no,
                mdtrt_cert_type=registration.certificate.mdtrt_cert_type,
                mdtrt_cert_no=registration.certificate.mdtrt_cert_no,
                med_type=med_type,
                medfee_sumamt=total,
                psn_setlway=psn_setlway,
                mdtrt_id=registration.mdtrt_id,
                chrg_bchno=batch,
                acct_used_flag=acct_used_flag,
                insutype=registration.insutype,
            )
        )
        pre_output = yield from core.typed("2206", pre_input, insuplc_admdvs=area)
    except NhsaClientError as error:
        if uploaded:
            yield from _cancel_batch(core, registration, batch, error)
        raise
    settle = Input2207(
        data=Input2207Data(
            psn_no=registration.psn_no,
            mdtrt_cert_type=registration.certificate.mdtrt_cert_type,
            mdtrt_cert_no=registration.certificate.mdtrt_cert_no,
            med_type=med_type,
            psn_setlway=psn_setlway,
            mdtrt_id=registration.mdtrt_id,
            chrg_bchno=batch,
            insutype=registration.insutype,
            acct_used_flag=acct_used_flag,
            invono=invono,
            **{name: loaded(pre_output, f"setlinfo.{name}") for name in ECHOED},
        )
    )
    outcome = yield from core.call("2207", settle, insuplc_admdvs=area)
    if isinstance(outcome, Succeeded) and not outcome.usable:
        # Settled (definite): nothing is cancelled or refunded; the error says what is missing.
        raise error_for(outcome)
    if not isinstance(outcome, Succeeded):
        failure = error_for(outcome)
        held = isinstance(outcome, Unknown) and isinstance(outcome.resolution, Held)
        if not held:
            # Rejected and NotSent booked nothing; a resolved Unknown was reversed (or is
            # being reversed): in each case the uploaded lines must not linger.
            yield from _cancel_batch(core, registration, batch, failure)
        raise failure
    setlinfo = outcome.output.setlinfo
    setl_id: str = loaded(outcome.output, "setlinfo.setl_id")
    expected = SettlementTotals.of(pre_output.setlinfo)
    settled = SettlementTotals.of(setlinfo)
    differences = expected.differences(settled)
    if differences:
        refunded = yield from _refund_mismatch(core, registration, setl_id)
        raise SettlementMismatchError(
            f"2207 {outcome.msgid}: the settlement differs from the pre-settlement in "
            + ", ".join(f"{name} ({a} → {b})" for name, (a, b) in differences.items())
            + ("; it was refunded (2208)" if refunded else "; the refund (2208) failed"),
            differences=dict(differences),
            refunded=refunded,
            msgid=outcome.msgid,
        )
    return Charge(
        registration=registration,
        chrg_bchno=batch,
        msgid=outcome.msgid,
        setl_id=setl_id,
        med_type=med_type,
        psn_setlway=psn_setlway,
        acct_used_flag=acct_used_flag,
        lines=tuple(lines),
        pre_settlement=expected,
        totals=settled,
        setlinfo=setlinfo,
        setldetail=tuple(outcome.output.setldetail or ()),
        chronic=chronic,
    )


def check_visit_held(core: Core, mdtrt_id: str, action: str, infno: str) -> None:
    """Refuse to ``action`` (sending ``infno``) a visit or stay this journal did not open or adopt.

    The visit guard is a journal row, so it holds among the clients of one journal only: a
    window with a journal of its own could charge the visit beside the one that registered it
    (a harness saw 26 of 30 visits settled twice that way). No public source shows the
    platform refusing a second live settlement of a visit, so the rule lives here.
    """
    if core.journal.holds_visit(core.tenant, mdtrt_id) is None:
        raise VisitNotInJournalError(
            f"visit {mdtrt_id} was not registered or admitted through this client's journal "
            f"({core.journal.path}), so it cannot be guarded here against a {action} from "
            "another window at the same moment; nothing was sent. Act on a visit where it was "
            "registered, or let every window share one journal (one journal_path on one "
            "machine, journal_url='postgresql://…' across machines); a visit or stay opened "
            "outside the SDK is taken in once with client.adopt_visit(registration or stay)",
            infno=infno,
        )


def check_live_settlement(core: Core, mdtrt_id: str) -> None:
    """Refuse to charge a visit whose settlement is live or unresolved in the journal."""
    settlements = core.journal.entries(core.tenant, infno=["2207"], mdtrt_id=mdtrt_id)
    refunds = core.journal.entries(core.tenant, infno=["2208"], mdtrt_id=mdtrt_id)
    refunded = {r.setl_id for r in refunds if r.state == "succeeded"}
    for entry in settlements:
        if entry.state in UNRESOLVED:
            raise VisitBusyError(
                f"visit {mdtrt_id}: settlement {entry.msgid} is {entry.state}; resolve it "
                "(recover(); reverse_held() for a held one; a manual one needs a person to "
                "check the platform) before charging again",
                infno="2207",
                msgid=entry.msgid,
            )
        if entry.state == "succeeded" and entry.setl_id not in refunded:
            raise AlreadySettledError(
                f"visit {mdtrt_id} is already settled (setl_id {entry.setl_id}, "
                f"msgid {entry.msgid}); refund it first to charge again",
                infno="2207",
                msgid=entry.msgid,
            )


def cancel_batch_input(registration: Registration, batch: str) -> Input2205:
    """2205 input cancelling every unsettled line of ``batch``."""
    return Input2205(
        data=Input2205Data(
            mdtrt_id=registration.mdtrt_id, chrg_bchno=batch, psn_no=registration.psn_no
        )
    )


def _cancel_batch(
    core: Core, registration: Registration, batch: str, cause: NhsaClientError
) -> Flow[None]:
    """Best-effort 2205 after a failed charge; never hides the original error."""
    try:
        outcome = yield from core.call(
            "2205",
            cancel_batch_input(registration, batch),
            insuplc_admdvs=registration.insuplc_admdvs,
            check_breaker=False,
        )
    except NhsaClientError as error:
        cause.add_note(f"cancelling fee batch {batch} (2205) failed too: {error}")
        return
    if isinstance(outcome, Succeeded):
        cause.add_note(f"fee batch {batch} was cancelled (2205 {outcome.msgid})")
    else:
        detail = outcome.err_msg if isinstance(outcome, Rejected) else outcome.kind
        cause.add_note(f"cancelling fee batch {batch} (2205) did not succeed: {detail}")
        _log.warning("fee batch %s not cancelled after a failed charge: %s", batch, detail)


def _refund_mismatch(core: Core, registration: Registration, setl_id: str) -> Flow[bool]:
    refund = Input2208(
        data=Input2208Data(
            setl_id=setl_id, mdtrt_id=registration.mdtrt_id, psn_no=registration.psn_no
        )
    )
    try:
        outcome = yield from core.call("2208", refund, insuplc_admdvs=registration.insuplc_admdvs)
    except NhsaClientError:
        return False
    return isinstance(outcome, Succeeded)


def _upload_visit(
    core: Core,
    registration: Registration,
    diagnoses: Sequence[Diagnosis],
    med_type: str,
    chronic: ChronicDisease | None,
) -> Flow[None]:
    clinic = registration.clinic
    now = core.clock()
    try:
        visit = Input2203(
            mdtrtinfo=Input2203Mdtrtinfo(
                mdtrt_id=registration.mdtrt_id,
                psn_no=registration.psn_no,
                med_type=med_type,
                begntime=registration.begntime,
                # a chronic visit names its recognised disease; other visits none (2203 note)
                dise_codg=chronic.code if chronic else None,
                dise_name=chronic.name if chronic else diagnoses[0].diag_name,
            ),
            diseinfo=[
                OtpDiseinfoItem(
                    diag_type=d.diag_type,
                    diag_srt_no=index,
                    diag_code=d.diag_code,
                    diag_name=d.diag_name,
                    diag_dept=clinic.dept_name,
                    dise_dor_no=clinic.atddr_no,
                    dise_dor_name=clinic.dr_name,
                    diag_time=d.diag_time or now,
                    vali_flag="1",
                )
                for index, d in enumerate(diagnoses, start=1)
            ],
        )
    except ValidationError as error:
        raise error_from_pydantic(error, "2203") from None
    yield from core.typed("2203", visit, insuplc_admdvs=registration.insuplc_admdvs)


def _fee_upload(
    registration: Registration,
    batch: str,
    lines: Sequence[FeeLine],
    chronic: ChronicDisease | None,
) -> Input2204:
    clinic = registration.clinic
    try:
        return Input2204(
            feedetail=[
                Input2204FeedetailItem(
                    feedetl_sn=line.feedetl_sn or "",
                    mdtrt_id=registration.mdtrt_id,
                    psn_no=registration.psn_no,
                    chrg_bchno=batch,
                    dise_codg=chronic.code if chronic else None,
                    rx_circ_flag=line.rx_circ_flag,
                    fee_ocur_time=line.fee_ocur_time or registration.begntime,
                    med_list_codg=line.med_list_codg,
                    medins_list_codg=line.medins_list_codg,
                    det_item_fee_sumamt=line.total,
                    cnt=decimal_of(line.cnt),
                    pric=decimal_of(line.pric),
                    bilg_dept_codg=clinic.dept_code,
                    bilg_dept_name=clinic.dept_name,
                    bilg_dr_codg=clinic.atddr_no,
                    bilg_dr_name=clinic.dr_name,
                    hosp_appr_flag=line.hosp_appr_flag,
                )
                for line in lines
            ]
        )
    except ValidationError as error:
        raise error_from_pydantic(error, "2204.feedetail") from None


def _line_extras(lines: Sequence[FeeLine]) -> dict[str, str]:
    """The lines' members a dialect may send beside the contract's (``feedetail/0/…``)."""
    return {
        f"feedetail/{index}/medins_list_name": line.medins_list_name
        for index, line in enumerate(lines)
        if line.medins_list_name
    }


def numbered(fees: Sequence[FeeLine], batch: str, core: Core) -> list[FeeLine]:
    """The lines with serials (the caller's, or ``batch`` plus a 4-digit index) and fee times
    (the caller's, or now)."""
    now = core.clock()
    lines = []
    for index, line in enumerate(fees, start=1):
        serial = line.feedetl_sn or f"{batch}{index:04d}"
        lines.append(replace(line, feedetl_sn=serial, fee_ocur_time=line.fee_ocur_time or now))
    serials = [line.feedetl_sn for line in lines]
    if len(set(serials)) != len(serials):
        raise InvalidInputError(
            "fees: feedetl_sn must be unique within the visit", field="fees", rule="unique-serials"
        )
    return lines


def _check_charge_input(
    core: Core,
    *,
    fees: Sequence[FeeLine],
    diagnoses: Sequence[Diagnosis],
    med_type: str,
    psn_setlway: str,
    acct_used_flag: str,
) -> None:
    check_code("med_type", med_type, "med_type")
    check_code("psn_setlway", psn_setlway, "psn_setlway")
    check_code("acct_used_flag", acct_used_flag, "acct_used_flag")
    limit = _max_items(core, "2204", "feedetail")
    if not fees:
        raise InvalidInputError("fees: at least one fee line", field="fees", rule="minItems")
    if limit is not None and len(fees) > limit:
        raise InvalidInputError(
            f"fees: {len(fees)} lines; one charge takes at most {limit} (contract 2204 maxItems)",
            field="fees",
            rule="maxItems",
        )
    if not all(isinstance(line, FeeLine) for line in fees):
        raise InvalidInputError("fees: every item must be a FeeLine", field="fees", rule="type")
    _check_dialect_lines(core, fees)
    if not diagnoses:
        raise InvalidInputError(
            "diagnoses: at least one diagnosis (2203 diseinfo)", field="diagnoses", rule="minItems"
        )


def _check_dialect_lines(core: Core, fees: Sequence[FeeLine]) -> None:
    """Every fee line carries what the dialect requires of a 2204 line, before anything is
    sent (Guangdong's medins_list_name): a charge never stops half-way for a missing name."""
    for extra in core.dialect.extras_for("2204", "feedetail", "request"):
        if not extra.required or extra.fill != "call":
            continue
        for index, line in enumerate(fees):
            if getattr(line, extra.member, None) in (None, ""):
                raise InvalidInputError(
                    f"fees[{index}].{extra.member}: required by the {core.dialect.name} dialect "
                    f"({extra.title}; {extra.evidence}); give FeeLine({extra.member}=…)",
                    field=f"fees[{index}].{extra.member}",
                    rule="required-by-dialect",
                )


def _max_items(core: Core, infno: str, node: str) -> int | None:
    schema: Any = core.transaction(infno).input_schema.get("properties", {}).get(node, {})
    limit = schema.get("maxItems")
    return int(limit) if isinstance(limit, int) else None


def decimal_of(value: object) -> Decimal:
    """A :class:`FeeLine` amount, which ``__post_init__`` made a Decimal, typed as one."""
    assert isinstance(value, Decimal)
    return value

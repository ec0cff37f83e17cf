"""A HIS built on nhsa-kit's SDK: every driver action done the way the SDK's workflows do it.

This is the HIS behind the ``sdk`` driver (in process) and behind the reference HIS
(``examples/reference_his/``, over the HTTP driver API). It adds to the SDK only what a HIS
adds: it remembers its visits and settlements (:class:`~nhsa.conformance.drivers.VisitBook`),
refuses to cancel a registration over a standing settlement, re-settles the kept lines of a
partial refund, settles the cashier's held unknowns at day end, and reports each outcome
honestly as a :class:`~nhsa.conformance.DriverResult`:

=====================================  ===================================================
SDK result or error                    driver status
=====================================  ===================================================
a workflow returned                    ``ok``
BusinessError, InvalidInputError,      ``rejected`` (nothing took effect; the patient
InsuredPlaceOffline, NotSentError,     message says why and what to do)
VisitBusyError, AlreadySettledError
OutcomeUnknownError → Reversed         ``rejected`` (undone by 2601; the patient is told)
OutcomeUnknownError → Held / other     ``unknown`` (the HIS does not know yet, and says so)
SettlementMismatchError                ``rejected`` when refunded, else ``unknown``
JournalError, ClientConfigError        ``error`` (the HIS itself cannot act)
UnusableAnswerError                    ``error`` (it took effect, but the answer lacks what
                                       the HIS needs to go on: a person completes it)
=====================================  ===================================================

Example:
    >>> his = SdkHis()
    >>> his.sign_in(SignInRequest()).status, his.health().detail
    ('error', 'not configured yet')
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import Final

import httpx

from nhsa.client import (
    Certificate,
    Charge,
    ChronicDisease,
    Client,
    ClientConfig,
    Clinic,
    Diagnosis,
    FeeLine,
    KioskMode,
    Mode,
    NhsaClientError,
    OutcomeUnknownError,
    Registration,
    Reversed,
    SettlementMismatchError,
    Stay,
    StaySettlement,
    Timeouts,
    Ward,
    WindowMode,
)
from nhsa.client.errors import ClientConfigError, JournalError, UnusableAnswerError
from nhsa.conformance._driver import (
    AdmitRequest,
    CancelAdmissionRequest,
    CancelChronicRequest,
    CancelRegistrationRequest,
    CancelStaySettlementRequest,
    ChargeRequest,
    DischargeRequest,
    DriverCertificate,
    DriverHealth,
    DriverResult,
    FeeItem,
    HisConfiguration,
    PartialRefundRequest,
    ReconcileRequest,
    RefundRequest,
    RegisterChronicRequest,
    RegisterRequest,
    SignInRequest,
    StayFeesRequest,
    StaySettlementRequest,
)
from nhsa.conformance.drivers._book import MemoryBook, VisitBook
from nhsa.conformance.drivers._recording import RecordingTransport, SentLog
from nhsa.envelope import china_now
from nhsa.redaction import get_logger, redact
from nhsa.signing import KeyEntry, KeyRing, Sm2PrivateKey, Sm2PublicKey
from nhsa.signing.errors import SigningError

__all__ = ["DEFAULT_DIAGNOSIS", "SdkHis"]

DEFAULT_DIAGNOSIS: Final = Diagnosis("J06.900", "急性上呼吸道感染")
"""The diagnosis the HIS files with a charge (the driver API carries none)."""
DEFAULT_STAY_DIAGNOSIS: Final = Diagnosis("J18.900", "肺炎")
"""The discharge diagnosis the HIS files (the driver API carries the admission's only)."""
PLATFORM_KEY_OWNER: Final = "NHSA"
REPORTED: Final = ("medfee_sumamt", "fund_pay_sumamt", "acct_pay", "psn_cash_pay")
INPATIENT_CLR_TYPE: Final = "21"
"""清算类别 住院 (national table): the group a stay's settlements reconcile in."""
_NOT_CONFIGURED: Final = "the HIS is not configured: the suite must call configure first"

_log = get_logger("nhsa.conformance.drivers")


class SdkHis:
    """The SDK-based HIS (see the module docstring); one configured counter at a time.

    Args:
        book: where visits and settlements are kept (default: in memory).
        transport: the transport to the platform, shared and never closed here (the
            in-process mock's); ``None`` sends real HTTP to the configured platform URL.
        journal_dir: folder for the SDK's journal, one file per institution; ``None`` keeps
            the journal in memory (nothing survives a crash — for throw-away runs only).
        timeouts: the SDK's HTTP timeouts (a lost answer costs ``read`` seconds).
        name: how ``health()`` names this HIS; also the vendor name it sends where a dialect
            wants one (``fixmedins_soft_fcty``).
        dialect: the one province dialect this HIS speaks, whatever ``configure`` says (a HIS
            built for one province); ``None`` follows ``configure``.

    Example::

        his = SdkHis(book=HisStore(data / "his.db"), journal_dir=data / "journals",
                     timeouts=Timeouts(read=10), name="reference HIS")   # as examples/reference_his
    """

    def __init__(
        self,
        *,
        book: VisitBook | None = None,
        transport: httpx.BaseTransport | None = None,
        journal_dir: Path | None = None,
        timeouts: Timeouts | None = None,
        name: str = "nhsa-kit SDK HIS",
        dialect: str | None = None,
    ) -> None:
        """Set up an unconfigured HIS; nothing is contacted until ``configure``."""
        self.book: VisitBook = book if book is not None else MemoryBook()
        self.name = name
        self._dialect = dialect
        self._transport = transport
        self._journal_dir = journal_dir
        self._timeouts = timeouts or Timeouts()
        self._sent = SentLog()
        self._lock = threading.Lock()
        self._client: Client | None = None
        self._config: HisConfiguration | None = None

    # -- lifecycle ------------------------------------------------------------------------------

    def health(self) -> DriverHealth:
        """Always ready to be configured; the detail says for which institution it acts."""
        if self._config is None:
            return DriverHealth(True, self.name, "not configured yet")
        return DriverHealth(True, self.name, f"configured for {self._config.fixmedins_code}")

    def configure(self, config: HisConfiguration) -> DriverResult:
        """Act as ``config``'s institution from now on; resolve what its journal left open."""
        try:
            client = self._new_client(config)
        except (ClientConfigError, SigningError, OSError) as error:
            return DriverResult("error", message=f"cannot use this configuration: {error}")
        with self._lock:
            previous, self._client, self._config = self._client, client, config
        if previous is not None:
            previous.close()
        with self._sent.capture() as sent:
            try:
                recovered = client.recover()
            except NhsaClientError as error:
                return DriverResult("error", message=f"recover() at start-up failed: {error}")
        note = f"; recovered {len(recovered.resolved)} open journal entries" if sent.msgids else ""
        mode = config.mode
        return DriverResult(
            "ok",
            msgids=sent.msgids,
            reversed_msgids=sent.reversed_msgids,
            message=f"{config.fixmedins_code} at {mode.kind} {mode.opter} → "
            f"{config.platform_url} ({config.signing.profile}, "
            f"{client.config.province.name}){note}",
        )

    def close(self) -> None:
        """Sign out (9002) and release the client."""
        with self._lock:
            client, self._client = self._client, None
        if client is not None:
            client.close()

    def _new_client(self, config: HisConfiguration) -> Client:
        signing = config.signing
        private_key = (
            Sm2PrivateKey.from_pem(signing.private_key_pem) if signing.private_key_pem else None
        )
        pem = signing.platform_public_key_pem
        platform_keys = (
            KeyRing([KeyEntry(Sm2PublicKey.from_pem(pem), PLATFORM_KEY_OWNER)]) if pem else None
        )
        journal = (
            self._journal_dir / f"journal-{config.fixmedins_code}.db"
            if self._journal_dir is not None
            else ":memory:"
        )
        client_config = ClientConfig(
            fixmedins_code=config.fixmedins_code,
            fixmedins_name=config.fixmedins_name,
            mdtrtarea_admvs=config.mdtrtarea_admvs,
            journal_path=journal,
            base_url=config.platform_url,
            profile=signing.profile,
            paasid=signing.paasid,
            token=signing.token,
            private_key=private_key,
            platform_keys=platform_keys,
            timeouts=self._timeouts,
            dialect=self._dialect or config.dialect,
            fixmedins_soft_fcty=self.name,
            gateway_user=signing.gateway_user,
            gateway_password=signing.gateway_password,
        )
        inner = self._transport or httpx.HTTPTransport()
        transport = RecordingTransport(inner, self._sent, owns_inner=self._transport is None)
        return Client(client_config, _mode(config), transport=transport)

    def _require(self) -> Client:
        if self._client is None:
            raise _NotConfiguredError
        return self._client

    # -- actions --------------------------------------------------------------------------------

    def sign_in(self, request: SignInRequest) -> DriverResult:
        """Sign in now (9001); later calls reuse the sign_no."""

        def act(client: Client) -> DriverResult:
            client.sign_in()  # keeps the sign_no in the session; later calls reuse it
            who = client.mode.operator.opter
            other = request.operator not in (None, who)
            asked = f" (asked for {request.operator})" if other else ""
            return DriverResult("ok", message=f"signed in {who}{asked}")

        return self._act(act)

    def register(self, request: RegisterRequest) -> DriverResult:
        """Look the patient up (1101) and register the visit (2201)."""

        def act(client: Client) -> DriverResult:
            r = request
            clinic = Clinic(r.dept_code, r.dept_name, r.atddr_no, r.dr_name, r.caty)
            visit = client.register(
                _certificate(request.certificate),
                insutype=request.insutype,
                clinic=clinic,
                ipt_otp_no=request.ipt_otp_no,
            )
            self.book.add_registration(client.config.fixmedins_code, visit)
            return DriverResult(
                "ok", mdtrt_id=visit.mdtrt_id, psn_no=visit.psn_no, ipt_otp_no=visit.ipt_otp_no
            )

        return self._act(act)

    def cancel_registration(self, request: CancelRegistrationRequest) -> DriverResult:
        """Cancel the registration (2202) — refused here while a settlement stands."""

        def act(client: Client) -> DriverResult:
            tenant = client.config.fixmedins_code
            visit = self._visit(tenant, request.mdtrt_id)
            if isinstance(visit, DriverResult):
                return visit
            standing = self.book.live_charges(tenant, visit.mdtrt_id)
            if standing:
                ids = ", ".join(c.setl_id for c in standing)
                return DriverResult(
                    "rejected",
                    mdtrt_id=visit.mdtrt_id,
                    message=f"visit {visit.mdtrt_id} holds settlement {ids}: refund it first "
                    "(2208), then cancel the registration",
                    patient_message="本次就诊已结算，请先办理退费再退号。 / This visit has been "
                    "paid: it must be refunded before the registration can be cancelled.",
                )
            client.cancel_registration(visit)
            return DriverResult("ok", mdtrt_id=visit.mdtrt_id, psn_no=visit.psn_no)

        return self._act(act)

    def charge(self, request: ChargeRequest) -> DriverResult:
        """Upload visit and fees, pre-settle and settle (2203, 2204, 2206, 2207)."""

        def act(client: Client) -> DriverResult:
            tenant = client.config.fixmedins_code
            visit = self._visit(tenant, request.mdtrt_id)
            if isinstance(visit, DriverResult):
                return visit
            chronic = (
                ChronicDisease(request.dise_codg, request.dise_name or request.dise_codg)
                if request.dise_codg
                else None
            )
            paid = client.charge(
                visit,
                [_fee_line(item) for item in request.items],
                diagnoses=[DEFAULT_DIAGNOSIS],
                med_type=request.med_type,
                chronic=chronic,
                acct_used_flag=request.acct_used_flag,
            )
            self.book.add_charge(tenant, paid)
            return _settled(paid)

        return self._act(act)

    def register_chronic(self, request: RegisterChronicRequest) -> DriverResult:
        """Register the chronic disease this hospital identified (1101, 2503)."""

        def act(client: Client) -> DriverResult:
            r = request
            doctor = Clinic("A03", "内科", r.diag_dr_codg, r.diag_dr_name, "A03")
            registered = client.register_chronic(
                _certificate(r.certificate),
                ChronicDisease(r.opsp_dise_code, r.opsp_dise_name),
                clinic=doctor,
                insutype=r.insutype,
                begndate=r.begndate,
                enddate=r.enddate,
            )
            self.book.add_chronic(client.config.fixmedins_code, registered)
            return DriverResult(
                "ok",
                psn_no=registered.psn_no,
                trt_dcla_detl_sn=registered.trt_dcla_detl_sn,
                message=f"registered {registered.disease.code} {registered.disease.name}",
            )

        return self._act(act)

    def cancel_chronic(self, request: CancelChronicRequest) -> DriverResult:
        """Cancel a chronic-disease registration this HIS made (2504); others are refused."""

        def act(client: Client) -> DriverResult:
            tenant = client.config.fixmedins_code
            registered = self.book.chronic(tenant, request.trt_dcla_detl_sn)
            if registered is None or registered.psn_no != request.psn_no:
                return DriverResult(
                    "rejected",
                    psn_no=request.psn_no,
                    message=f"this HIS made no chronic-disease registration "
                    f"{request.trt_dcla_detl_sn} for {request.psn_no}",
                )
            client.cancel_chronic(registered, reason=request.memo)
            self.book.forget_chronic(tenant, registered.trt_dcla_detl_sn)
            return DriverResult(
                "ok", psn_no=registered.psn_no, trt_dcla_detl_sn=registered.trt_dcla_detl_sn
            )

        return self._act(act)

    def refund(self, request: RefundRequest) -> DriverResult:
        """Refund a settlement in full (2208, then 2205)."""

        def act(client: Client) -> DriverResult:
            tenant = client.config.fixmedins_code
            paid = self._standing(tenant, request.setl_id)
            if isinstance(paid, DriverResult):
                return paid
            refund = client.refund(paid)
            self.book.close_charge(tenant, paid.setl_id)
            return DriverResult(
                "ok",
                mdtrt_id=paid.registration.mdtrt_id,
                setl_id=refund.setl_id,
                psn_no=paid.registration.psn_no,
                amounts=_amounts(refund.refunded),
                message=f"settlement {paid.setl_id} reversed by {refund.setl_id}"
                + ("" if refund.fee_batch_cancelled else "; fee lines not cancelled (2205)"),
            )

        return self._act(act)

    def partial_refund(self, request: PartialRefundRequest) -> DriverResult:
        """Refund some fee lines: reverse the settlement and settle the kept lines again."""

        def act(client: Client) -> DriverResult:
            tenant = client.config.fixmedins_code
            paid = self._standing(tenant, request.setl_id)
            if isinstance(paid, DriverResult):
                return paid
            taken = _quantities(request.items)
            charged = _quantities(_fee_items(paid.lines))
            over = {code: qty for code, qty in taken.items() if qty > charged.get(code, 0)}
            if over:
                return DriverResult(
                    "rejected",
                    message="cannot refund more than was charged: "
                    + ", ".join(f"{c} ×{q} (charged {charged.get(c, 0)})" for c, q in over.items()),
                )
            if all(taken[code] == charged[code] for code in taken):
                return self._refund_whole_lines(client, paid, set(taken))
            return self._refund_and_resettle(client, paid, taken)

        return self._act(act)

    def reconcile(self, request: ReconcileRequest) -> DriverResult:
        """Day-end reconciliation; held unknowns are settled (reversed) and the day retried."""

        def act(client: Client) -> DriverResult:
            # Every insutype this HIS saw today gets a 3201, even one whose only settlement is
            # still held: the platform booked it, so that group must be checked too.
            tenant = client.config.fixmedins_code
            groups = {
                (visit.insutype, client.config.outpatient_clr_type)
                for visit in self.book.registrations(tenant)
            } | {(stay.insutype, INPATIENT_CLR_TYPE) for stay in self.book.stays(tenant)}
            report = client.reconcile(request.day, extra_groups=sorted(groups))
            notes = []
            if not report.balanced and report.unresolved:
                closed = self._close_unresolved(client, report.unresolved)
                notes.append(f"closed {closed} open settlements, reconciled again")
                report = client.reconcile(request.day, extra_groups=sorted(groups))
            unbalanced = [g for g in report.groups if not g.balanced]
            notes.extend(
                f"{g.insutype}/{g.clr_type}/{g.setl_optins}: {g.stmt_rslt_dscr or g.stmt_rslt}"
                for g in unbalanced
            )
            return DriverResult(
                "ok",
                balanced=report.balanced,
                message="; ".join(notes) or f"{len(report.groups)} groups balanced",
            )

        return self._act(act)

    # -- inpatient stays ------------------------------------------------------------------------

    def admit(self, request: AdmitRequest) -> DriverResult:
        """Look the patient up (1101) and admit them (2401)."""

        def act(client: Client) -> DriverResult:
            r = request
            stay = client.admit(
                _certificate(r.certificate),
                insutype=r.insutype,
                ward=Ward(r.dept_code, r.dept_name, r.bed, r.atddr_no, r.dr_name),
                diagnoses=[Diagnosis(r.diag_code, r.diag_name)],
                med_type=r.med_type,
                ipt_no=r.ipt_no,
            )
            self.book.add_stay(client.config.fixmedins_code, stay)
            return DriverResult(
                "ok", mdtrt_id=stay.mdtrt_id, psn_no=stay.psn_no, ipt_otp_no=stay.ipt_no
            )

        return self._act(act)

    def upload_stay_fees(self, request: StayFeesRequest) -> DriverResult:
        """Upload a batch of the stay's fee lines (2301), kept in the book as the HIS's own."""

        def act(client: Client) -> DriverResult:
            tenant = client.config.fixmedins_code
            stay = self._stay(tenant, request.mdtrt_id)
            if isinstance(stay, DriverResult):
                return stay
            # One request is one batch (fewer lines than a 2301 takes): all or nothing.
            batches = client.upload_stay_fees(stay, [_fee_line(i) for i in request.items])
            for batch in batches:
                self.book.add_stay_fees(tenant, stay.mdtrt_id, batch.lines)
            total = sum((batch.total for batch in batches), Decimal("0.00"))
            return DriverResult(
                "ok",
                mdtrt_id=stay.mdtrt_id,
                psn_no=stay.psn_no,
                message=f"{len(request.items)} lines in {len(batches)} batch(es), {total}",
            )

        return self._act(act)

    def settle_midway(self, request: StaySettlementRequest) -> DriverResult:
        """Settle the stay's open lines up to ``until`` (2303, 2304 mid_setl_flag 1)."""
        return self._act(lambda client: self._settle_stay(client, request))

    def settle_stay(self, request: StaySettlementRequest) -> DriverResult:
        """Settle the discharged stay's open lines (2303, 2304 mid_setl_flag 0)."""
        return self._act(lambda client: self._settle_stay(client, request))

    def discharge(self, request: DischargeRequest) -> DriverResult:
        """Discharge the patient (2402)."""

        def act(client: Client) -> DriverResult:
            tenant = client.config.fixmedins_code
            stay = self._stay(tenant, request.mdtrt_id)
            if isinstance(stay, DriverResult):
                return stay
            left = client.discharge(stay, diagnoses=[DEFAULT_STAY_DIAGNOSIS])
            self.book.add_stay(tenant, left)
            return DriverResult("ok", mdtrt_id=left.mdtrt_id, psn_no=left.psn_no)

        return self._act(act)

    def cancel_stay_settlement(self, request: CancelStaySettlementRequest) -> DriverResult:
        """Cancel a settlement of the stay (2305) — refused here unless it is the newest."""

        def act(client: Client) -> DriverResult:
            tenant = client.config.fixmedins_code
            settlement = self.book.stay_settlement(tenant, request.setl_id)
            if settlement is None:
                return DriverResult(
                    "rejected", message=f"this HIS holds no stay settlement {request.setl_id}"
                )
            standing = self.book.live_stay_settlements(tenant, settlement.stay.mdtrt_id)
            if all(s.setl_id != request.setl_id for s in standing):
                return DriverResult(
                    "rejected", message=f"settlement {request.setl_id} was already cancelled"
                )
            cancelled = client.cancel_stay_settlement(settlement)
            self.book.close_stay_settlement(tenant, settlement.setl_id)
            stay = settlement.stay
            return DriverResult(
                "ok",
                mdtrt_id=stay.mdtrt_id,
                setl_id=cancelled.setl_id,
                psn_no=stay.psn_no,
                amounts=_amounts(cancelled.refunded),
                message=f"settlement {settlement.setl_id} cancelled by {cancelled.setl_id}",
            )

        return self._act(act)

    def cancel_admission(self, request: CancelAdmissionRequest) -> DriverResult:
        """Cancel the admission (2302 of its open fee lines, then 2404)."""

        def act(client: Client) -> DriverResult:
            tenant = client.config.fixmedins_code
            stay = self._stay(tenant, request.mdtrt_id)
            if isinstance(stay, DriverResult):
                return stay
            client.cancel_admission(stay)
            self.book.drop_stay_fees(tenant, stay.mdtrt_id)
            return DriverResult("ok", mdtrt_id=stay.mdtrt_id, psn_no=stay.psn_no)

        return self._act(act)

    def _settle_stay(self, client: Client, request: StaySettlementRequest) -> DriverResult:
        tenant = client.config.fixmedins_code
        stay = self._stay(tenant, request.mdtrt_id)
        if isinstance(stay, DriverResult):
            return stay
        until = request.until
        open_lines = [
            line
            for line, setl_id in self.book.stay_fees(tenant, stay.mdtrt_id)
            if setl_id is None
            and (
                not request.midway
                or until is None
                or (line.fee_ocur_time is not None and line.fee_ocur_time.date() <= until)
            )
        ]
        if not open_lines:
            return DriverResult(
                "rejected",
                mdtrt_id=stay.mdtrt_id,
                message=f"stay {stay.mdtrt_id} holds no unsettled fee lines to settle",
            )
        # The HIS's own total of what it settles: the platform checks it against its lines.
        total = sum((line.total for line in open_lines), Decimal("0.00"))
        medium = _password_medium(request.certificate)
        settlement: StaySettlement
        if request.midway:
            day = until or china_now().date()
            settlement = client.settle_midway(
                stay, total, until=day, acct_used_flag=request.acct_used_flag, card_token=medium
            )
        else:
            settlement = client.settle_stay(
                stay, total, acct_used_flag=request.acct_used_flag, card_token=medium
            )
        self.book.add_stay_settlement(
            tenant, settlement, [line.feedetl_sn or "" for line in open_lines]
        )
        return DriverResult(
            "ok",
            mdtrt_id=stay.mdtrt_id,
            setl_id=settlement.setl_id,
            psn_no=stay.psn_no,
            amounts=_amounts(settlement.totals),
        )

    def _stay(self, tenant: str, mdtrt_id: str) -> Stay | DriverResult:
        stay = self.book.stay(tenant, mdtrt_id)
        if stay is None:
            return DriverResult(
                "rejected", mdtrt_id=mdtrt_id, message=f"this HIS admitted no stay {mdtrt_id}"
            )
        return stay

    # -- helpers --------------------------------------------------------------------------------

    def _act(self, body: Callable[[Client], DriverResult]) -> DriverResult:
        """Run one action; the msgids it sent and every SDK error become the result."""
        try:
            client = self._require()
        except _NotConfiguredError:
            return DriverResult("error", message=_NOT_CONFIGURED)
        with self._sent.capture() as sent:
            try:
                result = body(client)
            except NhsaClientError as error:
                result = result_of_error(error)
        return replace(result, msgids=sent.msgids, reversed_msgids=sent.reversed_msgids)

    def _visit(self, tenant: str, mdtrt_id: str) -> Registration | DriverResult:
        visit = self.book.registration(tenant, mdtrt_id)
        if visit is None:
            return DriverResult(
                "rejected", mdtrt_id=mdtrt_id, message=f"this HIS registered no visit {mdtrt_id}"
            )
        return visit

    def _standing(self, tenant: str, setl_id: str) -> Charge | DriverResult:
        paid = self.book.charge(tenant, setl_id)
        if paid is None:
            return DriverResult("rejected", message=f"this HIS holds no settlement {setl_id}")
        standing = self.book.live_charges(tenant, paid.registration.mdtrt_id)
        if all(c.setl_id != setl_id for c in standing):
            return DriverResult("rejected", message=f"settlement {setl_id} was already refunded")
        return paid

    def _refund_whole_lines(self, client: Client, paid: Charge, codes: set[str]) -> DriverResult:
        """The SDK's own partial refund: 2208, 2205, then 2204/2206/2207 of the kept lines."""
        tenant = client.config.fixmedins_code
        serials = [line.feedetl_sn or "" for line in paid.lines if line.med_list_codg in codes]
        refund = client.refund(paid, lines=serials)
        self.book.close_charge(tenant, paid.setl_id)
        if refund.recharge is None:
            return DriverResult(
                "ok", mdtrt_id=paid.registration.mdtrt_id, message="every line was refunded"
            )
        self.book.add_charge(tenant, refund.recharge)
        return _settled(refund.recharge)

    def _refund_and_resettle(
        self, client: Client, paid: Charge, taken: dict[str, Decimal]
    ) -> DriverResult:
        """Part of a line goes back: refund in full, then charge the kept quantities anew."""
        tenant = client.config.fixmedins_code
        kept = _kept_lines(paid.lines, taken)
        refund = client.refund(paid)
        self.book.close_charge(tenant, paid.setl_id)
        try:
            again = client.charge(
                paid.registration,
                kept,
                diagnoses=[DEFAULT_DIAGNOSIS],
                med_type=paid.med_type,
                chronic=paid.chronic,
                psn_setlway=paid.psn_setlway,
                acct_used_flag=paid.acct_used_flag,
            )
        except NhsaClientError as error:
            return DriverResult(
                "error",
                mdtrt_id=paid.registration.mdtrt_id,
                message=f"settlement {paid.setl_id} refunded ({refund.setl_id}), but the kept "
                f"lines could not be settled again: {redact(str(error))}",
            )
        self.book.add_charge(tenant, again)
        return _settled(again)

    def _close_unresolved(self, client: Client, msgids: Iterable[str]) -> int:
        """Reverse the cashier's held settlements; let recover() finish any others."""
        closed = 0
        for msgid in msgids:
            entry = client.journal.get(msgid)
            if entry is not None and entry.state == "held":
                client.reverse_held(msgid)
                closed += 1
        return closed + len(client.recover().resolved)


class _NotConfiguredError(Exception):
    """An action arrived before configure."""


def result_of_error(error: NhsaClientError) -> DriverResult:
    """The driver result for an SDK error (see the module docstring's table).

    Example:
        >>> from nhsa.client import BusinessError
        >>> result_of_error(BusinessError("2207 refused", infno="2207", infcode=-1)).status
        'rejected'
    """
    undone = (
        isinstance(error.resolution, Reversed)
        if isinstance(error, OutcomeUnknownError)
        else error.refunded
        if isinstance(error, SettlementMismatchError)
        else True
    )
    cannot_act = JournalError | ClientConfigError | UnusableAnswerError
    status: str = "error" if isinstance(error, cannot_act) else "rejected"
    if not undone:
        status = "unknown"
    return DriverResult(
        status,  # type: ignore[arg-type]  # one of the literals above
        message=f"{type(error).__name__}: {redact(str(error))}",
        patient_message=str(error.patient_message),
    )


def _mode(config: HisConfiguration) -> Mode:
    mode = config.mode
    if mode.kind == "kiosk":
        return KioskMode(
            dev_no=mode.dev_no or mode.opter,
            dev_safe_info=mode.dev_safe_info or "",
            terminal_id=mode.opter,
            terminal_name=mode.opter_name,
        )
    return WindowMode(mode.opter, mode.opter_name, on_unknown=config.on_unknown)


def _certificate(certificate: DriverCertificate) -> Certificate:
    if certificate.cert_type == "03":
        return Certificate.social_security_card(certificate.cert_no, certificate.card_sn or "")
    if certificate.cert_type == "02":
        return Certificate.id_card(certificate.cert_no)
    return Certificate.e_voucher(certificate.cert_no)


def _fee_line(item: FeeItem) -> FeeLine:
    return FeeLine(
        item.code, item.hospital_code, cnt=item.qty, pric=item.price, medins_list_name=item.name
    )


def _fee_items(lines: Iterable[FeeLine]) -> list[FeeItem]:
    return [
        FeeItem(
            line.med_list_codg,
            line.medins_list_codg,
            Decimal(str(line.cnt)),
            Decimal(str(line.pric)),
            line.medins_list_name,
        )
        for line in lines
    ]


def _quantities(items: Iterable[FeeItem]) -> dict[str, Decimal]:
    held: dict[str, Decimal] = defaultdict(Decimal)
    for item in items:
        held[item.code] += item.qty
    return dict(held)


def _kept_lines(lines: Iterable[FeeLine], taken: dict[str, Decimal]) -> list[FeeLine]:
    """The charged lines less the quantities taken back, each line reduced in turn."""
    left = dict(taken)
    kept = []
    for line in lines:
        cnt = Decimal(str(line.cnt))
        back = min(left.get(line.med_list_codg, Decimal(0)), cnt)
        left[line.med_list_codg] = left.get(line.med_list_codg, Decimal(0)) - back
        if cnt > back:
            kept.append(
                replace(
                    line,
                    cnt=cnt - back,
                    det_item_fee_sumamt=None,
                    feedetl_sn=None,
                    fee_ocur_time=None,
                )
            )
    return kept


def _amounts(totals: object) -> dict[str, Decimal]:
    return {name: getattr(totals, name) for name in REPORTED}


def _settled(paid: Charge) -> DriverResult:
    return DriverResult(
        "ok",
        mdtrt_id=paid.registration.mdtrt_id,
        setl_id=paid.setl_id,
        psn_no=paid.registration.psn_no,
        amounts=_amounts(paid.totals),
    )


def _password_medium(certificate: DriverCertificate) -> str | None:
    """What reading the patient's certificate with the password gives (住院结算（验密）): the
    card's identification code, or the e-voucher token; an ID card gives none."""
    if certificate.cert_type == "03":
        return certificate.card_sn
    if certificate.cert_type == "01":
        return certificate.cert_no
    return None

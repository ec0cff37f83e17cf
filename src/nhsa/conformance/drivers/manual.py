"""The ``manual`` driver: a person acts at the window or kiosk; the suite watches the platform.

Some HIS cannot be driven by a program (a closed vendor system, a kiosk with a card reader).
For those, each action is an :class:`Instruction` for an operator — "at kiosk KIOSK01, scan
the e-voucher of 测试乙 and pay: 1 × 110200001000000 at 25.00 …" — and the driver then polls
the mock's transcript for the messages that action must produce (a 9001; a 2201; a 2207 of
that visit; …). The outcome is read from what the platform saw, never from the operator:

- the awaited message was answered intact with infcode 0 → ``ok`` (ids and amounts from the
  answer);
- it was refused (infcode -1), or an unknown settlement was reversed (2601) → ``rejected``;
- it was sent but its answer never reached the HIS, and nothing closed it → ``unknown``;
- nothing arrived before the wait ran out → ``pending``: the runner records the step as
  *wait*, and the report lists it for the lab to finish by hand.

Once a decisive message arrives the driver waits until the HIS has been quiet for a moment
(``settle_s``) so that follow-ups of the same action (the 3202 after an unbalanced 3201, a
reversal after a lost answer) are counted too.

Example:
    >>> shown = []
    >>> driver = ManualDriver(object(), announce=shown.append)  # type: ignore[arg-type]
    >>> driver.sign_in(SignInRequest()).status
    'error'
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, Final

from rich.console import Console

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
from nhsa.conformance._errors import MockError
from nhsa.conformance._mock_handle import MockHandle
from nhsa.conformance._transcript import TranscriptFeed, TranscriptRecord
from nhsa.mock.fixtures import FixtureSet, InsuredPerson, bundled_fixtures

__all__ = ["Instruction", "ManualDriver", "create_driver"]

REPORTED: Final = ("medfee_sumamt", "fund_pay_sumamt", "acct_pay", "psn_cash_pay")
_CERTIFICATE_NAMES: Final = {
    "01": ("扫描医保电子凭证", "scan the medical-insurance e-voucher"),
    "02": ("录入居民身份证", "enter the resident ID card"),
    "03": ("读取社会保障卡", "read the social-security card"),
}
_NOT_CONFIGURED: Final = "not configured: the suite must call configure first"
Decide = Callable[[Sequence[TranscriptRecord]], DriverResult | None]


def create_driver(_target: str, *, mock: MockHandle, step_timeout: float) -> ManualDriver:
    """``--driver manual``: instructions on the console, outcomes from the transcript.

    The driver stops waiting a little before the step timeout, so the runner gets a
    ``pending`` result (a *wait* step) rather than a timeout.

    Example:
        >>> create_driver("manual", mock=object(), step_timeout=30).wait_s  # type: ignore[arg-type]
        28.0
    """
    return ManualDriver(mock, wait_s=max(step_timeout - 2.0, step_timeout * 0.8))


@dataclass(frozen=True)
class Instruction:
    """What the operator is asked to do for one action.

    Attributes:
        action: the driver action (``configure``, ``sign_in``, ``register``, …).
        text: the instruction, Chinese then English.
        request: the action's request object, for a scripted operator in tests.
        details: lines to show under the instruction (fee lines, settings).
    """

    action: str
    text: str
    request: object
    details: tuple[str, ...] = ()


class ManualDriver:
    """A :class:`~nhsa.conformance.Driver` for a HIS operated by a person (module docstring).

    Args:
        mock: the run's mock (its transcript is what is watched).
        announce: shows an instruction to the operator (default: printed on the console).
        wait_s: how long to wait for the awaited messages of one action.
        poll_s: how often to read the transcript.
        settle_s: quiet time after a decisive message before the outcome is read.
        fixtures: where patients' names come from (default: the bundled set).
    """

    def __init__(
        self,
        mock: MockHandle,
        *,
        announce: Callable[[Instruction], None] | None = None,
        wait_s: float = 25.0,
        poll_s: float = 0.5,
        settle_s: float = 1.0,
        fixtures: FixtureSet | None = None,
    ) -> None:
        """Set up; nothing is shown until the first action."""
        self.mock = mock
        self.wait_s = wait_s
        self.poll_s = poll_s
        self.settle_s = settle_s
        self._announce = announce or _print_instruction
        self._fixtures = fixtures
        self._config: HisConfiguration | None = None
        self._watch: TranscriptFeed | None = None

    def describe(self) -> str:
        """``manual (operator at the window or kiosk)``."""
        return "manual (operator at the window or kiosk)"

    def health(self) -> DriverHealth:
        """Ready: the operator is told what to do step by step."""
        return DriverHealth(True, "manual operator", f"waits up to {self.wait_s:g} s per action")

    def configure(self, config: HisConfiguration) -> DriverResult:
        """Tell the operator how to set the HIS up; watch the new institution's transcript."""
        self._config = config
        watch = TranscriptFeed(self.mock, config.fixmedins_code)
        try:
            watch.read()  # what came before is not this run's
        except MockError as error:
            return DriverResult("error", message=f"cannot read the mock's transcript: {error}")
        self._watch = TranscriptFeed(self.mock, config.fixmedins_code, since=watch.last_seq)
        signing = config.signing
        details = [
            f"机构编码 fixmedins_code   {config.fixmedins_code}",
            f"机构名称 fixmedins_name   {config.fixmedins_name}",
            f"就医地区划 mdtrtarea_admvs {config.mdtrtarea_admvs}",
            f"平台地址 platform URL     {config.platform_url}",
            f"签名方式 signing profile  {signing.profile}",
            f"未知结果 on unknown       {config.on_unknown}",
        ]
        if signing.paasid:
            details.append(f"网关 paasid / token      {signing.paasid} / {signing.token}")
        if signing.private_key_pem:
            details.append(f"SM2 key id               {signing.key_id} (private key below)")
            details.extend(signing.private_key_pem.strip().splitlines())
        where = _where(config)
        self._announce(
            Instruction(
                "configure",
                f"请将{where}的 HIS 设置为以下参数 / Set up the HIS at {where} with these settings",
                config,
                tuple(details),
            )
        )
        return DriverResult("ok", message=f"settings shown to the operator at {where}")

    def sign_in(self, request: SignInRequest) -> DriverResult:
        """Ask for a sign-in; wait for a 9001."""
        return self._step("sign_in", request, "签到 / sign in (9001)", (), _decide_sign_in)

    def register(self, request: RegisterRequest) -> DriverResult:
        """Ask for a registration with the patient's certificate; wait for the 2201."""
        zh, en = _CERTIFICATE_NAMES[request.certificate.cert_type]
        who = self._patient_name(request.certificate)
        details = (
            f"凭证 certificate {request.certificate.cert_type}: {request.certificate.cert_no}",
            f"险种 insutype {request.insutype}; 医疗类别 med_type {request.med_type}; "
            f"门诊号 ipt_otp_no {request.ipt_otp_no}",
            f"科室 {request.dept_name} ({request.dept_code}); 医师 {request.dr_name}",
        )
        return self._step(
            "register",
            request,
            f"{zh}（{who}），挂号 / {en} of {who} and register the visit",
            details,
            _decide_register,
        )

    def cancel_registration(self, request: CancelRegistrationRequest) -> DriverResult:
        """Ask to cancel the registration; wait for the 2202 of the visit."""
        return self._step(
            "cancel_registration",
            request,
            f"撤销挂号 {request.mdtrt_id} / cancel the registration of visit {request.mdtrt_id}",
            (),
            _decide_by_visit("2202", request.mdtrt_id),
        )

    def charge(self, request: ChargeRequest) -> DriverResult:
        """Ask to charge the fee lines; wait for the 2207 of the visit (and its reversal)."""
        chronic = (
            (f"门诊慢特病 chronic visit (med_type 14): {request.dise_codg} {request.dise_name}",)
            if request.dise_codg
            else ()
        )
        return self._step(
            "charge",
            request,
            f"为就诊 {request.mdtrt_id} 收费结算 / charge and settle visit {request.mdtrt_id}",
            chronic + _fee_details(request.items),
            _decide_settlement(request.mdtrt_id),
        )

    def refund(self, request: RefundRequest) -> DriverResult:
        """Ask for a full refund; wait for the 2208 of the settlement."""
        return self._step(
            "refund",
            request,
            f"全额退费 {request.setl_id} / refund settlement {request.setl_id} in full",
            (),
            _decide_refund(request.setl_id, resettle_visit=None),
        )

    def partial_refund(self, request: PartialRefundRequest) -> DriverResult:
        """Ask for a partial refund; wait for the 2208 and the new 2207."""
        return self._step(
            "partial_refund",
            request,
            f"部分退费 {request.setl_id}：退以下项目，其余重新结算 / refund these lines of "
            f"{request.setl_id} and settle the rest again",
            _fee_details(request.items),
            _decide_refund(request.setl_id, resettle_visit=request.mdtrt_id),
        )

    def reconcile(self, request: ReconcileRequest) -> DriverResult:
        """Ask for day-end reconciliation; wait for the 3201s."""
        day = request.day.isoformat()
        return self._step(
            "reconcile", request, f"日终对账 {day} / reconcile the day {day}", (), _decide_reconcile
        )

    def register_chronic(self, request: RegisterChronicRequest) -> DriverResult:
        """Ask to register the patient's chronic disease; wait for the 2503."""
        who = self._patient_name(request.certificate)
        code, name = request.opsp_dise_code, request.opsp_dise_name
        return self._step(
            "register_chronic",
            request,
            f"为{who}办理门慢门特备案 {code} {name} / register {who}'s chronic disease {code}",
            (f"险种 insutype {request.insutype}; 起始 from {request.begndate or 'today'}",),
            _decide_chronic_registration,
        )

    def cancel_chronic(self, request: CancelChronicRequest) -> DriverResult:
        """Ask to cancel the chronic-disease registration; wait for its 2504."""
        serial = request.trt_dcla_detl_sn
        return self._step(
            "cancel_chronic",
            request,
            f"撤销门慢门特备案 {serial} / cancel chronic-disease registration {serial}",
            (f"原因 reason: {request.memo}",),
            _decide_chronic_cancel(serial),
        )

    def admit(self, request: AdmitRequest) -> DriverResult:
        """Ask for an admission with the patient's certificate; wait for the 2401."""
        zh, en = _CERTIFICATE_NAMES[request.certificate.cert_type]
        who = self._patient_name(request.certificate)
        details = (
            f"凭证 certificate {request.certificate.cert_type}: {request.certificate.cert_no}",
            f"险种 insutype {request.insutype}; 医疗类别 med_type {request.med_type}; "
            f"住院号 ipt_no {request.ipt_no}",
            f"病区 {request.dept_name} ({request.dept_code}) {request.bed}; 诊断 "
            f"{request.diag_name} ({request.diag_code})",
        )
        return self._step(
            "admit",
            request,
            f"{zh}（{who}），办理入院 / {en} of {who}: admit",
            details,
            _decide_admit,
        )

    def upload_stay_fees(self, request: StayFeesRequest) -> DriverResult:
        """Ask to upload the fee lines to the stay; wait for the 2301."""
        return self._step(
            "upload_stay_fees",
            request,
            f"为住院 {request.mdtrt_id} 上传费用明细 / upload these fees to stay "
            f"{request.mdtrt_id}",
            _fee_details(request.items),
            _decide_by_visit("2301", request.mdtrt_id),
        )

    def settle_midway(self, request: StaySettlementRequest) -> DriverResult:
        """Ask for a mid-way settlement; wait for the 2304 of the stay."""
        until = request.until.isoformat() if request.until else "today"
        return self._step(
            "settle_midway",
            request,
            f"住院 {request.mdtrt_id} 中途结算（截至 {until}）/ settle stay {request.mdtrt_id} "
            f"mid-way up to {until}",
            (),
            _decide_settlement(request.mdtrt_id, infno="2304"),
        )

    def discharge(self, request: DischargeRequest) -> DriverResult:
        """Ask for the discharge; wait for the 2402 of the stay."""
        return self._step(
            "discharge",
            request,
            f"住院 {request.mdtrt_id} 办理出院 / discharge stay {request.mdtrt_id}",
            (),
            _decide_by_visit("2402", request.mdtrt_id),
        )

    def settle_stay(self, request: StaySettlementRequest) -> DriverResult:
        """Ask for the final settlement; wait for the 2304 of the stay."""
        return self._step(
            "settle_stay",
            request,
            f"住院 {request.mdtrt_id} 出院结算 / settle stay {request.mdtrt_id}",
            (),
            _decide_settlement(request.mdtrt_id, infno="2304"),
        )

    def cancel_stay_settlement(self, request: CancelStaySettlementRequest) -> DriverResult:
        """Ask to cancel a stay settlement; wait for the 2305 of it."""
        return self._step(
            "cancel_stay_settlement",
            request,
            f"撤销住院结算 {request.setl_id} / cancel stay settlement {request.setl_id}",
            (),
            _decide_refund(request.setl_id, resettle_visit=None, infno="2305"),
        )

    def cancel_admission(self, request: CancelAdmissionRequest) -> DriverResult:
        """Ask to cancel the admission; wait for the 2404 of the stay."""
        return self._step(
            "cancel_admission",
            request,
            f"撤销入院 {request.mdtrt_id} / cancel the admission of stay {request.mdtrt_id}",
            (),
            _decide_by_visit("2404", request.mdtrt_id),
        )

    def close(self) -> None:
        """Nothing to release."""

    # -- waiting ----------------------------------------------------------------------------

    def _step(
        self,
        action: str,
        request: object,
        what: str,
        details: tuple[str, ...],
        decide: Decide,
    ) -> DriverResult:
        if self._config is None or self._watch is None:
            return DriverResult("error", message=_NOT_CONFIGURED)
        where = _where(self._config)
        self._announce(Instruction(action, f"在{where}：{what}", request, details))
        try:
            return self._await(self._watch, decide, action)
        except MockError as error:
            return DriverResult("error", message=f"cannot read the mock's transcript: {error}")

    def _await(self, watch: TranscriptFeed, decide: Decide, action: str) -> DriverResult:
        deadline = time.monotonic() + self.wait_s
        start = len(watch.records)
        decided: DriverResult | None = None
        quiet_since = time.monotonic()
        while True:
            if watch.read():
                quiet_since = time.monotonic()
            records = watch.records[start:]
            decided = decide(records)
            now = time.monotonic()
            settled = now - quiet_since >= self.settle_s
            if decided is not None and decided.status != "unknown" and settled:
                return decided
            if now >= deadline:
                break
            time.sleep(self.poll_s)
        if decided is not None:
            return decided
        seen = len(watch.records) - start
        return DriverResult(
            "pending",
            message=f"{action}: the awaited messages did not reach the platform within "
            f"{self.wait_s:g} s ({seen} other records arrived)",
        )

    def _patient_name(self, certificate: DriverCertificate) -> str:
        fixtures = self._fixtures or bundled_fixtures()
        person = next((p for p in fixtures.persons if _presents(p, certificate)), None)
        return person.psn_name if person is not None else "患者 / the patient"


# -- deciding from the transcript ---------------------------------------------------------------


def _decide_sign_in(records: Sequence[TranscriptRecord]) -> DriverResult | None:
    answers = [r for r in records if r.infno == "9001"]
    if not answers:
        return None
    return _by_answer(answers[-1], lambda _: DriverResult("ok", message="9001 answered"))


def _decide_register(records: Sequence[TranscriptRecord]) -> DriverResult | None:
    visits = [r for r in records if r.infno == "2201"]
    if visits:

        def registered(record: TranscriptRecord) -> DriverResult:
            return DriverResult(
                "ok",
                mdtrt_id=_text(record.mdtrt_id),
                psn_no=_text(record.data.get("psn_no")),
                ipt_otp_no=_text(record.data.get("ipt_otp_no")),
            )

        return _by_answer(visits[-1], registered)
    refused = [r for r in records if r.infno == "1101" and r.definite_failure]
    return _refused(refused[-1]) if refused else None


def _decide_by_visit(infno: str, mdtrt_id: str) -> Decide:
    def decide(records: Sequence[TranscriptRecord]) -> DriverResult | None:
        mine = [r for r in records if r.infno == infno and r.mdtrt_id == mdtrt_id]
        if not mine:
            return None
        return _by_answer(mine[-1], lambda _: DriverResult("ok", mdtrt_id=mdtrt_id))

    return decide


def _decide_admit(records: Sequence[TranscriptRecord]) -> DriverResult | None:
    admissions = [r for r in records if r.infno == "2401"]
    if admissions:

        def admitted(record: TranscriptRecord) -> DriverResult:
            return DriverResult(
                "ok",
                mdtrt_id=_text(record.output_node("result").get("mdtrt_id")),
                psn_no=_text(record.data.get("psn_no")),
                ipt_otp_no=_text(dict(record.input.get("mdtrtinfo") or {}).get("ipt_no")),
            )

        return _by_answer(admissions[-1], admitted)
    refused = [r for r in records if r.infno == "1101" and r.definite_failure]
    return _refused(refused[-1]) if refused else None


_STEPS_BEFORE: Final = {"2207": ("2203", "2204", "2206"), "2304": ("2303",)}
"""What a settlement needs first: a refusal of one of these ends the step."""


def _decide_settlement(mdtrt_id: str, *, after_seq: int = 0, infno: str = "2207") -> Decide:
    def decide(records: Sequence[TranscriptRecord]) -> DriverResult | None:
        settles = [
            r
            for r in records
            if r.infno == infno and r.data.get("mdtrt_id") == mdtrt_id and r.seq > after_seq
        ]
        if not settles:
            earlier = [
                r
                for r in records
                if r.infno in _STEPS_BEFORE[infno] and r.definite_failure and r.seq > after_seq
            ]
            return _refused(earlier[-1]) if earlier else None
        last = settles[-1]
        if last.answer_trusted:
            return _by_answer(last, lambda r: _settled(r, mdtrt_id))
        return _after_lost_answer(records, last)

    return decide


def _decide_refund(setl_id: str, *, resettle_visit: str | None, infno: str = "2208") -> Decide:
    def decide(records: Sequence[TranscriptRecord]) -> DriverResult | None:
        reversals = [r for r in records if r.infno == infno and r.data.get("setl_id") == setl_id]
        if not reversals:
            return None
        last = reversals[-1]
        if not last.answer_trusted:
            return _after_lost_answer(records, last)
        if last.definite_failure or resettle_visit is None:
            return _by_answer(last, lambda r: _settled(r, _text(r.data.get("mdtrt_id"))))
        again = _decide_settlement(resettle_visit, after_seq=last.seq)(records)
        return again if again is not None else None

    return decide


def _decide_chronic_registration(records: Sequence[TranscriptRecord]) -> DriverResult | None:
    registrations = [r for r in records if r.infno == "2503"]
    if not registrations:
        refused = [r for r in records if r.infno == "1101" and r.definite_failure]
        return _refused(refused[-1]) if refused else None

    def registered(record: TranscriptRecord) -> DriverResult:
        serial = record.output_node("result").get("trt_dcla_detl_sn")
        return DriverResult(
            "ok", psn_no=_text(record.data.get("psn_no")), trt_dcla_detl_sn=_text(serial)
        )

    return _by_answer(registrations[-1], registered)


def _decide_chronic_cancel(serial: str) -> Decide:
    def decide(records: Sequence[TranscriptRecord]) -> DriverResult | None:
        mine = [
            r for r in records if r.infno == "2504" and r.data.get("trt_dcla_detl_sn") == serial
        ]
        if not mine:
            return None
        return _by_answer(mine[-1], lambda _: DriverResult("ok", trt_dcla_detl_sn=serial))

    return decide


def _decide_reconcile(records: Sequence[TranscriptRecord]) -> DriverResult | None:
    totals = [r for r in records if r.infno == "3201"]
    if not totals:
        return None
    final: dict[tuple[Any, ...], TranscriptRecord] = {}
    for record in totals:
        final[tuple(record.data.get(k) for k in ("insutype", "clr_type", "setl_optins"))] = record
    balanced = all(
        r.infcode == 0 and str(r.output_node("stmtinfo").get("stmt_rslt")) == "0"
        for r in final.values()
    )
    return DriverResult("ok", balanced=balanced, message=f"{len(final)} groups reconciled")


def _by_answer(
    record: TranscriptRecord, success: Callable[[TranscriptRecord], DriverResult]
) -> DriverResult:
    if not record.answer_trusted:
        return DriverResult("unknown", message=f"the answer to {record.infno} was lost")
    if record.infcode == 0:
        return success(record)
    return _refused(record)


def _refused(record: TranscriptRecord) -> DriverResult:
    return DriverResult(
        "rejected", message=f"{record.infno} refused: {record.err_msg or 'infcode -1'}"
    )


def _after_lost_answer(records: Sequence[TranscriptRecord], lost: TranscriptRecord) -> DriverResult:
    """A lost answer is closed by a successful 2601 naming it; until then it is unknown."""
    msgid = lost.msgid
    closed = any(
        r.infno == "2601" and r.data.get("omsgid") == msgid and r.definite_success for r in records
    )
    if closed:
        return DriverResult("rejected", message=f"{lost.infno} {msgid} lost, then reversed")
    return DriverResult("unknown", message=f"{lost.infno} {msgid}: the answer was lost")


def _settled(record: TranscriptRecord, mdtrt_id: str | None) -> DriverResult:
    info = record.output_node("setlinfo")
    amounts = {}
    for name in REPORTED:
        value = _decimal(info.get(name))
        if value is not None:
            amounts[name] = value
    return DriverResult(
        "ok",
        mdtrt_id=mdtrt_id,
        setl_id=_text(info.get("setl_id")),
        psn_no=_text(record.data.get("psn_no")),
        amounts=amounts,
    )


# -- small helpers ----------------------------------------------------------------------------


def _where(config: HisConfiguration) -> str:
    mode = config.mode
    if mode.kind == "kiosk":
        return f"自助机 {mode.opter} (kiosk {mode.opter}, dev_no {mode.dev_no})"
    return f"收费窗口 {mode.opter} (window {mode.opter}, {mode.opter_name})"


def _fee_details(items: Sequence[FeeItem]) -> tuple[str, ...]:
    return tuple(f"{i.qty} × {i.code} ({i.hospital_code}) @ {i.price}" for i in items)


def _presents(person: InsuredPerson, certificate: DriverCertificate) -> bool:
    if certificate.cert_type == "01":
        return person.certificates.ec_token == certificate.cert_no
    if certificate.cert_type == "03":
        return person.certificates.social_security_card.card_no == certificate.cert_no
    return person.certno == certificate.cert_no


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _decimal(value: object) -> Decimal | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def _print_instruction(instruction: Instruction) -> None:
    console = Console(stderr=True, highlight=False, soft_wrap=True)
    console.print(f"\n[bold]▶ {instruction.text}[/bold]")
    for line in instruction.details:
        console.print(f"    {line}", markup=False)
    console.print("  (waiting for the messages to reach the platform …)")

"""A minimal HIS written straight on httpx + nhsa.envelope + nhsa.signing — the raw path.

THIS HIS IS A TEST INSTRUMENT. Without flaws it does each driver action correctly (sign in,
look the patient up, register, upload, pre-settle, settle echoing the pre-settlement, reverse
a lost settlement with 2601, refund 2208 + 2205, re-settle kept lines, reconcile 3201, a
chronic visit with its disease, register and cancel a chronic disease with 2503/2504; an
inpatient stay in :mod:`raw_stays`) — just enough to pass the scenarios the negative controls
use. With a :class:`~flaws.Flaw` it makes
that one mistake ON PURPOSE, so the conformance suite can show it catches it. The SDK makes
these mistakes impossible, which is why this HIS does not use it.

What it does not do (the SDK does): retries, journal, breaker, recovery after a crash, 3202
detail reconciliation, reconciling reversed unknowns.

Example:
    >>> from examples.broken_his.flaws import Flaw
    >>> RawHis({Flaw.SKIP_SIGN_IN}).describe()
    'raw HIS (DELIBERATELY BROKEN: skip-sign-in)'
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any, Final

import httpx
from examples.broken_his.flaws import Flaw
from examples.broken_his.raw_stays import RawStays

from nhsa.conformance import (
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
    DriverStatus,
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
from nhsa.envelope import MsgidGenerator, china_now, dumps
from nhsa.redaction import redact
from nhsa.signing import (
    ClientSigning,
    KeyEntry,
    KeyRing,
    SigningProfile,
    Sm2PrivateKey,
    Sm2PublicKey,
)
from nhsa.signing.errors import SigningError

__all__ = ["RawHis"]

PATH: Final = "/fsi/api/rsfComIfsService/callService"
TIME: Final = "%Y-%m-%d %H:%M:%S"
KIOSK_CERTIFICATES: Final = ("01", "03")
REVERSAL_TRIES: Final = 3
REPORTED: Final = ("medfee_sumamt", "fund_pay_sumamt", "acct_pay", "psn_cash_pay")
ECHOED: Final = (
    "medfee_sumamt",
    "fulamt_ownpay_amt",
    "overlmt_selfpay",
    "preselfpay_amt",
    "inscp_scp_amt",
)
SORRY: Final = (
    "本次业务未完成，未扣款，请到人工窗口办理。 / This was not completed and nothing "
    "was charged; please go to a staffed window."
)


@dataclass(frozen=True)
class _Answer:
    """One call's fate: ``ok``, ``refused`` (infcode -1), ``lost`` (no trustworthy answer) or
    ``not_sent`` (no connection)."""

    fate: str
    msgid: str
    output: Mapping[str, Any] = field(default_factory=dict)
    err_msg: str = ""

    def node(self, name: str) -> Mapping[str, Any]:
        value = self.output.get(name)
        return value if isinstance(value, Mapping) else {}


@dataclass
class _Visit:
    mdtrt_id: str
    psn_no: str
    insutype: str
    insuplc: str
    cert_type: str
    cert_no: str
    ipt_otp_no: str


@dataclass
class _Settlement:
    setl_id: str
    visit: _Visit
    batch: str
    items: tuple[FeeItem, ...]
    med_type: str
    acct_used_flag: str
    amounts: dict[str, Decimal]
    group: tuple[str, str, str]
    live: bool = True
    dise_codg: str | None = None


@dataclass(frozen=True)
class _Row:
    """A ledger row for 3201: a settlement (+) or a refund (−), with its clearing group."""

    group: tuple[str, str, str]
    medfee: Decimal
    fund: Decimal
    acct: Decimal


class _Failed(Exception):  # noqa: N818 - control flow inside an action, never escapes it
    def __init__(self, result: DriverResult) -> None:
        self.result = result


class RawHis:
    """A HIS on the raw path; ``flaws`` choose its deliberate mistakes (module docstring).

    ``failed`` ends an action with the result it carries (raise it from inside one).

    Args:
        flaws: the mistakes to make (none: a correct, minimal HIS).
        transport: the in-process mock's transport (``None``: real HTTP).
        read_timeout: seconds to wait for an answer before it counts as lost.
    """

    failed = _Failed

    def __init__(
        self,
        flaws: Iterable[Flaw] = (),
        *,
        transport: httpx.BaseTransport | None = None,
        read_timeout: float = 5.0,
    ) -> None:
        """Unconfigured until the suite calls ``configure``."""
        self.flaws = frozenset(flaws)
        self._http = httpx.Client(
            transport=transport, timeout=httpx.Timeout(read_timeout, connect=3.0)
        )
        self._config: HisConfiguration | None = None
        self._signing: ClientSigning | None = None
        self._msgids: MsgidGenerator | None = None
        self._sign_no: str | None = None
        self._visits: dict[str, _Visit] = {}
        self._settlements: dict[str, _Settlement] = {}
        self._rows: list[_Row] = []
        self._registrations: dict[str, tuple[str, str]] = {}
        self._sent: list[str] = []
        self._reversed: list[str] = []
        self._stays = RawStays(self)

    # -- the driver protocol ------------------------------------------------------------------

    def describe(self) -> str:
        """Says which flaws it has, loudly."""
        if not self.flaws:
            return "raw HIS (no flaws)"
        return f"raw HIS (DELIBERATELY BROKEN: {', '.join(sorted(self.flaws))})"

    def health(self) -> DriverHealth:
        """Always ready."""
        return DriverHealth(True, self.describe())

    def configure(self, config: HisConfiguration) -> DriverResult:
        """Start afresh for this institution."""
        signing = config.signing
        try:
            key = (
                Sm2PrivateKey.from_pem(signing.private_key_pem) if signing.private_key_pem else None
            )
            pem = signing.platform_public_key_pem
            ring = KeyRing([KeyEntry(Sm2PublicKey.from_pem(pem), "NHSA")]) if pem else None
            self._signing = ClientSigning(
                SigningProfile.parse(signing.profile),
                paasid=signing.paasid,
                token=signing.token,
                private_key=key,
                platform_keys=ring,
            )
        except SigningError as error:
            return DriverResult("error", message=f"unusable signing settings: {error}")
        self._config = config
        self._msgids = MsgidGenerator(config.fixmedins_code, None)
        self._sign_no = None
        self._visits.clear()
        self._settlements.clear()
        self._rows.clear()
        self._registrations.clear()
        self._stays = RawStays(self)
        return DriverResult("ok", message=self.describe())

    def sign_in(self, request: SignInRequest) -> DriverResult:
        """9001 — or, with SKIP_SIGN_IN, nothing at all (while claiming success)."""
        del request  # the configured operator signs in; no other is asked for here
        if Flaw.SKIP_SIGN_IN in self.flaws:
            return DriverResult("ok", message="sign-in deferred until the platform asks for it")

        def act() -> DriverResult:
            self._sign_in()
            return DriverResult("ok")

        return self._act(act)

    def register(self, request: RegisterRequest) -> DriverResult:
        """1101, then 2201 with the insured area 1101 named."""
        return self._act(lambda: self._register(request))

    def cancel_registration(self, request: CancelRegistrationRequest) -> DriverResult:
        """2202 — refused here while the visit holds a settlement."""

        def act() -> DriverResult:
            visit = self._visit(request.mdtrt_id)
            if any(s.live and s.visit is visit for s in self._settlements.values()):
                return DriverResult(
                    "rejected",
                    message="refund the settlement first (2208)",
                    patient_message="请先办理退费。 / Please get a refund first.",
                )
            self._cancel(visit)
            return DriverResult("ok", mdtrt_id=visit.mdtrt_id, psn_no=visit.psn_no)

        return self._act(act)

    def charge(self, request: ChargeRequest) -> DriverResult:
        """2203, 2204, 2206, 2207 (2601 when the 2207 answer is lost); a chronic visit names
        its disease in 2203 and on every 2204 line."""

        def act() -> DriverResult:
            visit = self._visit(request.mdtrt_id)
            med_type, disease = request.med_type, request.dise_codg
            info = self._visit_info(visit, med_type, disease, request.dise_name)
            answer = self._send("2203", info, visit.insuplc)
            if answer.fate == "refused" and disease and Flaw.CHRONIC_AS_ORDINARY in self.flaws:
                med_type, disease = "11", None  # DELIBERATELY WRONG: charged as ordinary instead
                answer = self._send("2203", self._visit_info(visit, med_type), visit.insuplc)
            if answer.fate != "ok":
                raise _Failed(_failure(answer))
            items, flag = request.items, request.acct_used_flag
            return _settled_result(self._settle(visit, items, med_type, flag, disease))

        return self._act(act)

    def refund(self, request: RefundRequest) -> DriverResult:
        """2208 then 2205 — with CANCEL_SETTLED_VISIT, a 2202 instead."""

        def act() -> DriverResult:
            settlement = self._live(request.setl_id)
            if Flaw.CANCEL_SETTLED_VISIT in self.flaws:
                self._cancel(settlement.visit)  # DELIBERATELY WRONG: no 2208 first
                return DriverResult("ok", mdtrt_id=settlement.visit.mdtrt_id)
            return self._reverse(settlement)

        return self._act(act)

    def partial_refund(self, request: PartialRefundRequest) -> DriverResult:
        """2208, 2205, then the kept quantities as a new batch: 2204, 2206, 2207."""

        def act() -> DriverResult:
            old = self._live(request.setl_id)
            self._reverse(old)
            taken: dict[str, Decimal] = {}
            for item in request.items:
                taken[item.code] = taken.get(item.code, Decimal(0)) + item.qty
            kept = []
            for item in old.items:
                back = min(taken.get(item.code, Decimal(0)), item.qty)
                taken[item.code] = taken.get(item.code, Decimal(0)) - back
                if item.qty > back:
                    kept.append(replace(item, qty=item.qty - back))
            kept_items = tuple(kept)
            again = self._settle(
                old.visit, kept_items, old.med_type, old.acct_used_flag, old.dise_codg
            )
            return _settled_result(again)

        return self._act(act)

    def reconcile(self, request: ReconcileRequest) -> DriverResult:
        """3201 per insutype × clearing type × clearing agency, from the rows this HIS booked
        (and for the inpatient group of every stay, rows or not)."""

        def act() -> DriverResult:
            day = request.day.isoformat()
            balanced = True
            groups = {row.group for row in self._rows} | self._stays.groups(
                self._require().mdtrtarea_admvs
            )
            for group in sorted(groups):
                rows = [row for row in self._rows if row.group == group]
                answer = self._call(
                    "3201",
                    {
                        "data": {
                            "insutype": group[0],
                            "clr_type": group[1],
                            "setl_optins": group[2],
                            "stmt_begndate": day,
                            "stmt_enddate": day,
                            "medfee_sumamt": sum((r.medfee for r in rows), Decimal("0.00")),
                            "fund_pay_sumamt": sum((r.fund for r in rows), Decimal("0.00")),
                            "acct_pay": sum((r.acct for r in rows), Decimal("0.00")),
                            "fixmedins_setl_cnt": len(rows),
                        }
                    },
                    None,
                )
                balanced &= str(answer.node("stmtinfo").get("stmt_rslt")) == "0"
            return DriverResult("ok", balanced=balanced)

        return self._act(act)

    def register_chronic(self, request: RegisterChronicRequest) -> DriverResult:
        """1101, then 2503 naming the insured place 1101 gave and this hospital."""

        def act() -> DriverResult:
            config = self._require()
            psn_no, insuplc = self._person(request.certificate, request.insutype)
            begins = request.begndate or china_now().date()
            data = {
                "psn_no": psn_no,
                "insutype": request.insutype,
                "opsp_dise_code": request.opsp_dise_code,
                "opsp_dise_name": request.opsp_dise_name,
                "insu_optins": insuplc,
                "ide_fixmedins_no": config.fixmedins_code,
                "ide_fixmedins_name": config.fixmedins_name,
                "hosp_ide_date": china_now().date().isoformat(),
                "diag_dr_codg": request.diag_dr_codg,
                "diag_dr_name": request.diag_dr_name,
                "begndate": begins.isoformat(),
                "enddate": request.enddate.isoformat() if request.enddate else None,
            }
            answer = self._send("2503", {"data": data}, insuplc)
            if answer.fate != "ok":
                raise _Failed(_failure(answer))
            serial = _text(answer.node("result").get("trt_dcla_detl_sn"))
            if serial is not None:
                self._registrations[serial] = (psn_no, insuplc)
            return DriverResult("ok", psn_no=psn_no, trt_dcla_detl_sn=serial)

        return self._act(act)

    def cancel_chronic(self, request: CancelChronicRequest) -> DriverResult:
        """2504 of a registration this HIS made."""

        def act() -> DriverResult:
            known = self._registrations.get(request.trt_dcla_detl_sn)
            if known is None or known[0] != request.psn_no:
                return DriverResult(
                    "rejected", message=f"no registration {request.trt_dcla_detl_sn} of mine"
                )
            data = {
                "trt_dcla_detl_sn": request.trt_dcla_detl_sn,
                "psn_no": request.psn_no,
                "memo": request.memo,
            }
            answer = self._send("2504", {"data": data}, known[1])
            if answer.fate != "ok":
                raise _Failed(_failure(answer))
            del self._registrations[request.trt_dcla_detl_sn]
            return DriverResult(
                "ok", psn_no=request.psn_no, trt_dcla_detl_sn=request.trt_dcla_detl_sn
            )

        return self._act(act)

    def admit(self, request: AdmitRequest) -> DriverResult:
        """1101, then 2401."""
        return self._act(lambda: self._stays.admit(request))

    def upload_stay_fees(self, request: StayFeesRequest) -> DriverResult:
        """2301 of one batch."""
        return self._act(lambda: self._stays.upload_stay_fees(request))

    def settle_midway(self, request: StaySettlementRequest) -> DriverResult:
        """2303, 2304 mid_setl_flag 1."""
        return self._act(lambda: self._stays.settle(request))

    def discharge(self, request: DischargeRequest) -> DriverResult:
        """2402."""
        return self._act(lambda: self._stays.discharge(request))

    def settle_stay(self, request: StaySettlementRequest) -> DriverResult:
        """2303, 2304 mid_setl_flag 0."""
        return self._act(lambda: self._stays.settle(request))

    def cancel_stay_settlement(self, request: CancelStaySettlementRequest) -> DriverResult:
        """2305 of the stay's newest settlement."""
        return self._act(lambda: self._stays.cancel_stay_settlement(request))

    def cancel_admission(self, request: CancelAdmissionRequest) -> DriverResult:
        """2302 "0000", then 2404."""
        return self._act(lambda: self._stays.cancel_admission(request))

    def close(self) -> None:
        """Close the HTTP client."""
        self._http.close()

    # -- actions, step by step ------------------------------------------------------------------

    def _act(self, body: Any) -> DriverResult:
        if self._config is None:
            return DriverResult("error", message="not configured")
        self._sent, self._reversed = [], []
        try:
            result: DriverResult = body()
        except _Failed as failed:
            result = failed.result
        return replace(result, msgids=tuple(self._sent), reversed_msgids=tuple(self._reversed))

    def _sign_in(self) -> None:
        config = self._require()
        sign_in = {"signIn": {"opter_no": config.mode.opter, "ip": "127.0.0.1"}}
        answer = self._post("9001", sign_in, None, None, None)
        if answer.fate != "ok":
            raise _Failed(_failure(answer))
        self._sign_no = str(answer.node("signinoutb").get("sign_no"))

    def _register(self, request: RegisterRequest) -> DriverResult:
        config = self._require()
        cert = request.certificate
        if config.mode.kind == "kiosk" and cert.cert_type not in KIOSK_CERTIFICATES:
            return DriverResult(
                "rejected",
                patient_message="请使用医保电子凭证或社保卡。 / Please "
                "use the e-voucher or the social-security card.",
            )
        psn_no, insuplc = self._person(cert, request.insutype)
        visit = _Visit(
            "",
            psn_no,
            request.insutype,
            insuplc,
            cert.cert_type,
            cert.cert_no,
            request.ipt_otp_no,
        )
        answer = self._call(
            "2201",
            {
                "data": {
                    "psn_no": psn_no,
                    "insutype": request.insutype,
                    "begntime": _now(),
                    "mdtrt_cert_type": cert.cert_type,
                    "mdtrt_cert_no": cert.cert_no,
                    "ipt_otp_no": request.ipt_otp_no,
                    "atddr_no": request.atddr_no,
                    "dr_name": request.dr_name,
                    "dept_code": request.dept_code,
                    "dept_name": request.dept_name,
                    "caty": request.caty,
                }
            },
            visit,
        )
        visit.mdtrt_id = str(answer.node("data").get("mdtrt_id"))
        self._visits[visit.mdtrt_id] = visit
        return DriverResult(
            "ok", mdtrt_id=visit.mdtrt_id, psn_no=psn_no, ipt_otp_no=request.ipt_otp_no
        )

    def _person(self, cert: DriverCertificate, insutype: str) -> tuple[str, str]:
        """1101: the person's psn_no and the insured area of ``insutype``'s row."""
        person = self._call(
            "1101",
            {
                "data": {
                    "mdtrt_cert_type": cert.cert_type,
                    "mdtrt_cert_no": cert.cert_no,
                    "card_sn": cert.card_sn,
                    "psn_cert_type": "01",
                    "certno": cert.cert_no if cert.cert_type == "02" else None,
                }
            },
            None,
        )
        rows = person.output.get("insuinfo") or []
        row = next((r for r in rows if r.get("insutype") == insutype), None)
        if row is None:
            raise _Failed(
                DriverResult("rejected", message=f"no insurance {insutype}", patient_message=SORRY)
            )
        return str(person.node("baseinfo").get("psn_no")), str(row["insuplc_admdvs"])

    def _cancel(self, visit: _Visit) -> None:
        self._call(
            "2202",
            {
                "data": {
                    "psn_no": visit.psn_no,
                    "mdtrt_id": visit.mdtrt_id,
                    "ipt_otp_no": visit.ipt_otp_no,
                }
            },
            visit,
        )

    def _settle(
        self,
        visit: _Visit,
        items: tuple[FeeItem, ...],
        med_type: str,
        acct_used_flag: str,
        dise_codg: str | None = None,
    ) -> _Settlement:
        """2204, 2206, 2207 of one new batch; a lost answer is reversed (flawed: resent)."""
        batch = f"B{self._next_msgid()[12:]}"
        self._call(
            "2204",
            {
                "feedetail": [
                    {**_fee_line(visit, batch, index, item), "dise_codg": dise_codg}
                    for index, item in enumerate(items, start=1)
                ]
            },
            visit,
        )
        total = sum((item.total for item in items), Decimal("0.00"))
        if Flaw.WRONG_TOTAL in self.flaws:
            total = sum((item.price for item in items), Decimal("0.00"))  # DELIBERATELY WRONG
        money = {
            "psn_no": visit.psn_no,
            "mdtrt_cert_type": visit.cert_type,
            "mdtrt_cert_no": visit.cert_no,
            "med_type": med_type,
            "medfee_sumamt": total,
            "psn_setlway": "01",
            "mdtrt_id": visit.mdtrt_id,
            "chrg_bchno": batch,
            "acct_used_flag": acct_used_flag,
            "insutype": visit.insutype,
        }
        pre_msgid = self._next_msgid()
        pre = self._send("2206", {"data": money}, visit.insuplc, msgid=pre_msgid)
        if pre.fate != "ok" and Flaw.WRONG_TOTAL not in self.flaws:
            self._cancel_batch(visit, batch)
            raise _Failed(_failure(pre))
        echoed = {
            name: pre.node("setlinfo").get(name, money.get(name, Decimal(0))) for name in ECHOED
        }
        if Flaw.WRONG_TOTAL in self.flaws:
            echoed = {name: money.get(name, Decimal(0)) for name in ECHOED}  # its own figures
        settle = {"data": {**money, **echoed}}
        msgid = pre_msgid if Flaw.REUSE_MSGID in self.flaws else None  # DELIBERATELY WRONG
        answer = self._send("2207", settle, visit.insuplc, msgid=msgid)
        if answer.fate == "lost" and Flaw.RESEND_AFTER_TIMEOUT in self.flaws:
            answer = self._send("2207", settle, visit.insuplc)  # DELIBERATELY WRONG: a resend
        if answer.fate == "lost":
            self._undo_lost(visit.psn_no, visit.insuplc, answer.msgid, "2207")
            self._cancel_batch(visit, batch)
            raise _Failed(
                DriverResult(
                    "rejected", message=f"2207 {answer.msgid} lost, reversed", patient_message=SORRY
                )
            )
        if answer.fate != "ok":
            self._cancel_batch(visit, batch)
            raise _Failed(_failure(answer))
        info = answer.node("setlinfo")
        group = (
            visit.insutype,
            str(info.get("clr_type") or "11"),
            str(info.get("clr_optins") or self._require().mdtrtarea_admvs),
        )
        settlement = _Settlement(
            str(info.get("setl_id")),
            visit,
            batch,
            items,
            med_type,
            acct_used_flag,
            {n: _money(info.get(n)) for n in REPORTED},
            group,
            dise_codg=dise_codg,
        )
        self._settlements[settlement.setl_id] = settlement
        self._book(group, info, sign=1)
        return settlement

    def _undo_lost(self, psn_no: str, insuplc: str, msgid: str, oinfno: str) -> None:
        """2601 of a lost ``oinfno`` until a definite answer; unknown after a few tries."""
        for _ in range(REVERSAL_TRIES):
            answer = self._send(
                "2601", {"data": {"psn_no": psn_no, "omsgid": msgid, "oinfno": oinfno}}, insuplc
            )
            if answer.fate in ("ok", "refused"):
                self._reversed.append(msgid)
                return
        raise _Failed(
            DriverResult(
                "unknown",
                message=f"{oinfno} {msgid}: reversal not confirmed",
                patient_message=SORRY,
            )
        )

    def _refusal(self, answer: _Answer) -> DriverResult:
        """The result of an action that ends with ``answer`` (refused, or not sent)."""
        return _failure(answer)

    def _settled(self, mdtrt_id: str, psn_no: str, info: Mapping[str, Any]) -> DriverResult:
        """The result of a settlement answered with ``info`` (its setlinfo)."""
        return DriverResult(
            "ok",
            mdtrt_id=mdtrt_id,
            setl_id=_text(info.get("setl_id")),
            psn_no=psn_no,
            amounts={n: _money(info.get(n)) for n in REPORTED},
        )

    def _reverse(self, settlement: _Settlement) -> DriverResult:
        visit = settlement.visit
        answer = self._call(
            "2208",
            {
                "data": {
                    "setl_id": settlement.setl_id,
                    "mdtrt_id": visit.mdtrt_id,
                    "psn_no": visit.psn_no,
                }
            },
            visit,
        )
        settlement.live = False
        info = answer.node("setlinfo")
        self._book(settlement.group, info, sign=-1)
        self._call(
            "2205",
            {
                "data": {
                    "mdtrt_id": visit.mdtrt_id,
                    "chrg_bchno": settlement.batch,
                    "psn_no": visit.psn_no,
                }
            },
            visit,
        )
        return DriverResult(
            "ok", mdtrt_id=visit.mdtrt_id, setl_id=_text(info.get("setl_id")), psn_no=visit.psn_no
        )

    def _cancel_batch(self, visit: _Visit, batch: str) -> None:
        self._send(
            "2205",
            {"data": {"mdtrt_id": visit.mdtrt_id, "chrg_bchno": batch, "psn_no": visit.psn_no}},
            visit.insuplc,
        )

    def _book(self, group: tuple[str, str, str], info: Mapping[str, Any], *, sign: int) -> None:
        """A ledger row for 3201; a refund's answer may carry its amounts negated or not."""
        self._rows.append(
            _Row(
                group,
                sign * abs(_money(info.get("medfee_sumamt"))),
                sign * abs(_money(info.get("fund_pay_sumamt"))),
                sign * abs(_money(info.get("acct_pay"))),
            )
        )

    # -- one message --------------------------------------------------------------------------

    def _call(self, infno: str, body: Mapping[str, Any], where: _Visit | str | None) -> _Answer:
        """Send (for a visit, or to an insured area); anything but an ok answer ends the action."""
        answer = self._send(infno, body, where.insuplc if isinstance(where, _Visit) else where)
        if answer.fate != "ok":
            raise _Failed(_failure(answer))
        return answer

    def _send(
        self,
        infno: str,
        body: Mapping[str, Any],
        insuplc: str | None,
        *,
        msgid: str | None = None,
    ) -> _Answer:
        """One business request; a sign-in refusal signs in and sends once more (new msgid)."""
        if self._sign_no is None and Flaw.SKIP_SIGN_IN not in self.flaws:
            self._sign_in()
        answer = self._post(infno, body, insuplc, msgid, self._sign_no)
        if answer.fate == "refused" and "签到" in answer.err_msg:
            self._sign_in()
            answer = self._post(infno, body, insuplc, None, self._sign_no)
        return answer

    def _post(
        self,
        infno: str,
        body: Mapping[str, Any],
        insuplc: str | None,
        msgid: str | None,
        sign_no: str | None,
    ) -> _Answer:
        config = self._require()
        mode = config.mode
        opter_type = "2" if mode.kind == "kiosk" else "1"
        if Flaw.KIOSK_AS_WINDOW in self.flaws:
            opter_type = "1"  # DELIBERATELY WRONG at a kiosk
        msgid = msgid or self._next_msgid()
        envelope = {
            "infno": infno,
            "msgid": msgid,
            "mdtrtarea_admvs": config.mdtrtarea_admvs,
            "insuplc_admdvs": insuplc or "",
            "recer_sys_code": "YBXT",
            "dev_no": mode.dev_no,
            "dev_safe_info": mode.dev_safe_info,
            "cainfo": None,
            "signtype": None,
            "infver": "V1.0",
            "opter_type": opter_type,
            "opter": mode.opter,
            "opter_name": mode.opter_name,
            "inf_time": _now(),
            "fixmedins_code": config.fixmedins_code,
            "fixmedins_name": config.fixmedins_name,
            "sign_no": sign_no,
            "input": body,
        }
        signing = self._signing
        assert signing is not None  # set by configure with the config
        content = signing.seal_request(dumps(envelope))
        try:
            response = self._http.post(
                config.platform_url.rstrip("/") + PATH,
                content=content,
                headers={"content-type": "application/json"},
                auth=signing.auth or httpx.USE_CLIENT_DEFAULT,
            )
        except (httpx.ConnectError, httpx.ConnectTimeout):
            return _Answer("not_sent", msgid, err_msg="no connection")
        except httpx.HTTPError as error:
            self._sent.append(msgid)
            return _Answer("lost", msgid, err_msg=type(error).__name__)
        self._sent.append(msgid)
        return _read(response, msgid, signing)

    def _next_msgid(self) -> str:
        assert self._msgids is not None  # set by configure
        return self._msgids.next()

    def _require(self) -> HisConfiguration:
        if self._config is None:
            raise _Failed(DriverResult("error", message="not configured"))
        return self._config

    def _visit(self, mdtrt_id: str) -> _Visit:
        visit = self._visits.get(mdtrt_id)
        if visit is None:
            raise _Failed(DriverResult("rejected", message=f"unknown visit {mdtrt_id}"))
        return visit

    def _live(self, setl_id: str) -> _Settlement:
        settlement = self._settlements.get(setl_id)
        if settlement is None or not settlement.live:
            raise _Failed(DriverResult("rejected", message=f"no standing settlement {setl_id}"))
        return settlement

    def _visit_info(
        self,
        visit: _Visit,
        med_type: str,
        dise_codg: str | None = None,
        dise_name: str | None = None,
    ) -> dict[str, Any]:
        now = _now()
        return {
            "mdtrtinfo": {
                "mdtrt_id": visit.mdtrt_id,
                "psn_no": visit.psn_no,
                "med_type": med_type,
                "begntime": now,
                "dise_codg": dise_codg,
                "dise_name": dise_name or "急性上呼吸道感染",
            },
            "diseinfo": [
                {
                    "diag_type": "1",
                    "diag_srt_no": 1,
                    "diag_code": "J06.900",
                    "diag_name": "急性上呼吸道感染",
                    "diag_dept": "内科",
                    "dise_dor_no": "D530100000001",
                    "dise_dor_name": "测试医师",
                    "diag_time": now,
                    "vali_flag": "1",
                }
            ],
        }


def _read(response: httpx.Response, msgid: str, signing: ClientSigning) -> _Answer:
    """An answer the HIS can trust (signature, JSON, envelope) — else the outcome is lost."""
    if response.status_code >= 500:
        return _Answer("lost", msgid, err_msg=f"HTTP {response.status_code}")
    try:
        signing.open_response(response.content)
        answer = json.loads(response.content, parse_float=Decimal)
    except (SigningError, ValueError):
        return _Answer("lost", msgid, err_msg="untrustworthy answer")
    if not isinstance(answer, dict) or "infcode" not in answer:
        return _Answer("lost", msgid, err_msg="not an answer envelope")
    if str(answer.get("infcode")) != "0":
        return _Answer("refused", msgid, err_msg=str(answer.get("err_msg") or ""))
    output = answer.get("output")
    return _Answer("ok", msgid, output if isinstance(output, dict) else {})


def _fee_line(visit: _Visit, batch: str, index: int, item: FeeItem) -> dict[str, Any]:
    return {
        "feedetl_sn": f"{batch}{index:04d}",
        "mdtrt_id": visit.mdtrt_id,
        "psn_no": visit.psn_no,
        "chrg_bchno": batch,
        "rx_circ_flag": "0",
        "fee_ocur_time": _now(),
        "med_list_codg": item.code,
        "medins_list_codg": item.hospital_code,
        "det_item_fee_sumamt": item.total,
        "cnt": item.qty,
        "pric": item.price,
        "bilg_dept_codg": "A03",
        "bilg_dept_name": "内科",
        "bilg_dr_codg": "D530100000001",
        "bilg_dr_name": "测试医师",
        "hosp_appr_flag": "0",
    }


def _failure(answer: _Answer) -> DriverResult:
    status: DriverStatus = "unknown" if answer.fate == "lost" else "rejected"
    return DriverResult(
        status,
        message=redact(f"{answer.msgid}: {answer.fate} {answer.err_msg}"),
        patient_message=SORRY,
    )


def _settled_result(settlement: _Settlement) -> DriverResult:
    return DriverResult(
        "ok",
        mdtrt_id=settlement.visit.mdtrt_id,
        setl_id=settlement.setl_id,
        psn_no=settlement.visit.psn_no,
        amounts=settlement.amounts,
    )


def _money(value: object) -> Decimal:
    return Decimal(str(value)) if value is not None else Decimal("0.00")


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _now() -> str:
    return china_now().strftime(TIME)

"""A fake mock handle and a fake HIS driver that write shaped transcript records, for runner tests.

``FakeMock`` keeps tenants, armed faults and records in memory. ``FakeHis`` acts the way a
HIS would and records what "the platform saw" through :class:`TranscriptBuilder`; flags make
it misbehave (skip sign-in, resend an unknown 2207, hang on a step, crash, answer garbage) so
the runner's verdicts can be checked end to end without the real mock or SDK.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from nhsa.conformance import (
    CancelRegistrationRequest,
    ChargeRequest,
    DriverHealth,
    DriverProtocolError,
    DriverResult,
    DriverUnavailableError,
    HisConfiguration,
    MockError,
    PartialRefundRequest,
    ReconcileRequest,
    RefundRequest,
    RegisterRequest,
    SignInRequest,
)
from nhsa.conformance._mock_handle import (
    Downtime,
    InstitutionRegistration,
    InstitutionTakenError,
    PlatformTotals,
)
from nhsa.conformance._transcript import parse_records, settlements
from nhsa.envelope import CHINA_TIME
from nhsa.mock.faults import FaultSpec
from nhsa.mock.fixtures import bundled_fixtures
from tests.conformance.builders import TranscriptBuilder, fault_member, setl_id_of

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=CHINA_TIME)

CHARGE = """\
id: lab/{name}
title: fake charge
requirements: [HIS-SES-001, HIS-AMT-003, HIS-LED-001, HIS-REC-001]
given:
  institution: H53010100001
  profile: none
  patient: {{psn_no: P53010000000001, certificate: "02"}}
  fees: [{{code: "110200001000000", qty: 1, price: "25.00"}}]
  faults: {faults}
do:
  - sign_in: {{}}
  - register: {{}}
  - charge: {{visit: $register.mdtrt_id}}
  - reconcile: {{}}
expect:
  outcomes: {{charge: [ok, rejected]}}
  checks:
    - {sign_in}
    - requests_valid_per_contract
    - driver_outcome_matches_platform
    - nothing_lost_or_doubled
    - reconciliation_balanced
    - {{name: reversal_after_unknown_2207, optional: true}}
    - no_resend_after_unknown
"""


def charge_scenario(
    name: str = "fake-charge", *, faults: str = "[]", sign_in: str = "sign_in_first"
) -> tuple[str, str]:
    return name, CHARGE.format(name=name, faults=faults, sign_in=sign_in)


@dataclass
class FakeMock:
    """An in-memory MockHandle."""

    records: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    faults: dict[str, list[FaultSpec]] = field(default_factory=dict)
    downtimes: dict[str, list[Downtime]] = field(default_factory=dict)
    registered: dict[str, InstitutionRegistration] = field(default_factory=dict)
    taken: set[str] = field(default_factory=set)
    broken: set[str] = field(default_factory=set)
    cleared: list[str] = field(default_factory=list)

    def describe(self) -> str:
        return "fake mock"

    def platform_url(self) -> str:
        return "http://fake-mock.invalid"

    def platform_public_key_pem(self) -> str | None:
        return None

    def now(self) -> datetime:
        if "now" in self.broken:
            raise MockError("fake mock: clock broken")
        return NOW

    def register_institution(self, registration: InstitutionRegistration) -> None:
        if "register" in self.broken:
            raise MockError("fake mock: registration refused")
        code = registration.fixmedins_code
        if code in self.taken or code in self.registered:
            self.taken.discard(code)
            raise InstitutionTakenError(code)
        self.registered[code] = registration
        self.records[code] = []

    def arm_fault(self, tenant: str, fault: FaultSpec) -> str:
        self.faults.setdefault(tenant, []).append(fault)
        return f"f-{len(self.faults[tenant])}"

    def schedule_downtime(self, tenant: str, downtime: Downtime) -> str:
        self.downtimes.setdefault(tenant, []).append(downtime)
        return f"w-{len(self.downtimes[tenant])}"

    def clear_faults(self, tenant: str) -> None:
        self.cleared.append(tenant)
        self.faults[tenant] = []
        self.downtimes[tenant] = []

    def transcript(self, tenant: str, since_seq: int = 0) -> list[Mapping[str, Any]]:
        if "transcript" in self.broken:
            raise MockError("fake mock: transcript unreadable")
        return [r for r in self.records.get(tenant, []) if r["seq"] > since_seq]

    def ledger_totals(
        self, tenant: str, begin: date, end: date, refd_setl_flag: str | None = None
    ) -> PlatformTotals:
        return ledger_of(self.records.get(tenant, []))

    def reset_tenant(self, tenant: str) -> None:
        self.records[tenant] = []

    def close(self) -> None:
        pass

    def take_fault(self, tenant: str, infno: str) -> str | None:
        """The kind of the next armed fault matching ``infno`` (spent once taken)."""
        for fault in self.faults.get(tenant, []):
            if fault.infno is None or infno in fault.infno:
                self.faults[tenant].remove(fault)
                return fault.kind.value
        return None


def ledger_of(records: list[dict[str, Any]]) -> PlatformTotals:
    live = [t for t in settlements(parse_records(records)) if t.live]
    total = lambda name: sum((t.amount(name) or Decimal(0) for t in live), Decimal("0.00"))  # noqa: E731
    return PlatformTotals(
        len(live), total("medfee_sumamt"), total("fund_pay_sumamt"), total("acct_pay")
    )


@dataclass
class FakeHis:
    """A Driver that acts like a HIS and writes what the platform would have seen."""

    mock: FakeMock
    skip_sign_in: bool = False
    resend_unknown: bool = False
    opter_type: str | None = None
    hang_on: str | None = None
    crash_on: str | None = None
    garbage_on: str | None = None
    pending_on: str | None = None
    ready: bool = True
    unreachable: bool = False
    calls: list[str] = field(default_factory=list)
    builder: TranscriptBuilder | None = None
    visits: dict[str, tuple[str, str, str]] = field(default_factory=dict)
    hanging: threading.Event = field(default_factory=threading.Event)
    hung: bool = False

    def describe(self) -> str:
        return "fake HIS"

    def health(self) -> DriverHealth:
        if self.unreachable:
            raise DriverUnavailableError("http://127.0.0.1:9/health", "connection refused")
        return DriverHealth(self.ready, "fake HIS", "" if self.ready else "still starting")

    def close(self) -> None:
        self.hanging.set()

    def _enter(self, action: str) -> None:
        self.calls.append(action)
        if action == self.hang_on and not self.hung:
            self.hung = True  # hang once: the next scenario must run normally
            self.hanging.wait(5)
        if action == self.crash_on:
            raise RuntimeError("fake HIS crashed")
        if action == self.garbage_on:
            raise DriverProtocolError("fake HIS answered <html>502</html>, not a result")

    @property
    def b(self) -> TranscriptBuilder:
        assert self.builder is not None
        return self.builder

    def configure(self, config: HisConfiguration) -> DriverResult:
        self._enter("configure")
        mode = config.mode
        self.builder = TranscriptBuilder(
            code=config.fixmedins_code,
            area=config.mdtrtarea_admvs,
            opter_type=self.opter_type or ("2" if mode.kind == "kiosk" else "1"),
            dev_no=mode.dev_no,
            profile=config.signing.profile,
            records=self.mock.records[config.fixmedins_code],
            now=NOW,
        )
        return DriverResult("ok")

    def sign_in(self, request: SignInRequest) -> DriverResult:
        self._enter("sign_in")
        if not self.skip_sign_in:
            self.b.sign_in()
        return DriverResult("ok")

    def register(self, request: RegisterRequest) -> DriverResult:
        self._enter("register")
        if request.certificate.cert_type == "02" and self.b.opter_type == "2":
            return DriverResult(
                "rejected", patient_message="自助机不支持身份证，请使用医保电子凭证或社保卡"
            )
        if self.pending_on == "register":
            return DriverResult("pending", message="waiting for the operator")
        person = bundled_fixtures().person_by_certificate(
            request.certificate.cert_type,
            request.certificate.cert_no,
            card_sn=request.certificate.card_sn,
        )
        assert person is not None
        record = person.record(request.insutype)
        assert record is not None
        self.b.lookup(person.psn_no, {request.insutype: record.insuplc_admdvs})
        visit = self.b.register(person.psn_no, insuplc=record.insuplc_admdvs)
        self.visits[visit] = (person.psn_no, record.insuplc_admdvs, request.ipt_otp_no)
        return DriverResult("ok", mdtrt_id=visit, psn_no=person.psn_no)

    def cancel_registration(self, request: CancelRegistrationRequest) -> DriverResult:
        self._enter("cancel_registration")
        psn_no, _area, _ = self.visits[request.mdtrt_id]
        self.b.cancel_registration(request.mdtrt_id, psn_no)
        return DriverResult("ok", mdtrt_id=request.mdtrt_id)

    def _settle(self, visit: str, batch: str, items: tuple[Any, ...]) -> DriverResult:
        psn_no, area, _ = self.visits[visit]
        total = f"{sum((i.total for i in items), Decimal('0.00'))}"
        self.b.upload(
            visit,
            batch,
            [(str(i.qty), str(i.price), str(i.total)) for i in items],
            psn_no,
            insuplc=area,
        )
        self.b.presettle(visit, batch, total, psn_no, insuplc=area)
        fault = self.mock.take_fault(self.b.code, "2207")
        record = self.b.settle(visit, batch, total, psn_no, insuplc=area)
        if fault == "commit-then-drop":
            record.update(delivered=False, fault=fault_member(fault))
            if self.resend_unknown:
                record = self.b.settle(visit, batch, total, psn_no, insuplc=area)
            else:
                self.b.reverse(record["msgid"], psn_no=psn_no)
                return DriverResult(
                    "rejected", patient_message="结算未完成，已自动撤销，请重新缴费"
                )
        info = record["response"]["output"]["setlinfo"]
        amounts = {
            k: info[k] for k in ("medfee_sumamt", "fund_pay_sumamt", "acct_pay", "psn_cash_pay")
        }
        return DriverResult("ok", mdtrt_id=visit, setl_id=setl_id_of(record), amounts=amounts)

    def charge(self, request: ChargeRequest) -> DriverResult:
        self._enter("charge")
        return self._settle(request.mdtrt_id, request.chrg_bchno, request.items)

    def refund(self, request: RefundRequest) -> DriverResult:
        self._enter("refund")
        self.b.refund(request.setl_id, request.mdtrt_id, request.psn_no)
        batch = self._batch_of(request.setl_id)
        self.b.cancel_fees(request.mdtrt_id, batch, request.psn_no)
        return DriverResult("ok", mdtrt_id=request.mdtrt_id)

    def partial_refund(self, request: PartialRefundRequest) -> DriverResult:
        self._enter("partial_refund")
        self.refund(RefundRequest(request.mdtrt_id, request.setl_id, request.psn_no))
        return DriverResult("ok", message="fake HIS does not resettle")

    def reconcile(self, request: ReconcileRequest) -> DriverResult:
        self._enter("reconcile")
        totals = ledger_of(self.b.records)
        self.b.reconcile(
            str(totals.medfee_sumamt),
            str(totals.fund_pay_sumamt),
            str(totals.acct_pay),
            totals.setl_cnt,
        )
        return DriverResult("ok", balanced=True)

    def _batch_of(self, setl_id: str) -> str:
        for trace in settlements(parse_records(self.b.records)):
            if trace.setl_id == setl_id and trace.chrg_bchno:
                return trace.chrg_bchno
        return "0000"

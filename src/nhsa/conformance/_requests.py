"""From a scenario step and earlier results to the typed request a driver action takes.

References (``$register.mdtrt_id``) are looked up in the results of earlier steps; the
patient, certificate and ``ipt_otp_no`` of a visit come from the register step that created
it; fee lines of a settlement come from the charge (or partial refund) that made it, so a
partial refund takes lines back at the price they were charged. Run-unique ``ipt_otp_no`` and
``chrg_bchno`` values come from the plan.

Example:
    >>> StepInputs().visit_of("register") is None
    True
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from nhsa.conformance._driver import (
    CancelRegistrationRequest,
    ChargeRequest,
    DriverCertificate,
    DriverResult,
    FeeItem,
    PartialRefundRequest,
    ReconcileRequest,
    RefundRequest,
    RegisterRequest,
    SignInRequest,
)
from nhsa.conformance._errors import ScenarioError
from nhsa.conformance._plan import ScenarioPlan, certificate_of
from nhsa.conformance._scenario import Reference, RefundLine, Scenario, Step

__all__ = ["StepInputs", "UnresolvedReferenceError", "build_request", "settled_items"]

DriverRequest = (
    SignInRequest
    | RegisterRequest
    | CancelRegistrationRequest
    | ChargeRequest
    | RefundRequest
    | PartialRefundRequest
    | ReconcileRequest
)


class UnresolvedReferenceError(LookupError):
    """A reference names a step that produced no value (it failed, was skipped or timed out).

    Example:
        >>> issubclass(UnresolvedReferenceError, LookupError)
        True
    """


@dataclass
class _Visit:
    patient: str
    certificate: DriverCertificate
    ipt_otp_no: str
    insutype: str
    med_type: str


@dataclass
class StepInputs:
    """What earlier steps left for later ones: results, visits, settled fee lines.

    Example:
        >>> StepInputs().results
        {}
    """

    results: dict[str, DriverResult] = field(default_factory=dict)
    visits: dict[str, _Visit] = field(default_factory=dict)
    settled: dict[str, tuple[FeeItem, ...]] = field(default_factory=dict)

    def visit_of(self, register_step: str) -> _Visit | None:
        """The visit a register step created (its patient, certificate, ipt_otp_no)."""
        return self.visits.get(register_step)

    def value(self, reference: Reference) -> Any:
        """The referenced result field; UnresolvedReferenceError when there is none."""
        result = self.results.get(reference.step)
        value = result.field(reference.field) if result is not None else None
        if value is None or value == "":
            status = result.status if result is not None else "no result"
            raise UnresolvedReferenceError(
                f"needs {reference}, but step {reference.step!r} ended with {status} and no "
                f"{reference.field}"
            )
        return value


def build_request(
    step: Step, plan: ScenarioPlan, inputs: StepInputs, today: date
) -> tuple[DriverRequest, str | None]:
    """The driver request for ``step`` and the alias of the patient it acts for.

    Example::

        request, patient = build_request(step, plan, inputs, today=date(2026, 11, 23))
    """
    params = step.params
    if step.action == "sign_in":
        return SignInRequest(operator=params.get("operator")), None
    if step.action == "register":
        return _register(step, plan, inputs)
    if step.action == "reconcile":
        day = params.get("day", "today")
        return ReconcileRequest(today if day == "today" else date.fromisoformat(day)), None
    return _visit_request(step, plan, inputs)


def _visit_request(step: Step, plan: ScenarioPlan, inputs: StepInputs) -> tuple[DriverRequest, str]:
    """Requests about an existing visit: cancel, charge, refund, partial refund."""
    params = step.params
    visit_ref: Reference = params["visit"]
    visit = inputs.visit_of(visit_ref.step)
    mdtrt_id = str(inputs.value(visit_ref))
    if visit is None:
        raise UnresolvedReferenceError(f"needs the visit of step {visit_ref.step!r}")
    psn_no = plan.patients[visit.patient].psn_no
    request: DriverRequest
    if step.action == "cancel_registration":
        request = CancelRegistrationRequest(mdtrt_id, psn_no, visit.ipt_otp_no)
    elif step.action == "charge":
        request = ChargeRequest(
            mdtrt_id=mdtrt_id,
            psn_no=psn_no,
            certificate=visit.certificate,
            insutype=visit.insutype,
            med_type=visit.med_type,
            chrg_bchno=plan.unique.next("B"),
            items=plan.fee_items(params.get("fees") or plan.scenario.given.fees),
            acct_used_flag=params.get("acct_used_flag", "1"),
        )
    else:
        settlement: Reference = params["settlement"]
        setl_id = str(inputs.value(settlement))
        if step.action == "refund":
            request = RefundRequest(mdtrt_id, setl_id, psn_no)
        else:
            charged = inputs.settled.get(settlement.step, ())
            taken_back = _priced(params["lines"], charged, step, plan.scenario)
            request = PartialRefundRequest(
                mdtrt_id, setl_id, psn_no, taken_back, plan.unique.next("B")
            )
    return request, visit.patient


def _register(step: Step, plan: ScenarioPlan, inputs: StepInputs) -> tuple[RegisterRequest, str]:
    params = step.params
    alias = params.get("patient") or next(iter(plan.patients))
    patient = plan.patients[alias]
    cert_type = params.get("certificate", patient.certificate.cert_type)
    certificate = certificate_of(patient.person, cert_type)
    request = RegisterRequest(
        certificate=certificate,
        insutype=patient.insutype,
        med_type=params.get("med_type", patient.med_type),
        ipt_otp_no=plan.unique.next("OTP"),
        emergency=params.get("emergency", patient.emergency),
    )
    inputs.visits[step.name] = _Visit(
        alias, certificate, request.ipt_otp_no, request.insutype, request.med_type
    )
    return request, alias


def _priced(
    lines: tuple[RefundLine, ...], charged: tuple[FeeItem, ...], step: Step, scenario: Scenario
) -> tuple[FeeItem, ...]:
    items = []
    for line in lines:
        item = next((c for c in charged if c.code == line.code), None)
        if item is None:
            raise ScenarioError(
                scenario.path, line.line, f"{step.name}: code {line.code} was not charged"
            )
        items.append(FeeItem(item.code, item.hospital_code, line.qty, item.price))
    return tuple(items)


def settled_items(
    request: ChargeRequest | PartialRefundRequest, inputs: StepInputs, settlement_step: str | None
) -> tuple[FeeItem, ...]:
    """The fee lines a successful charge or partial refund leaves settled.

    Example:
        >>> item = FeeItem("X", "H", Decimal("2"), Decimal("5"))
        >>> req = PartialRefundRequest("M", "S", "P", (FeeItem("X", "H", Decimal("1"),
        ...                            Decimal("5")),), "B2")
        >>> inputs = StepInputs(settled={"charge": (item,)})
        >>> [(i.code, i.qty) for i in settled_items(req, inputs, "charge")]
        [('X', Decimal('1'))]
    """
    if isinstance(request, ChargeRequest):
        return request.items
    remaining: list[FeeItem] = []
    taken = {item.code: item.qty for item in request.items}
    for item in inputs.settled.get(settlement_step or "", ()):
        qty = item.qty - taken.get(item.code, Decimal(0))
        if qty > 0:
            remaining.append(FeeItem(item.code, item.hospital_code, qty, item.price))
    return tuple(remaining)

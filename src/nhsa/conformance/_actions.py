"""The action table: every action a scenario's ``do`` may name, each defined once.

An :class:`Action` says all there is about one action:

- its **parameters** — each one's JSON Schema (``conformance/scenario.schema.json`` is
  generated from this table, and a test keeps the file equal to it) and how the reader turns
  the checked value into a typed one (a reference, fee lines, a mock fault); ``required`` and
  ``complete`` add what needs the rest of the scenario (a default settlement, a patient to
  choose);
- how the runner carries it out (``runs``): for a **driver action** a :class:`DriverCall` —
  the request type, the builder that fills it from the plan and earlier results, the
  :class:`~nhsa.conformance.Driver` method it calls, and which fee lines a successful result
  leaves settled; for a **suite action** a :class:`MockCall`, what is done on the mock.

The reader, the schema, the request builder and the runner all follow this table, so a new
action is one entry here — plus, for a driver action, its request type and the ``Driver``
method each driver implements (a test keeps the table, the protocol and
``conformance/driver-api.yaml`` naming the same actions).

Example:
    >>> [name for name, action in ACTIONS.items() if not action.drives_his]
    ['arm_fault', 'schedule_downtime', 'clear_faults']
    >>> ACTIONS["cancel_stay_settlement"].required, sorted(ACTIONS["settle_midway"].parameters)
    (('stay',), ['acct_used_flag', 'stay', 'until'])
    >>> ACTIONS["partial_refund"].required, sorted(ACTIONS["partial_refund"].parameters)
    (('visit', 'lines'), ['lines', 'settlement', 'visit'])
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Generic, TypeVar

from nhsa.conformance._driver import (
    AdmitRequest,
    CancelAdmissionRequest,
    CancelChronicRequest,
    CancelRegistrationRequest,
    CancelStaySettlementRequest,
    ChargeRequest,
    DischargeRequest,
    Driver,
    DriverResult,
    FeeItem,
    PartialRefundRequest,
    ReconcileRequest,
    RefundRequest,
    RegisterChronicRequest,
    RegisterRequest,
    SignInRequest,
    StayFeesRequest,
    StaySettlementRequest,
)
from nhsa.conformance._errors import ScenarioError
from nhsa.conformance._mock_handle import MockHandle, describe_fault, fault_body
from nhsa.conformance._plan import certificate_of
from nhsa.conformance._requests import StepInputs, Visit, remaining_items
from nhsa.conformance._scenario import (
    DowntimePlan,
    FaultPlan,
    FeeSpec,
    PatientSpec,
    Reference,
    RefundLine,
    Step,
)
from nhsa.conformance._yaml import Located
from nhsa.mock.faults import FaultSpecError, parse_fault_spec
from nhsa.spec import code_table

if TYPE_CHECKING:
    from nhsa.conformance._plan import ScenarioPlan

__all__ = [
    "ACTIONS",
    "ALIAS",
    "CERT_TYPES",
    "DRIVER_ACTIONS",
    "Action",
    "DriverCall",
    "MockCall",
    "Parameter",
    "StepContext",
    "disease_name",
    "read_downtime",
    "read_fault",
    "read_fees",
    "ref",
]

ALIAS: Final = r"^[a-z][a-z0-9_]*$"
"""Step names (``as``) and patient aliases: lower_snake_case."""
CERT_TYPES: Final = ("01", "02", "03")
"""mdtrt_cert_type: 01 e-voucher, 02 ID card, 03 social-security card."""
_REFERENCE: Final = r"^\$[a-z][a-z0-9_]*\.[a-z_]+(\.[a-z_]+)?$"
_SETTLING: Final = ("charge", "partial_refund")
_STAY_SETTLING: Final = ("settle_midway", "settle_stay")
_CHRONIC_MED_TYPE: Final = "14"
_DISEASE: Final = {
    "type": "string",
    "pattern": r"^M[0-9]{5}$",
    "x-expected": "a chronic disease code (门慢门特病种目录代码) such as M03900",
}

_R = TypeVar("_R")


def ref(name: str, **annotations: Any) -> dict[str, Any]:
    """A JSON Schema reference to ``$defs/<name>`` of the scenario schema.

    Example:
        >>> ref("fees", description="fee lines")
        {'$ref': '#/$defs/fees', 'description': 'fee lines'}
    """
    return {"$ref": f"#/$defs/{name}", **annotations}


@dataclass(frozen=True)
class StepContext:
    """What reading a parameter may consult: the file, the patients, default fees, earlier steps."""

    path: Path
    patients: Mapping[str, PatientSpec]
    fees: tuple[FeeSpec, ...] = ()
    earlier: Sequence[Step] = ()

    def error(self, line: int, problem: str) -> ScenarioError:
        """The error for ``problem`` at ``line`` of this file."""
        return ScenarioError(self.path, line, problem)


Read = Callable[[Located, StepContext], Any]
Complete = Callable[[dict[str, Any], Located, StepContext], None]
Perform = Callable[[MockHandle, "ScenarioPlan", Step], tuple[Mapping[str, Any], str]]


def _as_is(node: Located, _: StepContext) -> Any:
    return node.plain()


@dataclass(frozen=True)
class Parameter:
    """One parameter of an action: its JSON Schema, and how its (checked) value is read."""

    schema: Mapping[str, Any]
    read: Read = _as_is


@dataclass(frozen=True)
class DriverCall(Generic[_R]):
    """How a driver action's step becomes a call: build the request, call, remember.

    ``build(step, plan, inputs, today)`` returns the request and the alias of the patient it
    acts for; ``settles`` gives the fee lines a successful result leaves settled (for a later
    partial refund's prices).
    """

    request: type[_R]
    build: Callable[[Step, ScenarioPlan, StepInputs, date], tuple[_R, str | None]]
    call: Callable[[Driver, _R], DriverResult]
    settles: Callable[[Step, _R, StepInputs], tuple[FeeItem, ...]] | None = None


@dataclass(frozen=True)
class MockCall:
    """What the runner does on the mock for a suite action.

    ``perform(mock, plan, step)`` acts and returns what the report shows as the step's
    request, and a one-line message.
    """

    perform: Perform


@dataclass(frozen=True)
class Action:
    """One action of the table (see the module docstring)."""

    name: str
    summary: str
    runs: DriverCall[Any] | MockCall
    parameters: Mapping[str, Parameter] = field(default_factory=dict)
    required: tuple[str, ...] = ()
    complete: Complete | None = None

    @property
    def drives_his(self) -> bool:
        """Whether the HIS acts (through the driver), rather than the runner on the mock."""
        return isinstance(self.runs, DriverCall)


# -- reading parameters ---------------------------------------------------------------------


def _patient_alias(node: Located, ctx: StepContext) -> str:
    alias = str(node.scalar)
    if alias not in ctx.patients:
        known = ", ".join(ctx.patients)
        raise ctx.error(node.line, f"patient {alias!r} is not in given.patients ({known})")
    return alias


def _decimal(node: Located) -> Decimal:
    return Decimal(str(node.scalar))


def _text(node: Located | None) -> str | None:
    return None if node is None else str(node.scalar)


def read_fees(node: Located, _: StepContext) -> tuple[FeeSpec, ...]:
    """Fee lines (``given.fees``, ``charge.fees``) as :class:`FeeSpec`."""
    return tuple(
        FeeSpec(
            code=str(line.entries["code"].scalar),
            qty=_decimal(line.entries["qty"]),
            price=_decimal(line.entries["price"]),
            hospital_code=_text(line.get("hospital_code")),
            line=line.line,
        )
        for line in node.elements
    )


def _refund_lines(node: Located, _: StepContext) -> tuple[RefundLine, ...]:
    return tuple(
        RefundLine(str(line.entries["code"].scalar), _decimal(line.entries["qty"]), line.line)
        for line in node.elements
    )


def _reference(key: str, actions: tuple[str, ...], wanted: str) -> Read:
    """Reads ``$step.field``: an earlier step of one of ``actions``, its ``wanted`` field."""

    def read(node: Located, ctx: StepContext) -> Reference:
        text = str(node.scalar)
        step_name, _, field_name = text[1:].partition(".")  # the schema checked the shape
        target = next((s for s in ctx.earlier if s.name == step_name), None)
        if target is None:
            names = ", ".join(s.name for s in ctx.earlier) or "none"
            raise ctx.error(
                node.line,
                f"{key} {text!r}: no earlier step named {step_name!r} (earlier steps: {names})",
            )
        if target.action not in actions or field_name != wanted:
            raise ctx.error(
                node.line, f"{key} {text!r} must be the {wanted} of a {' or '.join(actions)} step"
            )
        return Reference(step_name, field_name, node.line)

    return read


def _day(node: Located, ctx: StepContext) -> str:
    day = str(node.plain())
    if day != "today":
        try:
            date.fromisoformat(day)
        except ValueError:
            raise ctx.error(node.line, f"day {day!r} is not a date of the calendar") from None
    return day


def read_fault(node: Located, ctx: StepContext) -> FaultPlan:
    """A fault (``given.faults``, ``arm_fault.fault``): the mock's :class:`FaultSpec`, checked
    by the mock's own rules, and the patient alias that scopes it.
    """
    alias = node.get("patient")
    patient = _patient_alias(alias, ctx) if alias is not None else None
    data = {key: value.plain() for key, value in node.items() if key != "patient"}
    try:
        spec = parse_fault_spec(data)
    except FaultSpecError as error:
        raise ctx.error(node.key_lines.get(error.field, node.line), str(error)) from None
    return FaultPlan(spec, patient, node.line)


def _one_place(params: Mapping[str, Any], node: Located, ctx: StepContext) -> None:
    if ("area" in params) == ("patient" in params):
        raise ctx.error(
            node.line, "a downtime needs area or patient (for their insured area), not both"
        )


def read_downtime(node: Located, ctx: StepContext) -> DowntimePlan:
    """A downtime window (``given.downtime``): its area, or its patient's insured area."""
    parameters = ACTIONS["schedule_downtime"].parameters
    params = {key: parameters[key].read(value, ctx) for key, value in node.items()}
    _one_place(params, node, ctx)
    return _downtime(params, node.line)


def _downtime(params: Mapping[str, Any], line: int) -> DowntimePlan:
    return DowntimePlan(params.get("area"), params.get("patient"), params["minutes"], line)


def _choose_patient(action: str) -> Complete:
    def complete(params: dict[str, Any], node: Located, ctx: StepContext) -> None:
        if "patient" not in params and len(ctx.patients) > 1:
            raise ctx.error(node.line, f"{action} needs patient: one of {', '.join(ctx.patients)}")

    return complete


def _chronic_visit(params: dict[str, Any], node: Located, ctx: StepContext) -> None:
    """register: a patient to choose, and ``chronic`` only with med_type 14 (or none)."""
    _choose_patient("register")(params, node, ctx)
    if "chronic" in params and params.get("med_type", _CHRONIC_MED_TYPE) != _CHRONIC_MED_TYPE:
        raise ctx.error(
            node.line, f"a chronic visit is med_type 14, not {params['med_type']}: drop med_type"
        )


def _fees_known(action: str) -> Complete:
    def complete(params: dict[str, Any], node: Located, ctx: StepContext) -> None:
        if "fees" not in params and not ctx.fees:
            raise ctx.error(node.line, f"{action} needs fees (or given.fees)")

    return complete


def _latest_settlement(params: dict[str, Any], node: Located, ctx: StepContext) -> None:
    """``settlement`` defaults to the latest charge (or partial refund) of the same visit."""
    if "settlement" in params:
        return
    visit = params["visit"]
    for step in reversed(ctx.earlier):
        if step.action in _SETTLING and step.params.get("visit") == visit:
            params["settlement"] = Reference(step.name, "setl_id", node.line)
            return
    raise ctx.error(
        node.line, f"no earlier charge of {visit}: name the settlement ($<charge step>.setl_id)"
    )


_REFERENCE_SCHEMA: Final = {
    "type": "string",
    "pattern": _REFERENCE,
    "x-expected": "a reference like $register.mdtrt_id",
}
_VISIT: Final = Parameter(
    {**_REFERENCE_SCHEMA, "description": "the visit: $<register step>.mdtrt_id"},
    _reference("visit", ("register",), "mdtrt_id"),
)
_SETTLEMENT: Final = Parameter(
    {
        **_REFERENCE_SCHEMA,
        "description": "the settlement: $<charge or partial_refund step>.setl_id"
        " (default: the visit's latest)",
    },
    _reference("settlement", _SETTLING, "setl_id"),
)
_PATIENT: Final = Parameter(
    ref("text", description="a patient alias of given.patients"), _patient_alias
)
_DAY: Final = Parameter(
    {
        "type": "string",
        "pattern": r"^(today|[0-9]{4}-[0-9]{2}-[0-9]{2})$",
        "x-expected": "'today' (the platform's day) or a date YYYY-MM-DD",
        "default": "today",
    },
    _day,
)
_STAY: Final = Parameter(
    {**_REFERENCE_SCHEMA, "description": "the stay: $<admit step>.mdtrt_id"},
    _reference("stay", ("admit",), "mdtrt_id"),
)


# -- building driver requests ---------------------------------------------------------------


def _sign_in(step: Step, *_: Any) -> tuple[SignInRequest, None]:
    return SignInRequest(operator=step.params.get("operator")), None


def _register(
    step: Step, plan: ScenarioPlan, inputs: StepInputs, _: date
) -> tuple[RegisterRequest, str]:
    params = step.params
    alias = params.get("patient") or next(iter(plan.patients))
    patient = plan.patients[alias]
    certificate = certificate_of(
        patient.person, params.get("certificate", patient.certificate.cert_type)
    )
    chronic = params.get("chronic")
    med_type = _CHRONIC_MED_TYPE if chronic else params.get("med_type", patient.med_type)
    request = RegisterRequest(
        certificate=certificate,
        insutype=patient.insutype,
        med_type=med_type,
        ipt_otp_no=plan.unique.next("OTP"),
        emergency=params.get("emergency", patient.emergency),
    )
    inputs.visits[step.name] = Visit(
        alias, certificate, request.ipt_otp_no, request.insutype, request.med_type, chronic
    )
    return request, alias


def _visit_of(step: Step, plan: ScenarioPlan, inputs: StepInputs) -> tuple[str, Visit, str]:
    mdtrt_id, visit = inputs.visit(step.params["visit"])
    return mdtrt_id, visit, plan.patients[visit.patient].psn_no


def _cancel_registration(
    step: Step, plan: ScenarioPlan, inputs: StepInputs, _: date
) -> tuple[CancelRegistrationRequest, str]:
    mdtrt_id, visit, psn_no = _visit_of(step, plan, inputs)
    return CancelRegistrationRequest(mdtrt_id, psn_no, visit.ipt_otp_no), visit.patient


def _charge(
    step: Step, plan: ScenarioPlan, inputs: StepInputs, _: date
) -> tuple[ChargeRequest, str]:
    mdtrt_id, visit, psn_no = _visit_of(step, plan, inputs)
    request = ChargeRequest(
        mdtrt_id=mdtrt_id,
        psn_no=psn_no,
        certificate=visit.certificate,
        insutype=visit.insutype,
        med_type=visit.med_type,
        chrg_bchno=plan.unique.next("B"),
        items=plan.fee_items(step.params.get("fees") or plan.scenario.given.fees),
        acct_used_flag=step.params.get("acct_used_flag", "1"),
        dise_codg=visit.chronic,
        dise_name=disease_name(visit.chronic) if visit.chronic else None,
    )
    return request, visit.patient


def _refund(
    step: Step, plan: ScenarioPlan, inputs: StepInputs, _: date
) -> tuple[RefundRequest, str]:
    mdtrt_id, visit, psn_no = _visit_of(step, plan, inputs)
    setl_id = str(inputs.value(step.params["settlement"]))
    return RefundRequest(mdtrt_id, setl_id, psn_no), visit.patient


def _partial_refund(
    step: Step, plan: ScenarioPlan, inputs: StepInputs, _: date
) -> tuple[PartialRefundRequest, str]:
    mdtrt_id, visit, psn_no = _visit_of(step, plan, inputs)
    settlement: Reference = step.params["settlement"]
    setl_id = str(inputs.value(settlement))
    charged = inputs.settled.get(settlement.step, ())
    taken_back = []
    for line in step.params["lines"]:
        item = next((c for c in charged if c.code == line.code), None)
        if item is None:
            path = plan.scenario.path
            raise ScenarioError(path, line.line, f"{step.name}: code {line.code} was not charged")
        taken_back.append(FeeItem(item.code, item.hospital_code, line.qty, item.price))
    request = PartialRefundRequest(
        mdtrt_id, setl_id, psn_no, tuple(taken_back), plan.unique.next("B")
    )
    return request, visit.patient


def disease_name(code: str) -> str:
    """The name of a chronic disease of the contract's list (the code itself for another).

    Example:
        >>> disease_name("M03900"), disease_name("M99999")
        ('高血压病', 'M99999')
    """
    diseases = code_table("opsp_dise_code")
    return diseases.name_of(code) if code in diseases else code


def _register_chronic(
    step: Step, plan: ScenarioPlan, inputs: StepInputs, today: date
) -> tuple[RegisterChronicRequest, str]:
    params = step.params
    alias = params.get("patient") or next(iter(plan.patients))
    patient = plan.patients[alias]
    code = params["disease"]
    begins = params.get("begndate", "today")
    request = RegisterChronicRequest(
        certificate=certificate_of(patient.person, patient.certificate.cert_type),
        insutype=patient.insutype,
        opsp_dise_code=code,
        opsp_dise_name=disease_name(code),
        begndate=today if begins == "today" else date.fromisoformat(begins),
    )
    inputs.registrations[step.name] = alias
    return request, alias


def _cancel_chronic(
    step: Step, plan: ScenarioPlan, inputs: StepInputs, _: date
) -> tuple[CancelChronicRequest, str]:
    reference: Reference = step.params["registration"]
    serial = str(inputs.value(reference))
    alias = inputs.registrations[reference.step]
    reason = step.params.get("reason", "备案有误，撤销")
    return CancelChronicRequest(plan.patients[alias].psn_no, serial, reason), alias


def _reconcile(step: Step, _: Any, __: Any, today: date) -> tuple[ReconcileRequest, None]:
    day = step.params.get("day", "today")
    return ReconcileRequest(today if day == "today" else date.fromisoformat(day)), None


def _resettled(
    step: Step, request: PartialRefundRequest, inputs: StepInputs
) -> tuple[FeeItem, ...]:
    return remaining_items(inputs.settled.get(step.params["settlement"].step, ()), request.items)


def _latest_stay_settlement(params: dict[str, Any], node: Located, ctx: StepContext) -> None:
    """``settlement`` defaults to the latest settlement step of the same stay."""
    if "settlement" in params:
        return
    stay = params["stay"]
    for step in reversed(ctx.earlier):
        if step.action in _STAY_SETTLING and step.params.get("stay") == stay:
            params["settlement"] = Reference(step.name, "setl_id", node.line)
            return
    raise ctx.error(node.line, f"no earlier settlement of {stay}: name it ($<settle step>.setl_id)")


def _admit(step: Step, plan: ScenarioPlan, inputs: StepInputs, _: date) -> tuple[AdmitRequest, str]:
    params = step.params
    alias = params.get("patient") or next(iter(plan.patients))
    patient = plan.patients[alias]
    certificate = certificate_of(
        patient.person, params.get("certificate", patient.certificate.cert_type)
    )
    request = AdmitRequest(
        certificate=certificate,
        insutype=patient.insutype,
        med_type=params.get("med_type", "21"),
        ipt_no=plan.unique.next("IPT"),
    )
    inputs.visits[step.name] = Visit(
        alias, certificate, request.ipt_no, request.insutype, request.med_type
    )
    return request, alias


def _stay_fees(
    step: Step, plan: ScenarioPlan, inputs: StepInputs, _: date
) -> tuple[StayFeesRequest, str]:
    mdtrt_id, stay, psn_no = _stay_of(step, plan, inputs)
    items = plan.fee_items(step.params.get("fees") or plan.scenario.given.fees)
    return StayFeesRequest(mdtrt_id, psn_no, items), stay.patient


def _stay_settlement(midway: bool) -> Callable[..., tuple[StaySettlementRequest, str]]:
    def build(
        step: Step, plan: ScenarioPlan, inputs: StepInputs, today: date
    ) -> tuple[StaySettlementRequest, str]:
        mdtrt_id, stay, psn_no = _stay_of(step, plan, inputs)
        day = step.params.get("until", "today")
        request = StaySettlementRequest(
            mdtrt_id=mdtrt_id,
            psn_no=psn_no,
            certificate=stay.certificate,
            insutype=stay.insutype,
            midway=midway,
            until=(today if day == "today" else date.fromisoformat(day)) if midway else None,
            acct_used_flag=step.params.get("acct_used_flag", "1"),
        )
        return request, stay.patient

    return build


def _discharge(
    step: Step, plan: ScenarioPlan, inputs: StepInputs, _: date
) -> tuple[DischargeRequest, str]:
    mdtrt_id, stay, psn_no = _stay_of(step, plan, inputs)
    return DischargeRequest(mdtrt_id, psn_no, stay.insutype), stay.patient


def _cancel_stay_settlement(
    step: Step, plan: ScenarioPlan, inputs: StepInputs, _: date
) -> tuple[CancelStaySettlementRequest, str]:
    mdtrt_id, stay, psn_no = _stay_of(step, plan, inputs)
    setl_id = str(inputs.value(step.params["settlement"]))
    return CancelStaySettlementRequest(mdtrt_id, setl_id, psn_no), stay.patient


def _cancel_admission(
    step: Step, plan: ScenarioPlan, inputs: StepInputs, _: date
) -> tuple[CancelAdmissionRequest, str]:
    mdtrt_id, stay, psn_no = _stay_of(step, plan, inputs)
    return CancelAdmissionRequest(mdtrt_id, psn_no), stay.patient


def _stay_of(step: Step, plan: ScenarioPlan, inputs: StepInputs) -> tuple[str, Visit, str]:
    mdtrt_id, stay = inputs.visit(step.params["stay"])
    return mdtrt_id, stay, plan.patients[stay.patient].psn_no


# -- what the runner does on the mock -------------------------------------------------------


def _arm_fault(mock: MockHandle, plan: ScenarioPlan, step: Step) -> tuple[Mapping[str, Any], str]:
    fault = plan.resolve_fault(step.params["fault"])
    mock.arm_fault(plan.tenant, fault)
    return fault_body(fault), f"armed {describe_fault(fault)}"


def _schedule_downtime(
    mock: MockHandle, plan: ScenarioPlan, step: Step
) -> tuple[Mapping[str, Any], str]:
    downtime = plan.resolve_downtime(_downtime(step.params, step.line))
    mock.schedule_downtime(plan.tenant, downtime)
    return asdict(downtime), f"scheduled {downtime.describe()}"


def _clear_faults(mock: MockHandle, plan: ScenarioPlan, _: Step) -> tuple[Mapping[str, Any], str]:
    mock.clear_faults(plan.tenant)
    return {}, "cleared every fault and downtime window of the tenant"


# -- the table ------------------------------------------------------------------------------

ACTIONS: Final[Mapping[str, Action]] = {
    action.name: action
    for action in (
        Action(
            "sign_in",
            "sign in (9001) the configured operator or terminal",
            DriverCall(SignInRequest, _sign_in, lambda d, r: d.sign_in(r)),
            {"operator": Parameter(ref("text", description="who signs in (default: configured)"))},
        ),
        Action(
            "register",
            "look the patient up (1101) and register the visit (2201)",
            DriverCall(RegisterRequest, _register, lambda d, r: d.register(r)),
            {
                "patient": _PATIENT,
                "certificate": Parameter(
                    {"enum": list(CERT_TYPES), "description": "01 e-voucher, 02 ID card, 03 card"}
                ),
                "med_type": Parameter(ref("code", description="default 11, 13 for emergency")),
                "emergency": Parameter({"type": "boolean", "description": "an emergency visit"}),
                "chronic": Parameter(
                    {**_DISEASE, "description": "a chronic visit (med_type 14) of this disease"}
                ),
            },
            complete=_chronic_visit,
        ),
        Action(
            "cancel_registration",
            "cancel a visit's registration (2202)",
            DriverCall(
                CancelRegistrationRequest,
                _cancel_registration,
                lambda d, r: d.cancel_registration(r),
            ),
            {"visit": _VISIT},
            required=("visit",),
        ),
        Action(
            "charge",
            "upload visit info and fees, pre-settle and settle (2203–2207)",
            DriverCall(ChargeRequest, _charge, lambda d, r: d.charge(r), lambda _, r, __: r.items),
            {
                "visit": _VISIT,
                "fees": Parameter(ref("fees", description="default: given.fees"), read_fees),
                "acct_used_flag": Parameter({"enum": ["0", "1"], "default": "1"}),
            },
            required=("visit",),
            complete=_fees_known("charge"),
        ),
        Action(
            "refund",
            "refund a settlement in full (2208, then 2205)",
            DriverCall(RefundRequest, _refund, lambda d, r: d.refund(r)),
            {"visit": _VISIT, "settlement": _SETTLEMENT},
            required=("visit",),
            complete=_latest_settlement,
        ),
        Action(
            "partial_refund",
            "refund some fee lines: reverse the settlement and settle the rest again",
            DriverCall(
                PartialRefundRequest, _partial_refund, lambda d, r: d.partial_refund(r), _resettled
            ),
            {
                "visit": _VISIT,
                "settlement": _SETTLEMENT,
                "lines": Parameter(
                    ref("refund_lines", description="the lines taken back, [{code, qty}]"),
                    _refund_lines,
                ),
            },
            required=("visit", "lines"),
            complete=_latest_settlement,
        ),
        Action(
            "reconcile",
            "day-end reconciliation (3201; 3202 where unbalanced)",
            DriverCall(ReconcileRequest, _reconcile, lambda d, r: d.reconcile(r)),
            {"day": _DAY},
        ),
        Action(
            "arm_fault",
            "arm a fault",
            MockCall(_arm_fault),
            {"fault": Parameter(ref("fault", description="the fault: {kind: …}"), read_fault)},
            required=("fault",),
        ),
        Action(
            "schedule_downtime",
            "schedule a downtime window (停机) of an insured area",
            MockCall(_schedule_downtime),
            {
                "area": Parameter(ref("insured_area", description="the insured area that is down")),
                "patient": Parameter(
                    ref("text", description="or: this patient's insured area"), _patient_alias
                ),
                "minutes": Parameter(
                    {"type": "integer", "minimum": 1, "description": "how long it is down"}
                ),
            },
            required=("minutes",),
            complete=_one_place,
        ),
        Action(
            "clear_faults",
            "clear every fault and downtime window of the tenant",
            MockCall(_clear_faults),
        ),
        Action(
            "register_chronic",
            "register a chronic disease the hospital identified (1101, 2503)",
            DriverCall(
                RegisterChronicRequest, _register_chronic, lambda d, r: d.register_chronic(r)
            ),
            {
                "patient": _PATIENT,
                "disease": Parameter({**_DISEASE, "description": "the disease to register"}),
                "begndate": _DAY,
            },
            required=("disease",),
            complete=_choose_patient("register_chronic"),
        ),
        Action(
            "cancel_chronic",
            "cancel a chronic-disease registration the HIS made (2504)",
            DriverCall(CancelChronicRequest, _cancel_chronic, lambda d, r: d.cancel_chronic(r)),
            {
                "registration": Parameter(
                    {
                        **_REFERENCE_SCHEMA,
                        "description": "the registration: $<register_chronic step>"
                        ".trt_dcla_detl_sn",
                    },
                    _reference("registration", ("register_chronic",), "trt_dcla_detl_sn"),
                ),
                "reason": Parameter(ref("text", description="why it is cancelled (2504 memo)")),
            },
            required=("registration",),
        ),
        Action(
            "admit",
            "look the patient up (1101) and admit them for an inpatient stay (2401)",
            DriverCall(AdmitRequest, _admit, lambda d, r: d.admit(r)),
            {
                "patient": _PATIENT,
                "certificate": Parameter(
                    {"enum": list(CERT_TYPES), "description": "01 e-voucher, 02 ID card, 03 card"}
                ),
                "med_type": Parameter(ref("code", description="default 21 普通住院")),
            },
            complete=_choose_patient("admit"),
        ),
        Action(
            "upload_stay_fees",
            "upload one batch of the stay's fee lines (2301)",
            DriverCall(StayFeesRequest, _stay_fees, lambda d, r: d.upload_stay_fees(r)),
            {
                "stay": _STAY,
                "fees": Parameter(ref("fees", description="default: given.fees"), read_fees),
            },
            required=("stay",),
            complete=_fees_known("upload_stay_fees"),
        ),
        Action(
            "settle_midway",
            "settle the stay's fees up to a day while the patient stays (中途结算, 2303 + 2304)",
            DriverCall(
                StaySettlementRequest, _stay_settlement(True), lambda d, r: d.settle_midway(r)
            ),
            {
                "stay": _STAY,
                "until": _DAY,
                "acct_used_flag": Parameter({"enum": ["0", "1"], "default": "1"}),
            },
            required=("stay",),
        ),
        Action(
            "discharge",
            "discharge the patient (2402)",
            DriverCall(DischargeRequest, _discharge, lambda d, r: d.discharge(r)),
            {"stay": _STAY},
            required=("stay",),
        ),
        Action(
            "settle_stay",
            "settle the discharged stay (2303 + 2304 mid_setl_flag 0)",
            DriverCall(
                StaySettlementRequest, _stay_settlement(False), lambda d, r: d.settle_stay(r)
            ),
            {"stay": _STAY, "acct_used_flag": Parameter({"enum": ["0", "1"], "default": "1"})},
            required=("stay",),
        ),
        Action(
            "cancel_stay_settlement",
            "cancel a settlement of the stay (2305); a HIS goes newest first",
            DriverCall(
                CancelStaySettlementRequest,
                _cancel_stay_settlement,
                lambda d, r: d.cancel_stay_settlement(r),
            ),
            {
                "stay": _STAY,
                "settlement": Parameter(
                    {
                        **_REFERENCE_SCHEMA,
                        "description": "the settlement: $<settle_midway or settle_stay step>"
                        ".setl_id (default: the stay's latest)",
                    },
                    _reference("settlement", _STAY_SETTLING, "setl_id"),
                ),
            },
            required=("stay",),
            complete=_latest_stay_settlement,
        ),
        Action(
            "cancel_admission",
            "cancel the admission: its fee lines (2302), then 2404",
            DriverCall(
                CancelAdmissionRequest, _cancel_admission, lambda d, r: d.cancel_admission(r)
            ),
            {"stay": _STAY},
            required=("stay",),
        ),
    )
}
"""Every action, by name, in the order the README documents them."""

DRIVER_ACTIONS: Final = tuple(name for name, action in ACTIONS.items() if action.drives_his)
"""The actions the HIS performs: one :class:`~nhsa.conformance.Driver` method each."""

"""Scenarios as data: ``conformance/stages/<stage>/*.yaml`` read, checked and typed.

The vocabulary is documented in ``conformance/README.md`` ("Scenario vocabulary"); in short::

    id: self-test/window-id-card-charge
    title: 窗口·身份证·门诊收费 / Window, ID card: charge
    requirements: [HIS-AMT-001, HIS-AMT-002]
    given:
      institution: H53010100001          # a fixture institution: area, level, services
      mode: window                        # window | kiosk
      patient: {psn_no: P53010000000001, certificate: "02"}
      fees: [{code: "110200001000000", qty: 1, price: "25.00"}]
      faults: [{kind: commit-then-drop, infno: "2207"}]
    do:
      - sign_in: {}
      - register: {}
      - charge: {visit: $register.mdtrt_id}
    expect:
      outcomes: {charge: ok}
      checks: [settle_echoes_presettle, {name: msgid_format, args: {max_skew_seconds: 600}}]

Everything is checked when the file is loaded — unknown keys, actions and checks, wrong
types, references to steps that do not exist (or come later), outcomes for unknown steps,
requirements no listed check verifies — and each problem is a
:class:`~nhsa.conformance.ScenarioError` naming the file and line. Nothing runs until every
scenario of the selected stages has loaded.

Example:
    >>> from nhsa.conformance import bundled_stages_dir, default_registry
    >>> s = load_scenario(bundled_stages_dir() / "lab" / "every-transaction.yaml",
    ...                   default_registry())
    >>> s.stage, s.steps[0].action
    ('lab', 'sign_in')
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Final, TypeVar

from nhsa._resources import data_dir
from nhsa.conformance._driver import ACTIONS, RESULT_FIELDS
from nhsa.conformance._errors import ScenarioError
from nhsa.conformance._registry import CheckRegistry
from nhsa.conformance._requirements import STAGES, RequirementSet
from nhsa.conformance._yaml import Located, load_located
from nhsa.mock.faults import FaultSpec, FaultSpecError, parse_fault_spec

__all__ = [
    "EXPECTABLE_OUTCOMES",
    "SUITE_ACTIONS",
    "CheckUse",
    "DowntimePlan",
    "FaultPlan",
    "FeeSpec",
    "Given",
    "PatientSpec",
    "Reference",
    "RefundLine",
    "Scenario",
    "Step",
    "bundled_stages_dir",
    "load_scenario",
    "load_stages",
]

SUITE_ACTIONS: Final = ("arm_fault", "clear_faults", "schedule_downtime")
"""Actions the runner performs itself on the mock, between driver actions."""
EXPECTABLE_OUTCOMES: Final = ("ok", "rejected", "unknown")
PROFILES: Final = ("none", "tif", "sm2", "tif+sm2")
FILINGS: Final = ("filed", "unfiled", "referral", "emergency")
LOCALITIES: Final = ("local", "in_province", "cross_province")
CERT_TYPES: Final = ("01", "02", "03")
KIOSK_CERT_TYPES: Final = ("01", "03")

_ID = re.compile(r"^[a-z0-9][a-z0-9-]*/[a-z0-9][a-z0-9-]*$")
_ALIAS = re.compile(r"^[a-z][a-z0-9_]*$")
_AREA = re.compile(r"^[0-9]{2}(?:[0-9]{2}){0,2}$")
_INSURED_AREA = re.compile(r"^[0-9]{6}$")
_CODE = re.compile(r"^[0-9]{2,6}$")
_REFERENCE = re.compile(r"^\$(?P<step>[a-z][a-z0-9_]*)\.(?P<field>[a-z_]+(?:\.[a-z_]+)?)$")
_INSTITUTION = re.compile(r"^H[0-9]{11}$")

# What a reference in each parameter must point at: (actions of the step, result field).
_REFERENCE_TARGETS: Final = {
    "visit": (("register",), "mdtrt_id"),
    "settlement": (("charge", "partial_refund"), "setl_id"),
}
_T = TypeVar("_T")


@dataclass(frozen=True)
class PatientSpec:
    """Who the patient is: a fixture ``psn_no``, or a selector the runner resolves.

    Example:
        >>> PatientSpec("a", 3, insured_area="440300", filing="unfiled").is_selector
        True
    """

    alias: str
    line: int
    psn_no: str | None = None
    insured_area: str | None = None
    locality: str | None = None
    filing: str | None = None
    insutype: str | None = None
    med_type: str | None = None
    certificate: str | None = None

    @property
    def is_selector(self) -> bool:
        """Whether the patient is chosen by properties rather than by ``psn_no``."""
        return self.psn_no is None

    def describe(self) -> str:
        """A one-line description for reports."""
        if not self.is_selector:
            return f"psn_no {self.psn_no}"
        parts = [
            f"{name}={getattr(self, name)}"
            for name in ("insured_area", "locality", "filing", "insutype")
            if getattr(self, name)
        ]
        return "any patient with " + (", ".join(parts) or "no constraint")


@dataclass(frozen=True)
class FeeSpec:
    """A fee line of a scenario: catalogue code, quantity, unit price (hospital code optional).

    Example:
        >>> FeeSpec("110200001000000", Decimal("2"), Decimal("12.5"), None, 9).qty
        Decimal('2')
    """

    code: str
    qty: Decimal
    price: Decimal
    hospital_code: str | None
    line: int


@dataclass(frozen=True)
class RefundLine:
    """A line a partial refund takes back: catalogue code and quantity.

    Example:
        >>> RefundLine("110200001000000", Decimal("1"), 12).qty
        Decimal('1')
    """

    code: str
    qty: Decimal
    line: int


@dataclass(frozen=True)
class FaultPlan:
    """A mock fault to arm; ``patient`` (an alias) scopes it to that patient or their insured area.

    Example::

        FaultPlan(FaultSpec(kind="insured-place-unreachable"), patient="visitor", line=8)
    """

    spec: FaultSpec
    patient: str | None
    line: int


@dataclass(frozen=True)
class DowntimePlan:
    """A downtime window (停机) to schedule: ``area`` or ``patient``'s insured area, ``minutes``.

    Example::

        DowntimePlan(area=None, patient="shenzhen_a", minutes=120, line=19)
    """

    area: str | None
    patient: str | None
    minutes: int
    line: int


@dataclass(frozen=True)
class Reference:
    """``$step.field``: a value from an earlier step's driver result.

    Example:
        >>> str(Reference("register", "mdtrt_id", 12))
        '$register.mdtrt_id'
    """

    step: str
    field: str
    line: int = dataclasses.field(compare=False)

    def __str__(self) -> str:
        return f"${self.step}.{self.field}"


@dataclass(frozen=True)
class Step:
    """One entry of ``do``: an action, its checked parameters, its name and line.

    ``params`` holds plain values, :class:`Reference`, tuples of :class:`FeeSpec` /
    :class:`RefundLine`, or a :class:`FaultPlan` (for ``arm_fault``).

    Example::

        step.name, step.action, step.params["visit"]   # 'charge', 'charge', $register.mdtrt_id
    """

    name: str
    action: str
    params: Mapping[str, Any]
    line: int
    timeout: float | None = None

    @property
    def drives_his(self) -> bool:
        """Whether the step is a driver action (not one the runner does on the mock)."""
        return self.action in ACTIONS


@dataclass(frozen=True)
class CheckUse:
    """A check a scenario expects, with its arguments; ``optional`` overrides the default.

    By default a check is required when any requirement it verifies is SHALL.

    Example::

        - {name: msgid_format, args: {max_skew_seconds: 600}, optional: true}
    """

    name: str
    args: Mapping[str, Any]
    optional: bool | None
    line: int


@dataclass(frozen=True)
class Given:
    """The scenario's set-up (see the module docstring).

    Example::

        scenario.given.mode, scenario.given.patients["patient"].psn_no
    """

    institution: str
    profile: str
    mode: str
    on_unknown: str
    certificate: str
    patients: Mapping[str, PatientSpec]
    fees: tuple[FeeSpec, ...]
    faults: tuple[FaultPlan, ...]
    downtimes: tuple[DowntimePlan, ...]
    line: int


@dataclass(frozen=True)
class Scenario:
    """A loaded, checked scenario.

    Example:
        >>> from nhsa.conformance import default_registry
        >>> stages = load_stages(bundled_stages_dir(), ["lab"], default_registry())
        >>> all(s.stage == "lab" for s in stages["lab"])
        True
    """

    id: str
    title: str
    stage: str
    path: Path
    requirements: tuple[str, ...]
    given: Given
    steps: tuple[Step, ...]
    outcomes: Mapping[str, tuple[str, ...]]
    checks: tuple[CheckUse, ...]
    line: int = 1
    description: str = ""

    def step(self, name: str) -> Step:
        """The step called ``name``."""
        return next(s for s in self.steps if s.name == name)

    def expected_outcomes(self, step: Step) -> tuple[str, ...]:
        """The outcomes accepted for ``step`` (``ok`` unless ``expect.outcomes`` says)."""
        return self.outcomes.get(step.name, ("ok",))


def bundled_stages_dir() -> Path:
    """``conformance/stages`` of the checkout or the installed package.

    Example:
        >>> (bundled_stages_dir() / "lab").is_dir()
        True
    """
    return data_dir("conformance") / "stages"


def load_stages(
    root: Path,
    stages: Iterable[str],
    registry: CheckRegistry,
    requirements: RequirementSet | None = None,
) -> dict[str, list[Scenario]]:
    """Load every scenario of ``stages`` (in the order given) from ``root/<stage>/*.yaml``.

    Scenario ids must be unique across everything loaded; a stage folder without scenarios
    is an error (a stage that silently runs nothing would look green).

    Example:
        >>> from nhsa.conformance import default_registry
        >>> sorted(load_stages(bundled_stages_dir(), ["city", "lab"], default_registry()))
        ['city', 'lab']
    """
    loaded: dict[str, list[Scenario]] = {}
    seen: dict[str, Path] = {}
    for stage in stages:
        if stage not in STAGES:
            raise ScenarioError(root, None, f"unknown stage {stage!r}; stages: {', '.join(STAGES)}")
        folder = root / stage
        files = sorted(folder.glob("*.yaml")) if folder.is_dir() else []
        if not files:
            raise ScenarioError(folder, None, "no scenario files (*.yaml) for this stage")
        scenarios = []
        for file in files:
            scenario = load_scenario(file, registry, requirements, stage=stage)
            if scenario.id in seen:
                raise ScenarioError(
                    file,
                    scenario.line,
                    f"scenario id {scenario.id!r} is also used by {seen[scenario.id]}",
                )
            seen[scenario.id] = file
            scenarios.append(scenario)
        loaded[stage] = scenarios
    return loaded


def load_scenario(
    path: Path,
    registry: CheckRegistry,
    requirements: RequirementSet | None = None,
    *,
    stage: str | None = None,
) -> Scenario:
    """Load and check one scenario file (``stage`` defaults to the folder's name).

    Example:
        >>> from nhsa.conformance import default_registry
        >>> load_scenario(Path("nowhere.yaml"), default_registry())
        Traceback (most recent call last):
        nhsa.conformance._errors.ScenarioError: nowhere.yaml: cannot read: No such file or directory
    """
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ScenarioError(path, None, f"cannot read: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise ScenarioError(path, None, "not UTF-8 text") from None
    document = load_located(text, path, error=ScenarioError)
    reader = _Reader(path, registry, requirements)
    return reader.scenario(document, stage or path.parent.name)


class _Reader:
    """Reads one file; every helper raises ScenarioError with this file and the node's line."""

    def __init__(
        self, path: Path, registry: CheckRegistry, requirements: RequirementSet | None
    ) -> None:
        self.path = path
        self.registry = registry
        self.requirements = requirements

    # -- plumbing ---------------------------------------------------------------------------

    def error(self, line: int | None, problem: str) -> ScenarioError:
        return ScenarioError(self.path, line, problem)

    def mapping(
        self,
        node: Located,
        what: str,
        *,
        required: Iterable[str] = (),
        optional: Iterable[str] = (),
    ) -> Located:
        if node.kind != "mapping":
            raise self.error(node.line, f"{what} must be a mapping, got {_kind(node)}")
        allowed = [*required, *optional]
        for key in node.entries:
            if key not in allowed:
                raise self.error(
                    node.key_lines[key],
                    f"unknown key {key!r} in {what}; allowed: {', '.join(allowed)}",
                )
        for key in required:
            if key not in node.entries:
                raise self.error(node.line, f"{what} needs {key!r}")
        return node

    def text(self, node: Located, what: str, *, pattern: re.Pattern[str] | None = None) -> str:
        if node.kind != "scalar" or not isinstance(node.scalar, str) or not node.scalar.strip():
            hint = (
                ' (quote codes such as "02" so YAML keeps them as text)'
                if isinstance(node.scalar, int)
                else ""
            )
            raise self.error(
                node.line, f"{what} must be a non-empty string, got {_kind(node)}{hint}"
            )
        value = node.scalar.strip()
        if pattern is not None and not pattern.match(value):
            raise self.error(node.line, f"{what} {value!r} does not match {pattern.pattern}")
        return value

    def choice(self, node: Located, what: str, choices: Iterable[str]) -> str:
        options = tuple(choices)
        value = self.text(node, what)
        if value not in options:
            raise self.error(node.line, f"{what} {value!r} must be one of {', '.join(options)}")
        return value

    def integer(self, node: Located, what: str, *, minimum: int = 0) -> int:
        if (
            node.kind != "scalar"
            or isinstance(node.scalar, bool)
            or not isinstance(node.scalar, int)
        ):
            raise self.error(node.line, f"{what} must be an integer, got {_kind(node)}")
        if node.scalar < minimum:
            raise self.error(node.line, f"{what} must be at least {minimum}, got {node.scalar}")
        return node.scalar

    def number(self, node: Located, what: str, *, minimum: float = 0.0) -> float:
        value = node.scalar
        if node.kind != "scalar" or isinstance(value, bool) or not isinstance(value, int | float):
            raise self.error(node.line, f"{what} must be a number, got {_kind(node)}")
        if value < minimum:
            raise self.error(node.line, f"{what} must be at least {minimum}, got {value}")
        return float(value)

    def boolean(self, node: Located, what: str) -> bool:
        if node.kind != "scalar" or not isinstance(node.scalar, bool):
            raise self.error(node.line, f"{what} must be true or false, got {_kind(node)}")
        return node.scalar

    def decimal(self, node: Located, what: str, *, positive: bool = True) -> Decimal:
        value = node.scalar
        if (
            node.kind != "scalar"
            or isinstance(value, bool)
            or not isinstance(value, int | float | str)
        ):
            raise self.error(node.line, f"{what} must be a decimal number, got {_kind(node)}")
        try:
            number = Decimal(str(value).strip())
        except InvalidOperation:
            raise self.error(node.line, f"{what} {value!r} is not a decimal number") from None
        if not number.is_finite() or (positive and number <= 0):
            raise self.error(node.line, f"{what} must be a positive decimal number, got {value!r}")
        return number

    def sequence(self, node: Located, what: str, *, non_empty: bool = False) -> tuple[Located, ...]:
        if node.kind != "sequence":
            raise self.error(node.line, f"{what} must be a list, got {_kind(node)}")
        if non_empty and not node.elements:
            raise self.error(node.line, f"{what} must not be empty")
        return node.elements

    def optional(self, node: Located, key: str, read: Callable[[Located], _T], default: _T) -> _T:
        value = node.get(key)
        return read(value) if value is not None else default

    # -- the document -----------------------------------------------------------------------

    def scenario(self, doc: Located, stage: str) -> Scenario:
        self.mapping(
            doc,
            "the scenario",
            required=("id", "title", "requirements", "given", "do", "expect"),
            optional=("description",),
        )
        scenario_id = self.text(doc.entries["id"], "id", pattern=_ID)
        if stage not in STAGES:
            raise self.error(doc.line, f"stage folder {stage!r} is not one of {', '.join(STAGES)}")
        if not scenario_id.startswith(stage + "/"):
            raise self.error(
                doc.entries["id"].line, f"id {scenario_id!r} must start with the stage: {stage}/…"
            )
        title = self.text(doc.entries["title"], "title")
        description = self.optional(doc, "description", lambda n: self.text(n, "description"), "")
        requirement_ids = self.requirement_ids(doc.entries["requirements"])
        given = self.given(doc.entries["given"])
        steps = self.steps(doc.entries["do"], given)
        outcomes, checks = self.expect(doc.entries["expect"], steps)
        self.requirements_covered(doc.entries["requirements"], requirement_ids, checks)
        return Scenario(
            id=scenario_id,
            title=title,
            stage=stage,
            path=self.path,
            requirements=requirement_ids,
            given=given,
            steps=steps,
            outcomes=outcomes,
            checks=checks,
            line=doc.line,
            description=description,
        )

    def requirement_ids(self, node: Located) -> tuple[str, ...]:
        ids = []
        for element in self.sequence(node, "requirements", non_empty=True):
            rid = self.text(element, "a requirement id")
            if self.requirements is not None and rid not in self.requirements:
                raise self.error(
                    element.line, f"unknown requirement {rid!r} (not in {self.requirements.source})"
                )
            ids.append(rid)
        return tuple(ids)

    def requirements_covered(
        self, node: Located, ids: tuple[str, ...], checks: tuple[CheckUse, ...]
    ) -> None:
        verified = {rid for use in checks for rid in self.registry[use.name].verifies}
        missing = [rid for rid in ids if rid not in verified]
        if missing:
            raise self.error(
                node.line,
                f"requirements {', '.join(missing)} are listed but no check in expect.checks"
                " verifies them",
            )

    # -- given ------------------------------------------------------------------------------

    def given(self, node: Located) -> Given:
        self.mapping(
            node,
            "given",
            required=("institution",),
            optional=(
                "profile",
                "mode",
                "on_unknown",
                "certificate",
                "patient",
                "patients",
                "fees",
                "faults",
                "downtime",
            ),
        )
        institution = self.text(
            node.entries["institution"], "given.institution", pattern=_INSTITUTION
        )
        profile = self.optional(
            node, "profile", lambda n: self.choice(n, "profile", PROFILES), "tif+sm2"
        )
        mode = self.optional(
            node, "mode", lambda n: self.choice(n, "mode", ("window", "kiosk")), "window"
        )
        on_unknown = self.optional(
            node,
            "on_unknown",
            lambda n: self.choice(n, "on_unknown", ("reverse", "hold")),
            "reverse",
        )
        if mode == "kiosk" and on_unknown == "hold":
            raise self.error(
                node.entries["on_unknown"].line,
                "a kiosk cannot hold an unknown outcome: nobody is there to decide",
            )
        default_cert = "01" if mode == "kiosk" else "02"
        certificate = self.optional(
            node, "certificate", lambda n: self.choice(n, "certificate", CERT_TYPES), default_cert
        )
        patients = self.patients(node)
        no_fees: tuple[FeeSpec, ...] = ()
        no_faults: tuple[FaultPlan, ...] = ()
        fees = self.optional(node, "fees", self.fees, no_fees)
        faults = self.optional(node, "faults", lambda n: self.faults(n, patients), no_faults)
        no_downtimes: tuple[DowntimePlan, ...] = ()
        downtimes = self.optional(
            node,
            "downtime",
            lambda n: tuple(self.downtime(e, patients) for e in self.sequence(n, "downtime")),
            no_downtimes,
        )
        return Given(
            institution=institution,
            profile=profile,
            mode=mode,
            on_unknown=on_unknown,
            certificate=certificate,
            patients=patients,
            fees=fees,
            faults=faults,
            downtimes=downtimes,
            line=node.line,
        )

    def patients(self, given: Located) -> dict[str, PatientSpec]:
        single, several = given.get("patient"), given.get("patients")
        if single is not None and several is not None:
            raise self.error(several.line, "use either given.patient or given.patients, not both")
        if single is not None:
            return {"patient": self.patient("patient", single)}
        if several is None:
            raise self.error(given.line, "given needs a patient (given.patient or given.patients)")
        self.mapping(several, "given.patients", optional=list(several.entries))
        if not several.entries:
            raise self.error(several.line, "given.patients must name at least one patient")
        result = {}
        for alias, value in several.items():
            if not _ALIAS.match(alias):
                raise self.error(
                    several.key_lines[alias], f"patient alias {alias!r} must be lower_snake_case"
                )
            result[alias] = self.patient(alias, value)
        return result

    def patient(self, alias: str, node: Located) -> PatientSpec:
        if node.kind == "scalar":
            return PatientSpec(alias, node.line, psn_no=self.text(node, f"patient {alias}"))
        self.mapping(
            node,
            f"patient {alias}",
            optional=(
                "psn_no",
                "insured_area",
                "locality",
                "filing",
                "insutype",
                "med_type",
                "certificate",
            ),
        )
        psn_no = self.optional(node, "psn_no", lambda n: self.text(n, "psn_no"), None)
        selectors = [k for k in ("insured_area", "locality", "filing") if k in node.entries]
        if psn_no is not None and selectors:
            raise self.error(
                node.line,
                f"patient {alias}: give psn_no or selectors ({', '.join(selectors)}), not both",
            )
        return PatientSpec(
            alias=alias,
            line=node.line,
            psn_no=psn_no,
            insured_area=self.optional(
                node, "insured_area", lambda n: self.text(n, "insured_area", pattern=_AREA), None
            ),
            locality=self.optional(
                node, "locality", lambda n: self.choice(n, "locality", LOCALITIES), None
            ),
            filing=self.optional(node, "filing", lambda n: self.choice(n, "filing", FILINGS), None),
            insutype=self.optional(
                node, "insutype", lambda n: self.text(n, "insutype", pattern=_CODE), None
            ),
            med_type=self.optional(
                node, "med_type", lambda n: self.text(n, "med_type", pattern=_CODE), None
            ),
            certificate=self.optional(
                node, "certificate", lambda n: self.choice(n, "certificate", CERT_TYPES), None
            ),
        )

    def fees(self, node: Located) -> tuple[FeeSpec, ...]:
        lines = []
        for element in self.sequence(node, "fees", non_empty=True):
            self.mapping(
                element,
                "a fee line",
                required=("code", "qty", "price"),
                optional=("hospital_code",),
            )
            lines.append(
                FeeSpec(
                    code=self.text(element.entries["code"], "fee code"),
                    qty=self.decimal(element.entries["qty"], "fee qty"),
                    price=self.decimal(element.entries["price"], "fee price"),
                    hospital_code=self.optional(
                        element, "hospital_code", lambda n: self.text(n, "hospital_code"), None
                    ),
                    line=element.line,
                )
            )
        return tuple(lines)

    def refund_lines(self, node: Located) -> tuple[RefundLine, ...]:
        lines = []
        for element in self.sequence(node, "lines", non_empty=True):
            self.mapping(element, "a refund line", required=("code", "qty"))
            lines.append(
                RefundLine(
                    code=self.text(element.entries["code"], "refund line code"),
                    qty=self.decimal(element.entries["qty"], "refund line qty"),
                    line=element.line,
                )
            )
        return tuple(lines)

    def faults(self, node: Located, patients: Mapping[str, PatientSpec]) -> tuple[FaultPlan, ...]:
        return tuple(self.fault(element, patients) for element in self.sequence(node, "faults"))

    def fault(self, node: Located, patients: Mapping[str, PatientSpec]) -> FaultPlan:
        scope = ("infno", "area", "times", "probability", "seed")
        parameters = ("ms", "status", "after_commit", "err_msg", "mode")
        self.mapping(node, "a fault", required=("kind",), optional=(*scope, "patient", *parameters))
        patient = self.optional(node, "patient", lambda n: self.patient_of(n, patients), None)
        if "probability" in node.entries and "seed" not in node.entries:
            raise self.error(
                node.line, "a probability needs a seed, so the run can be repeated exactly"
            )
        data = {key: value.plain() for key, value in node.items() if key != "patient"}
        try:
            spec = parse_fault_spec(data)
        except FaultSpecError as error:
            raise self.error(node.key_lines.get(error.field, node.line), str(error)) from None
        return FaultPlan(spec, patient, node.line)

    def downtime(self, node: Located, patients: Mapping[str, PatientSpec]) -> DowntimePlan:
        self.mapping(node, "a downtime", required=("minutes",), optional=("area", "patient"))
        area = self.optional(
            node, "area", lambda n: self.text(n, "area", pattern=_INSURED_AREA), None
        )
        patient = self.optional(node, "patient", lambda n: self.patient_of(n, patients), None)
        if (area is None) == (patient is None):
            raise self.error(
                node.line, "a downtime needs area or patient (for their insured area), not both"
            )
        minutes = self.integer(node.entries["minutes"], "minutes", minimum=1)
        return DowntimePlan(area, patient, minutes, node.line)

    def patient_of(self, node: Located, patients: Mapping[str, PatientSpec]) -> str:
        alias = self.text(node, "patient")
        if alias not in patients:
            raise self.error(node.line, f"patient {alias!r} is not in given.patients")
        return alias

    # -- do ---------------------------------------------------------------------------------

    def steps(self, node: Located, given: Given) -> tuple[Step, ...]:
        steps: list[Step] = []
        names: dict[str, int] = {}
        for element in self.sequence(node, "do", non_empty=True):
            if element.kind != "mapping" or len(element.entries) != 1:
                raise self.error(
                    element.line,
                    "each step is a mapping with exactly one action,"
                    " e.g. '- charge: {visit: $register.mdtrt_id}'",
                )
            action, params = next(element.items())
            known = (*ACTIONS, *SUITE_ACTIONS)
            if action not in known:
                raise self.error(
                    element.line, f"unknown action {action!r}; actions: {', '.join(known)}"
                )
            if params.kind == "scalar" and params.scalar is None:
                params = Located("mapping", params.line)
            step = self.step(action, params, element.line, given, steps)
            if step.name in names:
                raise self.error(
                    element.line,
                    f"step name {step.name!r} is already used by line {names[step.name]}",
                )
            names[step.name] = element.line
            steps.append(step)
        return tuple(steps)

    def step(
        self, action: str, node: Located, line: int, given: Given, earlier: list[Step]
    ) -> Step:
        allowed = _STEP_PARAMS[action]
        self.mapping(node, f"the {action} step", optional=(*allowed, "as", "timeout"))
        name = self.optional(node, "as", lambda n: self.text(n, "as", pattern=_ALIAS), None)
        if name is None:
            name = _auto_name(action, earlier)
        timeout = self.optional(
            node, "timeout", lambda n: self.number(n, "timeout", minimum=0.1), None
        )
        params: dict[str, Any] = {}
        for key, value in node.items():
            if key in ("as", "timeout"):
                continue
            params[key] = self.parameter(action, key, value, given, earlier)
        self.required_parameters(action, node, params, given, earlier)
        if action == "schedule_downtime":
            fields = {k: v for k, v in node.entries.items() if k not in ("as", "timeout")}
            keys = {k: node.key_lines[k] for k in fields}
            params = {
                "downtime": self.downtime(
                    Located("mapping", node.line, entries=fields, key_lines=keys), given.patients
                )
            }
        return Step(name=name, action=action, params=params, line=line, timeout=timeout)

    def parameter(
        self, action: str, key: str, node: Located, given: Given, earlier: list[Step]
    ) -> Any:
        if action == "arm_fault":
            return self.fault(node, given.patients)
        if action == "schedule_downtime":
            return node
        if key in _REFERENCE_TARGETS:
            return self.reference(node, key, earlier)
        if isinstance(node.scalar, str) and node.scalar.startswith("$"):
            raise self.error(
                node.line,
                f"{key}: references ($step.field) are allowed in visit and settlement only",
            )
        readers: dict[str, Callable[[Located], Any]] = {
            "patient": lambda n: self.patient_alias(n, given),
            "certificate": lambda n: self.choice(n, "certificate", CERT_TYPES),
            "med_type": lambda n: self.text(n, "med_type", pattern=_CODE),
            "emergency": lambda n: self.boolean(n, "emergency"),
            "fees": self.fees,
            "lines": self.refund_lines,
            "acct_used_flag": lambda n: self.choice(n, "acct_used_flag", ("0", "1")),
            "day": self.day,
            "operator": lambda n: self.text(n, "operator"),
        }
        return readers[key](node)

    def patient_alias(self, node: Located, given: Given) -> str:
        alias = self.text(node, "patient")
        if alias not in given.patients:
            raise self.error(
                node.line,
                f"patient {alias!r} is not in given.patients ({', '.join(given.patients)})",
            )
        return alias

    def required_parameters(
        self,
        action: str,
        node: Located,
        params: dict[str, Any],
        given: Given,
        earlier: list[Step],
    ) -> None:
        if action == "arm_fault" and "fault" not in params:
            raise self.error(node.line, "arm_fault needs fault: {kind: …}")
        if (
            action in ("cancel_registration", "charge", "refund", "partial_refund")
            and "visit" not in params
        ):
            raise self.error(node.line, f"{action} needs visit: $<register step>.mdtrt_id")
        if action == "partial_refund" and "lines" not in params:
            raise self.error(
                node.line, "partial_refund needs lines: [{code, qty}] (the lines taken back)"
            )
        if action == "register" and "patient" not in params and len(given.patients) > 1:
            raise self.error(
                node.line, f"register needs patient: one of {', '.join(given.patients)}"
            )
        if action == "charge" and "fees" not in params and not given.fees:
            raise self.error(node.line, "charge needs fees (or given.fees)")
        if action in ("refund", "partial_refund") and "settlement" not in params:
            params["settlement"] = self.latest_settlement(node, params["visit"], earlier)

    def latest_settlement(self, node: Located, visit: Reference, earlier: list[Step]) -> Reference:
        for step in reversed(earlier):
            if step.action in ("charge", "partial_refund") and step.params.get("visit") == visit:
                return Reference(step.name, "setl_id", node.line)
        raise self.error(
            node.line, f"no earlier charge of {visit}: name the settlement ($<charge step>.setl_id)"
        )

    def reference(self, node: Located, key: str, earlier: list[Step]) -> Reference:
        text = self.text(node, key)
        match = _REFERENCE.match(text)
        if match is None:
            raise self.error(
                node.line, f"{key} {text!r} must be a reference like $register.mdtrt_id"
            )
        step_name, field_name = match["step"], match["field"]
        target = next((s for s in earlier if s.name == step_name), None)
        if target is None:
            names = ", ".join(s.name for s in earlier) or "none"
            raise self.error(
                node.line,
                f"{key} {text!r}: no earlier step named {step_name!r} (earlier steps: {names})",
            )
        if field_name not in RESULT_FIELDS and not field_name.startswith("amounts."):
            raise self.error(node.line, f"{key} {text!r}: results have no field {field_name!r}")
        actions, wanted = _REFERENCE_TARGETS[key]
        if target.action not in actions or field_name != wanted:
            raise self.error(
                node.line,
                f"{key} {text!r} must be the {wanted} of a {' or '.join(actions)} step",
            )
        return Reference(step_name, field_name, node.line)

    def day(self, node: Located) -> str:
        value = node.scalar
        if isinstance(value, date):
            return value.isoformat()
        if value == "today":
            return "today"
        raise self.error(node.line, f"day must be 'today' or a date (YYYY-MM-DD), got {value!r}")

    # -- expect -----------------------------------------------------------------------------

    def expect(
        self, node: Located, steps: tuple[Step, ...]
    ) -> tuple[dict[str, tuple[str, ...]], tuple[CheckUse, ...]]:
        self.mapping(node, "expect", required=("checks",), optional=("outcomes",))
        outcomes: dict[str, tuple[str, ...]] = {}
        outcome_node = node.get("outcomes")
        if outcome_node is not None:
            self.mapping(outcome_node, "expect.outcomes", optional=list(outcome_node.entries))
            driver_steps = {s.name: s for s in steps if s.drives_his}
            for name, value in outcome_node.items():
                if name not in driver_steps:
                    known = ", ".join(driver_steps) or "none"
                    raise self.error(
                        outcome_node.key_lines[name],
                        f"expect.outcomes: no driver step named {name!r} (steps: {known})",
                    )
                outcomes[name] = self.outcome_list(value)
        checks = tuple(
            self.check_use(e)
            for e in self.sequence(node.entries["checks"], "expect.checks", non_empty=True)
        )
        names = [c.name for c in checks]
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise self.error(
                node.entries["checks"].line, f"checks listed twice: {', '.join(repeated)}"
            )
        return outcomes, checks

    def outcome_list(self, node: Located) -> tuple[str, ...]:
        if node.kind == "sequence":
            values = tuple(self.choice(e, "an outcome", EXPECTABLE_OUTCOMES) for e in node.elements)
            if not values:
                raise self.error(node.line, "an outcome list must not be empty")
            return values
        return (self.choice(node, "an outcome", EXPECTABLE_OUTCOMES),)

    def check_use(self, node: Located) -> CheckUse:
        if node.kind == "scalar":
            name = self.text(node, "a check name")
            self.known_check(node, name)
            return CheckUse(name, {}, None, node.line)
        self.mapping(node, "a check", required=("name",), optional=("args", "optional"))
        name = self.text(node.entries["name"], "a check name")
        spec = self.known_check(node.entries["name"], name)
        args: dict[str, Any] = {}
        args_node = node.get("args")
        if args_node is not None:
            self.mapping(args_node, f"args of {name}", optional=list(spec.args))
            for key, value in args_node.items():
                args[key] = self.argument(value, f"{name}.args.{key}", spec.args[key])
        optional = self.optional(node, "optional", lambda n: self.boolean(n, "optional"), None)
        return CheckUse(name, args, optional, node.line)

    def known_check(self, node: Located, name: str) -> Any:
        if name not in self.registry:
            close = [n for n in self.registry if n[:6] == name[:6]]
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            raise self.error(node.line, f"unknown check {name!r}{hint}")
        return self.registry[name]

    def argument(self, node: Located, what: str, kind: type) -> Any:
        value = node.plain()
        ok = isinstance(value, kind) and not (kind is int and isinstance(value, bool))
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            ok, value = True, float(value)
        if not ok:
            raise self.error(
                node.line, f"{what} must be {kind.__name__}, got {type(value).__name__}"
            )
        return value


_STEP_PARAMS: Final[dict[str, tuple[str, ...]]] = {
    "sign_in": ("operator",),
    "register": ("patient", "certificate", "med_type", "emergency"),
    "cancel_registration": ("visit",),
    "charge": ("visit", "fees", "acct_used_flag"),
    "refund": ("visit", "settlement"),
    "partial_refund": ("visit", "settlement", "lines"),
    "reconcile": ("day",),
    "arm_fault": ("fault",),
    "clear_faults": (),
    "schedule_downtime": ("area", "patient", "minutes"),
}


def _auto_name(action: str, earlier: list[Step]) -> str:
    taken = {s.name for s in earlier}
    if action not in taken:
        return action
    n = 2
    while f"{action}_{n}" in taken:
        n += 1
    return f"{action}_{n}"


def _kind(node: Located) -> str:
    if node.kind != "scalar":
        return "a " + node.kind
    value = node.scalar
    return "nothing" if value is None else f"{type(value).__name__} {value!r}"

"""Scenarios as data: what a loaded ``conformance/stages/<stage>/*.yaml`` file is, typed.

The vocabulary is documented in ``conformance/README.md`` ("Scenario vocabulary") and checked
by ``conformance/scenario.schema.json``; in short::

    id: self-test/window-id-card-charge
    title: 窗口·身份证·门诊收费 / Window, ID card: charge
    requirements: [HIS-AMT-001, HIS-AMT-002]
    given:
      institution: H53010100001          # a fixture institution: area, level, services
      mode: window                        # window | kiosk
      patient: {psn_no: P53010000000001, certificate: "02"}
      fees: [{code: "110200001000000", qty: 1, price: "25.00"}]
      faults: [{kind: commit-then-drop, infno: "2207"}]     # the mock's own faults
    do:
      - sign_in: {}
      - register: {}
      - charge: {visit: $register.mdtrt_id}
    expect:
      outcomes: {charge: ok}
      checks: [settle_echoes_presettle, {name: msgid_format, args: {max_skew_seconds: 600}}]

:func:`~nhsa.conformance.load_scenario` reads a file into these types; what each action of
``do`` takes and does is the action table (:mod:`nhsa.conformance._actions`).

Example:
    >>> from nhsa.conformance import default_registry, load_scenario
    >>> s = load_scenario(bundled_stages_dir() / "lab" / "every-transaction.yaml",
    ...                   default_registry())
    >>> s.stage, s.steps[0].action, s.expected_outcomes(s.steps[0])
    ('lab', 'sign_in', ('ok',))
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from nhsa._resources import data_dir
from nhsa.mock.faults import FaultSpec

__all__ = [
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
]


@dataclass(frozen=True)
class PatientSpec:
    """Who the patient is: a fixture ``psn_no``, or a selector the runner resolves.

    Example:
        >>> PatientSpec("a", 3, insured_area="440300", filing="unfiled").describe()
        'any patient with insured_area=440300, filing=unfiled'
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
    """A fee line of a scenario: catalogue code, quantity, unit price (hospital code optional)."""

    code: str
    qty: Decimal
    price: Decimal
    hospital_code: str | None
    line: int


@dataclass(frozen=True)
class RefundLine:
    """A line a partial refund takes back: catalogue code and quantity."""

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
    """A downtime window (停机) to schedule: ``area``, or ``patient``'s insured area.

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
    """One entry of ``do``: an action, its read parameters, its name and line.

    ``params`` holds what the action's parameters read into (the action table says which):
    plain values, :class:`Reference`, tuples of :class:`FeeSpec` / :class:`RefundLine`, or a
    :class:`FaultPlan`.

    Example::

        step.name, step.action, step.params["visit"]   # 'charge', 'charge', $register.mdtrt_id
    """

    name: str
    action: str
    params: Mapping[str, Any]
    line: int
    timeout: float | None = None


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

    Example::

        scenario.id, scenario.stage, [step.name for step in scenario.steps]
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
        >>> sorted(p.name for p in bundled_stages_dir().iterdir())
        ['acceptance', 'city', 'district', 'lab', 'self-test']
    """
    return data_dir("conformance") / "stages"

"""Reading scenario files: YAML with lines, checked by the schema, then by the scenario's sense.

A file is parsed with every node's line (:mod:`nhsa.conformance._yaml`), checked against
``conformance/scenario.schema.json`` (:mod:`nhsa.conformance._scenario_schema`: unknown keys,
actions and values, wrong types, missing parameters), and then read into a
:class:`~nhsa.conformance.Scenario` with the rules a schema cannot state: the id starts with
the stage, references name earlier steps of the right action, patients and checks exist,
check arguments have their types, listed requirements are verified by a listed check. Each
action's parameters are read as the action table says (:mod:`nhsa.conformance._actions`).
Every problem is a :class:`~nhsa.conformance.ScenarioError` naming the file and line, and
nothing runs until every scenario of the selected stages has loaded.

Example:
    >>> from nhsa.conformance import bundled_stages_dir, default_registry
    >>> stages = load_stages(bundled_stages_dir(), ["city", "lab"], default_registry())
    >>> [(stage, len(scenarios)) for stage, scenarios in stages.items()]
    [('city', 5), ('lab', 7)]
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from nhsa.conformance._actions import ACTIONS, StepContext, read_downtime, read_fault, read_fees
from nhsa.conformance._errors import ScenarioError, read_data_file
from nhsa.conformance._registry import CheckRegistry, CheckSpec
from nhsa.conformance._requirements import STAGES, RequirementSet
from nhsa.conformance._scenario import CheckUse, Given, PatientSpec, Scenario, Step
from nhsa.conformance._scenario_schema import DEFAULTS, check_scenario
from nhsa.conformance._yaml import Located, load_located

__all__ = ["load_scenario", "load_stages"]

_SELECTORS = ("insured_area", "locality", "filing")


def load_stages(
    root: Path,
    stages: Iterable[str],
    registry: CheckRegistry,
    requirements: RequirementSet | None = None,
) -> dict[str, list[Scenario]]:
    """Load every scenario of ``stages`` (in the order given) from ``root/<stage>/*.yaml``.

    Scenario ids must be unique across everything loaded; a stage folder without scenarios
    is an error (a stage that silently runs nothing would look green).
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
    document = load_located(read_data_file(path, ScenarioError), path, error=ScenarioError)
    check_scenario(document, path)
    return _Reader(path, registry, requirements).scenario(document, stage or path.parent.name)


class _Reader:
    """Reads one schema-valid file; every rule it adds names this file and the node's line."""

    def __init__(
        self, path: Path, registry: CheckRegistry, requirements: RequirementSet | None
    ) -> None:
        self.path = path
        self.registry = registry
        self.requirements = requirements

    def error(self, line: int | None, problem: str) -> ScenarioError:
        return ScenarioError(self.path, line, problem)

    def scenario(self, doc: Located, stage: str) -> Scenario:
        scenario_id = str(doc.entries["id"].scalar)
        if stage not in STAGES:
            raise self.error(doc.line, f"stage folder {stage!r} is not one of {', '.join(STAGES)}")
        if not scenario_id.startswith(stage + "/"):
            raise self.error(
                doc.entries["id"].line, f"id {scenario_id!r} must start with the stage: {stage}/…"
            )
        requirement_ids = self.requirement_ids(doc.entries["requirements"])
        given = self.given(doc.entries["given"])
        steps = self.steps(doc.entries["do"], given)
        outcomes, checks = self.expect(doc.entries["expect"], steps)
        self.requirements_covered(doc.entries["requirements"], requirement_ids, checks)
        description = doc.get("description")
        return Scenario(
            id=scenario_id,
            title=str(doc.entries["title"].scalar),
            stage=stage,
            path=self.path,
            requirements=requirement_ids,
            given=given,
            steps=steps,
            outcomes=outcomes,
            checks=checks,
            line=doc.line,
            description=str(description.scalar) if description is not None else "",
        )

    def requirement_ids(self, node: Located) -> tuple[str, ...]:
        for element in node.elements:
            if self.requirements is not None and element.scalar not in self.requirements:
                raise self.error(
                    element.line,
                    f"unknown requirement {element.scalar!r} (not in {self.requirements.source})",
                )
        return tuple(str(element.scalar) for element in node.elements)

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
        values = node.plain()
        mode = values.get("mode", DEFAULTS["mode"])
        on_unknown = values.get("on_unknown", DEFAULTS["on_unknown"])
        if mode == "kiosk" and on_unknown == "hold":
            raise self.error(
                node.entries["on_unknown"].line,
                "a kiosk cannot hold an unknown outcome: nobody is there to decide",
            )
        patients = self.patients(node)
        context = StepContext(self.path, patients)
        fees = node.get("fees")
        return Given(
            institution=values["institution"],
            profile=values.get("profile", DEFAULTS["profile"]),
            mode=mode,
            on_unknown=on_unknown,
            certificate=values.get("certificate", "01" if mode == "kiosk" else "02"),
            patients=patients,
            fees=read_fees(fees, context) if fees is not None else (),
            faults=tuple(read_fault(f, context) for f in self.elements(node, "faults")),
            downtimes=tuple(read_downtime(d, context) for d in self.elements(node, "downtime")),
            line=node.line,
        )

    @staticmethod
    def elements(node: Located, key: str) -> tuple[Located, ...]:
        value = node.get(key)
        return value.elements if value is not None else ()

    def patients(self, given: Located) -> dict[str, PatientSpec]:
        single, several = given.get("patient"), given.get("patients")
        if single is not None and several is not None:
            raise self.error(several.line, "use either given.patient or given.patients, not both")
        if single is not None:
            return {"patient": self.patient("patient", single)}
        if several is None:
            raise self.error(given.line, "given needs a patient (given.patient or given.patients)")
        return {alias: self.patient(alias, value) for alias, value in several.items()}

    def patient(self, alias: str, node: Located) -> PatientSpec:
        if node.kind == "scalar":
            return PatientSpec(alias, node.line, psn_no=str(node.scalar))
        values: dict[str, Any] = node.plain()
        selectors = [key for key in _SELECTORS if key in values]
        if "psn_no" in values and selectors:
            raise self.error(
                node.line,
                f"patient {alias}: give psn_no or selectors ({', '.join(selectors)}), not both",
            )
        return PatientSpec(alias, node.line, **values)

    # -- do ---------------------------------------------------------------------------------

    def steps(self, node: Located, given: Given) -> tuple[Step, ...]:
        steps: list[Step] = []
        lines: dict[str, int] = {}
        for element in node.elements:
            ((name, params),) = element.items()
            step = self.step(name, params, element.line, given, steps)
            if step.name in lines:
                raise self.error(
                    element.line,
                    f"step name {step.name!r} is already used by line {lines[step.name]}",
                )
            lines[step.name] = element.line
            steps.append(step)
        return tuple(steps)

    def step(self, name: str, node: Located, line: int, given: Given, earlier: list[Step]) -> Step:
        action = ACTIONS[name]
        if node.kind != "mapping":  # `- sign_in:` with nothing after it
            node = Located("mapping", node.line)
        context = StepContext(self.path, given.patients, given.fees, earlier)
        params = {
            key: action.parameters[key].read(value, context)
            for key, value in node.items()
            if key in action.parameters
        }
        if action.complete is not None:
            action.complete(params, node, context)
        as_name, timeout = node.get("as"), node.get("timeout")
        return Step(
            name=str(as_name.scalar) if as_name is not None else _auto_name(name, earlier),
            action=name,
            params=params,
            line=line,
            timeout=float(timeout.scalar) if timeout is not None else None,
        )

    # -- expect -----------------------------------------------------------------------------

    def expect(
        self, node: Located, steps: tuple[Step, ...]
    ) -> tuple[dict[str, tuple[str, ...]], tuple[CheckUse, ...]]:
        outcomes: dict[str, tuple[str, ...]] = {}
        outcome_node = node.get("outcomes")
        if outcome_node is not None:
            driver_steps = [s.name for s in steps if ACTIONS[s.action].drives_his]
            for name, value in outcome_node.items():
                if name not in driver_steps:
                    known = ", ".join(driver_steps) or "none"
                    raise self.error(
                        outcome_node.key_lines[name],
                        f"expect.outcomes: no driver step named {name!r} (steps: {known})",
                    )
                accepted = value.plain()
                outcomes[name] = tuple(accepted) if isinstance(accepted, list) else (accepted,)
        checks_node = node.entries["checks"]
        checks = tuple(self.check_use(element) for element in checks_node.elements)
        names = [c.name for c in checks]
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise self.error(checks_node.line, f"checks listed twice: {', '.join(repeated)}")
        return outcomes, checks

    def check_use(self, node: Located) -> CheckUse:
        name_node = node if node.kind == "scalar" else node.entries["name"]
        name = str(name_node.scalar)
        spec = self.known_check(name_node, name)
        args: dict[str, Any] = {}
        args_node = node.get("args") or Located("mapping", node.line)
        for key, value in args_node.items():
            if key not in spec.args:
                allowed = ", ".join(spec.args) or "none"
                raise self.error(
                    args_node.key_lines[key],
                    f"unknown key {key!r} in args of {name}; allowed: {allowed}",
                )
            args[key] = self.argument(value, f"{name}.args.{key}", spec.args[key])
        optional = node.get("optional")
        return CheckUse(name, args, optional.scalar if optional else None, node.line)

    def known_check(self, node: Located, name: str) -> CheckSpec:
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


def _auto_name(action: str, earlier: list[Step]) -> str:
    taken = {s.name for s in earlier}
    if action not in taken:
        return action
    n = 2
    while f"{action}_{n}" in taken:
        n += 1
    return f"{action}_{n}"

"""Scenario files: the bundled ones load; every malformed one stops with file, line and reason."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest

from nhsa.conformance import (
    STAGES,
    ScenarioError,
    bundled_requirements,
    bundled_stages_dir,
    default_registry,
    load_scenario,
    load_stages,
)
from nhsa.conformance._plan import plan_scenario
from nhsa.mock.fixtures import bundled_fixtures

GOOD = """\
id: lab/example
title: example
requirements: [HIS-AMT-003]
given:
  institution: H53010100001
  patient: {psn_no: P53010000000001}
  fees: [{code: "110200001000000", qty: 1, price: "25.00"}]
do:
  - sign_in: {}
  - register: {}
  - charge: {visit: $register.mdtrt_id}
  - refund: {visit: $register.mdtrt_id}
expect:
  outcomes: {charge: [ok, rejected]}
  checks: [driver_outcome_matches_platform]
"""


def load(scenario_file: Callable[..., Path], text: str) -> None:
    load_scenario(scenario_file(text), default_registry(), bundled_requirements())


def test_every_bundled_stage_loads_and_plans() -> None:
    stages = load_stages(bundled_stages_dir(), STAGES, default_registry(), bundled_requirements())
    assert list(stages) == list(STAGES)
    assert all(stages[stage] for stage in STAGES)
    for scenarios in stages.values():
        for scenario in scenarios:
            plan = plan_scenario(
                scenario,
                bundled_fixtures(),
                institution_code=scenario.given.institution[:7] + "99999",
                platform_url="http://mock.invalid",
                platform_key_pem=None,
                run_id="r",
                token="t",
                today=date(2026, 11, 23),
            )
            assert len({p.psn_no for p in plan.patients.values()}) == len(plan.patients)


def test_requirements_stage_column_matches_the_scenarios() -> None:
    stages = load_stages(bundled_stages_dir(), STAGES, default_registry(), bundled_requirements())
    used: dict[str, set[str]] = {}
    for stage, scenarios in stages.items():
        for scenario in scenarios:
            for rid in scenario.requirements:
                used.setdefault(rid, set()).add(stage)
    for requirement in bundled_requirements().values():
        if requirement.tested:
            assert set(requirement.stages) == used.get(requirement.id), requirement.id


def test_a_good_scenario_loads(scenario_file: Callable[..., Path]) -> None:
    scenario = load_scenario(scenario_file(GOOD), default_registry())
    refund = scenario.step("refund")
    assert str(refund.params["settlement"]) == "$charge.setl_id"  # the latest charge of the visit
    assert scenario.expected_outcomes(scenario.step("charge")) == ("ok", "rejected")
    assert scenario.expected_outcomes(refund) == ("ok",)
    assert scenario.given.certificate == "02"
    assert scenario.given.profile == "tif+sm2"


@pytest.mark.parametrize(
    ("change", "line", "problem"),
    [
        (
            ("  - sign_in: {}", "  - sign_in: {}\n  - chrage: {}"),
            10,
            "do[1]: [propertyNames] unknown action 'chrage'; one of: sign_in, register,",
        ),
        (
            ("[driver_outcome_matches_platform]", "[driver_outcome_matches]"),
            15,
            "unknown check 'driver_outcome_matches'; did you mean driver_outcome_matches_platform?",
        ),
        (
            ("$register.mdtrt_id}\n  - refund", "$registr.mdtrt_id}\n  - refund"),
            11,
            "no earlier step named 'registr'",
        ),
        (
            ("  - charge: {visit: $register.mdtrt_id}", "  - charge: {visit: $charge.setl_id}"),
            11,
            "no earlier step named 'charge'",
        ),
        (
            ("  - refund: {visit: $register.mdtrt_id}", "  - refund: {visit: $register.setl_id}"),
            12,
            "must be the mdtrt_id of a register step",
        ),
        (
            ("qty: 1,", "qty: one,"),
            7,
            "given.fees[0].qty: [pattern] must be a positive decimal number such as 25.00,"
            " got str 'one'",
        ),
        (
            ("qty: 1,", "qty: -1,"),
            7,
            "given.fees[0].qty: [exclusiveMinimum] must be a positive decimal number",
        ),
        (
            ("  institution:", "  colour: blue\n  institution:"),
            5,
            "given: [additionalProperties] unknown key 'colour'; allowed: institution, profile",
        ),
        (
            (
                "  patient: {psn_no: P53010000000001}",
                "  patient: {psn_no: P53010000000001, certificate: 2}",
            ),
            6,
            "given.patient.certificate: [enum] 2 must be one of 01, 02, 03 (quote codes",
        ),
        (
            ("outcomes: {charge:", "outcomes: {chrage:"),
            14,
            "expect.outcomes: no driver step named 'chrage'",
        ),
        (
            ("[ok, rejected]", "[ok, maybe]"),
            14,
            "expect.outcomes.charge[1]: [enum] 'maybe' must be one of ok, rejected, unknown",
        ),
        (
            ("requirements: [HIS-AMT-003]", "requirements: [HIS-AMT-003, HIS-REV-002]"),
            3,
            "requirements HIS-REV-002 are listed but no check",
        ),
        (
            ("requirements: [HIS-AMT-003]", "requirements: [HIS-XYZ-999]"),
            3,
            "unknown requirement 'HIS-XYZ-999'",
        ),
        (
            ("id: lab/example", "id: city/example"),
            1,
            "id 'city/example' must start with the stage: lab/",
        ),
        (
            ("  - register: {}", "  - register: {as: sign_in}"),
            10,
            "step name 'sign_in' is already used by line 9",
        ),
        (
            ("  - sign_in: {}", "  - sign_in: {}\n    register: {}"),
            9,
            "do[0]: [maxProperties] must be a mapping with exactly one action",
        ),
        (
            ("given:\n", "given:\n  mode: kiosk\n  on_unknown: hold\n"),
            6,
            "a kiosk cannot hold an unknown outcome",
        ),
        (("  fees:", "  faults: [{kind: latency}]\n  fees:"), 7, "a latency fault needs ms"),
        (
            ("  fees:", "  downtime: [{area: '440300'}]\n  fees:"),
            7,
            "given.downtime[0]: [required] needs 'minutes' (how long it is down)",
        ),
        (
            ("  fees:", "  faults: [{kind: reset, probability: 0.5}]\n  fees:"),
            7,
            "given.faults[0]: [dependentRequired] needs 'seed' with 'probability'",
        ),
        (
            ("  - charge: {visit: $register.mdtrt_id}", "  - charge: {}"),
            11,
            "do[2].charge: [required] needs 'visit' (the visit: $<register step>.mdtrt_id)",
        ),
        (
            ("{visit: $register.mdtrt_id}\n  - refund", "{visit: register.mdtrt_id}\n  - refund"),
            11,
            "do[2].charge.visit: [pattern] must be a reference like $register.mdtrt_id",
        ),
        (
            ("  fees:", "  faults: [{kind: http-5xx, infno: '2207'}]\n  fees:"),
            7,
            "given.faults[0].kind: [enum] 'http-5xx' must be one of latency, hang, reset,"
            " http-error,",
        ),
        (
            ("  fees:", "  faults: [{kind: reset, mode: hang}]\n  fees:"),
            7,
            "fault mode: [enum] 'hang' for reset: not used by this kind",
        ),
        (
            ("  fees:", "  faults: [{kind: reset, patient: nobody}]\n  fees:"),
            7,
            "patient 'nobody' is not in given.patients (patient)",
        ),
        (
            ("  fees:", "  downtime: [{minutes: 30}]\n  fees:"),
            7,
            "a downtime needs area or patient (for their insured area), not both",
        ),
        (
            (
                "  - sign_in: {}",
                "  - sign_in: {}\n  - schedule_downtime: {area: '44030', minutes: 5}",
            ),
            10,
            "do[1].schedule_downtime.area: [pattern] must be a 6-digit area code, got str '44030'",
        ),
        (
            ("  - sign_in: {}", "  - sign_in: {}\n  - reconcile: {day: '2026-13-45'}"),
            10,
            "day '2026-13-45' is not a date of the calendar",
        ),
        (
            ("[driver_outcome_matches_platform]", "[{name: msgid_format, args: {skew: 1}}]"),
            15,
            "unknown key 'skew' in args of msgid_format; allowed: max_skew_seconds",
        ),
        (
            ("title: example", "title: example: broken"),
            2,
            "not valid YAML: mapping values are not allowed here",
        ),
        (("title: example", "title: a\ntitle: b"), 3, "duplicate key 'title' (first at line 2)"),
    ],
)
def test_malformed_scenarios_name_file_line_and_problem(
    scenario_file: Callable[..., Path], change: tuple[str, str], line: int, problem: str
) -> None:
    old, new = change
    assert old in GOOD
    path = scenario_file(GOOD.replace(old, new, 1))
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path, default_registry(), bundled_requirements())
    error = caught.value
    assert (error.path, error.line) == (str(path), line), str(error)
    assert problem in error.problem
    assert str(error).startswith(f"{path}:{line}: ")


def test_a_missing_file_and_an_empty_stage_are_errors(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="cannot read"):
        load_scenario(tmp_path / "nope.yaml", default_registry())
    (tmp_path / "lab").mkdir()
    with pytest.raises(ScenarioError, match="no scenario files"):
        load_stages(tmp_path, ["lab"], default_registry())
    with pytest.raises(ScenarioError, match="unknown stage 'labs'"):
        load_stages(tmp_path, ["labs"], default_registry())


def test_the_same_id_twice_is_an_error(scenario_file: Callable[..., Path]) -> None:
    first = scenario_file(GOOD, "a.yaml")
    scenario_file(GOOD, "b.yaml")
    with pytest.raises(ScenarioError, match="also used by") as caught:
        load_stages(first.parent.parent, ["lab"], default_registry())
    assert caught.value.path.endswith("b.yaml")


def test_plan_errors_name_the_line(scenario_file: Callable[..., Path]) -> None:
    bad_fee = GOOD.replace('code: "110200001000000"', 'code: "999999999999999"')
    scenario = load_scenario(scenario_file(bad_fee), default_registry())
    with pytest.raises(
        ScenarioError, match=r":7: fee code 999999999999999 is not in the catalogue of 530100"
    ):
        plan_for(scenario)
    nobody = GOOD.replace("{psn_no: P53010000000001}", '{insured_area: "650100"}')
    scenario = load_scenario(scenario_file(nobody, "n.yaml"), default_registry())
    with pytest.raises(ScenarioError, match=r":6: patient patient: no fixture person"):
        plan_for(scenario)
    too_much = GOOD.replace(
        "  - refund: {visit: $register.mdtrt_id}",
        "  - partial_refund: {visit: $register.mdtrt_id,"
        " lines: [{code: '110200001000000', qty: 2}]}",
    )
    scenario = load_scenario(scenario_file(too_much, "p.yaml"), default_registry())
    with pytest.raises(ScenarioError, match="takes back 2 of 110200001000000, but the settlement"):
        plan_for(scenario)


def plan_for(scenario: object) -> object:
    return plan_scenario(
        scenario,  # type: ignore[arg-type]
        bundled_fixtures(),
        institution_code="H53010199999",
        platform_url="http://mock.invalid",
        platform_key_pem=None,
        run_id="r",
        token="t",
        today=date(2026, 11, 23),
    )

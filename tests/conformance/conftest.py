"""Shared helpers: a checked scenario, its plan, and a CheckContext over hand-made records."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from nhsa.conformance import (
    CheckContext,
    CheckOutcome,
    Scenario,
    StepRun,
    default_registry,
    load_scenario,
)
from nhsa.conformance._mock_handle import PlatformTotals
from nhsa.conformance._plan import ScenarioPlan, plan_scenario
from nhsa.conformance._transcript import parse_records
from nhsa.mock.fixtures import bundled_fixtures
from tests.conformance.builders import CODE

SCENARIO = """\
id: lab/unit
title: unit
requirements: [HIS-MSG-001]
given:
  institution: H53010100001
  mode: {mode}
  profile: {profile}
  patients:
    patient: {{psn_no: P53010000000001}}
    other: {{insured_area: "440300", filing: filed}}
  fees: [{{code: "110200001000000", qty: 1, price: "25.00"}}]
  faults: {faults}
  downtime: {downtime}
do:
  - sign_in: {{}}
expect:
  checks: [requests_valid_per_contract]
"""


def write_scenario(tmp_path: Path, text: str, name: str = "s.yaml", stage: str = "lab") -> Path:
    folder = tmp_path / stage
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def scenario_file(tmp_path: Path) -> Callable[..., Path]:
    def make(text: str, name: str = "s.yaml", stage: str = "lab") -> Path:
        return write_scenario(tmp_path, text, name, stage)

    return make


def unit_plan(
    tmp_path: Path,
    *,
    mode: str = "window",
    profile: str = "none",
    faults: str = "[]",
    downtime: str = "[]",
) -> tuple[Scenario, ScenarioPlan]:
    text = SCENARIO.format(mode=mode, profile=profile, faults=faults, downtime=downtime)
    scenario = load_scenario(
        write_scenario(tmp_path, text, f"unit-{mode}-{profile}.yaml"), default_registry()
    )
    plan = plan_scenario(
        scenario,
        bundled_fixtures(),
        institution_code=CODE,
        platform_url="http://mock.invalid",
        platform_key_pem=None,
        run_id="run-1",
        token="t0",
        today=date(2026, 11, 23),
    )
    return scenario, plan


@pytest.fixture
def run_check(tmp_path: Path) -> Callable[..., CheckOutcome]:
    """Run a registered check over records (as the mock serves them), with the unit plan."""

    def run(
        name: str,
        records: Sequence[Mapping[str, Any]],
        steps: Sequence[StepRun] = (),
        *,
        mode: str = "window",
        profile: str = "none",
        faults: str = "[]",
        downtime: str = "[]",
        args: Mapping[str, Any] | None = None,
        ledger: PlatformTotals | None = None,
    ) -> CheckOutcome:
        scenario, plan = unit_plan(
            tmp_path, mode=mode, profile=profile, faults=faults, downtime=downtime
        )
        ctx = CheckContext(
            scenario,
            plan,
            tuple(parse_records(records)),
            tuple(steps),
            dict(args or {}),
            (lambda begin, end, flag=None: ledger) if ledger is not None else None,  # type: ignore[arg-type,return-value]
        )
        return default_registry()[name].run(ctx)

    return run

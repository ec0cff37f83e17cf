"""Execution scripts (``conformance/scripts/``): scripted runs whose every verdict is pinned.

Each script names stages, scenarios, a driver (``sdk`` or the raw HIS with flaws); its
``*.expected.json`` holds the verdict of every scenario, step and check. A change that flips
any verdict fails here with the list of what changed. Every transcript record the mock writes
during these runs (every stage, every fault) is validated against its schema.
``NHSA_UPDATE_EXPECTED=1`` rewrites the expected files after an intended change (review the
diff).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import pytest
import yaml
from examples.broken_his import Flaw, RawHis

from nhsa.conformance import (
    STAGES,
    Driver,
    InProcessMock,
    Runner,
    RunResult,
    bundled_stages_dir,
    default_registry,
    load_stages,
)
from nhsa.conformance.drivers import SdkDriver
from nhsa.mock import MockPlatform
from tests.conformance.test_transcript_record import schema_problems

SCRIPTS_DIR: Final = Path(__file__).resolve().parents[2] / "conformance" / "scripts"
SCRIPTS: Final = sorted(SCRIPTS_DIR.glob("*.yaml"))
KEYS: Final = {"description", "stages", "scenarios", "driver", "flaws"}
UPDATE: Final = os.environ.get("NHSA_UPDATE_EXPECTED") == "1"


@dataclass(frozen=True)
class Script:
    """One execution script, checked."""

    path: Path
    description: str
    stages: tuple[str, ...]
    scenarios: frozenset[str] | None
    driver: str
    flaws: frozenset[Flaw]

    @property
    def expected_path(self) -> Path:
        return self.path.with_suffix(".expected.json")


def load_script(path: Path) -> Script:
    """Read a script; every problem names the file."""
    data = yaml.safe_load(path.read_text("utf-8"))
    if not isinstance(data, dict):
        raise ValueError(f"{path}: a script is a mapping")
    unknown = sorted(set(data) - KEYS)
    if unknown:
        raise ValueError(f"{path}: unknown key(s) {', '.join(unknown)}; allowed: {sorted(KEYS)}")
    stages = tuple(data.get("stages") or ())
    if not stages or not set(stages) <= set(STAGES):
        raise ValueError(f"{path}: stages must be some of {', '.join(STAGES)}")
    driver = data.get("driver")
    if driver not in ("sdk", "raw"):
        raise ValueError(f"{path}: driver must be sdk or raw, not {driver!r}")
    flaws = frozenset(Flaw(f) for f in data.get("flaws") or ())
    if flaws and driver != "raw":
        raise ValueError(f"{path}: flaws need driver: raw")
    scenarios = data.get("scenarios")
    return Script(
        path,
        str(data.get("description") or ""),
        stages,
        frozenset(scenarios) if scenarios is not None else None,
        driver,
        flaws,
    )


def run_script(script: Script, platform: MockPlatform) -> RunResult:
    """Run the script against the in-process mock."""
    loaded = load_stages(bundled_stages_dir(), script.stages, default_registry())
    chosen = {
        stage: [s for s in scenarios if script.scenarios is None or s.id in script.scenarios]
        for stage, scenarios in loaded.items()
    }
    found = {s.id for scenarios in chosen.values() for s in scenarios}
    missing = (script.scenarios or frozenset()) - found
    assert not missing, f"{script.path}: no such scenarios in {script.stages}: {sorted(missing)}"
    mock = InProcessMock(platform)
    driver: Driver = (
        SdkDriver.for_mock(mock)
        if script.driver == "sdk"
        else RawHis(script.flaws, transport=platform.transport)
    )
    try:
        result = Runner(driver, mock, step_timeout=30).run(
            {stage: scenarios for stage, scenarios in chosen.items() if scenarios}
        )
    finally:
        driver.close()
    return result


def verdicts(result: RunResult) -> dict[str, Any]:
    """Only the verdicts of a run: stable from run to run (no ids, times or messages)."""
    return {
        "result": result.status.value,
        "scenarios": {
            s.scenario.id: {
                "result": s.status.value,
                "steps": {step.name: step.status.value for step in s.steps},
                "checks": {check.name: check.status.value for check in s.checks},
            }
            for s in result.scenarios()
        },
    }


def differences(
    expected: Mapping[str, Any], actual: Mapping[str, Any], where: str = ""
) -> list[str]:
    """Every verdict that differs, as ``path: expected X, got Y`` lines."""
    if not isinstance(expected, Mapping) or not isinstance(actual, Mapping):
        return [] if expected == actual else [f"{where or '/'}: expected {expected}, got {actual}"]
    lines = []
    for key in sorted(set(expected) | set(actual)):
        path = f"{where}/{key}"
        if key not in actual:
            lines.append(f"{path}: expected {expected[key]}, missing from the run")
        elif key not in expected:
            lines.append(f"{path}: not expected, got {actual[key]}")
        else:
            lines.extend(differences(expected[key], actual[key], path))
    return lines


@pytest.fixture(scope="module")
def platform() -> Iterator[MockPlatform]:
    with MockPlatform() as mock:
        yield mock


@pytest.mark.parametrize("path", SCRIPTS, ids=lambda p: p.stem)
def test_script_matches_its_expected_verdicts(path: Path, platform: MockPlatform) -> None:
    script = load_script(path)
    result = run_script(script, platform)
    actual = verdicts(result)
    if UPDATE:
        text = json.dumps(actual, indent=2, ensure_ascii=False) + "\n"
        script.expected_path.write_text(text, "utf-8")
    assert script.expected_path.is_file(), f"{script.expected_path} is missing"
    expected = json.loads(script.expected_path.read_text("utf-8"))
    changed = differences(expected, actual)
    assert not changed, f"{path.name}: verdicts changed:\n" + "\n".join(changed)
    # every record the mock wrote during the run, as it serves them, follows the record schema
    written = [r for s in result.scenarios() for r in platform.transcript(s.institution)]
    assert len(written) >= sum(len(s.records) for s in result.scenarios()) > 0
    assert schema_problems(written) == []


def test_every_flaw_and_the_sdk_have_a_script() -> None:
    scripts = [load_script(path) for path in SCRIPTS]
    assert {f for s in scripts for f in s.flaws} == set(Flaw)
    assert any(s.driver == "sdk" and set(s.stages) == set(STAGES) for s in scripts)
    assert all(s.expected_path.is_file() for s in scripts)


def test_negative_expectations_pin_their_named_check_as_failed() -> None:
    from examples.broken_his import NEGATIVE_CONTROLS  # noqa: PLC0415

    for path in SCRIPTS:
        script = load_script(path)
        for flaw in script.flaws:
            control = NEGATIVE_CONTROLS[flaw]
            expected = json.loads(script.expected_path.read_text("utf-8"))
            checks = expected["scenarios"][control.scenario]["checks"]
            assert checks[control.check] == "fail", path.name


def test_a_flipped_verdict_is_named_in_the_differences() -> None:
    expected = {"result": "fail", "scenarios": {"a/b": {"checks": {"msgid_unique": "fail"}}}}
    actual = {"result": "pass", "scenarios": {"a/b": {"checks": {"msgid_unique": "pass"}}}}
    assert differences(expected, actual) == [
        "/result: expected fail, got pass",
        "/scenarios/a/b/checks/msgid_unique: expected fail, got pass",
    ]
    assert differences(expected, {"result": "fail", "scenarios": {}}) == [
        "/scenarios/a/b: expected {'checks': {'msgid_unique': 'fail'}}, missing from the run"
    ]


def test_a_malformed_script_is_named(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("stages: [lab]\ndriver: sdk\nflaw: [reuse-msgid]\n", "utf-8")
    with pytest.raises(ValueError, match=r"bad\.yaml: unknown key\(s\) flaw"):
        load_script(bad)
    bad.write_text("stages: [lab]\ndriver: sdk\nflaws: [reuse-msgid]\n", "utf-8")
    with pytest.raises(ValueError, match=r"bad\.yaml: flaws need driver: raw"):
        load_script(bad)

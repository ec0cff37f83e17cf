"""Negative controls: each deliberately broken HIS fails exactly the requirement it breaks.

A broken variant runs the bundled scenario that exposes its flaw against the in-process mock.
The named check must fail and name the requirement; the only other failures allowed are the
ones the flaw necessarily causes (listed with the control). The same HIS without flaws passes
every one of those scenarios — so each failure comes from its flaw, not from the raw HIS.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from examples.broken_his import NEGATIVE_CONTROLS, Flaw, RawHis

from nhsa.conformance import (
    InProcessMock,
    Runner,
    ScenarioRun,
    Status,
    bundled_stages_dir,
    default_registry,
    load_stages,
)
from nhsa.mock import MockPlatform


@pytest.fixture(scope="module")
def platform() -> Iterator[MockPlatform]:
    with MockPlatform() as mock:
        yield mock


def _run(platform: MockPlatform, his: RawHis, scenario_ids: set[str]) -> list[ScenarioRun]:
    stages = load_stages(bundled_stages_dir(), ["lab", "self-test", "district"], default_registry())
    chosen = {k: [s for s in v if s.id in scenario_ids] for k, v in stages.items()}
    mock = InProcessMock(platform)
    result = Runner(his, mock, step_timeout=30).run({k: v for k, v in chosen.items() if v})
    return list(result.scenarios())


def test_without_flaws_the_raw_his_passes_every_control_scenario(platform: MockPlatform) -> None:
    targets = {control.scenario for control in NEGATIVE_CONTROLS.values()}
    runs = _run(platform, RawHis(transport=platform.transport), targets)
    assert {run.scenario.id for run in runs} == targets
    assert {run.scenario.id: run.status for run in runs} == dict.fromkeys(targets, Status.PASS)


@pytest.mark.parametrize("flaw", list(Flaw), ids=str)
def test_each_flaw_fails_its_named_requirement_and_nothing_else(
    platform: MockPlatform, flaw: Flaw
) -> None:
    control = NEGATIVE_CONTROLS[flaw]
    (run,) = _run(platform, RawHis({flaw}, transport=platform.transport), {control.scenario})

    assert run.status is Status.FAIL
    named = next(c for c in run.checks if c.name == control.check)
    assert named.status is Status.FAIL, named.message
    assert control.requirement in named.verifies
    assert named.required
    assert named.evidence
    failing = {c.name for c in run.checks if c.status is Status.FAIL}
    assert failing == {control.check, *control.collateral}
    assert not [c.name for c in run.checks if c.status is Status.ERROR]
    failed_steps = {s.name for s in run.steps if s.status is Status.FAIL}
    assert failed_steps == set(control.failed_steps)
    assert all(
        s.status in (Status.PASS, Status.SKIP) for s in run.steps if s.name not in failed_steps
    )


def test_the_broken_his_says_loudly_that_it_is_broken() -> None:
    his = RawHis({Flaw.REUSE_MSGID, Flaw.SKIP_SIGN_IN})
    assert his.describe() == "raw HIS (DELIBERATELY BROKEN: reuse-msgid, skip-sign-in)"
    assert his.health().name == his.describe()

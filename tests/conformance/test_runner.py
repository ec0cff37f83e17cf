"""The runner end to end with a fake HIS and a fake mock: verdicts, timeouts, broken parts."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from nhsa.conformance import (
    DriverResult,
    RunAbortedError,
    Runner,
    RunResult,
    Status,
    default_registry,
    load_stages,
)
from tests.conformance.fakes import FakeHis, FakeMock, charge_scenario


@pytest.fixture
def stages_dir(tmp_path: Path) -> Callable[..., Path]:
    def write(*scenarios: tuple[str, str]) -> Path:
        root = tmp_path / "stages"
        (root / "lab").mkdir(parents=True, exist_ok=True)
        for name, text in scenarios:
            (root / "lab" / f"{name}.yaml").write_text(text, encoding="utf-8")
        return root

    return write


def run(root: Path, his: FakeHis, mock: FakeMock, **options: float) -> RunResult:
    stages = load_stages(root, ["lab"], default_registry())
    return Runner(his, mock, **options).run(stages)  # type: ignore[arg-type]


@pytest.fixture
def mock() -> FakeMock:
    return FakeMock()


@pytest.fixture
def his(mock: FakeMock) -> Iterator[FakeHis]:
    driver = FakeHis(mock)
    yield driver
    driver.close()  # releases a hung step's thread


def test_a_good_his_passes_with_a_fresh_tenant(
    stages_dir: Callable[..., Path], his: FakeHis, mock: FakeMock
) -> None:
    result = run(stages_dir(charge_scenario()), his, mock)
    assert result.status is Status.PASS
    assert result.exit_code == 0
    (scenario,) = result.scenarios()
    assert [s.name for s in scenario.steps] == [
        "configure",
        "sign_in",
        "register",
        "charge",
        "reconcile",
    ]
    assert all(c.status is Status.PASS for c in scenario.checks if c.required)
    assert scenario.institution in mock.registered
    assert scenario.institution != "H53010100001"
    assert scenario.institution.startswith("H530101")
    assert mock.cleared == [scenario.institution]
    assert scenario.steps[3].records
    assert scenario.steps[3].result is not None
    assert scenario.steps[3].result.setl_id is not None


def test_two_runs_never_share_a_tenant(stages_dir: Callable[..., Path], mock: FakeMock) -> None:
    root = stages_dir(charge_scenario())
    first = next(run(root, FakeHis(mock), mock).scenarios()).institution
    second = next(run(root, FakeHis(mock), mock).scenarios()).institution
    assert first != second
    assert len(mock.registered) == 2


def test_skipping_sign_in_fails_the_named_requirement(
    stages_dir: Callable[..., Path], mock: FakeMock
) -> None:
    result = run(stages_dir(charge_scenario()), FakeHis(mock, skip_sign_in=True), mock)
    assert result.status is Status.FAIL
    assert result.exit_code == 1
    (scenario,) = result.scenarios()
    failing = {c.name for c in scenario.checks if c.status is Status.FAIL}
    # the fake HIS also claims a sign-in the platform never saw
    assert failing == {"sign_in_first", "driver_outcome_matches_platform"}


def test_an_optional_check_never_fails_the_run(
    stages_dir: Callable[..., Path], mock: FakeMock
) -> None:
    name, text = charge_scenario(sign_in="{name: opter_type_matches_mode, optional: true}")
    text = text.replace("[HIS-SES-001, ", "[")
    result = run(stages_dir((name, text)), FakeHis(mock, opter_type="3"), mock)
    (scenario,) = result.scenarios()
    check = next(c for c in scenario.checks if c.name == "opter_type_matches_mode")
    assert (check.status, check.required) == (Status.FAIL, False)
    assert result.status is Status.PASS


def test_commit_then_drop_reversed_passes(
    stages_dir: Callable[..., Path], his: FakeHis, mock: FakeMock
) -> None:
    faulty = charge_scenario(faults='[{kind: commit-then-drop, infno: "2207"}]')
    result = run(stages_dir(faulty), his, mock)
    (scenario,) = result.scenarios()
    assert result.status is Status.PASS, [(c.name, c.message) for c in scenario.checks]
    reversal = next(c for c in scenario.checks if c.name == "reversal_after_unknown_2207")
    assert reversal.status is Status.PASS
    assert scenario.faults == ("commit-then-drop infno=2207 times=1",)


def test_resending_after_commit_then_drop_fails(
    stages_dir: Callable[..., Path], mock: FakeMock
) -> None:
    faulty = charge_scenario(faults='[{kind: commit-then-drop, infno: "2207"}]')
    result = run(stages_dir(faulty), FakeHis(mock, resend_unknown=True), mock)
    assert result.status is Status.FAIL
    (scenario,) = result.scenarios()
    failing = {c.name for c in scenario.checks if c.status is Status.FAIL}
    assert {
        "no_resend_after_unknown",
        "nothing_lost_or_doubled",
        "reversal_after_unknown_2207",
    } <= failing


def test_a_timed_out_step_is_listed_and_the_run_goes_on(
    stages_dir: Callable[..., Path], mock: FakeMock
) -> None:
    root = stages_dir(charge_scenario("a-hangs"), charge_scenario("b-runs"))
    his = FakeHis(mock, hang_on="charge")
    try:
        result = run(root, his, mock, step_timeout=1.0)
    finally:
        his.close()
    first, second = result.scenarios()
    assert first.status is Status.ERROR
    charge = next(s for s in first.steps if s.name == "charge")
    assert charge.timed_out
    assert charge.status is Status.ERROR
    assert "no answer within 1 s" in charge.message
    reconcile = next(s for s in first.steps if s.name == "reconcile")
    assert reconcile.status is Status.SKIP
    assert "timed out" in reconcile.message
    assert all(c.status is Status.SKIP and "not evaluated" in c.message for c in first.checks)
    assert second.steps[1].status is not Status.SKIP  # the next scenario ran
    assert [(s.scenario.id, step.name) for s, step in result.timed_out()] == [
        ("lab/a-hangs", "charge")
    ]
    assert result.status is Status.ERROR
    assert result.exit_code == 2


@pytest.mark.parametrize(
    ("flag", "message"),
    [
        ("garbage_on", "driver failed: fake HIS answered <html>502</html>"),
        ("crash_on", "driver raised RuntimeError: fake HIS crashed"),
    ],
)
def test_a_broken_driver_is_an_error_not_a_verdict(
    stages_dir: Callable[..., Path], mock: FakeMock, flag: str, message: str
) -> None:
    his = FakeHis(mock, **{flag: "register"})  # type: ignore[arg-type]
    result = run(stages_dir(charge_scenario()), his, mock)
    (scenario,) = result.scenarios()
    register = next(s for s in scenario.steps if s.name == "register")
    assert register.status is Status.ERROR
    assert register.message.startswith(message)
    assert scenario.status is Status.ERROR
    assert not any(c.status is Status.FAIL for c in scenario.checks)


def test_an_unreachable_driver_stops_the_run_before_anything(
    stages_dir: Callable[..., Path], mock: FakeMock
) -> None:
    with pytest.raises(RunAbortedError, match=r"http://127\.0\.0\.1:9/health is unreachable"):
        run(stages_dir(charge_scenario()), FakeHis(mock, unreachable=True), mock)
    assert not mock.registered


def test_a_driver_that_is_not_ready_stops_the_run(
    stages_dir: Callable[..., Path], mock: FakeMock
) -> None:
    with pytest.raises(RunAbortedError, match="not ready: still starting"):
        run(stages_dir(charge_scenario()), FakeHis(mock, ready=False), mock)


def test_a_mock_that_cannot_start_stops_the_run(
    stages_dir: Callable[..., Path], his: FakeHis, mock: FakeMock
) -> None:
    mock.broken.add("now")
    with pytest.raises(
        RunAbortedError, match="mock platform is not usable: fake mock: clock broken"
    ):
        run(stages_dir(charge_scenario()), his, mock)


def test_a_mock_refusing_the_institution_is_a_scenario_error(
    stages_dir: Callable[..., Path], his: FakeHis, mock: FakeMock
) -> None:
    mock.broken.add("register")
    result = run(stages_dir(charge_scenario()), his, mock)
    (scenario,) = result.scenarios()
    assert scenario.status is Status.ERROR
    assert "could not register the institution: fake mock: registration refused" in scenario.message


def test_a_taken_institution_code_is_replaced(
    stages_dir: Callable[..., Path], his: FakeHis, mock: FakeMock, monkeypatch: pytest.MonkeyPatch
) -> None:
    codes = iter(["H53010100001", "H53010177777"])
    monkeypatch.setattr(
        "nhsa.conformance._runner.fresh_institution_code", lambda template: next(codes)
    )
    mock.taken.add("H53010100001")
    result = run(stages_dir(charge_scenario()), his, mock)
    assert next(result.scenarios()).institution == "H53010177777"
    assert result.status is Status.PASS


def test_a_pending_manual_step_makes_the_scenario_wait(
    stages_dir: Callable[..., Path], mock: FakeMock
) -> None:
    result = run(stages_dir(charge_scenario()), FakeHis(mock, pending_on="register"), mock)
    (scenario,) = result.scenarios()
    register = next(s for s in scenario.steps if s.name == "register")
    charge = next(s for s in scenario.steps if s.name == "charge")
    assert register.status is Status.WAIT
    assert charge.status is Status.SKIP
    assert "needs $register.mdtrt_id" in charge.message
    assert scenario.status is Status.WAIT
    assert result.exit_code == 1
    assert all(c.status is Status.WAIT for c in scenario.checks)


def test_an_unexpected_outcome_fails_the_step(
    stages_dir: Callable[..., Path], his: FakeHis, mock: FakeMock
) -> None:
    name, text = charge_scenario()
    text = text.replace("outcomes: {charge: [ok, rejected]}", "outcomes: {charge: rejected}")
    result = run(stages_dir((name, text)), his, mock)
    (scenario,) = result.scenarios()
    charge = next(s for s in scenario.steps if s.name == "charge")
    assert charge.status is Status.FAIL
    assert charge.message.startswith("ok, expected rejected")
    assert scenario.status is Status.FAIL


def test_a_refused_configuration_stops_the_scenario(
    stages_dir: Callable[..., Path], mock: FakeMock
) -> None:
    class Refusing(FakeHis):
        def configure(self, config: Any) -> DriverResult:
            super().configure(config)
            return DriverResult("rejected", message="kiosk mode is not licensed")

    result = run(stages_dir(charge_scenario()), Refusing(mock), mock)
    (scenario,) = result.scenarios()
    assert scenario.steps[0].status is Status.FAIL
    assert all(step.status is Status.SKIP for step in scenario.steps[1:])
    assert "kiosk mode is not licensed" in scenario.message
    assert scenario.status is Status.FAIL


def test_suite_actions_act_on_the_mock_in_the_mocks_vocabulary(
    stages_dir: Callable[..., Path], his: FakeHis, mock: FakeMock
) -> None:
    name, text = charge_scenario("suite-actions")
    text = text.replace(
        "  - reconcile: {}\n",
        "  - reconcile: {}\n"
        "  - arm_fault:\n"
        "      fault: {kind: insured-place-unreachable, patient: patient, infno: '2207'}\n"
        "  - schedule_downtime: {patient: patient, minutes: 30}\n"
        "  - clear_faults:\n",
    )
    result = run(stages_dir((name, text)), his, mock)
    (scenario,) = result.scenarios()
    steps = {s.name: s for s in scenario.steps}
    assert dict(steps["arm_fault"].request) == {
        "kind": "insured-place-unreachable",
        "infno": ["2207"],
        "area": "530100",
    }
    assert (
        steps["arm_fault"].message
        == "armed insured-place-unreachable infno=2207 area=530100 times=1"
    )
    assert dict(steps["schedule_downtime"].request) == {"area": "530100", "minutes": 30}
    assert steps["schedule_downtime"].message == "scheduled downtime area=530100 minutes=30"
    assert all(
        steps[n].status is Status.PASS for n in ("arm_fault", "schedule_downtime", "clear_faults")
    )
    assert mock.cleared == [scenario.institution, scenario.institution]  # the step, then the end

"""The manual driver: instructions for an operator, outcomes read from the platform's transcript.

A fake operator — a thread that reads each instruction and does what it says with the SDK —
stands at the window while the driver waits. The driver must learn every outcome from the
transcript alone, and say ``pending`` when nobody acts.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from nhsa.conformance import (
    HisConfiguration,
    InProcessMock,
    Runner,
    ScenarioRun,
    Status,
    bundled_stages_dir,
    default_registry,
    load_stages,
)
from nhsa.conformance.drivers import SdkHis
from nhsa.conformance.drivers.manual import Instruction, ManualDriver, create_driver
from nhsa.mock import MockPlatform


class Operator:
    """Does what each instruction says, with the SDK, after a short pause (a person is slow)."""

    def __init__(self, platform: MockPlatform, *, idle_on: tuple[str, ...] = ()) -> None:
        self.instructions: queue.Queue[Instruction | None] = queue.Queue()
        self.seen: list[Instruction] = []
        self._his = SdkHis(transport=platform.transport)
        self._idle_on = idle_on
        self._thread = threading.Thread(target=self._work, daemon=True)

    def __enter__(self) -> Operator:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.instructions.put(None)
        self._thread.join(10)
        self._his.close()

    def _work(self) -> None:
        while (instruction := self.instructions.get()) is not None:
            self.seen.append(instruction)
            if instruction.action in self._idle_on:
                continue
            act: Any = getattr(self._his, instruction.action)
            act(instruction.request)


@pytest.fixture(scope="module")
def platform() -> Iterator[MockPlatform]:
    with MockPlatform() as mock:
        yield mock


def _run(platform: MockPlatform, operator: Operator, scenario_id: str) -> ScenarioRun:
    stage = scenario_id.split("/", maxsplit=1)[0]
    scenarios = load_stages(bundled_stages_dir(), [stage], default_registry())[stage]
    mock = InProcessMock(platform)
    driver = ManualDriver(
        mock, announce=operator.instructions.put, wait_s=2, poll_s=0.02, settle_s=0.15
    )
    chosen = [s for s in scenarios if s.id == scenario_id]
    (run,) = Runner(driver, mock, step_timeout=10).run({stage: chosen}).scenarios()
    return run


def test_an_operator_following_instructions_passes_a_whole_scenario(
    platform: MockPlatform,
) -> None:
    with Operator(platform) as operator:
        run = _run(platform, operator, "self-test/window-02-id-card")

    assert run.status is Status.PASS, [(s.name, s.message) for s in run.steps]
    actions = [i.action for i in operator.seen]
    assert actions[:3] == ["configure", "sign_in", "register"]
    register = operator.seen[2]
    assert "赵丽娟" in register.text
    assert "录入居民身份证" in register.text
    charge = next(s for s in run.steps if s.action == "charge")
    assert charge.result is not None
    assert charge.result.setl_id
    assert charge.result.amounts["medfee_sumamt"] > 0
    reconcile = next(s for s in run.steps if s.action == "reconcile")
    assert reconcile.result is not None
    assert reconcile.result.balanced is True


def test_nobody_acting_leaves_the_step_pending_and_the_scenario_waiting(
    platform: MockPlatform,
) -> None:
    with Operator(platform, idle_on=("register",)) as operator:
        run = _run(platform, operator, "lab/sign-in-expired")

    register = next(s for s in run.steps if s.action == "register")
    assert register.status is Status.WAIT
    assert register.result is not None
    assert register.result.status == "pending"
    assert "did not reach the platform" in (register.result.message or "")
    assert run.status is Status.WAIT
    configure = operator.seen[0]
    assert isinstance(configure.request, HisConfiguration)
    assert any(configure.request.fixmedins_code in line for line in configure.details)
    assert any("platform URL" in line for line in configure.details)
    assert "收费窗口" in configure.text


def test_a_lost_settlement_the_operator_reversed_is_read_as_rejected(
    platform: MockPlatform,
) -> None:
    with Operator(platform) as operator:
        run = _run(platform, operator, "lab/unknown-settlement")

    charge = next(s for s in run.steps if s.action == "charge")
    assert charge.result is not None
    assert charge.result.status == "rejected"
    assert "reversed" in (charge.result.message or "")
    assert run.status is Status.PASS


def test_the_factory_stops_waiting_before_the_step_timeout() -> None:
    driver = create_driver("manual", mock=object(), step_timeout=30)  # type: ignore[arg-type]
    assert driver.wait_s < 30
    assert driver.describe().startswith("manual")

"""The runner: plan every scenario, drive the HIS step by step, read the transcript, judge.

One scenario runs like this:

1. a fresh institution (code, keys, gateway token) is registered on the mock;
2. the HIS is configured for it (``configure``) and the scenario's faults are armed;
3. each step of ``do`` runs with its timeout: driver actions through the driver, ``arm_fault``
   and ``clear_faults`` on the mock; after each, the transcript records that arrived are
   attached to the step; a step's result is ``pass`` when the driver's outcome is one the
   scenario expects, ``fail`` when it is another, ``error`` when the driver broke or timed out,
   ``wait`` when a manual step is pending;
4. after an ``error`` the remaining steps are skipped (the HIS's state is unknown) and the
   checks are not evaluated; otherwise every check of ``expect.checks`` runs over the whole
   transcript of the tenant;
5. faults are cleared, and the scenario's result is rolled up from its steps and checks
   (:mod:`nhsa.conformance._results`).

A timed-out step does not stop the run: the next scenario starts with a fresh tenant, and the
report lists every timeout. Problems with the inputs (a scenario a fixture set cannot satisfy,
an unreachable driver or mock before anything ran) raise a
:class:`~nhsa.conformance.ConformanceError` instead of producing a report.

Example::

    runner = Runner(driver, InProcessMock(platform), step_timeout=10)
    result = runner.run(load_stages(bundled_stages_dir(), ["lab"], default_registry()))
    result.status, result.exit_code
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field, replace
from datetime import date, datetime
from functools import partial
from typing import Any, Final, Protocol

from nhsa import __version__, spec
from nhsa.conformance._actions import ACTIONS, DriverCall, MockCall
from nhsa.conformance._context import CheckContext, Evidence, LedgerReader, StepRun
from nhsa.conformance._driver import Driver, DriverResult, HisConfiguration
from nhsa.conformance._errors import ConformanceError, DriverError, MockError
from nhsa.conformance._mock_handle import (
    InstitutionTakenError,
    MockHandle,
    PlatformTotals,
    describe_fault,
)
from nhsa.conformance._plan import ScenarioPlan, fresh_institution_code, plan_scenario
from nhsa.conformance._registry import CheckRegistry, default_registry
from nhsa.conformance._requests import StepInputs, UnresolvedReferenceError
from nhsa.conformance._requirements import RequirementSet, bundled_requirements
from nhsa.conformance._results import Member, Status, roll_up
from nhsa.conformance._scenario import Scenario, Step
from nhsa.conformance._timeouts import StepTimeoutError, call_with_timeout
from nhsa.conformance._transcript import TranscriptFeed, TranscriptRecord
from nhsa.envelope import CHINA_TIME
from nhsa.mock.fixtures import FixtureSet, bundled_fixtures
from nhsa.spec import Dialect

__all__ = [
    "CheckRun",
    "RunAbortedError",
    "RunObserver",
    "RunResult",
    "Runner",
    "ScenarioRun",
    "StageRun",
]

DEFAULT_STEP_TIMEOUT: Final = 30.0
_REGISTRATION_ATTEMPTS: Final = 5


class RunAbortedError(ConformanceError):
    """The run could not start: the driver or the mock is not usable.

    Example:
        >>> issubclass(RunAbortedError, ConformanceError)
        True
    """


@dataclass(frozen=True)
class CheckRun:
    """A check as it ran in one scenario.

    Example::

        [c.name for c in scenario_run.checks if c.required and c.status is Status.FAIL]
    """

    name: str
    title: str
    verifies: tuple[str, ...]
    required: bool
    status: Status
    message: str
    evidence: tuple[Evidence, ...] = ()
    args: Mapping[str, Any] = field(default_factory=dict)
    description: str = ""


@dataclass(frozen=True)
class ScenarioRun:
    """One scenario as it ran: its tenant, steps, checks, transcript and rolled-up result.

    Example::

        run.scenario.id, run.status, [s.name for s in run.timed_out]
    """

    scenario: Scenario
    status: Status
    institution: str
    patients: Mapping[str, str]
    faults: tuple[str, ...]
    steps: tuple[StepRun, ...]
    checks: tuple[CheckRun, ...]
    records: tuple[TranscriptRecord, ...]
    message: str = ""
    started_at: datetime | None = None
    duration_s: float = 0.0

    @property
    def timed_out(self) -> list[StepRun]:
        """Steps that ran out of time."""
        return [s for s in self.steps if s.timed_out]


@dataclass(frozen=True)
class StageRun:
    """The scenarios of one stage and the stage's rolled-up result.

    Example::

        {s.scenario.id: s.status.value for s in stage_run.scenarios}
    """

    stage: str
    status: Status
    scenarios: tuple[ScenarioRun, ...]


@dataclass(frozen=True)
class RunResult:
    """A whole run: stages, result, and what it ran against.

    Example::

        result.status, result.exit_code, result.timed_out()
    """

    run_id: str
    status: Status
    stages: tuple[StageRun, ...]
    started_at: datetime
    finished_at: datetime
    driver: str
    mock: str
    step_timeout: float
    requirements: RequirementSet
    registry: CheckRegistry
    kit_version: str = __version__
    dialect: str = "national"

    @property
    def duration_s(self) -> float:
        """Wall time of the run in seconds."""
        return (self.finished_at - self.started_at).total_seconds()

    @property
    def exit_code(self) -> int:
        """0 when every required check passed; 2 when something could not be judged; else 1."""
        if not self.status.blocks_exit:
            return 0
        return 2 if self.status is Status.ERROR else 1

    def scenarios(self) -> Iterable[ScenarioRun]:
        """Every scenario run, stage by stage."""
        for stage in self.stages:
            yield from stage.scenarios

    def timed_out(self) -> list[tuple[ScenarioRun, StepRun]]:
        """Every (scenario, step) that ran out of time."""
        return [(s, step) for s in self.scenarios() for step in s.timed_out]


class RunObserver(Protocol):
    """Progress callbacks (the CLI draws a progress bar from these).

    Example::

        class Printer:
            def scenario_started(self, scenario, index, total): print(index, total, scenario.id)
            def step_finished(self, scenario, step): print("  ", step.name, step.status)
            def scenario_finished(self, run): print("=>", run.status)
    """

    def scenario_started(self, scenario: Scenario, index: int, total: int) -> None:
        """A scenario begins (``index`` counts from 1)."""

    def step_finished(self, scenario: Scenario, step: StepRun) -> None:
        """A step ended."""

    def scenario_finished(self, run: ScenarioRun) -> None:
        """A scenario ended."""


class Runner:
    """Runs scenarios against one driver and one mock (see the module docstring).

    Args:
        driver: the HIS under test.
        mock: the mock platform, as an instrument.
        fixtures: where patients and institutions come from (default: the bundled set, which
            the bundled mock loads too).
        registry: the checks (default: built-ins plus labs' entry points).
        requirements: the requirements (default: ``conformance/requirements.csv``).
        step_timeout: seconds a step may take unless the scenario says otherwise.
        observer: progress callbacks.
        dialect: the province dialect of the run: each fresh institution is registered on
            the mock in it, the HIS is told it in ``configure``, and requests are judged
            against it (national: the contract alone).

    Example::

        with MockPlatform() as platform:
            mock = InProcessMock(platform)
            result = Runner(driver, mock, step_timeout=10).run(stages)
    """

    def __init__(
        self,
        driver: Driver,
        mock: MockHandle,
        *,
        fixtures: FixtureSet | None = None,
        registry: CheckRegistry | None = None,
        requirements: RequirementSet | None = None,
        step_timeout: float = DEFAULT_STEP_TIMEOUT,
        observer: RunObserver | None = None,
        dialect: str | Dialect = "national",
    ) -> None:
        """Set up a runner; nothing is contacted until :meth:`run`."""
        self.dialect = spec.dialect(dialect)
        self.driver = driver
        self.mock = mock
        self.fixtures = fixtures or bundled_fixtures()
        self.registry = registry or default_registry()
        self.requirements = requirements or bundled_requirements()
        self.step_timeout = step_timeout
        self.observer = observer
        self.run_id = f"{datetime.now(CHINA_TIME):%Y%m%dT%H%M%S}-{secrets.token_hex(3)}"
        self._today = datetime.now(CHINA_TIME).date()

    # -- the run ------------------------------------------------------------------------------

    def run(self, stages: Mapping[str, list[Scenario]]) -> RunResult:
        """Run every scenario of ``stages`` (stage order kept) and roll the results up."""
        self.registry.validate_against(self.requirements)
        started = datetime.now(CHINA_TIME)
        platform_url, platform_key, today = self._mock_basics()
        self._today = today
        plans = {
            s.id: self._plan(s, platform_url, platform_key, today)
            for scenarios in stages.values()
            for s in scenarios
        }
        self._check_driver()
        total = len(plans)
        index = 0
        stage_runs = []
        for stage, scenarios in stages.items():
            runs = []
            for scenario in scenarios:
                index += 1
                if self.observer:
                    self.observer.scenario_started(scenario, index, total)
                run = self._run_scenario(scenario, plans[scenario.id])
                if self.observer:
                    self.observer.scenario_finished(run)
                runs.append(run)
            status = roll_up(Member(r.status) for r in runs)
            stage_runs.append(StageRun(stage, status, tuple(runs)))
        return RunResult(
            run_id=self.run_id,
            status=roll_up(Member(s.status) for s in stage_runs),
            stages=tuple(stage_runs),
            started_at=started,
            finished_at=datetime.now(CHINA_TIME),
            driver=self.driver.describe(),
            mock=self.mock.describe(),
            step_timeout=self.step_timeout,
            requirements=self.requirements,
            registry=self.registry,
            dialect=self.dialect.name,
        )

    def _mock_basics(self) -> tuple[str, str | None, date]:
        try:
            return (
                self.mock.platform_url(),
                self.mock.platform_public_key_pem(),
                self.mock.now().astimezone(CHINA_TIME).date(),
            )
        except MockError as exc:
            raise RunAbortedError(f"the mock platform is not usable: {exc}") from None

    def _check_driver(self) -> None:
        where = self.driver.describe()
        try:
            health = call_with_timeout(self.driver.health, self.step_timeout)
        except StepTimeoutError as exc:
            raise RunAbortedError(f"driver {where} did not answer health: {exc}") from None
        except DriverError as exc:
            raise RunAbortedError(str(exc)) from None
        if not health.ready:
            raise RunAbortedError(f"driver {where} is not ready: {health.detail or health.name}")

    def _plan(
        self, scenario: Scenario, url: str, key: str | None, today: date, code: str | None = None
    ) -> ScenarioPlan:
        return plan_scenario(
            scenario,
            self.fixtures,
            institution_code=code or fresh_institution_code(scenario.given.institution),
            platform_url=url,
            platform_key_pem=key,
            run_id=self.run_id,
            token=secrets.token_hex(4),
            today=today,
            dialect=self.dialect,
        )

    # -- one scenario -------------------------------------------------------------------------

    def _run_scenario(self, scenario: Scenario, plan: ScenarioPlan) -> ScenarioRun:
        started = datetime.now(CHINA_TIME)
        clock = time.monotonic()
        try:
            plan = self._register(scenario, plan)
        except MockError as exc:
            return self._broken(
                scenario, plan, started, f"could not register the institution: {exc}"
            )
        execution = _Execution(self, scenario, plan)
        execution.run()
        records = tuple(execution.transcript.records)
        steps = tuple(execution.steps)
        checks = tuple(self._checks(scenario, plan, steps, records, execution.abort_reason))
        members = [Member(s.status) for s in steps] + [Member(c.status, c.required) for c in checks]
        return ScenarioRun(
            scenario=scenario,
            status=roll_up(members),
            institution=plan.tenant,
            patients={
                a: f"{p.psn_no} ({p.insutype}, {p.insured_area}, {p.locality})"
                for a, p in plan.patients.items()
            },
            faults=_faults_of(plan),
            steps=steps,
            checks=checks,
            records=records,
            message=execution.abort_reason or "",
            started_at=started,
            duration_s=time.monotonic() - clock,
        )

    def _register(self, scenario: Scenario, plan: ScenarioPlan) -> ScenarioPlan:
        for _ in range(_REGISTRATION_ATTEMPTS):
            try:
                self.mock.register_institution(plan.registration)
            except InstitutionTakenError:
                cfg = plan.configuration
                key = cfg.signing.platform_public_key_pem
                plan = self._plan(scenario, cfg.platform_url, key, self._today)
                continue
            return plan
        raise MockError(f"no free institution code in {_REGISTRATION_ATTEMPTS} attempts")

    def _broken(
        self, scenario: Scenario, plan: ScenarioPlan, started: datetime, message: str
    ) -> ScenarioRun:
        return ScenarioRun(
            scenario=scenario,
            status=Status.ERROR,
            institution=plan.tenant,
            patients={a: p.psn_no for a, p in plan.patients.items()},
            faults=_faults_of(plan),
            steps=(),
            checks=(),
            records=(),
            message=message,
            started_at=started,
        )

    def _checks(
        self,
        scenario: Scenario,
        plan: ScenarioPlan,
        steps: tuple[StepRun, ...],
        records: tuple[TranscriptRecord, ...],
        abort_reason: str | None,
    ) -> Iterable[CheckRun]:
        waiting = next((s for s in steps if s.status is Status.WAIT), None)
        for use in scenario.checks:
            spec = self.registry[use.name]
            required = (
                not use.optional
                if use.optional is not None
                else any(
                    self.requirements[r].required for r in spec.verifies if r in self.requirements
                )
            )
            base = CheckRun(
                use.name,
                spec.title,
                spec.verifies,
                required,
                Status.SKIP,
                "",
                args=use.args,
                description=spec.description,
            )
            if abort_reason is not None:
                yield replace(base, message=f"not evaluated: {abort_reason}")
                continue
            if waiting is not None:
                yield replace(base, status=Status.WAIT, message=f"waiting for step {waiting.name}")
                continue
            ctx = CheckContext(scenario, plan, records, steps, use.args, self._ledger(plan.tenant))
            try:
                outcome = spec.run(ctx)
            except Exception as exc:  # a broken check must not stop the run; report it
                yield replace(
                    base, status=Status.ERROR, message=f"check raised {type(exc).__name__}: {exc}"
                )
                continue
            yield replace(
                base, status=outcome.status, message=outcome.message, evidence=outcome.evidence
            )

    def _ledger(self, tenant: str) -> LedgerReader:
        def totals(begin: date, end: date, refd_setl_flag: str | None = None) -> PlatformTotals:
            return self.mock.ledger_totals(tenant, begin, end, refd_setl_flag)

        return totals


class _Execution:
    """One scenario's steps against the driver and the mock, reading the transcript as it grows."""

    def __init__(self, runner: Runner, scenario: Scenario, plan: ScenarioPlan) -> None:
        self.runner = runner
        self.scenario = scenario
        self.plan = plan
        self.inputs = StepInputs()
        self.steps: list[StepRun] = []
        self.transcript = TranscriptFeed(runner.mock, plan.tenant)
        self.abort_reason: str | None = None

    @property
    def tenant(self) -> str:
        return self.plan.tenant

    def run(self) -> None:
        self._configure()
        mock = self.runner.mock
        set_up = [partial(mock.arm_fault, self.tenant, fault) for fault in self.plan.faults]
        set_up += [partial(mock.schedule_downtime, self.tenant, d) for d in self.plan.downtimes]
        for call in set_up if self.abort_reason is None else ():
            if not self._mock_call(call, "arm a fault or schedule a downtime"):
                break
        for step in self.scenario.steps:
            if self.abort_reason is not None:
                self._record(self._skipped(step, f"not run: {self.abort_reason}"))
                continue
            runs = ACTIONS[step.action].runs
            if isinstance(runs, DriverCall):
                self._record(self._driver_step(step, runs))
            else:
                self._record(self._suite_step(step, runs))
        self._mock_call(lambda: self.runner.mock.clear_faults(self.tenant), "clear faults")
        self._read_transcript()

    # -- steps ----------------------------------------------------------------------------------

    def _configure(self) -> None:
        config = self.plan.configuration
        step = Step("configure", "configure", {}, self.scenario.line)
        request = _safe_configuration(config)
        run = self._drive(
            step, request, None, lambda: self.runner.driver.configure(config), ("ok",)
        )
        self._record(run)
        if run.status is not Status.PASS and self.abort_reason is None:
            # a HIS that would not take this institution's configuration cannot act for it
            self.abort_reason = f"step configure: {run.message}"

    def _driver_step(self, step: Step, drive: DriverCall[Any]) -> StepRun:
        try:
            today = self.runner.mock.now().astimezone(CHINA_TIME).date()
            request, patient = drive.build(step, self.plan, self.inputs, today)
        except UnresolvedReferenceError as exc:
            return self._skipped(step, str(exc))
        except MockError as exc:
            self.abort_reason = f"the mock's clock could not be read: {exc}"
            return self._skipped(step, self.abort_reason)
        expected = self.scenario.expected_outcomes(step)
        driver = self.runner.driver
        run = self._drive(
            step, asdict(request), patient, lambda: drive.call(driver, request), expected
        )
        if run.result is not None:
            self.inputs.results[step.name] = run.result
            if run.result.status == "ok" and drive.settles is not None:
                # a later partial refund takes lines back at the price this step settled them
                self.inputs.settled[step.name] = drive.settles(step, request, self.inputs)
        return run

    def _drive(
        self,
        step: Step,
        request: Mapping[str, Any],
        patient: str | None,
        call: Callable[[], DriverResult],
        expected: tuple[str, ...],
    ) -> StepRun:
        timeout = step.timeout or self.runner.step_timeout
        started = datetime.now(CHINA_TIME)
        clock = time.monotonic()
        result: DriverResult | None = None
        timed_out = False
        try:
            result = call_with_timeout(call, timeout)
            status, message = _judge(result, expected)
        except StepTimeoutError as exc:
            timed_out = True
            status, message = Status.ERROR, f"timed out: {exc}"
        except DriverError as exc:
            status, message = Status.ERROR, f"driver failed: {exc}"
        except Exception as exc:  # a driver is foreign code; its crash is the step's error
            status, message = Status.ERROR, f"driver raised {type(exc).__name__}: {exc}"
        if not isinstance(result, DriverResult | None):
            status, message, result = (
                Status.ERROR,
                f"driver returned {type(result).__name__}, not a DriverResult",
                None,
            )
        if status is Status.ERROR:
            self.abort_reason = f"step {step.name} {message}"
        seqs = self._read_transcript()
        return StepRun(
            name=step.name,
            action=step.action,
            request=request,
            result=result,
            status=status,
            message=message,
            records=seqs,
            expected=expected,
            timed_out=timed_out,
            duration_s=time.monotonic() - clock,
            started_at=started,
            line=step.line,
            patient=patient,
        )

    def _suite_step(self, step: Step, mock_call: MockCall) -> StepRun:
        started = datetime.now(CHINA_TIME)
        done: list[tuple[Mapping[str, Any], str]] = []
        self._mock_call(
            lambda: done.append(mock_call.perform(self.runner.mock, self.plan, step)),
            ACTIONS[step.action].summary,
        )
        request, message = done[0] if done else ({}, str(self.abort_reason))
        return StepRun(
            step.name,
            step.action,
            request,
            None,
            Status.PASS if done else Status.ERROR,
            message,
            self._read_transcript(),
            (),
            started_at=started,
            line=step.line,
        )

    def _skipped(self, step: Step, reason: str) -> StepRun:
        return StepRun(
            step.name,
            step.action,
            {},
            None,
            Status.SKIP,
            reason,
            (),
            self.scenario.expected_outcomes(step),
            line=step.line,
        )

    def _record(self, run: StepRun) -> None:
        self.steps.append(run)
        if self.runner.observer:
            self.runner.observer.step_finished(self.scenario, run)

    # -- the mock -------------------------------------------------------------------------------

    def _mock_call(self, call: Callable[[], object], what: str) -> bool:
        try:
            call()
        except MockError as exc:
            if self.abort_reason is None:
                self.abort_reason = f"the mock could not {what}: {exc}"
            return False
        return True

    def _read_transcript(self) -> tuple[int, ...]:
        try:
            fresh = self.transcript.read()
        except MockError as exc:
            if self.abort_reason is None:
                self.abort_reason = f"the mock's transcript could not be read: {exc}"
            return ()
        return tuple(r.seq for r in fresh)


def _faults_of(plan: ScenarioPlan) -> tuple[str, ...]:
    """What the scenario armed before its first step, one line each, for reports."""
    faults = tuple(describe_fault(f) for f in plan.faults)
    return faults + tuple(d.describe() for d in plan.downtimes)


def _judge(result: DriverResult, expected: tuple[str, ...]) -> tuple[Status, str]:
    note = f": {result.message}" if result.message else ""
    if result.status == "pending":
        return Status.WAIT, f"pending (waiting for the operator){note}"
    if result.status == "error":
        return Status.ERROR, f"the HIS reported an error{note}"
    if result.status in expected:
        return Status.PASS, f"{result.status} as expected{note}"
    return Status.FAIL, f"{result.status}, expected {' or '.join(expected)}{note}"


def _safe_configuration(config: HisConfiguration) -> dict[str, Any]:
    """The configuration without secrets, as reports may show it."""
    data = asdict(config)
    signing = data["signing"]
    if signing.get("private_key_pem"):
        signing["private_key_pem"] = (
            f"<SM2 private key {config.signing.key_id}, generated for this run>"
        )
    if signing.get("token"):
        signing["token"] = "***"  # noqa: S105 - the mask that replaces the secret
    if signing.get("platform_public_key_pem"):
        signing["platform_public_key_pem"] = "<platform public key>"
    return data

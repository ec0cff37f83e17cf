"""Conformance runs started from the console: one thread each, watched live, kept when done.

A :class:`RunBoard` starts a run on a thread of its own, with the runner's
:class:`~nhsa.conformance.RunObserver` seam feeding a :class:`LiveRun` — the events the page
streams (scenario started, step finished, scenario finished) and the progress per stage.
Each institution the run registers is claimed for the lab first (:meth:`LabBooks.claim`), so a
lab's pages can show it while the run is still going and no other lab ever can.

When the runner returns, the reports are built from the one report dict — JSON, its detached
SM2 signature (the console's key), JUnit XML, and the HTML page showing the signature — and
written with the run's row in one transaction; only then does the run count as finished, so a
finished run shown is one whose reports are in the database. A run that cannot start (an
unreachable driver) ends ``aborted`` with the runner's message and writes nothing.

Example::

    board = RunBoard(platform, books, key, platform_url="http://127.0.0.1:8800")
    live = board.start("lab-km", RunSettings(stages=("lab",), driver="sdk"))
    live.wait(timeout=60)
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final, Literal

from nhsa.conformance import (
    STAGES,
    ConformanceError,
    InProcessMock,
    Runner,
    RunResult,
    Scenario,
    ScenarioRun,
    StepRun,
    bundled_stages_dir,
    default_registry,
    load_stages,
)
from nhsa.conformance._driver import Driver
from nhsa.conformance._mock_handle import InstitutionRegistration
from nhsa.conformance._setup import open_driver
from nhsa.conformance._signature import signature_file
from nhsa.conformance.reports import (
    SignatureStatus,
    build_report,
    encode_report,
    junit_xml,
    render_html,
)
from nhsa.envelope import CHINA_TIME
from nhsa.lab._records import LabBooks, ReportFile, report_file
from nhsa.mock import MockPlatform
from nhsa.mock.store import LabRun
from nhsa.redaction import redact
from nhsa.signing import Sm2PrivateKey
from nhsa.spec import dialect_names

__all__ = ["MAX_LIVE_RUNS", "LiveRun", "RunBoard", "RunRefusedError", "RunSettings", "RunState"]

MAX_LIVE_RUNS: Final = 4
"""Runs going at once on one server (each is a thread driving a HIS); one per lab."""
MAX_STEP_TIMEOUT: Final = 600.0
REPORT_NAMES: Final = ("report.json", "report.json.sig", "junit.xml", "report.html")
_LOG = logging.getLogger(__name__)

RunState = Literal["running", "finished", "aborted", "failed"]


class RunRefusedError(ValueError):
    """A run that cannot be started as asked: the message names the field and the rule."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


@dataclass(frozen=True)
class RunSettings:
    """What the start form asks for.

    ``dialect`` is the province dialect the run is judged in (one of :func:`dialect_choices`);
    ``None`` is the national interface.

    Example:
        >>> RunSettings.parse(stages=["lab"], driver="sdk", step_timeout="10").step_timeout
        10.0
    """

    stages: tuple[str, ...]
    driver: str = "sdk"
    step_timeout: float = 30.0
    dialect: str | None = None

    @classmethod
    def parse(
        cls,
        *,
        stages: list[str],
        driver: str,
        step_timeout: str = "30",
        dialect: str | None = None,
    ) -> RunSettings:
        """The form's values, checked; :class:`RunRefusedError` names the field that is wrong."""
        chosen = tuple(stage for stage in STAGES if stage in stages)
        unknown = sorted(set(stages) - set(STAGES))
        if unknown or not chosen:
            raise RunRefusedError("stages", f"choose one or more of {', '.join(STAGES)}")
        target = driver.strip()
        if target != "sdk" and not target.startswith(("http://", "https://")):
            raise RunRefusedError(
                "driver", f"{target!r}: use sdk, or the http(s):// URL of your HIS's driver API"
            )
        try:
            timeout = float(step_timeout)
        except ValueError:
            raise RunRefusedError("step_timeout", f"{step_timeout!r} is not a number") from None
        if not 0.1 <= timeout <= MAX_STEP_TIMEOUT:
            raise RunRefusedError("step_timeout", f"seconds between 0.1 and {MAX_STEP_TIMEOUT:g}")
        if dialect and dialect not in dialect_choices():
            raise RunRefusedError(
                "dialect",
                f"{dialect!r}: this nhsa-kit runs "
                + (", ".join(dialect_choices()) or "the national interface only"),
            )
        return cls(chosen, target, timeout, dialect or None)


def dialect_choices() -> tuple[str, ...]:
    """The province dialects a run may be judged in besides the national interface.

    Example:
        >>> "jilin" in dialect_choices(), "national" in dialect_choices()
        (True, False)
    """
    return tuple(name for name in dialect_names() if name != "national")


@dataclass
class LiveRun:
    """A run as the page follows it: settings, progress per stage, the event log, the end.

    Events are JSON-ready dicts, numbered from 0 in :attr:`events`; the page streams them.
    """

    lab: str
    run_id: str
    settings: RunSettings
    planned: Mapping[str, tuple[str, ...]]
    started_at: datetime
    state: RunState = "running"
    message: str = ""
    result: str | None = None
    events: list[dict[str, Any]] = field(default_factory=list)
    done: dict[str, int] = field(default_factory=dict)
    institution: str | None = None
    _changed: threading.Condition = field(default_factory=threading.Condition, repr=False)

    def publish(self, event: dict[str, Any]) -> None:
        """Append an event and wake whoever waits for one."""
        with self._changed:
            self.events.append(event)
            self._changed.notify_all()

    def end(self, state: RunState, message: str, result: str | None = None) -> None:
        """The run is over; the last event says how."""
        with self._changed:
            self.state, self.message, self.result = state, message, result
            self.events.append(
                {"type": "end", "state": state, "message": message, "result": result}
            )
            self._changed.notify_all()

    def events_after(self, index: int) -> list[dict[str, Any]]:
        """The events numbered ``index`` and later."""
        with self._changed:
            return self.events[index:]

    def wait(self, timeout: float) -> bool:
        """Block until the run is over (or ``timeout`` seconds passed); whether it is over."""
        with self._changed:
            return self._changed.wait_for(lambda: self.state != "running", timeout)

    @property
    def stages(self) -> list[dict[str, Any]]:
        """Per stage: scenarios planned and finished."""
        return [
            {"stage": stage, "total": len(ids), "done": self.done.get(stage, 0)}
            for stage, ids in self.planned.items()
        ]


class _Observer:
    """The runner's observer: turns its callbacks into the live run's events."""

    def __init__(self, live: LiveRun) -> None:
        self.live = live

    def scenario_started(self, scenario: Scenario, index: int, total: int) -> None:
        """A scenario begins."""
        self.live.institution = None
        self.live.publish(
            {"type": "scenario", "stage": scenario.stage, "scenario": scenario.id,
             "title": scenario.title, "index": index, "total": total}
        )  # fmt: skip

    def step_finished(self, scenario: Scenario, step: StepRun) -> None:
        """A step ended: its result, message and the transcript records it caused."""
        self.live.publish(
            {"type": "step", "scenario": scenario.id, "step": step.name, "action": step.action,
             "result": step.status.value, "message": redact(step.message),
             "records": list(step.records), "institution": self.live.institution}
        )  # fmt: skip

    def scenario_finished(self, run: ScenarioRun) -> None:
        """A scenario ended: its result and each check's."""
        stage = run.scenario.stage
        self.live.done[stage] = self.live.done.get(stage, 0) + 1
        self.live.publish(
            {"type": "scenario-done", "stage": stage, "scenario": run.scenario.id,
             "result": run.status.value, "institution": run.institution,
             "message": redact(run.message),
             "checks": [
                 {"name": c.name, "result": c.status.value, "required": c.required,
                  "verifies": list(c.verifies), "message": redact(c.message)}
                 for c in run.checks
             ]}
        )  # fmt: skip


class _ClaimingMock(InProcessMock):
    """The in-process mock, claiming each institution for the lab before registering it."""

    def __init__(self, platform: MockPlatform, url: str, books: LabBooks, live: LiveRun) -> None:
        super().__init__(platform, url=url)
        self._books = books
        self._live = live

    def register_institution(self, registration: InstitutionRegistration) -> None:
        """Claim, then register (a code claimed already is refused, and the runner retries)."""
        scenario = next(
            (e["scenario"] for e in reversed(self._live.events) if e["type"] == "scenario"), "-"
        )
        self._books.claim(
            registration.fixmedins_code,
            lab=self._live.lab,
            run_id=self._live.run_id,
            scenario=scenario,
        )
        super().register_institution(registration)
        self._live.institution = registration.fixmedins_code


class RunBoard:
    """The runs of one console: started, followed, finished into the database.

    Args:
        platform: the mock the runs drive (the one this server serves).
        books: where runs and institutions are written.
        key: the console's SM2 key, which signs every ``report.json``.
        platform_url: where a HIS in another process reaches the platform.
    """

    def __init__(
        self, platform: MockPlatform, books: LabBooks, key: Sm2PrivateKey, *, platform_url: str
    ) -> None:
        """Nothing runs until :meth:`start`."""
        self.platform = platform
        self.books = books
        self.key = key
        self.platform_url = platform_url
        self._lock = threading.Lock()
        self._live: dict[str, LiveRun] = {}

    def start(self, lab: str, settings: RunSettings) -> LiveRun:
        """Start a run for ``lab``; :class:`RunRefusedError` when it cannot start now."""
        with self._lock:
            going = [run for run in self._live.values() if run.state == "running"]
            if any(run.lab == lab for run in going):
                raise RunRefusedError("run", "a run of this lab is still going: wait for it to end")
            if len(going) >= MAX_LIVE_RUNS:
                raise RunRefusedError(
                    "run", f"{MAX_LIVE_RUNS} runs are going on this server: retry soon"
                )
            try:
                stages = load_stages(
                    bundled_stages_dir(), list(settings.stages), default_registry()
                )
            except ConformanceError as exc:
                raise RunRefusedError("stages", str(exc)) from None
            live = LiveRun(
                lab=lab,
                run_id="",
                settings=settings,
                planned={stage: tuple(s.id for s in found) for stage, found in stages.items()},
                started_at=datetime.now(CHINA_TIME),
            )
            mock = _ClaimingMock(self.platform, self.platform_url, self.books, live)
            try:
                driver = open_driver(settings.driver, mock, step_timeout=settings.step_timeout)
            except ConformanceError as exc:
                raise RunRefusedError("driver", str(exc)) from None
            runner = Runner(
                driver, mock, fixtures=self.platform.core.fixtures,
                step_timeout=settings.step_timeout, observer=_Observer(live),
                dialect=settings.dialect or "national",
            )  # fmt: skip
            live.run_id = runner.run_id
            self._live[live.run_id] = live
        threading.Thread(
            target=self._run, args=(live, runner, driver, stages), name=f"lab-run-{live.run_id}",
            daemon=True,
        ).start()  # fmt: skip
        return live

    def live(self, lab: str, run_id: str) -> LiveRun | None:
        """A run of ``lab`` this server started since it came up (going or over)."""
        found = self._live.get(run_id)
        return found if found is not None and found.lab == lab else None

    def live_runs(self, lab: str) -> list[LiveRun]:
        """``lab``'s runs started since the server came up, newest first."""
        return sorted(
            (run for run in self._live.values() if run.lab == lab),
            key=lambda run: run.started_at,
            reverse=True,
        )

    def _run(
        self, live: LiveRun, runner: Runner, driver: Driver, stages: Mapping[str, list[Scenario]]
    ) -> None:
        try:
            try:
                result = runner.run(stages)
            finally:
                driver.close()
        except ConformanceError as exc:
            live.end("aborted", str(exc))
            return
        except Exception as exc:  # a broken run must still end, and say so on its page
            _LOG.exception("console run %s failed", live.run_id)
            live.end("failed", f"the run stopped: {type(exc).__name__}: {redact(str(exc))}")
            return
        try:
            self._keep(live, result)
        except Exception as exc:  # the database refused: nothing half-written (one transaction)
            _LOG.exception("console run %s could not be stored", live.run_id)
            live.end("failed", f"the run finished but could not be stored: {type(exc).__name__}")
            return
        live.end("finished", f"{result.status.value}: reports kept", result.status.value)

    def _keep(self, live: LiveRun, result: RunResult) -> None:
        report = build_report(result)
        data = encode_report(report)
        signature = signature_file(data, "report.json", self.key)
        status = SignatureStatus(
            "signed", "report.json.sig", key_id=self.key.key_id,
            signed_at=datetime.now(CHINA_TIME).isoformat(timespec="seconds"),
        )  # fmt: skip
        files: list[ReportFile] = [
            report_file("report.json", "application/json", data),
            report_file("report.json.sig", "application/json", signature),
            report_file("junit.xml", "application/xml", junit_xml(report)),
            report_file(
                "report.html", "text/html; charset=utf-8",
                render_html(report, signature=status).encode("utf-8"),
            ),
        ]  # fmt: skip
        row = LabRun(
            lab=live.lab,
            run_id=result.run_id,
            stages=tuple(stage.stage for stage in result.stages),
            driver=result.driver,
            dialect=live.settings.dialect,
            result=result.status.value,
            exit_code=result.exit_code,
            started_at=result.started_at,
            finished_at=result.finished_at,
            summary=report["summary"],
            institutions=tuple(s.institution for s in result.scenarios()),
        )
        self.books.store_run(row, files)

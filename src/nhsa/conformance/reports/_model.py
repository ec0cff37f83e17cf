"""The report as data: one JSON-ready dict built from a run, the source of every format.

The JSON file is this dict; the JUnit XML and the HTML page are rendered from it, so the
three can never disagree. Its shape is ``conformance/report.schema.json`` (versioned by
``schema_version``; fields are only ever added within a major version). Personal data is
masked with :func:`nhsa.redaction.redact` before it enters the dict: requests sent to the
driver (certificate numbers), transcript excerpts (names, identity and card numbers), and
evidence text. Files of the tester's machine (scenario files, the requirements CSV) are named
relative to the report's folder when it is known, so a report that travels reveals no
absolute path and its links still work beside the checkout it came from.

Example::

    report = build_report(result)
    report["result"], report["summary"]["checks"]["fail"]
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import asdict, is_dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, Final

from nhsa._resources import data_dir
from nhsa.conformance._context import StepRun
from nhsa.conformance._results import Member, Status, roll_up
from nhsa.conformance._runner import CheckRun, RunResult, ScenarioRun
from nhsa.conformance._transcript import TranscriptRecord
from nhsa.redaction import redact

__all__ = [
    "REPORT_SCHEMA_ID",
    "SCHEMA_VERSION",
    "build_report",
    "jsonable",
    "portable_path",
    "scenario_problems",
]

SCHEMA_VERSION: Final = "1.3"
REPORT_SCHEMA_ID: Final = "https://nhsa-kit.invalid/conformance/report.schema.json"
NOT_TESTED: Final = "not-tested"
NOT_RUN: Final = "not-run"
KIT_PREFIX: Final = "nhsa-kit:"
"""How a report names a file of the kit's own data: ``nhsa-kit:conformance/requirements.csv``."""


def jsonable(value: Any) -> Any:
    """Plain JSON data: Decimals as exact decimal strings, dates as ISO text, tuples as lists.

    Example:
        >>> jsonable({"a": Decimal("25.10"), "d": date(2026, 11, 23), "t": (1, 2)})
        {'a': '25.10', 'd': '2026-11-23', 't': [1, 2]}
    """
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(v) for v in value]
    if is_dataclass(value) and not isinstance(value, type):
        return jsonable(asdict(value))
    return value


def portable_path(text: str, folder: Path | None) -> str:
    """A file of the tester's machine named without its absolute path; other text unchanged.

    The kit's own data (bundled scenarios, the requirements CSV) is ``nhsa-kit:`` plus its
    path in the kit — the same in every checkout and wheel of ``kit_version``. A file beside
    the report's ``folder`` is named relative to it (so the page's link opens it); one that
    shares nothing with the folder but the file-system root keeps only its name.

    Example:
        >>> portable_path("/lab/stages/lab/a.yaml", Path("/lab/out"))
        '../stages/lab/a.yaml'
        >>> portable_path("/srv/a.yaml", Path("/tmp/out"))
        'a.yaml'
        >>> portable_path(str(data_dir("conformance") / "requirements.csv"), Path("/tmp/out"))
        'nhsa-kit:conformance/requirements.csv'
        >>> portable_path("bundled", Path("/lab/out"))
        'bundled'
    """
    if not os.path.isabs(text):
        return text
    path = Path(text)
    kit = data_dir("conformance")
    if path.is_relative_to(kit):
        return f"{KIT_PREFIX}conformance/{path.relative_to(kit).as_posix()}"
    if folder is None:
        return text
    here = folder.absolute()
    if os.path.commonpath([path, here]) == here.anchor:
        return path.name
    return Path(os.path.relpath(path, here)).as_posix()


def scenario_problems(scenario: Mapping[str, Any]) -> list[str]:
    """Why a scenario of the report did not pass, one line per cause (``[]`` when it passed).

    Its own message (the run stopped it: the driver or the mock broke) comes first, then each
    step and each required check that failed or could not be judged, with its message.

    Example:
        >>> scenario_problems({"message": "could not register the institution", "steps": [],
        ...                    "checks": []})
        ['could not register the institution']
    """
    lines = [str(scenario["message"])] if scenario.get("message") else []
    lines += [
        f"step {step['name']}: {step['message']}"
        for step in scenario["steps"]
        if step["result"] in (Status.FAIL.value, Status.ERROR.value)
    ]
    lines += [
        f"check {check['name']}: {check['message']}"
        for check in scenario["checks"]
        if check["required"] and check["result"] in (Status.FAIL.value, Status.ERROR.value)
    ]
    return lines


def build_report(run: RunResult, *, folder: Path | None = None) -> dict[str, Any]:
    """The report of ``run`` (see the module docstring); paths relative to ``folder``.

    Example::

        report = build_report(result, folder=Path("out"))
        report["result"], report["summary"]["checks"]
    """
    scenarios = list(run.scenarios())
    report: dict[str, Any] = {
        "$schema": REPORT_SCHEMA_ID,
        "schema_version": SCHEMA_VERSION,
        "kit_version": run.kit_version,
        "run": {
            "id": run.run_id,
            "started_at": run.started_at.isoformat(timespec="seconds"),
            "finished_at": run.finished_at.isoformat(timespec="seconds"),
            "duration_s": round(run.duration_s, 3),
            "driver": run.driver,
            "mock": run.mock,
            "dialect": run.dialect,
            "step_timeout_s": run.step_timeout,
            "stages": [stage.stage for stage in run.stages],
            "requirements_source": "+".join(
                portable_path(part, folder) for part in run.requirements.source.split("+")
            ),
        },
        "result": run.status.value,
        "exit_code": run.exit_code,
        "summary": _summary(run, scenarios),
        "requirements": _requirements(run, scenarios),
        "timeouts": [
            {
                "stage": s.scenario.stage,
                "scenario": s.scenario.id,
                "step": step.name,
                "message": step.message,
            }
            for s, step in run.timed_out()
        ],
        "stages": [
            {
                "stage": stage.stage,
                "result": stage.status.value,
                "scenarios": [_scenario(s, folder) for s in stage.scenarios],
            }
            for stage in run.stages
        ],
    }
    plain: dict[str, Any] = jsonable(report)
    return plain


def _count(statuses: Iterable[Status]) -> dict[str, int]:
    counted = Counter(s.value for s in statuses)
    return {status.value: counted.get(status.value, 0) for status in Status}


def _summary(run: RunResult, scenarios: list[ScenarioRun]) -> dict[str, Any]:
    return {
        "stages": _count(stage.status for stage in run.stages),
        "scenarios": _count(s.status for s in scenarios),
        "steps": _count(step.status for s in scenarios for step in s.steps),
        "checks": _count(c.status for s in scenarios for c in s.checks if c.required),
        "optional_checks": _count(c.status for s in scenarios for c in s.checks if not c.required),
    }


def _requirements(run: RunResult, scenarios: list[ScenarioRun]) -> list[dict[str, Any]]:
    rows = []
    for requirement in run.requirements.values():
        runs = [(s, c) for s in scenarios for c in s.checks if requirement.id in c.verifies]
        if not requirement.tested:
            result = NOT_TESTED
        elif not runs:
            result = NOT_RUN
        else:
            result = roll_up(Member(c.status) for _, c in runs).value
        rows.append(
            {
                "id": requirement.id,
                "text": requirement.text,
                "level": requirement.level,
                "actors": list(requirement.actors),
                "source": requirement.source,
                "stages": list(requirement.stages),
                "not_tested_reason": requirement.not_tested_reason or None,
                "checks": sorted(c.name for c in run.registry.verifying(requirement.id)),
                "result": result,
                "evaluations": [
                    {"scenario": s.scenario.id, "check": c.name, "result": c.status.value}
                    for s, c in runs
                ],
            }
        )
    return rows


def _scenario(run: ScenarioRun, folder: Path | None) -> dict[str, Any]:
    scenario = run.scenario
    return {
        "id": scenario.id,
        "title": scenario.title,
        "file": portable_path(str(scenario.path.absolute()), folder),
        "line": scenario.line,
        "result": run.status.value,
        "message": run.message or None,
        "institution": run.institution,
        "mode": scenario.given.mode,
        "profile": scenario.given.profile,
        "patients": dict(run.patients),
        "faults": list(run.faults),
        "requirements": list(scenario.requirements),
        "started_at": run.started_at.isoformat(timespec="seconds") if run.started_at else None,
        "duration_s": round(run.duration_s, 3),
        "steps": [_step(step) for step in run.steps],
        "checks": [_check(check) for check in run.checks],
        "transcript": [_record(record) for record in run.records],
    }


def _step(step: StepRun) -> dict[str, Any]:
    return {
        "name": step.name,
        "action": step.action,
        "line": step.line,
        "result": step.status.value,
        "message": redact(step.message),
        "expected": list(step.expected),
        "outcome": step.outcome,
        "timed_out": step.timed_out,
        "duration_s": round(step.duration_s, 3),
        "patient": step.patient,
        "request": redact(jsonable(step.request)),
        "driver_result": redact(step.result.as_dict()) if step.result is not None else None,
        "records": list(step.records),
    }


def _check(check: CheckRun) -> dict[str, Any]:
    return {
        "name": check.name,
        "title": check.title,
        "description": check.description,
        "verifies": list(check.verifies),
        "required": check.required,
        "result": check.status.value,
        "message": redact(check.message),
        "args": dict(check.args),
        "evidence": [redact(e.as_dict()) for e in check.evidence],
    }


_RECORD_FIELDS: Final = (
    "infno",
    "msgid",
    "received_at",
    "opter_type",
    "insuplc_admdvs",
    "infcode",
    "delivered",
    "state_changed",
)


def _record(record: TranscriptRecord) -> dict[str, Any]:
    excerpt: dict[str, Any] = {"seq": record.seq}
    excerpt.update({name: getattr(record, name) for name in _RECORD_FIELDS})
    excerpt["received_at"] = record.received_at.isoformat(timespec="milliseconds")
    excerpt["err_msg"] = redact(record.err_msg)
    excerpt["fault"] = record.fault_kind.value if record.fault_kind is not None else None
    excerpt["input"] = redact(jsonable(record.input))
    excerpt["output"] = redact(jsonable(record.output))
    return excerpt

"""One self-contained HTML page from the report dict: verdict, failures first, matrix, scenarios.

Inline CSS, no script, no external asset, so the file opens anywhere and prints for a lab's
file. Jinja2 autoescapes every value; transcript excerpts arrive already masked. The page
opens with what needs attention: the requirements that failed (or could not be judged), each
linked to the scenario that shows it, and the scenarios that could not be judged with the
reason. Transcript record numbers link to the record in the scenario's excerpt. When the JSON
report has been signed or verified, the page says so (:class:`SignatureStatus`).

Example::

    html = render_html(build_report(result))
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import jinja2

from nhsa.conformance._results import Member, Status, roll_up
from nhsa.conformance.reports._model import scenario_problems

__all__ = ["SignatureStatus", "coverage_matrix", "failed_requirements", "render_html"]

_ENVIRONMENT = jinja2.Environment(
    loader=jinja2.PackageLoader("nhsa.conformance.reports", "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
# Chinese stays readable in the transcript excerpts (jinja escapes < > & ' for HTML anyway).
_ENVIRONMENT.policies["json.dumps_kwargs"] = {"ensure_ascii": False, "sort_keys": True}
_ENVIRONMENT.filters["anchor"] = lambda scenario_id: str(scenario_id).replace("/", "--")
_ENVIRONMENT.globals["scenario_problems"] = scenario_problems

_NEEDS_ATTENTION = (Status.FAIL.value, Status.ERROR.value)


@dataclass(frozen=True)
class SignatureStatus:
    """What is known about the JSON report's signature, for the page's signature panel.

    ``state`` is ``signed`` (``nhsa conformance sign`` wrote ``signature_file``), ``verified``
    (``nhsa conformance verify`` checked it at ``checked_at``) or ``not-verified`` (it did not
    check out; ``problem`` says why).

    Example:
        >>> SignatureStatus("signed", "report.json.sig", key_id="85efe995ab15f1b0").state
        'signed'
    """

    state: Literal["signed", "verified", "not-verified"]
    signature_file: str
    key_id: str | None = None
    signed_at: str | None = None
    sha256: str | None = None
    checked_at: str | None = None
    problem: str | None = None


def render_html(report: Mapping[str, Any], *, signature: SignatureStatus | None = None) -> str:
    """The report page, with the signature panel when ``signature`` is given.

    Example:
        >>> "<!DOCTYPE html>" in render_html(_EMPTY)
        True
    """
    template = _ENVIRONMENT.get_template("report.html.j2")
    return template.render(
        report=report,
        statuses=[status.value for status in Status],
        matrix=coverage_matrix(report),
        failures=failed_requirements(report),
        unjudged=[
            s
            for stage in report["stages"]
            for s in stage["scenarios"]
            if s["result"] == Status.ERROR.value
        ],
        signature=signature,
    )


def failed_requirements(report: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Requirements that failed or could not be judged, SHALL first, with where it showed.

    Each row is the requirement's report entry plus ``where``: the (scenario, check, result)
    evaluations that did not pass.

    Example:
        >>> failed_requirements({"requirements": [
        ...     {"id": "HIS-REV-001", "level": "SHALL", "result": "fail", "evaluations": [
        ...         {"scenario": "lab/a", "check": "no_resend", "result": "fail"},
        ...         {"scenario": "lab/b", "check": "no_resend", "result": "pass"}]},
        ...     {"id": "HIS-REV-002", "level": "SHALL", "result": "pass", "evaluations": []}]}
        ... )[0]["where"]
        [{'scenario': 'lab/a', 'check': 'no_resend', 'result': 'fail'}]
    """
    rows = [
        {
            **requirement,
            "where": [e for e in requirement["evaluations"] if e["result"] in _NEEDS_ATTENTION],
        }
        for requirement in report["requirements"]
        if requirement["result"] in _NEEDS_ATTENTION
    ]
    return sorted(rows, key=lambda row: (row["level"] != "SHALL", row["id"]))


def coverage_matrix(report: Mapping[str, Any]) -> dict[str, dict[str, str | None]]:
    """Requirement id → stage → rolled-up result of its checks there (``None``: not run).

    Example:
        >>> coverage_matrix(_EMPTY)
        {}
    """
    matrix: dict[str, dict[str, str | None]] = {}
    stages = list(report["run"]["stages"])
    for requirement in report["requirements"]:
        row: dict[str, str | None] = {}
        for stage in stages:
            results = [
                Status(e["result"])
                for e in requirement["evaluations"]
                if e["scenario"].split("/", 1)[0] == stage
            ]
            row[stage] = roll_up(Member(r) for r in results).value if results else None
        matrix[requirement["id"]] = row
    return matrix


_EMPTY: Mapping[str, Any] = {
    "$schema": "x",
    "schema_version": "1.0",
    "kit_version": "0",
    "run": {
        "id": "r",
        "started_at": "",
        "finished_at": "",
        "duration_s": 0,
        "driver": "d",
        "mock": "m",
        "step_timeout_s": 1,
        "stages": [],
        "requirements_source": "none",
    },
    "result": "skip",
    "exit_code": 1,
    "summary": {
        key: {s.value: 0 for s in Status}
        for key in ("stages", "scenarios", "steps", "checks", "optional_checks")
    },
    "requirements": [],
    "timeouts": [],
    "stages": [],
}

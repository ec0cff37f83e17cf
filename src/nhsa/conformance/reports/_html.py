"""One self-contained HTML page from the report dict: summary, coverage matrix, scenarios.

Inline CSS, no script, no external asset, so the file opens anywhere and prints for a lab's
file. Jinja2 autoescapes every value; transcript excerpts arrive already masked.

Example::

    html = render_html(build_report(result))
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import jinja2

from nhsa.conformance._results import Member, Status, roll_up

__all__ = ["render_html"]

_ENVIRONMENT = jinja2.Environment(
    loader=jinja2.PackageLoader("nhsa.conformance.reports", "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
# Chinese stays readable in the transcript excerpts (jinja escapes < > & ' for HTML anyway).
_ENVIRONMENT.policies["json.dumps_kwargs"] = {"ensure_ascii": False, "sort_keys": True}


def render_html(report: Mapping[str, Any]) -> str:
    """The report page.

    Example:
        >>> "<!DOCTYPE html>" in render_html(_EMPTY)
        True
    """
    template = _ENVIRONMENT.get_template("report.html.j2")
    return template.render(
        report=report,
        statuses=[status.value for status in Status],
        matrix=coverage_matrix(report),
    )


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

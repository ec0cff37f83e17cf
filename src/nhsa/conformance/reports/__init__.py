"""Reports of a run: JSON (the record), JUnit XML (for CI), HTML (for people), all from one dict.

:func:`write_reports` writes ``report.json``, ``junit.xml`` and ``report.html`` into a folder.
The JSON follows ``conformance/report.schema.json``; sign it with ``nhsa conformance sign``,
after which :func:`refresh_html` shows the signature's status on the page. Writing a new run
into a folder removes the signature the previous run's report had there: it signs bytes that
are gone, and ``verify`` would call the new report "changed".

Example::

    paths = write_reports(result, Path("reports"))
    print(paths.html)
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
import orjson

from nhsa.conformance._errors import ConformanceError
from nhsa.conformance._runner import RunResult
from nhsa.conformance._signature import signature_path
from nhsa.conformance.reports._html import (
    SignatureStatus,
    coverage_matrix,
    failed_requirements,
    render_html,
)
from nhsa.conformance.reports._junit import junit_xml
from nhsa.conformance.reports._model import (
    REPORT_SCHEMA_ID,
    SCHEMA_VERSION,
    build_report,
    jsonable,
    scenario_problems,
)

__all__ = [
    "REPORT_SCHEMA_ID",
    "SCHEMA_VERSION",
    "ReportPaths",
    "SignatureStatus",
    "build_report",
    "coverage_matrix",
    "encode_report",
    "failed_requirements",
    "html_beside",
    "jsonable",
    "junit_xml",
    "refresh_html",
    "render_html",
    "scenario_problems",
    "write_reports",
]


@dataclass(frozen=True)
class ReportPaths:
    """Where the three report files were written, and the stale signature removed, if any.

    Example::

        paths = write_reports(result, Path("out"))
        paths.html   # out/report.html
    """

    json: Path
    junit: Path
    html: Path
    removed_signature: Path | None = None


def write_reports(run: RunResult, folder: Path) -> ReportPaths:
    """Write the JSON, JUnit and HTML reports of ``run`` into ``folder`` (created if missing).

    Raises :class:`~nhsa.conformance.ConformanceError` naming the folder when it cannot be
    written.

    Example::

        write_reports(result, Path("conformance-report")).json
    """
    report = build_report(run, folder=folder)
    json_path = folder / "report.json"
    stale = signature_path(json_path)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        removed = stale if stale.is_file() else None
        if removed is not None:
            removed.unlink()
        json_path.write_bytes(encode_report(report))
        (folder / "junit.xml").write_bytes(junit_xml(report))
        html_beside(json_path).write_text(render_html(report), encoding="utf-8")
    except OSError as exc:
        raise ConformanceError(f"cannot write reports to {folder}: {exc.strerror}") from None
    return ReportPaths(json_path, folder / "junit.xml", html_beside(json_path), removed)


def encode_report(report: dict[str, Any]) -> bytes:
    """The bytes of ``report.json`` (indented UTF-8 JSON): what ``sign`` signs.

    Example:
        >>> encode_report({"result": "pass"})
        b'{\\n  "result": "pass"\\n}\\n'
    """
    return orjson.dumps(report, option=orjson.OPT_INDENT_2) + b"\n"


def html_beside(report_json: Path) -> Path:
    """The HTML page rendered from a JSON report: ``report.json`` → ``report.html``.

    Example:
        >>> html_beside(Path("out/report.json")).as_posix()
        'out/report.html'
    """
    return report_json.with_suffix(".html")


def refresh_html(report_json: Path, signature: SignatureStatus) -> Path | None:
    """Render the page beside ``report_json`` again, with ``signature``'s status on it.

    Returns the page's path, or ``None`` when there is no page beside the file or the file is
    not a conformance report (a lab may sign any file; only reports have a page). Raises
    :class:`~nhsa.conformance.ConformanceError` when the page cannot be written.

    Example::

        refresh_html(Path("out/report.json"), SignatureStatus("signed", "report.json.sig"))
    """
    page = html_beside(report_json)
    if not page.is_file():
        return None
    try:
        report: Any = orjson.loads(report_json.read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return None
    if not isinstance(report, dict) or report.get("$schema") != REPORT_SCHEMA_ID:
        return None
    try:
        html = render_html(report, signature=signature)
    except (jinja2.TemplateError, KeyError, TypeError, ValueError):
        return None  # edited into something that is no longer a report: nothing to show
    try:
        page.write_text(html, encoding="utf-8")
    except OSError as exc:
        raise ConformanceError(f"cannot update {page}: {exc.strerror}") from None
    return page

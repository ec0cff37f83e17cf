"""Reports of a run: JSON (the record), JUnit XML (for CI), HTML (for people), all from one dict.

:func:`write_reports` writes ``report.json``, ``junit.xml`` and ``report.html`` into a folder.
The JSON follows ``conformance/report.schema.json``; sign it with ``nhsa conformance sign``.

Example::

    paths = write_reports(result, Path("reports"))
    print(paths.html)
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import orjson

from nhsa.conformance._errors import ConformanceError
from nhsa.conformance._runner import RunResult
from nhsa.conformance.reports._html import coverage_matrix, render_html
from nhsa.conformance.reports._junit import junit_xml
from nhsa.conformance.reports._model import REPORT_SCHEMA_ID, SCHEMA_VERSION, build_report, jsonable

__all__ = [
    "REPORT_SCHEMA_ID",
    "SCHEMA_VERSION",
    "ReportPaths",
    "build_report",
    "coverage_matrix",
    "jsonable",
    "junit_xml",
    "render_html",
    "write_reports",
]


@dataclass(frozen=True)
class ReportPaths:
    """Where the three report files were written.

    Example::

        paths = write_reports(result, Path("out"))
        paths.html   # out/report.html
    """

    json: Path
    junit: Path
    html: Path


def write_reports(run: RunResult, folder: Path) -> ReportPaths:
    """Write the JSON, JUnit and HTML reports of ``run`` into ``folder`` (created if missing).

    Raises :class:`~nhsa.conformance.ConformanceError` naming the folder when it cannot be
    written.

    Example::

        write_reports(result, Path("conformance-report")).json
    """
    report = build_report(run)
    paths = ReportPaths(folder / "report.json", folder / "junit.xml", folder / "report.html")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        paths.json.write_bytes(orjson.dumps(report, option=orjson.OPT_INDENT_2) + b"\n")
        paths.junit.write_bytes(junit_xml(report))
        paths.html.write_text(render_html(report), encoding="utf-8")
    except OSError as exc:
        raise ConformanceError(f"cannot write reports to {folder}: {exc.strerror}") from None
    return paths

"""JUnit XML from the report dict: one ``testsuite`` per stage, one ``testcase`` per step and check.

CI systems read JUnit, so the mapping keeps their vocabulary honest: ``fail`` → ``failure``,
``error`` (and a timed-out step) → ``error``, ``skip`` and ``wait`` → ``skipped`` with the
reason. A failing *optional* check (a SHOULD requirement) does not fail the build: it is a
passing testcase that says so in ``system-out`` and in a property.

Example::

    xml_bytes = junit_xml(build_report(result))
"""

from __future__ import annotations

# Only builds XML from our own data; nothing is ever parsed here.
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from typing import Any

__all__ = ["junit_xml"]


def junit_xml(report: Mapping[str, Any]) -> bytes:
    """The report as JUnit XML (UTF-8, with declaration).

    Example:
        >>> junit_xml({"run": {"id": "r", "duration_s": 0}, "stages": []})[:38]
        b"<?xml version='1.0' encoding='utf-8'?>"
    """
    root = ET.Element("testsuites", name="nhsa conformance", id=str(report["run"]["id"]))
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for stage in report["stages"]:
        suite = ET.SubElement(root, "testsuite", name=stage["stage"])
        counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
        elapsed = 0.0
        for scenario in stage["scenarios"]:
            elapsed += float(scenario["duration_s"])
            classname = scenario["id"].replace("/", ".")
            if scenario.get("message") and not scenario["steps"]:
                _case(
                    suite,
                    counts,
                    classname=classname,
                    name="scenario",
                    result="error",
                    text=scenario["message"],
                )
            for step in scenario["steps"]:
                name = f"step {step['name']} ({step['action']})"
                detail = f"expected {' or '.join(step['expected'])}; got {step['outcome']}"
                _case(
                    suite,
                    counts,
                    classname=classname,
                    name=name,
                    result=step["result"],
                    text=f"{step['message']} — {detail}",
                    seconds=step["duration_s"],
                )
            for check in scenario["checks"]:
                name = f"check {check['name']} [{', '.join(check['verifies'])}]"
                text = _check_text(check)
                result = (
                    check["result"]
                    if check["required"] or check["result"] != "fail"
                    else "optional-fail"
                )
                _case(suite, counts, classname=classname, name=name, result=result, text=text)
        suite.set("time", f"{elapsed:.3f}")
        for key, value in counts.items():
            suite.set(key, str(value))
            totals[key] += value
    for key, value in totals.items():
        root.set(key, str(value))
    root.set("time", f"{float(report['run']['duration_s']):.3f}")
    ET.indent(root)
    return bytes(ET.tostring(root, encoding="utf-8", xml_declaration=True))


def _check_text(check: Mapping[str, Any]) -> str:
    lines = [check["message"]]
    for evidence in check["evidence"]:
        where = f" records {evidence['records']}" if evidence["records"] else ""
        step = f" step {evidence['step']}" if evidence.get("step") else ""
        lines.append(f"- expected {evidence['expected']}; seen {evidence['seen']}{where}{step}")
    return "\n".join(lines)


def _case(
    suite: ET.Element,
    counts: dict[str, int],
    *,
    classname: str,
    name: str,
    result: str,
    text: str,
    seconds: float = 0.0,
) -> None:
    case = ET.SubElement(suite, "testcase", classname=classname, name=name, time=f"{seconds:.3f}")
    counts["tests"] += 1
    first_line = text.splitlines()[0] if text else result
    if result == "fail":
        ET.SubElement(case, "failure", message=first_line, type="fail").text = text
        counts["failures"] += 1
    elif result == "error":
        ET.SubElement(case, "error", message=first_line, type="error").text = text
        counts["errors"] += 1
    elif result in ("skip", "wait"):
        ET.SubElement(case, "skipped", message=f"{result}: {first_line}")
        counts["skipped"] += 1
    elif result == "optional-fail":
        properties = ET.SubElement(case, "properties")
        ET.SubElement(properties, "property", name="optional_result", value="fail")
        ET.SubElement(case, "system-out").text = f"optional (SHOULD) check failed: {text}"

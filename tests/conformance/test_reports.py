"""Reports: JSON valid against its schema, JUnit that parses, HTML that Chromium renders."""

from __future__ import annotations

import json
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from nhsa._resources import data_dir
from nhsa.conformance import Runner, RunResult, default_registry, load_stages
from nhsa.conformance.reports import build_report, junit_xml, render_html, write_reports
from tests.conformance.fakes import FakeHis, FakeMock, charge_scenario

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
PERSONAL = ("530102198503150018", "张晓峰", "TA5300001", "ECTEST-530100-0001-4F2A9C1E")


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    return json.loads((data_dir("conformance") / "report.schema.json").read_text(encoding="utf-8"))


@pytest.fixture
def mixed_run(tmp_path: Path) -> RunResult:
    """Two scenarios: one passes, one fails (the HIS resends an unknown 2207)."""
    root = tmp_path / "stages"
    (root / "lab").mkdir(parents=True)
    good = charge_scenario("good")
    bad = charge_scenario("resend", faults='[{kind: commit-then-drop, infno: "2207"}]')
    for name, text in (good, bad):
        (root / "lab" / f"{name}.yaml").write_text(text, encoding="utf-8")
    mock = FakeMock()

    class SplitHis(FakeHis):
        """Resends only in the scenario that arms commit-then-drop."""

        def charge(self, request: Any) -> Any:
            self.resend_unknown = bool(self.mock.faults.get(self.b.code))
            return super().charge(request)

    stages = load_stages(root, ["lab"], default_registry())
    return Runner(SplitHis(mock), mock).run(stages)


def test_the_json_report_validates_against_its_schema(
    mixed_run: RunResult, schema: dict[str, Any]
) -> None:
    jsonschema.Draft202012Validator.check_schema(schema)
    report = build_report(mixed_run)
    validator = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())
    errors = sorted(validator.iter_errors(report), key=lambda e: list(e.path))
    assert not errors, [f"{list(e.path)}: {e.message}" for e in errors[:5]]
    assert report["result"] == "fail"
    assert report["exit_code"] == 1
    by_id = {s["id"]: s["result"] for s in report["stages"][0]["scenarios"]}
    assert by_id == {"lab/good": "pass", "lab/resend": "fail"}
    requirement = next(r for r in report["requirements"] if r["id"] == "HIS-REV-001")
    assert requirement["result"] == "fail"
    assert requirement["checks"] == ["no_resend_after_unknown"]
    untested = next(r for r in report["requirements"] if r["id"] == "HIS-PRV-002")
    assert untested["result"] == "not-tested"
    assert untested["not_tested_reason"]


def test_a_broken_report_does_not_validate(mixed_run: RunResult, schema: dict[str, Any]) -> None:
    report = build_report(mixed_run)
    report["result"] = "green"
    del report["stages"][0]["scenarios"][0]["checks"][0]["verifies"]
    errors = list(jsonschema.Draft202012Validator(schema).iter_errors(report))
    assert len(errors) == 2


def test_reports_mask_personal_data(mixed_run: RunResult) -> None:
    text = json.dumps(build_report(mixed_run), ensure_ascii=False)
    leaked = [value for value in PERSONAL if value in text]
    assert not leaked
    assert "**************0018" in text  # the certificate number the driver was given, masked


def test_junit_parses_and_counts(mixed_run: RunResult) -> None:
    root = ET.fromstring(junit_xml(build_report(mixed_run)))
    assert root.tag == "testsuites"
    suite = root.find("testsuite")
    assert suite is not None
    assert suite.get("name") == "lab"
    failures = suite.findall("testcase/failure")
    assert int(root.get("failures", "-1")) == len(failures) > 0
    names = {
        case.get("name") for case in suite.findall("testcase") if case.find("failure") is not None
    }
    assert "check no_resend_after_unknown [HIS-REV-001]" in names
    assert int(root.get("tests", "0")) == len(suite.findall("testcase"))


def test_write_reports_creates_three_files(mixed_run: RunResult, tmp_path: Path) -> None:
    paths = write_reports(mixed_run, tmp_path / "out")
    assert json.loads(paths.json.read_text(encoding="utf-8"))["run"]["id"] == mixed_run.run_id
    assert paths.junit.read_bytes().startswith(b"<?xml")
    html = paths.html.read_text(encoding="utf-8")
    assert 'id="run-result" data-result="fail"' in html
    assert 'href="http' not in html
    assert "<script" not in html


def test_html_is_self_contained(mixed_run: RunResult) -> None:
    html = render_html(build_report(mixed_run))
    assert "<link" not in html
    assert "<script" not in html
    assert "src=" not in html
    assert 'data-scenario="lab/resend" data-result="fail"' in html
    assert 'data-requirement="HIS-REV-001" data-result="fail"' in html


@pytest.mark.slow
@pytest.mark.skipif(
    CHROMIUM is None, reason="chromium is not installed (.ci/run installs Debian's chromium)"
)
def test_html_renders_in_headless_chromium(mixed_run: RunResult, tmp_path: Path) -> None:
    paths = write_reports(mixed_run, tmp_path / "out")
    profile = tmp_path / "chromium-profile"
    command = [
        str(CHROMIUM),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--no-first-run",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
        "--dump-dom",
        paths.html.as_uri(),
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    dom = done.stdout
    assert 'id="run-result"' in dom
    assert 'data-result="fail"' in dom
    assert 'data-scenario="lab/good" data-result="pass"' in dom
    assert 'data-scenario="lab/resend" data-result="fail"' in dom
    assert 'data-check="no_resend_after_unknown" data-result="fail"' in dom
    assert "需求覆盖矩阵" in dom  # the coverage matrix rendered, with its Chinese heading


def test_timeouts_are_listed_in_every_format(tmp_path: Path, schema: dict[str, Any]) -> None:
    root = tmp_path / "stages"
    (root / "lab").mkdir(parents=True)
    name, text = charge_scenario("slow")
    (root / "lab" / f"{name}.yaml").write_text(text, encoding="utf-8")
    mock = FakeMock()
    his = FakeHis(mock, hang_on="charge")
    try:
        result = Runner(his, mock, step_timeout=1.0).run(
            load_stages(root, ["lab"], default_registry())
        )
    finally:
        his.close()
    report = build_report(result)
    assert not list(jsonschema.Draft202012Validator(schema).iter_errors(report))
    assert [(t["scenario"], t["step"]) for t in report["timeouts"]] == [("lab/slow", "charge")]
    assert report["result"] == "error"
    assert report["exit_code"] == 2
    html = render_html(report)
    assert 'class="timeout"' in html
    assert 'data-step="charge" data-result="error"' in html
    errors = ET.fromstring(junit_xml(report)).findall("testsuite/testcase/error")
    assert any("timed out" in (e.get("message") or "") for e in errors)

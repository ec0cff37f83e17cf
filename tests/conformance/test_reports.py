"""Reports: JSON valid against its schema, JUnit that parses, HTML that Chromium renders."""

from __future__ import annotations

import html as html_lib
import json
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from nhsa._resources import data_dir
from nhsa.conformance import Runner, RunResult, default_registry, load_stages
from nhsa.conformance.reports import (
    SignatureStatus,
    build_report,
    junit_xml,
    render_html,
    write_reports,
)
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


def _chromium_dom(page: Path, profile: Path) -> str:
    """The DOM of ``page`` after headless Chromium loaded it (and ran its scripts)."""
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
        page.as_uri(),
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


needs_chromium = pytest.mark.skipif(
    CHROMIUM is None, reason="chromium is not installed (.ci/run installs Debian's chromium)"
)


@pytest.mark.slow
@needs_chromium
def test_html_renders_in_headless_chromium(mixed_run: RunResult, tmp_path: Path) -> None:
    paths = write_reports(mixed_run, tmp_path / "out")
    dom = _chromium_dom(paths.html, tmp_path / "chromium-profile")
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


# Draws each character with the report's own font stack on a canvas and records a digest of
# its pixels: a missing glyph is drawn as the same empty box (tofu) whatever the character.
_GLYPH_PROBE = """<!DOCTYPE html><html><head><meta charset="utf-8"></head><body>
<pre id="glyphs"></pre><script>
const stack = %(stack)s, chars = %(chars)s, canvas = document.createElement("canvas");
canvas.width = 64; canvas.height = 64;
const ctx = canvas.getContext("2d"), seen = {};
for (const ch of chars) {
  ctx.clearRect(0, 0, 64, 64); ctx.fillStyle = "#000"; ctx.font = "48px " + stack;
  ctx.fillText(ch, 4, 52);
  const alpha = ctx.getImageData(0, 0, 64, 64).data.filter((_, i) => i %% 4 === 3);
  let digest = 0, ink = 0;
  alpha.forEach((a, i) => { digest = (digest * 31 + a * (i + 1)) >>> 0; ink += a; });
  seen[ch] = digest + ":" + ink;
}
document.getElementById("glyphs").textContent = JSON.stringify(seen);
</script></body></html>"""
MISSING = "\U0010fffd"  # a private-use code point no font draws: the tofu to compare with


@pytest.mark.slow
@needs_chromium
def test_chinese_text_renders_as_glyphs_not_tofu(mixed_run: RunResult, tmp_path: Path) -> None:
    paths = write_reports(mixed_run, tmp_path / "out")
    html = paths.html.read_text("utf-8")
    stack = re.search(r"body \{ font: \S+ ([^;]+);", html)
    assert stack is not None
    heading = "需求覆盖矩阵"  # the coverage matrix's heading, on every report
    assert heading in html
    probe = tmp_path / "glyphs.html"
    probe.write_text(
        _GLYPH_PROBE
        % {"stack": json.dumps(stack.group(1)), "chars": json.dumps(heading + MISSING)},
        encoding="utf-8",
    )
    dom = _chromium_dom(probe, tmp_path / "chromium-profile")
    found = re.search(r'<pre id="glyphs">(.*?)</pre>', dom, re.DOTALL)
    assert found is not None, dom[-2000:]
    drawn = json.loads(html_lib.unescape(found.group(1)))
    tofu = drawn.pop(MISSING)
    assert all(not digest.endswith(":0") for digest in drawn.values()), drawn
    assert [ch for ch, digest in drawn.items() if digest == tofu] == [], (
        f"drawn as the missing-glyph box: install a CJK font (fonts-noto-cjk); {drawn}"
    )
    assert len(set(drawn.values())) == len(heading)  # six characters, six different glyphs


def test_failed_requirements_come_first_and_link_to_their_scenario(
    mixed_run: RunResult, tmp_path: Path
) -> None:
    html = write_reports(mixed_run, tmp_path / "out").html.read_text("utf-8")
    assert html.index('id="failures"') < html.index('id="summary"') < html.index('id="coverage"')
    failures = html[html.index('id="failures"') : html.index('id="summary"')]
    assert 'data-failed-requirement="HIS-REV-001" data-result="fail"' in failures
    assert 'href="#req-HIS-REV-001"' in failures
    assert '<a href="#lab--resend">lab/resend</a> · no_resend_after_unknown' in failures
    assert "lab/good" not in failures


def test_every_link_in_the_page_has_a_target_and_records_are_links(
    mixed_run: RunResult, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    html = write_reports(mixed_run, out).html.read_text("utf-8")
    targets = set(re.findall(r' id="([^"]+)"', html))
    fragments = re.findall(r'href="#([^"]+)"', html)
    assert fragments
    assert [f for f in fragments if f not in targets] == []
    record_links = [f for f in fragments if "--record-" in f]
    report = build_report(mixed_run)
    resend = next(s for s in report["stages"][0]["scenarios"] if s["id"] == "lab/resend")
    stepped = {n for step in resend["steps"] for n in step["records"]}
    assert stepped
    assert {f"lab--resend--record-{n}" for n in stepped} <= set(record_links)


def test_the_page_names_no_absolute_path_of_the_testers_machine(
    mixed_run: RunResult, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    paths = write_reports(mixed_run, out)
    for text in (paths.html.read_text("utf-8"), paths.json.read_text("utf-8")):
        assert str(tmp_path) not in text
        assert str(Path(__file__).resolve().parents[2]) not in text
    report = json.loads(paths.json.read_text("utf-8"))
    scenario_file = report["stages"][0]["scenarios"][0]["file"]
    assert scenario_file.startswith("../")
    assert (out / scenario_file).resolve().is_file()  # the page's link opens the scenario
    assert f'<a href="{scenario_file}">' in paths.html.read_text("utf-8")


def test_scenarios_that_could_not_be_judged_are_explained_on_the_page(tmp_path: Path) -> None:
    root = tmp_path / "stages"
    (root / "lab").mkdir(parents=True)
    name, text = charge_scenario("broken-mock")
    (root / "lab" / f"{name}.yaml").write_text(text, encoding="utf-8")
    mock = FakeMock(broken={"register"})
    result = Runner(FakeHis(mock), mock).run(load_stages(root, ["lab"], default_registry()))
    html = render_html(build_report(result))
    unjudged = html[html.index('id="unjudged"') : html.index('id="summary"')]
    assert 'data-unjudged="lab/broken-mock"' in unjudged
    assert "fake mock: registration refused" in unjudged
    scenario = html[html.index('data-scenario="lab/broken-mock"') :]
    assert "Could not be judged" in scenario
    assert "fake mock: registration refused" in scenario


def test_a_signature_status_is_shown_only_when_given(mixed_run: RunResult) -> None:
    report = build_report(mixed_run)
    assert 'id="signature"' not in render_html(report)
    signed = render_html(
        report,
        signature=SignatureStatus(
            "signed", "report.json.sig", key_id="85efe995ab15f1b0", signed_at="t", sha256="ab"
        ),
    )
    assert 'data-state="signed"' in signed
    assert "85efe995ab15f1b0" in signed

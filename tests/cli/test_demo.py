"""``nhsa demo``: the main job end to end, and how it fails and cleans up."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

import nhsa
from nhsa.cli import app, demo_commands
from nhsa.conformance import ReportSignatureError
from nhsa.conformance._signature import verify_report
from nhsa.signing import Sm2PublicKey

runner = CliRunner()


@pytest.mark.slow
def test_demo_runs_a_stage_over_http_and_signs_the_report(tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    result = subprocess.run(
        [sys.executable, "-c", "from nhsa.cli import main; main()", "demo", "--stage", "lab",
         "--report-dir", str(reports)],
        capture_output=True, text=True, timeout=300, check=False,
        env={**os.environ, "COLUMNS": "200"},
    )  # fmt: skip

    assert result.returncode == 0, result.stdout + result.stderr
    assert "every example message valid" in result.stdout
    assert "mock platform   http://127.0.0.1:" in result.stdout
    assert "reference HIS   http://127.0.0.1:" in result.stdout
    assert "demo result     PASS" in result.stdout
    report = json.loads((reports / "report.json").read_text("utf-8"))
    assert (report["result"], report["exit_code"]) == ("pass", 0)
    scenarios = [s for stage in report["stages"] for s in stage["scenarios"]]
    assert {s["result"] for s in scenarios} == {"pass"}
    assert {s["id"] for s in scenarios} >= {"lab/every-transaction", "lab/unknown-settlement"}
    assert report["run"]["driver"].startswith("http://127.0.0.1:")
    assert (reports / "report.html").is_file()
    assert (reports / "junit.xml").is_file()
    public = Sm2PublicKey.from_file(reports / "lab-key" / "demo-lab.sm2.pub.pem")
    assert verify_report(reports / "report.json", public).key_id == public.key_id
    (reports / "report.json").write_text(json.dumps({**report, "result": "edited"}), "utf-8")
    with pytest.raises(ReportSignatureError):
        verify_report(reports / "report.json", public)
    leftovers = subprocess.run(
        ["pgrep", "-f", str(tmp_path)], capture_output=True, text=True, check=False
    )
    assert leftovers.stdout == ""


def test_a_server_that_does_not_start_is_named_with_its_output(tmp_path: Path) -> None:
    crash = ["-c", "import sys; sys.stderr.write('port taken'); sys.exit(3)"]
    with (
        pytest.raises(demo_commands.DemoError, match=r"reference HIS did not start \(exited"),
        demo_commands._service("reference HIS", crash, tmp_path),
    ):
        pass
    log = (tmp_path / "reference-HIS.log").read_text("utf-8")
    assert "port taken" in log


def test_a_server_that_ignores_sigint_is_killed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(demo_commands, "STOP_SECONDS", 0.5)
    stubborn = [
        "-c",
        "import signal, time; signal.signal(signal.SIGINT, signal.SIG_IGN);"
        "print('stub on http://127.0.0.1:1 (driver API)', flush=True); time.sleep(60)",
    ]
    with demo_commands._service("stub", stubborn, tmp_path) as url:
        assert url == "http://127.0.0.1:1"
    assert (
        subprocess.run(["pgrep", "-f", "SIG_IGN"], capture_output=True, check=False).stdout == b""
    )


def test_without_the_reference_his_the_demo_stops_with_a_clear_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(nhsa, "__file__", str(tmp_path / "src" / "nhsa" / "x.py"))
    result = runner.invoke(app, ["demo", "--report-dir", str(tmp_path / "r")])
    assert result.exit_code == 2
    assert "examples/reference_his" in result.stderr
    assert "Traceback" not in result.stdout + result.stderr

"""``nhsa conformance``: run, coverage, list, sign, verify — exit codes and clean messages."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from nhsa.cli import app
from nhsa.cli import conformance_commands as commands
from nhsa.mock import MockPlatform
from nhsa.signing import Sm2PrivateKey
from tests.conformance.fakes import FakeHis, FakeMock, charge_scenario

runner = CliRunner()


def invoke(*args: str) -> Any:
    return runner.invoke(app, ["conformance", *args])


@pytest.fixture
def stages(tmp_path: Path) -> Path:
    root = tmp_path / "stages"
    (root / "lab").mkdir(parents=True)
    name, text = charge_scenario()
    (root / "lab" / f"{name}.yaml").write_text(text, encoding="utf-8")
    return root


@pytest.fixture
def fakes(monkeypatch: pytest.MonkeyPatch) -> FakeMock:
    mock = FakeMock()

    @contextmanager
    def open_mock(
        url: str | None, *, admin_token: str | None, serve: bool, fixtures: object = None
    ) -> Iterator[FakeMock]:
        yield mock

    monkeypatch.setattr(commands, "open_mock", open_mock)
    monkeypatch.setattr(commands, "open_driver", lambda target, mock, step_timeout: FakeHis(mock))
    return mock


def test_run_writes_reports_and_exits_zero_on_pass(
    stages: Path, fakes: FakeMock, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    result = invoke("run", "--stage", "lab", "--stages-dir", str(stages), "--report-dir", str(out))
    assert result.exit_code == 0, result.output
    assert "PASS" in result.stdout
    assert str(out / "report.html") in result.stdout
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert report["result"] == "pass"
    assert report["run"]["driver"] == "fake HIS"


def test_run_exits_one_when_the_his_fails(
    stages: Path, fakes: FakeMock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        commands, "open_driver", lambda target, mock, step_timeout: FakeHis(mock, skip_sign_in=True)
    )
    result = invoke(
        "run", "--stage", "lab", "--stages-dir", str(stages), "--report-dir", str(tmp_path / "o")
    )
    assert result.exit_code == 1
    assert "sign_in_first" in result.stdout


def test_a_malformed_scenario_stops_with_file_and_line(
    stages: Path, fakes: FakeMock, tmp_path: Path
) -> None:
    broken = stages / "lab" / "broken.yaml"
    broken.write_text(
        "id: lab/broken\ntitle: x\nrequirements: [HIS-MSG-001]\n"
        "given: {institution: H53010100001}\ndo:\n  - chrage: {}\n"
        "expect: {checks: [requests_valid_per_contract]}\n",
        encoding="utf-8",
    )
    out = tmp_path / "out"
    result = invoke("run", "--stage", "lab", "--stages-dir", str(stages), "--report-dir", str(out))
    assert result.exit_code == 2
    assert f"{broken}:4" in result.stderr or f"{broken}:6" in result.stderr
    assert "Traceback" not in result.output
    assert not out.exists()  # never a report, let alone a green one


def test_unknown_stage_and_driver_are_clean_errors(stages: Path) -> None:
    result = invoke("run", "--stage", "labs", "--stages-dir", str(stages))
    assert result.exit_code == 2
    assert "--stage 'labs'" in result.stderr
    result = invoke(
        "run", "--stage", "lab", "--stages-dir", str(stages), "--driver", "carrier-pigeon"
    )
    assert result.exit_code == 2
    assert "use sdk, manual or the http(s):// URL" in result.stderr
    assert "Traceback" not in result.output


def test_an_unreachable_mock_is_named(stages: Path) -> None:
    result = invoke(
        "run", "--stage", "lab", "--stages-dir", str(stages), "--mock", "http://127.0.0.1:9"
    )
    assert result.exit_code == 2
    assert "http://127.0.0.1:9/admin/health is unreachable" in result.stderr
    assert "Traceback" not in result.output


def test_coverage_passes_for_the_kit_and_fails_on_a_gap(tmp_path: Path) -> None:
    result = invoke("coverage")
    assert result.exit_code == 0, result.output
    assert "HIS-REV-002" in result.stdout
    assert "covered" in result.stdout
    extra = tmp_path / "lab.csv"
    extra.write_text(
        "id,text,level,actor,source,stage,not_tested_reason\n"
        "LAB-PRT-001,Receipts are printed.,SHALL,kiosk,lab rule 3,acceptance,\n"
        "LAB-PRT-002,Receipts are nice.,SHOULD,kiosk,lab rule 4,acceptance,\n",
        encoding="utf-8",
    )
    result = invoke("coverage", "--requirements", str(extra))
    assert result.exit_code == 1
    assert "LAB-PRT-001" in result.stderr
    assert "LAB-PRT-002" not in result.stderr


def test_list_shows_every_bundled_scenario() -> None:
    result = invoke("list")
    assert result.exit_code == 0
    for scenario in (
        "lab/every-transaction",
        "acceptance/day-of-mixed-traffic",
        "district/district-area-codes",
    ):
        assert scenario in result.stdout


@pytest.fixture
def keys(tmp_path: Path) -> tuple[Path, Path, Path]:
    key = Sm2PrivateKey.generate()
    private = tmp_path / "lab.key.pem"
    public = tmp_path / "lab.pub.pem"
    private.write_bytes(key.to_pem())
    private.chmod(0o600)
    public.write_bytes(key.public_key.to_pem())
    report = tmp_path / "report.json"
    report.write_bytes(b'{"result": "pass", "stages": []}\n')
    return report, private, public


def test_sign_then_verify(keys: tuple[Path, Path, Path]) -> None:
    report, private, public = keys
    signed = invoke("sign", str(report), "--key", str(private))
    assert signed.exit_code == 0, signed.output
    assert (report.parent / "report.json.sig").is_file()
    verified = invoke("verify", str(report), "--pub", str(public))
    assert verified.exit_code == 0
    assert "verified" in verified.stdout


def test_an_edited_report_fails_verification(keys: tuple[Path, Path, Path]) -> None:
    report, private, public = keys
    assert invoke("sign", str(report), "--key", str(private)).exit_code == 0
    report.write_bytes(report.read_bytes().replace(b'"pass"', b'"fail"'))
    result = invoke("verify", str(report), "--pub", str(public))
    assert result.exit_code == 1
    assert "NOT VERIFIED" in result.stderr
    assert "changed after it was signed" in result.stderr


def test_a_forged_signature_or_another_key_fails(
    keys: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    report, private, public = keys
    assert invoke("sign", str(report), "--key", str(private)).exit_code == 0
    other = tmp_path / "other.pub.pem"
    other.write_bytes(Sm2PrivateKey.generate().public_key.to_pem())
    result = invoke("verify", str(report), "--pub", str(other))
    assert result.exit_code == 1
    assert "signed with key" in result.stderr
    sig = report.parent / "report.json.sig"
    document = json.loads(sig.read_text(encoding="utf-8"))
    forged = Sm2PrivateKey.generate().sign(report.read_bytes(), b"1234567812345678")
    document["signature"] = base64.b64encode(forged).decode()
    sig.write_text(json.dumps(document), encoding="utf-8")
    result = invoke("verify", str(report), "--pub", str(public))
    assert result.exit_code == 1
    assert "does not verify" in result.stderr
    sig.write_text("not json", encoding="utf-8")
    result = invoke("verify", str(report), "--pub", str(public))
    assert result.exit_code == 1
    assert "not a signature file" in result.stderr


def test_sign_with_a_bad_key_is_a_clean_error(
    keys: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    report, _, _ = keys
    junk = tmp_path / "junk.pem"
    junk.write_text("not a key", encoding="utf-8")
    result = invoke("sign", str(report), "--key", str(junk))
    assert result.exit_code == 2
    assert "Traceback" not in result.output


def test_a_driver_this_installation_lacks_is_a_clean_error(
    stages: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(
        "nhsa.conformance._setup.DRIVER_PACKAGE", "nhsa.conformance.no_such_drivers"
    )
    result = invoke(
        "run", "--stage", "lab", "--stages-dir", str(stages), "--report-dir", str(tmp_path / "o")
    )
    assert result.exit_code == 2
    assert "--driver 'sdk': this installation has no such driver" in result.stderr
    assert "Traceback" not in result.output


def test_a_broken_fixture_folder_is_a_clean_error(stages: Path, tmp_path: Path) -> None:
    result = invoke(
        "run", "--stage", "lab", "--stages-dir", str(stages), "--fixtures", str(tmp_path / "none")
    )
    assert result.exit_code == 2
    assert f"--fixtures {tmp_path / 'none'}" in result.stderr
    assert "Traceback" not in result.output


def test_a_remote_mock_without_an_admin_token_stops_before_any_scenario(
    stages: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("NHSA_MOCK_ADMIN_TOKEN", raising=False)
    out = tmp_path / "out"
    with MockPlatform() as platform, platform.serve() as url:
        result = invoke(
            "run", "--stage", "lab", "--stages-dir", str(stages), "--report-dir", str(out),
            "--mock", url,
        )  # fmt: skip
        registered = platform.admin.institutions()
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [result.stderr.strip()]  # one line
    assert "--admin-token or $NHSA_MOCK_ADMIN_TOKEN" in result.stderr
    assert not [i for i in registered if i.get("source") == "admin"]  # no scenario started
    assert not out.exists()


def test_a_refused_admin_token_stops_the_run_in_one_line(stages: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    with MockPlatform() as platform, platform.serve() as url:
        result = invoke(
            "run", "--stage", "lab", "--stages-dir", str(stages), "--report-dir", str(out),
            "--mock", url, "--admin-token", "not-the-servers-token",
        )  # fmt: skip
        registered = platform.admin.institutions()
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert f"the mock at {url} refused it (HTTP 401)" in lines[0]
    assert "Traceback" not in result.output
    assert not out.exists()
    assert not [i for i in registered if i.get("source") == "admin"]


def test_errored_scenarios_say_why_on_the_console(
    stages: Path, fakes: FakeMock, tmp_path: Path
) -> None:
    fakes.broken.add("register")
    result = invoke(
        "run", "--stage", "lab", "--stages-dir", str(stages), "--report-dir", str(tmp_path / "o")
    )
    assert result.exit_code == 2
    line = next(ln for ln in result.stdout.splitlines() if ln.startswith("could not judge"))
    assert line.startswith("could not judge lab/fake-charge: ")
    assert "fake mock: registration refused" in line


def test_a_new_run_into_a_signed_folder_removes_the_stale_signature(
    stages: Path, fakes: FakeMock, keys: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    _, private, public = keys
    out = tmp_path / "out"
    run = ("run", "--stage", "lab", "--stages-dir", str(stages), "--report-dir", str(out))
    assert invoke(*run).exit_code == 0
    report = out / "report.json"
    assert invoke("sign", str(report), "--key", str(private)).exit_code == 0
    assert invoke("verify", str(report), "--pub", str(public)).exit_code == 0

    again = invoke(*run)
    assert again.exit_code == 0
    assert f"removed {out / 'report.json.sig'}" in again.stdout
    assert not (out / "report.json.sig").exists()
    assert invoke("sign", str(report), "--key", str(private)).exit_code == 0
    verified = invoke("verify", str(report), "--pub", str(public))
    assert verified.exit_code == 0, verified.output


def test_sign_into_a_folder_and_verify_from_it(
    keys: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    report, private, public = keys
    folder = tmp_path / "signatures"
    folder.mkdir()
    for _ in range(2):  # signing again into the folder replaces the signature there
        assert (
            invoke("sign", str(report), "--key", str(private), "--out", str(folder)).exit_code == 0
        )
    assert sorted(p.name for p in folder.iterdir()) == ["report.json.sig"]
    assert not (report.parent / "report.json.sig").exists()
    verified = invoke("verify", str(report), "--pub", str(public), "--sig", str(folder))
    assert verified.exit_code == 0, verified.output


def test_the_html_page_shows_the_signature_status(
    stages: Path, fakes: FakeMock, keys: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    _, private, public = keys
    out = tmp_path / "out"
    assert (
        invoke(
            "run", "--stage", "lab", "--stages-dir", str(stages), "--report-dir", str(out)
        ).exit_code
        == 0
    )
    page, report = out / "report.html", out / "report.json"
    assert 'id="signature"' not in page.read_text("utf-8")
    key_id = Sm2PrivateKey.from_file(private).key_id

    assert invoke("sign", str(report), "--key", str(private)).exit_code == 0
    html = page.read_text("utf-8")
    assert 'data-state="signed"' in html
    assert key_id in html
    assert invoke("verify", str(report), "--pub", str(public)).exit_code == 0
    assert 'data-state="verified"' in page.read_text("utf-8")

    report.write_bytes(report.read_bytes().replace(b'"pass"', b'"fail"', 1))
    assert invoke("verify", str(report), "--pub", str(public)).exit_code == 1
    html = page.read_text("utf-8")
    assert 'data-state="not-verified"' in html
    assert "changed after it was signed" in html

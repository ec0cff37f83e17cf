"""The suite in a province dialect: the mock in each dialect passes the lab stage with the SDK in
the same dialect, a HIS speaking another dialect fails with the member named, and the report
names the dialect."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest

from nhsa import spec
from nhsa.cli.demo_commands import _service
from nhsa.conformance import (
    InProcessMock,
    RemoteMock,
    Runner,
    RunResult,
    Status,
    bundled_stages_dir,
    default_registry,
    load_stages,
)
from nhsa.conformance.drivers.http import HttpDriver
from nhsa.conformance.drivers.sdk import SdkDriver
from nhsa.conformance.reports import build_report, render_html
from nhsa.mock import MockPlatform

ROOT = Path(__file__).resolve().parents[2]
LAB = load_stages(bundled_stages_dir(), ["lab"], default_registry())


def _run(dialect: str, *, his_dialect: str | None = None) -> RunResult:
    with MockPlatform() as platform:
        mock = InProcessMock(platform)
        driver = SdkDriver.for_mock(mock, dialect=his_dialect)
        try:
            return Runner(driver, mock, step_timeout=30, dialect=dialect).run(LAB)
        finally:
            driver.close()


def _problems(result: RunResult) -> dict[str, list[str]]:
    return {
        s.scenario.id: [c.name for c in s.checks if c.required and c.status is not Status.PASS]
        + [f"step {st.name}: {st.message}" for st in s.steps if st.status is not Status.PASS]
        for s in result.scenarios()
        if s.status is not Status.PASS
    }


@pytest.mark.parametrize("dialect", spec.dialect_names())
def test_the_mock_in_each_dialect_passes_the_lab_stage_with_the_sdk_in_the_same_dialect(
    dialect: str,
) -> None:
    result = _run(dialect)
    assert _problems(result) == {}
    assert result.status is Status.PASS
    assert result.dialect == dialect
    report = build_report(result)
    assert report["run"]["dialect"] == dialect
    assert f'<code id="run-dialect">{dialect}</code>' in render_html(report)
    checked = [
        c
        for s in result.scenarios()
        for c in s.checks
        if c.name == "requests_valid_per_contract" and c.status is Status.PASS
    ]
    assert checked
    if dialect != "national":
        assert all(f"in the {dialect} dialect" in c.message for c in checked)


def test_a_his_speaking_another_dialect_fails_with_the_member_named() -> None:
    result = _run("guangdong", his_dialect="national")
    assert result.status is Status.FAIL
    every = next(s for s in result.scenarios() if s.scenario.id == "lab/every-transaction")
    check = next(c for c in every.checks if c.name == "requests_valid_per_contract")
    assert check.status is Status.FAIL
    seen = " ".join(e.seen for e in check.evidence)
    assert "/recer_admdvs" in seen
    assert "required-by-dialect" in seen
    expected = {e.expected for e in check.evidence}
    assert expected == {"valid per interface_specs/v1 in the guangdong dialect"}


def test_a_province_his_fails_a_national_run_with_the_path_named() -> None:
    result = _run("national", his_dialect="guangdong")
    assert result.status.blocks_exit
    every = next(s for s in result.scenarios() if s.scenario.id == "lab/every-transaction")
    check = next(c for c in every.checks if c.name == "requests_valid_per_contract")
    assert check.status is Status.FAIL
    seen = " ".join(e.seen for e in check.evidence)
    assert "dialect-entry" in seen
    assert "path /ebus/gdyb_inf/poc/hsa/hgs/9001" in seen
    assert "/fsi/api/rsfComIfsService/callService" in seen


@pytest.fixture
def mock_server(tmp_path: Path) -> Iterator[tuple[str, str]]:
    token = secrets.token_urlsafe(16)
    db = str(tmp_path / "mock.db")
    args = ["-c", "from nhsa.cli import main; main()", "mock", "serve", "--port", "0",
            "--db", db, "--admin-token", token, "--dialect", "jilin"]  # fmt: skip
    with _service("mock platform", args, tmp_path) as url:
        yield url, token


@pytest.mark.slow
def test_the_reference_his_is_told_its_dialect_in_configure_over_http(
    mock_server: tuple[str, str], tmp_path: Path
) -> None:
    mock_url, token = mock_server
    his = ["-m", "examples.reference_his", "--port", "0", "--data-dir", str(tmp_path / "his"),
           "--read-timeout", "2"]  # fmt: skip
    every = {"lab": [s for s in LAB["lab"] if s.id == "lab/every-transaction"]}
    with _service("reference HIS", his, tmp_path, cwd=ROOT) as his_url:
        driver = HttpDriver(his_url)
        mock = RemoteMock(mock_url, admin_token=token)
        result = Runner(driver, mock, step_timeout=30, dialect="jilin").run(every)
        driver.close()
        mock.close()
    assert _problems(result) == {}
    configured = next(iter(result.scenarios())).steps[0]
    assert "jilin" in (configured.message or "")

"""The reference HIS as a vendor's HIS runs: its own process, the mock in another, HTTP between.

Both servers start on free loopback ports (``nhsa mock serve`` and ``python -m
examples.reference_his``); the suite drives every stage through the driver API and must pass.
Then the HIS is killed and restarted on the same data folder: it resumes as the same
institution (``client.recover()`` at start-up) and still knows the visits it registered.
"""

from __future__ import annotations

import secrets
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from nhsa.cli.demo_commands import _service
from nhsa.conformance import (
    STAGES,
    RemoteMock,
    Runner,
    Status,
    bundled_stages_dir,
    default_registry,
    load_stages,
)
from nhsa.conformance.drivers.http import HttpDriver

ROOT = Path(__file__).resolve().parents[2]
NHSA = ("-c", "from nhsa.cli import main; main()")


@pytest.fixture
def mock_server(tmp_path: Path) -> Iterator[tuple[str, str]]:
    token = secrets.token_urlsafe(16)
    args = [*NHSA, "mock", "serve", "--port", "0", "--db", str(tmp_path / "mock.db"),
            "--admin-token", token]  # fmt: skip
    with _service("mock platform", args, tmp_path) as url:
        yield url, token


def _his_args(data: Path) -> list[str]:
    return ["-m", "examples.reference_his", "--port", "0", "--data-dir", str(data),
            "--read-timeout", "2"]  # fmt: skip


@pytest.mark.slow
def test_every_stage_passes_over_http_with_the_mock_in_another_process(
    mock_server: tuple[str, str], tmp_path: Path
) -> None:
    mock_url, token = mock_server
    data = tmp_path / "his"
    mock = RemoteMock(mock_url, admin_token=token)
    with _service("reference HIS", _his_args(data), tmp_path, cwd=ROOT) as his_url:
        driver = HttpDriver(his_url)
        stages = load_stages(bundled_stages_dir(), STAGES, default_registry())
        result = Runner(driver, mock, step_timeout=30).run(stages)
        driver.close()

    problems = {
        s.scenario.id: [c.name for c in s.checks if c.required and c.status is not Status.PASS]
        + [f"step {st.name}: {st.message}" for st in s.steps if st.status is not Status.PASS]
        for s in result.scenarios()
        if s.status is not Status.PASS
    }
    assert problems == {}
    assert result.status is Status.PASS
    assert len(list(result.scenarios())) == sum(len(v) for v in stages.values())
    last = list(result.scenarios())[-1]
    paid = next(s for s in last.steps if s.action == "charge" and s.outcome == "ok")

    # Killed without warning and started again on its data: same institution, same visits.
    restarted = subprocess.Popen(
        [sys.executable, *_his_args(data)], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    try:
        assert restarted.stdout is not None
        lines = [restarted.stdout.readline() for _ in range(2)]
        assert lines[0].startswith(f"resumed: {last.institution} at")
        url = lines[1].split(" on ", 1)[1].split()[0]
        health = httpx.get(f"{url}/health").json()
        assert health["detail"] == f"configured for {last.institution}"
        cancel = httpx.post(
            f"{url}/cancel_registration",
            json={
                "mdtrt_id": paid.request["mdtrt_id"],
                "psn_no": paid.request["psn_no"],
                "ipt_otp_no": "x",
            },
            timeout=30,
        ).json()
        # It still knows the visit and its standing settlement, so it refuses before sending.
        assert cancel["status"] == "rejected"
        assert "refund it first" in cancel["message"]
        assert cancel["msgids"] == []
    finally:
        restarted.send_signal(signal.SIGKILL)
        restarted.wait()
    mock.close()

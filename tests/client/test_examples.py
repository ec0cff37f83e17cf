"""The examples run as a vendor would run them: in-process, and against ``nhsa mock serve``."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.client.conftest import ADMIN_TOKEN

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _run(name: str, *arguments: str) -> str:
    finished = subprocess.run(
        [sys.executable, str(EXAMPLES / name), *arguments],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert finished.returncode == 0, finished.stdout + finished.stderr
    return finished.stdout


@pytest.mark.slow
def test_window_visit_in_process() -> None:
    output = _run("window_visit.py")
    assert "结算 setl_id" in output
    assert "对平 balanced" in output


@pytest.mark.slow
def test_kiosk_visit_refuses_an_id_card_and_a_second_tap() -> None:
    output = _run("kiosk_visit.py")
    assert "e-voucher or your social-security card" in output
    assert "already been paid" in output


@pytest.mark.slow
def test_kiosk_visit_with_a_lost_answer_tells_the_patient() -> None:
    output = _run("kiosk_visit.py", "--lose-answer")
    assert "by_infno='2601'" in output
    assert "nothing was charged" in output


@pytest.mark.slow
def test_refund_partial_then_full() -> None:
    output = _run("refund.py")
    assert "部分退费 partial refund" in output
    assert "全额退费 full refund: -62.00, lines cancelled: True" in output
    assert "对平 balanced" in output


@pytest.mark.slow
def test_recover_after_crash_in_process() -> None:
    output = _run("recover_after_crash.py")
    assert "original_found=True" in output
    assert "2207 sent 1 time(s); 对账 3201: balanced=True" in output


@pytest.mark.slow
def test_examples_talk_to_a_running_mock_server(mock_server: str) -> None:
    assert "结算 setl_id" in _run("window_visit.py", "--url", mock_server)
    assert "全额退费" in _run("refund.py", "--url", mock_server)
    crash = _run("recover_after_crash.py", "--url", mock_server, "--admin-token", ADMIN_TOKEN)
    assert "2207 sent 1 time(s)" in crash


@pytest.fixture
def examples_on_path() -> Iterator[None]:
    sys.path.insert(0, str(EXAMPLES))
    try:
        yield
    finally:
        sys.path.remove(str(EXAMPLES))


@pytest.mark.slow
@pytest.mark.usefixtures("examples_on_path")
def test_example_runs_in_quick_succession_never_repeat_a_msgid(mock_server: str) -> None:
    # Two runs started within one second each get a fresh journal; with a counter per journal
    # both would sign in with sequence 0000 and the server would refuse the second.
    from window_visit import platform_session  # noqa: PLC0415 - examples are not a package

    from nhsa.client import WindowMode  # noqa: PLC0415

    sign_nos = []
    for _ in range(3):
        with platform_session(mock_server, WindowMode("C0001", "收费员甲")) as (client, _mock):
            sign_nos.append(client.sign_in().signinoutb.sign_no)
    assert len(set(sign_nos)) == 3

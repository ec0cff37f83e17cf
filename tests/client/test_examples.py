"""The examples run as a vendor would run them: in-process, and against ``nhsa mock serve`` —
also one that earlier runs (crashes and lost answers included) have used — and fail loudly."""

from __future__ import annotations

import argparse
import subprocess
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from tests.client.conftest import ADMIN_TOKEN

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _run(name: str, *arguments: str, expect: int = 0) -> subprocess.CompletedProcess[str]:
    finished = subprocess.run(
        [sys.executable, str(EXAMPLES / name), *arguments],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert finished.returncode == expect, finished.stdout + finished.stderr
    assert "Traceback" not in finished.stderr, finished.stderr
    return finished


def _output(name: str, *arguments: str) -> str:
    return _run(name, *arguments).stdout


@pytest.mark.slow
def test_window_visit_in_process() -> None:
    output = _output("window_visit.py")
    assert "结算 setl_id" in output
    assert "对平 balanced" in output


@pytest.mark.slow
def test_kiosk_visit_refuses_an_id_card_and_a_second_tap() -> None:
    output = _output("kiosk_visit.py")
    assert "e-voucher or your social-security card" in output
    assert "already been paid" in output


@pytest.mark.slow
def test_kiosk_visit_with_a_lost_answer_tells_the_patient() -> None:
    output = _output("kiosk_visit.py", "--lose-answer")
    assert "by_infno='2601'" in output
    assert "nothing was charged" in output
    assert "对平 balanced" in output


@pytest.mark.slow
def test_refund_partial_then_full() -> None:
    output = _output("refund.py")
    assert "部分退费 partial refund" in output
    assert "全额退费 full refund: -62.00, lines cancelled: True" in output
    assert "对平 balanced" in output


@pytest.mark.slow
def test_recover_after_crash_in_process() -> None:
    output = _output("recover_after_crash.py")
    assert "original_found=True" in output
    assert "2207 sent 1 time(s)" in output
    assert "对平 balanced" in output


@pytest.mark.slow
def test_inpatient_stay_in_process() -> None:
    output = _output("inpatient_stay.py")
    assert "中途结算 1 setl_id" in output
    assert "deductible 900.00" in output
    assert "撤销中途结算 2 (2305): -155.00" in output
    assert "出院结算 setl_id" in output
    assert output.rstrip().endswith("对账 3201/3202: 对平 balanced")


# After the first three, the server holds other institutions' records (seq is global), a crash
# and a lost answer: each later run must stay on its own, and nothing armed may outlive a run.
RUNS = (
    ("window_visit.py",),
    ("kiosk_visit.py", "--lose-answer"),
    ("recover_after_crash.py",),
    ("refund.py",),
    ("recover_after_crash.py",),
    ("inpatient_stay.py",),
    ("kiosk_visit.py",),
    ("chronic_visit.py",),
)


@pytest.mark.slow
def test_examples_work_one_after_another_on_one_running_server(mock_server: str) -> None:
    for name, *arguments in RUNS:
        output = _output(name, *arguments, "--url", mock_server, "--admin-token", ADMIN_TOKEN)
        assert output.rstrip().endswith("对账 3201/3202: 对平 balanced"), (name, output)
        if arguments == ["--lose-answer"]:
            assert "answer lost, reversed: Reversed(by_infno='2601'" in output
        if name == "recover_after_crash.py":
            assert "2207 sent 1 time(s)" in output


@pytest.mark.slow
def test_an_example_against_a_server_says_in_one_line_what_it_needs(mock_server: str) -> None:
    refused = _run("window_visit.py", "--url", mock_server, "--admin-token", "x" * 20, expect=1)
    assert refused.stderr.count("\n") == 1
    assert "refused the admin token (HTTP 401)" in refused.stderr
    missing = subprocess.run(
        [sys.executable, str(EXAMPLES / "window_visit.py"), "--url", mock_server],
        capture_output=True, text=True, timeout=120, check=False,
        env={"PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    assert missing.returncode == 1
    assert missing.stderr.strip() == (
        "error: --url needs that server's admin token (--admin-token or $NHSA_MOCK_ADMIN_TOKEN):"
        " each run registers an institution of its own"
    )


@pytest.fixture
def examples_on_path() -> Iterator[None]:
    sys.path.insert(0, str(EXAMPLES))
    try:
        yield
    finally:
        sys.path.remove(str(EXAMPLES))


@pytest.mark.usefixtures("examples_on_path")
def test_a_day_that_does_not_balance_fails_the_example_in_one_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from platform_session import Platform, run_example  # noqa: PLC0415 - not a package
    from window_visit import expect_balanced  # noqa: PLC0415

    from nhsa.client import NhsaClientError, ReconcileReport  # noqa: PLC0415

    unbalanced = ReconcileReport(date(2026, 11, 23), (), unresolved=("H5301010000120261123",))

    def body(_: argparse.Namespace, platform: Platform) -> None:
        assert platform.transport is not None  # the in-process mock
        expect_balanced(unbalanced)

    assert run_example("test", body, []) == 1
    assert capsys.readouterr().err == (
        "error: 对账 3201/3202 did not balance: 0 rows differ, 1 settlements unresolved\n"
    )

    def sdk_error(_: argparse.Namespace, __: Platform) -> None:
        raise NhsaClientError("2207: the platform refused it")

    assert run_example("test", sdk_error, []) == 1
    assert capsys.readouterr().err == "error: 2207: the platform refused it\n"


@pytest.mark.slow
def test_chronic_visit_in_process() -> None:
    output = _output("chronic_visit.py")
    assert "备案 M01600 糖尿病 from 2021-01-01: 已失效 not in force" in output
    assert "门慢门特病种 M03900; med_type 14" in output
    assert (
        "拒绝 refused (2203): 门慢门特病种未备案或不在有效期内：mdtrtinfo.dise_codg=M01600"
        in output
    )
    assert "not charged as an ordinary one" in output
    assert "备案撤销 cancelled" in output
    assert "大病保险 hifmi_pay             345.00" in output
    assert "医疗救助 maf_pay               861.00" in output
    assert output.rstrip().endswith("对账 3201/3202: 对平 balanced")

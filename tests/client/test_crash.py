"""A HIS process killed mid-settlement, against a real ``nhsa mock serve``.

The mock is armed with commit-then-drop on 2207: it books the settlement and never answers. The
HIS process waits for that answer and is killed (SIGKILL) while it waits — the moment where,
without a journal, money is booked that nobody can trace. A new process then runs
``recover()``: it finds the 2207 entry left in ``sending``, reverses it with 2601 naming the
journaled msgid, and the day reconciles. The settlement is never sent twice and never doubled.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from nhsa.client import Client, ClientConfig, Reversed
from nhsa.envelope import china_now
from tests.client.conftest import ADMIN_TOKEN, FAST, WINDOW
from tests.client.platform import AREA, TENANT, TENANT_NAME

ROOT = Path(__file__).resolve().parents[2]


def _admin(url: str) -> httpx.Client:
    return httpx.Client(base_url=url + "/admin", headers={"authorization": f"Bearer {ADMIN_TOKEN}"})


def _transcript(admin: httpx.Client) -> list[dict[str, Any]]:
    answer = admin.get(f"/tenants/{TENANT}/transcript")
    answer.raise_for_status()
    return list(answer.json())


@pytest.mark.slow
def test_recover_closes_a_settlement_whose_process_was_killed(
    mock_server: str, tmp_path: Path
) -> None:
    journal = tmp_path / "his-journal.sqlite3"
    admin = _admin(mock_server)
    armed = admin.post(
        f"/tenants/{TENANT}/faults", json={"kind": "commit-then-drop", "infno": "2207"}
    )
    assert armed.status_code in (200, 201), armed.text
    child = subprocess.Popen(
        [sys.executable, "-m", "tests.client.crash_child", mock_server, str(journal)],
        cwd=ROOT, stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )  # fmt: skip
    try:
        assert child.stdout is not None
        assert child.stdout.readline().startswith("registered ")
        for _ in range(400):  # until the platform has committed the 2207 it will not answer
            if any(r["infno"] == "2207" for r in _transcript(admin)):
                break
            time.sleep(0.05)
        else:
            pytest.fail("the 2207 never reached the mock")
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
    finally:
        child.kill()
    (dropped,) = [r for r in _transcript(admin) if r["infno"] == "2207"]
    assert (dropped["delivered"], dropped["infcode"]) == (False, 0)  # booked, never heard
    seen = len(_transcript(admin))

    config = ClientConfig(
        TENANT, TENANT_NAME, AREA, journal_path=journal, base_url=mock_server, retry=FAST
    )
    with Client(config, WINDOW) as client:
        report = client.recover()
        # The HIS has no row left: ask for the group anyway, the platform must have none.
        day = client.reconcile(china_now().date(), extra_groups=[("310", "11")])

    (recovered,) = report.resolved
    assert recovered.msgid == dropped["msgid"]
    assert isinstance(recovered.resolution, Reversed)
    assert recovered.resolution.original_found is True
    after = _transcript(admin)[seen:]
    assert [r["infno"] for r in after if r["infno"] not in ("9001", "9002")] == ["2601", "3201"]
    reversal = next(r for r in after if r["infno"] == "2601")
    assert reversal["request"]["input"]["data"]["omsgid"] == dropped["msgid"]
    assert reversal["request"]["input"]["data"]["oinfno"] == "2207"
    assert day.balanced, day
    ledger = admin.get(f"/tenants/{TENANT}/settlements").json()
    assert [row["status"] for row in ledger] == ["voided"]  # booked once, then voided by 2601
    assert not [row for row in ledger if row["live"]]
    assert sum(1 for r in _transcript(admin) if r["infno"] == "2207") == 1

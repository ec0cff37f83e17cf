"""Crash test: SIGKILL ``nhsa mock serve`` in the middle of charge workflows, restart it on the
same database, and prove nothing acknowledged was lost and nothing was doubled.

The client side keeps what a careful HIS keeps: every 2207 it sent, and which of them it saw
acknowledged. After the restart:

1. every acknowledged settlement is in the ledger (and answers 5203);
2. every ledger row comes from a 2207 the client sent — acknowledged, or sent without an answer
   (committed, then the process died before the answer left) — and no msgid settled twice;
3. the unanswered ones are resolved the way the SDK does (2601 naming their msgid), after which
   3201 with the client's own totals balances.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from nhsa.envelope import CHINA_TIME
from nhsa.mock.app._server import bind_socket
from tests.mock.test_app_his import KUNMING, ZHANG, PlatformError, SyntheticHis

WORKERS = 4
ACKNOWLEDGED_BEFORE_KILL = 12
LOAD_DEADLINE_SECONDS = 20.0
TOKEN = "crash-test-admin-token"
MONEY = ("medfee_sumamt", "fund_pay_sumamt", "acct_pay")


class Server:
    """``nhsa mock serve`` as a child process on a free port."""

    def __init__(self, db: Path, sync: str) -> None:
        probe = bind_socket("127.0.0.1", 0)
        port = probe.getsockname()[1]
        probe.close()
        command = [
            sys.executable,
            "-c",
            "from nhsa.cli import main; main()",
            "mock",
            "serve",
            "--port",
            str(port),
            "--db",
            str(db),
            "--sync",
            sync,
            "--admin-token",
            TOKEN,
        ]
        self.process = subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        assert self.process.stdout is not None
        banner = self.process.stdout.readline()
        match = re.search(r"on (http://\S+)", banner)
        assert match, f"server did not start: {banner}{self.process.stdout.read()}"
        self.url = match.group(1)
        deadline = time.monotonic() + 20
        while True:
            try:
                httpx.get(self.url + "/public/ping", timeout=1).raise_for_status()
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "server not answering"
                time.sleep(0.05)

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()


@dataclass
class Ledger:
    """What the client knows, shared by its worker threads."""

    acknowledged: dict[str, dict[str, Any]] = field(default_factory=dict)  # msgid → setlinfo
    unanswered: set[str] = field(default_factory=set)  # 2207 msgids sent without an answer
    lock: threading.Lock = field(default_factory=threading.Lock)


class Worker(SyntheticHis):
    """A HIS thread that records each 2207's fate before and after sending it."""

    ledger: Ledger

    def settle_once(self) -> None:
        mdtrt_id = self.register()
        try:
            setlinfo = self.charge(mdtrt_id)
        except httpx.TransportError:
            return  # the 2207 (if it was sent) is in unanswered
        with self.ledger.lock:
            self.ledger.acknowledged[str(setlinfo["medins_setl_id"])] = setlinfo
            self.ledger.unanswered.discard(str(setlinfo["medins_setl_id"]))

    def post(self, envelope: Any, **options: Any) -> httpx.Response:
        if envelope["infno"] == "2207":
            with self.ledger.lock:
                self.ledger.unanswered.add(envelope["msgid"])
        return super().post(envelope, **options)


def drive(url: str, ledger: Ledger, stop: threading.Event, index: int) -> None:
    run = (datetime.now(CHINA_TIME) + timedelta(seconds=index * 7)).strftime("%Y%m%d%H%M%S")
    worker = Worker(httpx.Client(base_url=url, timeout=5), opter=f"K{index:02d}", _run=run)
    worker.ledger = ledger
    try:
        worker.sign_in()
        while not stop.is_set():
            worker.settle_once()
    except (httpx.TransportError, PlatformError):
        return  # the server died under us: exactly what this test provokes


def hold_next_settlement(url: str, deadline: float) -> str:
    """Make the next 2207 commit and then wait 30 s before answering; its msgid once committed.

    This places the kill exactly where it hurts: after the commit, before the answer.
    """
    admin = httpx.Client(base_url=url, headers={"authorization": f"Bearer {TOKEN}"})
    since = admin.get(f"/admin/tenants/{KUNMING}/transcript").json()[-1]["seq"]
    admin.post(
        f"/admin/tenants/{KUNMING}/faults", json={"kind": "latency", "ms": 30000, "infno": "2207"}
    ).raise_for_status()
    while time.monotonic() < deadline:
        records = admin.get(f"/admin/tenants/{KUNMING}/transcript", params={"since": since}).json()
        held = [r for r in records if r["fault"] and r["fault"]["kind"] == "latency"]
        if held:
            assert held[0]["state_changed"] is True
            return str(held[0]["msgid"])
        time.sleep(0.01)
    raise AssertionError("no 2207 reached the platform while the latency fault was armed")


@pytest.fixture
def database(tmp_path: Path) -> Path:
    return tmp_path / "crash.db"


@pytest.fixture(params=["normal", "full"])
def sync(request: pytest.FixtureRequest) -> str:
    """Both durabilities: with ``full`` the group's COMMIT is written on a thread of its own."""
    return str(request.param)


@pytest.fixture
def first_server(database: Path, sync: str) -> Iterator[Server]:
    server = Server(database, sync)
    try:
        yield server
    finally:
        server.stop()


@pytest.mark.slow
def test_sigkill_mid_load_loses_nothing_acknowledged(
    database: Path, sync: str, first_server: Server
) -> None:
    ledger, stop = Ledger(), threading.Event()
    threads = [
        threading.Thread(target=drive, args=(first_server.url, ledger, stop, n))
        for n in range(WORKERS)
    ]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + LOAD_DEADLINE_SECONDS
    while len(ledger.acknowledged) < ACKNOWLEDGED_BEFORE_KILL and time.monotonic() < deadline:
        time.sleep(0.01)
    held = hold_next_settlement(first_server.url, time.monotonic() + LOAD_DEADLINE_SECONDS)
    first_server.kill()  # mid-load, and while a committed 2207's answer is still held back
    stop.set()
    for thread in threads:
        thread.join(timeout=30)
    assert len(ledger.acknowledged) >= ACKNOWLEDGED_BEFORE_KILL

    second = Server(database, sync)
    try:
        admin = httpx.Client(base_url=second.url, headers={"authorization": f"Bearer {TOKEN}"})
        rows = admin.get(f"/admin/tenants/{KUNMING}/settlements").json()
        settled = [row for row in rows if row["refd_setl_flag"] == "0"]
        by_msgid = {row["msgid"]: row for row in settled}

        # 1. nothing acknowledged is lost
        assert set(ledger.acknowledged) <= set(by_msgid)
        for msgid, setlinfo in ledger.acknowledged.items():
            assert by_msgid[msgid]["setl_id"] == setlinfo["setl_id"]
        # 2. nothing appears that the client did not send, and nothing twice
        assert len(by_msgid) == len(settled)
        assert set(by_msgid) <= set(ledger.acknowledged) | ledger.unanswered
        assert held in by_msgid  # committed before the kill,
        assert held in ledger.unanswered  # but never acknowledged

        his = SyntheticHis(httpx.Client(base_url=second.url, timeout=10), opter="R01")
        his.sign_in()
        sample = next(iter(ledger.acknowledged.values()))
        queried = his.call(
            "5203",
            {
                "data": {
                    "psn_no": ZHANG.psn_no,
                    "setl_id": sample["setl_id"],
                    "mdtrt_id": sample["mdtrt_id"],
                }
            },
            insuplc=ZHANG.insuplc_admdvs,
        )
        assert queried["output"]["setlinfo"]["setl_id"] == sample["setl_id"]

        # 3. resolve the unanswered 2207s by reversal, then the client's totals balance
        count = len(ledger.acknowledged)
        for msgid in sorted(ledger.unanswered):
            answer = his.call(
                "2601",
                {"data": {"psn_no": ZHANG.psn_no, "omsgid": msgid, "oinfno": "2207"}},
                insuplc=ZHANG.insuplc_admdvs,
            )
            if msgid not in by_msgid:  # a committed one is voided: it counts nowhere
                assert answer["warn_msg"]  # "original not found: nothing to reverse"
        totals = {
            name: sum(
                (Decimal(str(s[name])) for s in ledger.acknowledged.values()), Decimal("0.00")
            )
            for name in MONEY
        }
        day = datetime.now(CHINA_TIME).date().isoformat()
        statement = his.reconcile(day, totals, count)
        assert statement["stmt_rslt"] == "0", statement["stmt_rslt_dscr"]
    finally:
        second.stop()

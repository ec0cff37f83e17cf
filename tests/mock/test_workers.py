"""``nhsa mock serve --db postgresql://… --workers 2``: what one worker learns, the other knows.

Each item of ``nhsa.mock.store._shared`` is checked across two real worker processes: the test
keeps one HTTP connection pinned to each worker (``/admin/health`` names the process) and sends
the two halves of each case through different workers.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import httpx
import orjson
import pytest

from nhsa.envelope import CHINA_TIME, MsgidGenerator
from nhsa.signing import TifAuth

TENANT = "H53010100001"
TOKEN = "test-admin-token"
ENTRY = "/fsi/api/rsfComIfsService/callService"
PAASID, PAAS_TOKEN = "paas-workers-1", "workers-secret-token"
pytestmark = pytest.mark.slow


@pytest.fixture
def workers(postgres_url: str) -> Iterator[dict[int, httpx.Client]]:
    """Two workers over one PostgreSQL schema; one client pinned to each (by process id)."""
    server = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from nhsa.cli import main; main()",
            "mock",
            "serve",
            "--db",
            postgres_url,
            "--workers",
            "2",
            "--port",
            "0",
            "--profile",
            "tif",
            "--admin-token",
            TOKEN,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    pinned: dict[int, httpx.Client] = {}
    try:
        assert server.stdout is not None
        first = server.stdout.readline()
        found = re.search(r"on (http://\S+)", first)
        assert found, first + server.stdout.read()
        url = found[1]
        spare: list[httpx.Client] = []
        for _ in range(60):  # bounded: connections until both workers hold one
            client = httpx.Client(base_url=url, headers={"authorization": f"Bearer {TOKEN}"})
            pid = int(client.get("/admin/health").json()["worker"])
            if pid in pinned:
                spare.append(client)
            else:
                pinned[pid] = client
            if len(pinned) == 2:
                break
        for client in spare:
            client.close()
        assert len(pinned) == 2, "the kernel gave every connection to one worker"
        yield pinned
    finally:
        for client in pinned.values():
            client.close()
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)


def _sign_in(msgid: str) -> bytes:
    now = datetime.now(CHINA_TIME)
    return orjson.dumps(
        {
            "infno": "9001",
            "msgid": msgid,
            "mdtrtarea_admvs": "530100",
            "insuplc_admdvs": "",
            "recer_sys_code": "YBXT",
            "infver": "V1.0",
            "opter_type": "1",
            "opter": "C0001",
            "opter_name": "收费员甲",
            "inf_time": now.strftime("%Y-%m-%d %H:%M:%S"),
            "fixmedins_code": TENANT,
            "fixmedins_name": "昆明市测试第一人民医院",
            "sign_no": "",
            "input": {"signIn": {"opter_no": "C0001", "ip": "10.53.1.21"}},
        }
    )


def _post(client: httpx.Client, body: bytes, headers: dict[str, str]) -> tuple[int, Any]:
    answer = client.post(ENTRY, content=body, headers=headers)
    return answer.status_code, answer.json()


def test_two_workers_share_registrations_replay_memory_and_faults(
    workers: dict[int, httpx.Client],
) -> None:
    one, other = workers.values()
    auth = TifAuth(PAASID, PAAS_TOKEN)
    ids = MsgidGenerator(TENANT)
    registered = one.post(
        "/admin/institutions",
        json={
            "fixmedins_code": TENANT,
            "fixmedins_name": "昆明市测试第一人民医院",
            "mdtrtarea_admvs": "530100",
            "level": "3",
            "networked": ["outpatient"],
            "profile": "tif",
            "paasid": PAASID,
            "token": PAAS_TOKEN,
        },
    )
    assert registered.status_code in (200, 201), registered.text

    # registrations: the institution registered through one worker is known to the other
    status, answer = _post(other, _sign_in(ids.next()), auth.headers())
    assert (status, answer["infcode"]) == (200, 0), answer

    # replay memory: a nonce used on one worker is refused on the other, and so is a msgid
    headers = auth.headers()
    assert _post(one, _sign_in(ids.next()), headers)[0] == 200
    status, answer = _post(other, _sign_in(ids.next()), headers)
    assert status == 401
    assert "nonce" in answer["err_msg"]
    reused = ids.next()
    assert _post(other, _sign_in(reused), auth.headers())[1]["infcode"] == 0
    status, answer = _post(one, _sign_in(reused), auth.headers())
    assert answer["infcode"] == -1
    assert "报文ID重复" in answer["err_msg"]

    # faults: armed through one worker, fired by both, three times in all
    armed = other.post(
        f"/admin/tenants/{TENANT}/faults",
        json={"kind": "business-error", "infno": "9001", "times": 3, "err_msg": "故障注入 armed"},
    )
    assert armed.status_code in (200, 201), armed.text
    results = [
        _post(client, _sign_in(ids.next()), auth.headers())[1]["err_msg"]
        for _ in range(4)
        for client in (one, other)
    ]
    assert sum("故障注入 armed" in (text or "") for text in results) == 3
    assert results[:3] == ["故障注入 armed"] * 3
    assert one.get(f"/admin/tenants/{TENANT}/faults").json() == []  # used up, on both


def test_a_bad_postgres_url_stops_start_up_in_one_line() -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "from nhsa.cli import main; main()",
            "mock",
            "serve",
            "--db",
            "postgresql://lab:hunter2@127.0.0.1:1/mock",
            "--workers",
            "2",
            "--port",
            "0",
        ],
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "COLUMNS": "400"},
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "postgresql://lab:***@127.0.0.1:1/mock" in lines[0]
    assert "hunter2" not in result.stderr + result.stdout


def test_several_workers_need_postgresql(tmp_path: Any) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "from nhsa.cli import main; main()",
            "mock",
            "serve",
            "--db",
            str(tmp_path / "m.db"),
            "--workers",
            "2",
        ],
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "COLUMNS": "400"},
    )
    assert result.returncode == 2
    assert "--workers 2" in result.stderr

"""A HIS process dies while a settlement is in flight; the next start-up closes it.

The mock is armed with commit-then-drop on 2207: it books the settlement and never answers. A
child process (this script with ``--child``) charges a visit and waits for that answer; the
parent kills it while it waits — exactly when, without a journal, money would be booked that
nobody can trace. The parent then starts a fresh client on the same journal: ``recover()``
finds the 2207 left in ``sending``, reverses it with 2601 naming the journaled msgid, and the
day reconciles.

    python examples/recover_after_crash.py                  # the mock on a local port
    nhsa mock serve --admin-token secret &                  # or a running server:
    python examples/recover_after_crash.py --url http://127.0.0.1:8700 --admin-token secret
"""

from __future__ import annotations

import argparse
import contextlib
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import httpx
from window_visit import CLINIC, DIAGNOSES, HOSPITAL, fee_lines, platform_session

from nhsa.client import Certificate, WindowMode
from nhsa.envelope import china_now

CASHIER = WindowMode("C0003", "收费员丙")
TENANT = HOSPITAL[0]


def child(url: str, journal: Path) -> int:
    """Charge a visit and wait for the answer that never comes."""
    with platform_session(url, CASHIER, journal=journal) as (client, _):
        visit = client.register(
            Certificate.e_voucher("ECTEST-530100-0003-1C6F0A77"), insutype="310", clinic=CLINIC
        )
        print(f"child: charging visit {visit.mdtrt_id}", flush=True)
        client.charge(visit, fee_lines(), diagnoses=DIAGNOSES)
    return 1  # not reached: the parent kills this process while 2207 waits


@contextlib.contextmanager
def platform(url: str | None, admin_token: str | None) -> Iterator[tuple[str, Callable[..., Any]]]:
    """The platform's URL and a function calling its admin API: a local mock, or ``url``."""
    if url:
        admin = httpx.Client(
            base_url=url + "/admin", headers={"authorization": f"Bearer {admin_token}"}
        )

        def call(method: str, path: str, **kwargs: Any) -> Any:
            answer = admin.request(method, path, **kwargs)
            answer.raise_for_status()
            return answer.json()

        yield url, call
        return
    from nhsa.mock import MockPlatform  # noqa: PLC0415 - the mock is an extra: nhsa-kit[mock]

    with MockPlatform(allow_fault_header=False) as mock, mock.serve() as served:
        in_process = httpx.Client(
            transport=mock.transport,
            base_url=mock.base_url + "/admin",
            headers={"authorization": f"Bearer {mock.admin_token}"},
        )

        def call(method: str, path: str, **kwargs: Any) -> Any:
            answer = in_process.request(method, path, **kwargs)
            answer.raise_for_status()
            return answer.json()

        yield served, call


def main(argv: Sequence[str] | None = None) -> int:
    """Crash a charge, recover it, reconcile; returns the exit code."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--url", help="a running `nhsa mock serve` (default: a local mock)")
    parser.add_argument("--admin-token", help="its admin token (nhsa mock serve --admin-token)")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--journal", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return child(args.url, args.journal)
    if args.url and not args.admin_token:
        parser.error("--url needs --admin-token to arm the fault")
    with (
        tempfile.TemporaryDirectory(prefix="nhsa-crash-") as folder,
        platform(args.url, args.admin_token) as (url, admin),
    ):
        journal = Path(folder) / "journal.sqlite3"
        admin(
            "POST", f"/tenants/{TENANT}/faults", json={"kind": "commit-then-drop", "infno": "2207"}
        )
        seen = len(admin("GET", f"/tenants/{TENANT}/transcript"))
        process = subprocess.Popen(
            [sys.executable, __file__, "--child", "--url", url, "--journal", str(journal)]
        )
        try:
            for _ in range(600):  # until the platform has booked the 2207 it will not answer
                records = admin("GET", f"/tenants/{TENANT}/transcript", params={"since": seen})
                if any(r["infno"] == "2207" for r in records):
                    break
                time.sleep(0.05)
            time.sleep(0.2)  # let the child settle into its wait
        finally:
            process.kill()  # SIGKILL: no clean-up, no sign-out — a crash
            process.wait()
        print(f"killed the HIS process (pid {process.pid}) while its 2207 was in flight")

        with platform_session(url, CASHIER, journal=journal) as (client, _):
            report = client.recover()
            for entry in report.resolved:
                print(f"recover(): {entry.infno} {entry.msgid} → {entry.resolution}")
            day = client.reconcile(china_now().date())
        after = admin("GET", f"/tenants/{TENANT}/transcript", params={"since": seen})
        settlements = [r["msgid"] for r in after if r["infno"] == "2207"]
        print(f"2207 sent {len(settlements)} time(s); 对账 3201: balanced={day.balanced}")
        return 0 if len(settlements) == 1 and report.resolved else 1


if __name__ == "__main__":
    raise SystemExit(main())

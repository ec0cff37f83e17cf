"""A HIS process dies while a settlement is in flight; the next start-up closes it.

The platform is armed with commit-then-drop on 2207: it books the settlement and never answers.
A child process (this script with ``--child``) charges a visit and waits for that answer; the
parent kills it while it waits — exactly when, without a journal, money would be booked that
nobody can trace. The parent then starts a fresh client on the same journal: ``recover()``
finds the 2207 left in ``sending``, reverses it with 2601 naming the journaled msgid, and the
day reconciles.

    python examples/recover_after_crash.py                  # the mock on a local port
    python examples/recover_after_crash.py --url http://127.0.0.1:8700   # token: see window_visit
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from platform_session import ExampleError, Institution, Platform, client_for, run_example
from window_visit import CLINIC, DIAGNOSES, expect_balanced, fee_lines

from nhsa.client import Certificate, Client, Reversed, WindowMode
from nhsa.envelope import china_now

CASHIER = WindowMode("C0003", "收费员丙")
WAIT_FOR_THE_CHARGE_S = 60.0


def child(url: str, journal: Path) -> int:
    """Charge a visit and wait for the answer that never comes (the institution on stdin)."""
    institution = Institution.from_json(sys.stdin.read())
    with Client(institution.config(url, journal), CASHIER) as client:
        visit = client.register(
            Certificate.e_voucher("ECTEST-530100-0003-1C6F0A77"), insutype="310", clinic=CLINIC
        )
        print(f"child: charging visit {visit.mdtrt_id}", flush=True)
        client.charge(visit, fee_lines(), diagnoses=DIAGNOSES)
    return 1  # not reached: the parent kills this process while 2207 waits


def crash_and_recover(_: argparse.Namespace, platform: Platform) -> None:
    """Crash a charge in a child process, recover it here, reconcile."""
    institution = platform.enroll()
    with tempfile.TemporaryDirectory(prefix="nhsa-crash-") as folder:
        journal = Path(folder) / "journal.sqlite3"
        platform.arm_fault(institution.code, "commit-then-drop", infno="2207")
        try:
            killed = crash_a_charge(platform, institution, journal)
        finally:
            platform.clear_faults(institution.code)
        print(f"killed the HIS process (pid {killed}) while its 2207 was in flight")

        with client_for(platform, institution, CASHIER, journal) as client:
            report = client.recover()
            for entry in report.resolved:
                print(f"recover(): {entry.infno} {entry.msgid} → {entry.resolution}")
            day = client.reconcile(china_now().date())
    sent = [r["msgid"] for r in platform.transcript(institution.code) if r["infno"] == "2207"]
    print(f"2207 sent {len(sent)} time(s)")
    if len(sent) != 1:
        raise ExampleError(f"the 2207 was sent {len(sent)} times; exactly once was expected")
    if [e.msgid for e in report.resolved if isinstance(e.resolution, Reversed)] != sent:
        raise ExampleError(f"recover() did not reverse the crashed 2207 {sent[0]}: {report}")
    expect_balanced(day)


def crash_a_charge(platform: Platform, institution: Institution, journal: Path) -> int:
    """Run the child until the platform has booked its 2207, then SIGKILL it; its pid."""
    process = subprocess.Popen(
        [
            sys.executable,
            __file__,
            "--child",
            "--url",
            platform.base_url,
            "--journal",
            str(journal),
        ],
        stdin=subprocess.PIPE,
        text=True,
    )
    assert process.stdin is not None  # opened with stdin=PIPE
    process.stdin.write(institution.to_json())
    process.stdin.close()
    try:
        deadline = time.monotonic() + WAIT_FOR_THE_CHARGE_S
        while not any(r["infno"] == "2207" for r in platform.transcript(institution.code)):
            if process.poll() is not None:
                raise ExampleError(f"the child HIS exited ({process.returncode}) before its 2207")
            if time.monotonic() > deadline:
                raise ExampleError(f"no 2207 reached the platform in {WAIT_FOR_THE_CHARGE_S:g} s")
            time.sleep(0.05)
        time.sleep(0.2)  # let the child settle into its wait
    finally:
        process.kill()  # SIGKILL: no clean-up, no sign-out — a crash
        process.wait()
    return process.pid


def main(argv: Sequence[str] | None = None) -> int:
    """Crash a charge, recover it, reconcile; returns the exit code."""
    if argv is None:
        argv = sys.argv[1:]
    if "--child" in argv:
        parser = argparse.ArgumentParser()
        parser.add_argument("--child", action="store_true")
        parser.add_argument("--url", required=True)
        parser.add_argument("--journal", type=Path, required=True)
        args = parser.parse_args(argv)
        return child(args.url, args.journal)
    return run_example(
        __doc__.splitlines()[0] if __doc__ else None, crash_and_recover, argv, serve=True
    )


if __name__ == "__main__":
    raise SystemExit(main())

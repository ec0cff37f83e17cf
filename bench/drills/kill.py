"""Kill drill: SIGKILL of the platform and of the HIS under load, restart on the same
database or journal, recover, reconcile — nothing lost, nothing doubled, the day balanced.

Two parts, each its own ``nhsa mock serve`` (database on disk) and institution (``tif+sm2``):

- **server killed** — counters (threads of this process, one shared journal) run visits over
  HTTP; each round a committed 2207's answer is held back (a latency fault), the server is
  SIGKILLed while it holds it, and started again on the same database and port after a
  moment in which the counters meet a closed port;
- **client killed** — counters are processes of their own (:mod:`bench.drills._worker`),
  sharing one journal; each round a 2207 is committed and its answer withheld
  (commit-then-drop), every counter process is SIGKILLed while it waits, and new ones start on
  the same journal — each runs ``recover()`` first, as a HIS does at start-up.

Then what a HIS does after an incident (:func:`bench.drills._workflows.settle_up`) and the
audit
(:mod:`bench.drills._audit`) of the journal against the ledger. The same machinery as
``tests/mock/test_crash.py`` (a held 2207 at the kill) and ``tests/client/test_crash.py``
(a counter process killed while it waits for a dropped 2207), under load and repeated.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from nhsa.client import Client
from nhsa.envelope import china_now

from . import _audit as audited
from ._audit import Audit, audit, journal_entries
from ._report import show, write
from ._server import MockServer
from ._site import Admin, Institution
from ._state import connect, last_seq
from ._workflows import KIOSK, WINDOW, Tally, settle_up, visit
from .chaos import quiet

__all__ = ["KillResult", "run"]

PROFILE: Final = "tif+sm2"
_PACKAGE_ROOT: Final = Path(__file__).resolve().parents[2]
_WAIT_SECONDS: Final = 30.0


@dataclass
class Part(audited.Part):
    """One part's kills, visits and audit."""

    kills: int = 0
    held_at_kill: int = 0

    def as_json(self) -> dict[str, Any]:
        """Plain data for the JSON results."""
        return {**super().as_json(), "kills": self.kills, "held_at_kill": self.held_at_kill}


KillResult = audited.Run


@dataclass
class _Stage:
    """Where a part runs: its own server, institution, journal and random draws."""

    part: Part
    server: MockServer
    admin: Admin
    institution: Institution
    journal: Path
    rng: random.Random

    def rounds(
        self, count: int, fault: str, kill: Callable[[], int], restart: Callable[[], None]
    ) -> None:
        """``count`` times: let the load run, arm ``fault`` on the next 2207, wait until a
        2207 was committed and its answer withheld, ``kill()``, ``restart()``."""
        code = self.institution.code
        for _ in range(count):
            time.sleep(self.rng.uniform(1.0, 2.5))
            since = last_seq(self.server.db)
            params = {"ms": 30_000} if fault == "latency" else {}
            self.admin.arm(code, fault, infno="2207", **params)
            if _wait_for_fault(self.server.db, code, fault, since):
                self.part.held_at_kill += 1
            self.part.kills += kill()
            restart()
        time.sleep(1.0)


@contextlib.contextmanager
def _stage(folder: Path, name: str, code: str, seed: int) -> Iterator[_Stage]:
    """A part's server and institution; afterwards, what a HIS does and the audit."""
    started = time.perf_counter()
    place = folder / code
    place.mkdir(parents=True, exist_ok=True)
    with MockServer(place) as server, contextlib.closing(server.admin()) as admin:
        institution = admin.register(code, PROFILE)
        journal = place / "journal.sqlite3"
        stage = _Stage(Part(name), server, admin, institution, journal, random.Random(seed))
        yield stage
        stage.part.audit = _final(institution, server.url, journal, admin)
    stage.part.seconds = time.perf_counter() - started


def _wait_for_fault(db: Path, code: str, kind: str, since: int) -> str | None:
    """The msgid of the first 2207 after ``since`` that fault ``kind`` struck after it was
    committed (its answer is being withheld now), waiting up to 30 s."""
    query = (
        "SELECT json_extract(record, '$.msgid') FROM transcript WHERE tenant = ? AND seq > ?"
        " AND json_extract(record, '$.fault.kind') = ? AND json_extract(record, '$.state_changed')"
    )
    deadline = time.monotonic() + _WAIT_SECONDS
    with contextlib.closing(connect(db)) as connection:
        while time.monotonic() < deadline:
            row = connection.execute(query, (code, since, kind)).fetchone()
            if row is not None:
                return str(row[0])
            time.sleep(0.02)
    return None


def _final(institution: Institution, url: str, journal: Path, admin: Admin) -> Audit:
    retried: Counter[str] = Counter()
    with Client(institution.config(url, journal, read_timeout=10.0), WINDOW) as client:
        report = settle_up(client, institution.code, china_now().date(), retried)
    code = institution.code
    found = audit(journal_entries([journal], code), admin.settlements(code), [report])
    found.retried_by_hand = retried
    return found


def _server_part(folder: Path, rounds: int, counters: int, seed: int) -> Part:
    """Counters in threads; the server killed while it holds a committed 2207's answer."""
    name = "server killed (SIGKILL, restarted on the same database)"
    with _stage(folder, name, "H53010104001", seed) as stage:
        server, stop = stage.server, threading.Event()
        tallies = [Tally() for _ in range(counters)]
        config = stage.institution.config(server.url, stage.journal, read_timeout=10.0)

        def counter(index: int) -> None:
            kiosk = index % 2 == 1
            visits = random.Random(f"{seed}-{index}")
            with contextlib.closing(Client(config, KIOSK if kiosk else WINDOW)) as client:
                while not stop.is_set():
                    if not visit(client, kiosk=kiosk, rng=visits, tally=tallies[index]):
                        time.sleep(0.05)  # the platform is away: do not spin

        def kill() -> int:
            server.kill()
            return 1

        def restart() -> None:
            time.sleep(stage.rng.uniform(0.2, 1.0))  # the counters meet a closed port
            server.start()

        threads = [threading.Thread(target=counter, args=(i,)) for i in range(counters)]
        for thread in threads:
            thread.start()
        try:
            stage.rounds(rounds, "latency", kill, restart)
        finally:
            stop.set()
            for thread in threads:
                thread.join(timeout=120)
        for tally in tallies:
            stage.part.visits.merge(tally)
    return stage.part


class _Counters:
    """Counter processes (:mod:`bench.drills._worker`) of one institution on one journal."""

    def __init__(self, institution: Institution, url: str, journal: Path, folder: Path) -> None:
        self._institution, self._url, self._journal, self._folder = (
            institution,
            url,
            journal,
            folder,
        )
        self.processes: list[subprocess.Popen[str]] = []
        self._started = 0

    def start(self, count: int, seed: int) -> None:
        """Start ``count`` counters and wait until each has recovered."""
        for index in range(count):
            self._started += 1
            kind = "kiosk" if index % 2 else "window"
            log = (self._folder / f"counter-{self._started}.log").open("w")
            process = subprocess.Popen(  # our interpreter, our module
                [sys.executable, "-m", "bench.drills._worker", self._url, str(self._journal),
                 str(seed * 1000 + self._started), kind],
                cwd=_PACKAGE_ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log,
                text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"},
            )  # fmt: skip
            log.close()
            assert process.stdin is not None
            process.stdin.write(self._institution.to_json() + "\n")
            process.stdin.close()
            self.processes.append(process)
        for process in self.processes[-count:]:
            assert process.stdout is not None
            line = process.stdout.readline()
            if not line.startswith("ready"):
                raise RuntimeError(f"a counter process did not start: {line!r}")

    def kill(self) -> int:
        """SIGKILL every counter; how many were running."""
        killed = 0
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGKILL)
                killed += 1
            process.wait(timeout=30)
        self.processes = []
        return killed

    def stop(self) -> None:
        """SIGTERM every counter and wait for it (SIGKILL after 60 s)."""
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self.processes = []


def _client_part(folder: Path, rounds: int, counters: int, seed: int) -> Part:
    """Counter processes killed while a 2207's answer is withheld; new ones recover."""
    name = "client killed (SIGKILL, new processes on the same journal)"
    with _stage(folder, name, "H53010105001", seed) as stage:
        place = stage.journal.parent
        workers = _Counters(stage.institution, stage.server.url, stage.journal, place)
        try:
            workers.start(counters, seed)
            stage.rounds(rounds, "commit-then-drop", workers.kill,
                         lambda: workers.start(counters, seed))  # fmt: skip
        finally:
            workers.stop()
    return stage.part


def run(
    folder: Path, *, rounds: int, counters: int, client_counters: int | None = None, seed: int = 11
) -> KillResult:
    """Both parts (see the module docstring), ``rounds`` kills each, ``counters`` under load
    (``client_counters`` processes in the second part, ``counters`` when not given)."""
    started = time.perf_counter()
    parts = [
        _server_part(folder, rounds, counters, seed),
        _client_part(folder, rounds, client_counters or counters, seed),
    ]
    return KillResult(parts, seed, time.perf_counter() - started)


def report(result: KillResult) -> None:
    """Print the drill's table."""
    headers = ["part", "kills", "2207 held at the kill", "lost", "doubled", "3201 balanced",
               "unresolved", "live settlements", "refunds"]  # fmt: skip
    rows = [
        [p.name, p.kills, p.held_at_kill, p.audit.lost, p.audit.doubled,
         "n/a" if p.audit.balanced is None else p.audit.balanced, p.audit.unresolved,
         p.audit.settlements, p.audit.refunds]
        for p in result.parts
    ]  # fmt: skip
    show(f"kill -9 drill (seed {result.seed}, {result.seconds:.0f} s)", headers, rows,
         must_be_zero=[3, 4, 5, 6])  # fmt: skip


def main(argv: Sequence[str] | None = None) -> int:
    """``python bench/drill_kill.py [--rounds N] [--counters N]``: run, print, write JSON."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5, help="kills per part")
    parser.add_argument("--counters", type=int, default=4, help="counters under load")
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args(argv)
    quiet()
    with tempfile.TemporaryDirectory(prefix="nhsa-drill-kill-") as folder:
        result = run(Path(folder), rounds=args.rounds, counters=args.counters, seed=args.seed)
    report(result)
    print(f"wrote {write('drill_kill', result.as_json())}")
    return 0

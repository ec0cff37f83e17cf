"""Chaos drill: complete SDK visits while the mock platform misbehaves on ≥ 20 % of calls,
then ``recover()`` and day-end reconciliation (3201, 3202 where unbalanced).

Three parts, each its own institution:

- **in-process** — ``MockPlatform`` through its in-process transport (no sockets, so
  thousands of visits fit in minutes; split over ``processes`` independent shards, each its
  own platform and database): a window and a kiosk of one institution, each in its own
  thread, one shared journal, profile ``tif+sm2``;
- **over a socket** — the same against ``nhsa mock serve`` with real HTTP and a 1 s read
  timeout, fewer visits (a hang costs the timeout);
- **two windows, separate journals** — the setup README allows (a msgid counter shared,
  journals not): both windows charge the same registered visit at the same moment, no
  faults armed. Counted: doubled visits; the unsafe configuration may instead be refused.

Faults are the mock's own vocabulary (:mod:`nhsa.mock.faults`), armed per institution on
every transaction with a probability and a seed: latency (short, and past the read timeout),
hang, reset, http-error before and after commit, empty and garbled bodies, bad signatures,
business errors, insured-place downtime and unreachable (error and hang), commit-then-drop
(hang and reset). The share of calls a fault struck is measured from the transcript.

After the visits the faults are disarmed and each journal is settled up as a HIS would
(:func:`bench.drills._workflows.settle_up`: ``recover()``, a person's retry of the
settlements whose reversal was refused, ``reconcile()`` for the day); the audit
(:mod:`bench.drills._audit`) compares journal and ledger.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import random
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Final

import httpx

from nhsa.client import (
    BreakerPolicy,
    Certificate,
    Client,
    ClientConfig,
    NhsaClientError,
)
from nhsa.envelope import china_now
from nhsa.mock import MockPlatform

from . import _audit as audited
from ._audit import Audit, audit, journal_entries
from ._report import show, write
from ._server import MockServer
from ._site import Admin, Institution
from ._state import connect, last_seq
from ._workflows import (
    CLINIC,
    DIAGNOSES,
    KIOSK,
    PATIENTS,
    WINDOW,
    Tally,
    fees,
    settle_up,
    visit,
)  # fmt: skip

__all__ = ["FAULTS", "ChaosResult", "Part", "run"]

FAULTS: Final[tuple[tuple[str, dict[str, Any], float], ...]] = (
    # (kind, parameters, probability per call); together ≈ 25 % of calls
    ("latency", {"ms": 5}, 0.025),
    ("latency", {"ms": 600_000}, 0.015),
    ("hang", {}, 0.015),
    ("reset", {}, 0.02),
    ("http-error", {"status": 503}, 0.02),
    ("http-error", {"status": 504, "after_commit": True}, 0.02),
    ("empty-body", {}, 0.015),
    ("garbled-body", {}, 0.015),
    ("bad-signature", {}, 0.02),
    ("business-error", {}, 0.02),
    ("insured-place-downtime", {}, 0.01),
    ("insured-place-unreachable", {}, 0.015),
    ("insured-place-unreachable", {"mode": "hang"}, 0.01),
    ("commit-then-drop", {}, 0.02),
    ("commit-then-drop", {"mode": "reset"}, 0.02),
)
PROFILE: Final = "tif+sm2"
# The breaker is part of the SDK under test, but with the default cooldown (300 s) one burst
# of downtime answers would close the area for the rest of the run.
_BREAKER = BreakerPolicy(threshold=3, window=2.0, cooldown=0.5)
# Run in one thread (the tests' short run), a drill is the same every time — but the breaker
# counts in seconds, so it is left out there.
_NEVER_OPEN = BreakerPolicy(threshold=1_000_000)


@dataclass
class Part(audited.Part):
    """One part's visits, calls, faults and audit."""

    calls: int = 0
    faulted: int = 0

    @property
    def fault_share(self) -> float:
        """The share of the calls the platform saw that a fault struck."""
        return self.faulted / self.calls if self.calls else 0.0

    def merge(self, other: Part) -> None:
        """Add a shard's figures to this part."""
        self.visits.merge(other.visits)
        self.calls += other.calls
        self.faulted += other.faulted
        self.audit.merge(other.audit)
        self.seconds = max(self.seconds, other.seconds)

    def as_json(self) -> dict[str, Any]:
        """Plain data for the JSON results."""
        return {
            **super().as_json(),
            "calls": self.calls,
            "faulted": self.faulted,
            "fault_share": round(self.fault_share, 4),
        }


@dataclass
class ChaosResult(audited.Run):
    """The parts of one run, and the faults armed."""

    def as_json(self) -> dict[str, Any]:
        """Plain data for the JSON results."""
        faults = [{"kind": k, **p, "probability": q} for k, p, q in FAULTS]
        return {**super().as_json(), "faults": faults}


# -- one institution's counters -----------------------------------------------------------------


@dataclass(frozen=True)
class _Site:
    """Where one part runs: the institution, its admin API, base URL and transport."""

    institution: Institution
    admin: Admin
    base_url: str
    transport: httpx.BaseTransport | None
    read_timeout: float
    db: Path
    concurrent: bool = True


def _config(site: _Site, journal: Path, msgids: Path | None = None) -> ClientConfig:
    config = site.institution.config(site.base_url, journal, read_timeout=site.read_timeout)
    breaker = _BREAKER if site.concurrent else _NEVER_OPEN
    return replace(config, breaker=breaker, msgid_state_path=msgids)


def _client(site: _Site, config: ClientConfig, *, kiosk: bool) -> Client:
    return Client(config, KIOSK if kiosk else WINDOW, transport=site.transport, sleep=_no_sleep)


def _no_sleep(_seconds: float) -> None:
    return None


def _arm(site: _Site, seed: int) -> None:
    code = site.institution.code
    for index, (kind, params, probability) in enumerate(FAULTS):
        site.admin.arm(
            code, kind, times=None, probability=probability, seed=seed * 100 + index, **params
        )


def _counters(site: _Site, folder: Path, visits: int, seed: int, deadline: float) -> Part:
    """A window and a kiosk sharing one journal, each in its own thread, ``visits`` in all,
    under faults; then recover, reconcile and audit."""
    part = Part("")
    journal = folder / f"journal-{site.institution.code}.sqlite3"
    code = site.institution.code
    since = last_seq(site.db)
    _arm(site, seed)
    started = time.perf_counter()
    tallies = [Tally(), Tally()]

    rngs = [random.Random(f"{seed}-{kiosk}") for kiosk in (False, True)]
    with contextlib.ExitStack() as stack:
        clients = [
            stack.enter_context(contextlib.closing(_client(site, _config(site, journal), kiosk=k)))
            for k in (False, True)
        ]

        def counter(kiosk: bool, count: int) -> None:
            for _ in range(count):
                if time.monotonic() > deadline:
                    break
                visit(clients[kiosk], kiosk=kiosk, rng=rngs[kiosk], tally=tallies[kiosk])

        if site.concurrent:
            threads = [
                threading.Thread(target=counter, args=(kiosk, (visits + kiosk) // 2))
                for kiosk in (False, True)
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
        else:
            for index in range(visits):
                counter(bool(index % 2), 1)
    site.admin.clear_faults(code)
    for tally in tallies:
        part.visits.merge(tally)
    part.calls, part.faulted = _faulted(site.db, code, since)
    part.audit = _settle_up(site, [journal], [_config(site, journal)])
    part.seconds = time.perf_counter() - started
    return part


def _settle_up(site: _Site, journals: Sequence[Path], configs: Sequence[ClientConfig]) -> Audit:
    """settle_up() through each journal, then the audit."""
    code = site.institution.code
    retried: Counter[str] = Counter()
    reports = []
    for config in configs:
        with contextlib.closing(_client(site, config, kiosk=False)) as client:
            reports.append(settle_up(client, code, china_now().date(), retried))
    found = audit(journal_entries(journals, code), site.admin.settlements(code), reports)
    found.retried_by_hand = retried
    return found


def _faulted(db: Path, code: str, since: int) -> tuple[int, int]:
    """Calls the platform saw for ``code`` after ``since``, and how many a fault struck."""
    query = (
        "SELECT count(*), COALESCE(SUM(json_extract(record, '$.fault') IS NOT NULL), 0)"
        " FROM transcript WHERE tenant = ? AND seq > ?"
    )
    with contextlib.closing(connect(db)) as connection:
        calls, faulted = connection.execute(query, (code, since)).fetchone()
    return int(calls), int(faulted)


# -- the parts ------------------------------------------------------------------------------------


@contextlib.contextmanager
def _in_process(folder: Path, code: str, *, concurrent: bool = True) -> Iterator[_Site]:
    with MockPlatform(db=folder / "mock.db", profile=PROFILE) as mock:
        admin = Admin(mock.base_url, admin_token=mock.admin_token, transport=mock.transport)
        with contextlib.closing(admin):
            institution = admin.register(code, PROFILE)
            yield _Site(
                institution, admin, mock.base_url, mock.transport, 30.0, folder / "mock.db",
                concurrent,
            )  # fmt: skip


def shard(
    folder: str, index: int, visits: int, seed: int, deadline_s: float, concurrent: bool = True
) -> Part:
    """One in-process shard (a process of its own in a full run)."""
    deadline = time.monotonic() + deadline_s
    place = Path(folder) / f"shard-{index}"
    place.mkdir(parents=True, exist_ok=True)
    with _in_process(place, f"H5301010{1000 + index:04d}", concurrent=concurrent) as site:
        return _counters(site, place, visits, seed * 10 + index, deadline)


def _in_process_part(
    folder: Path, visits: int, seed: int, processes: int, deadline_s: float, concurrent: bool
) -> Part:
    part = Part("in-process (window + kiosk, one journal)")
    shares = [visits // processes + (1 if i < visits % processes else 0) for i in range(processes)]
    if processes == 1:
        results = [shard(str(folder), 0, visits, seed, deadline_s, concurrent)]
    else:
        with ProcessPoolExecutor(processes, initializer=quiet) as pool:
            futures = [
                pool.submit(shard, str(folder), i, share, seed, deadline_s, concurrent)
                for i, share in enumerate(shares)
            ]
            results = [future.result() for future in futures]
    for result in results:
        part.merge(result)
    return part


def _socket_part(folder: Path, visits: int, seed: int, deadline_s: float, concurrent: bool) -> Part:
    place = folder / "socket"
    place.mkdir(parents=True, exist_ok=True)
    with MockServer(place) as server, contextlib.closing(server.admin()) as admin:
        institution = admin.register("H53010102001", PROFILE)
        site = _Site(institution, admin, server.url, None, 1.0, server.db, concurrent)
        part = _counters(site, place, visits, seed, time.monotonic() + deadline_s)
    part.name = "over a socket (nhsa mock serve, read timeout 1 s)"
    return part


def _two_windows_part(folder: Path, pairs: int) -> Part:
    """Two windows with separate journals charge each visit at the same moment."""
    part = Part("two windows, separate journals (no faults)")
    place = folder / "two-windows"
    place.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    with _in_process(place, "H53010103001") as site:
        msgids = place / "msgids.sqlite3"  # shared, as README requires of separate journals
        journals = [place / "journal-a.sqlite3", place / "journal-b.sqlite3"]
        configs = [_config(site, j, msgids) for j in journals]
        try:
            windows = [_client(site, c, kiosk=False) for c in configs]
        except NhsaClientError as refused:
            part.note = f"the configuration was refused at start-up: {refused}"
            return part
        with contextlib.ExitStack() as stack:
            for window in windows:
                stack.callback(window.close)
            rng = random.Random(7)
            for _ in range(pairs):
                _charge_twice(windows, rng, part.visits)
        part.audit = _settle_up(site, journals, configs)
    part.audit.balanced = None  # two journals never balance one institution's day alone
    part.seconds = time.perf_counter() - started
    return part


def _charge_twice(windows: list[Client], rng: random.Random, tally: Tally) -> None:
    certno, *_, insutype = rng.choice(PATIENTS)
    tally.visits += 1
    try:
        registration = windows[0].register(
            Certificate.id_card(certno), insutype=insutype, clinic=CLINIC
        )
    except NhsaClientError as error:
        tally.errors[type(error).__name__] += 1
        return
    barrier = threading.Barrier(2)

    def charge(window: Client) -> None:
        barrier.wait()
        try:
            window.charge(registration, fees(), diagnoses=DIAGNOSES)
            tally.steps["charge ok"] += 1
        except NhsaClientError as error:
            tally.errors[type(error).__name__] += 1

    threads = [threading.Thread(target=charge, args=(w,)) for w in windows]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def run(
    folder: Path,
    *,
    visits: int,
    socket_visits: int,
    pairs: int,
    seed: int = 11,
    processes: int = 1,
    deadline_s: float = 3600.0,
    concurrent: bool = True,
) -> ChaosResult:
    """The three parts (see the module docstring); ``deadline_s`` bounds each part. With
    ``concurrent`` off, the window and the kiosk take turns in one thread and the breaker
    never opens: the same seed gives the same run (the tests' short run)."""
    started = time.perf_counter()
    parts = [_in_process_part(folder, visits, seed, processes, deadline_s, concurrent)]
    if socket_visits:
        parts.append(_socket_part(folder, socket_visits, seed, deadline_s, concurrent))
    if pairs:
        parts.append(_two_windows_part(folder, pairs))
    return ChaosResult(parts, seed, time.perf_counter() - started)


def report(result: ChaosResult) -> None:
    """Print the drill's table."""
    headers = ["part", "visits", "calls", "faulted", "SDK crashes", "lost", "doubled",
               "3201 balanced", "unresolved", "live settlements", "refunds"]  # fmt: skip
    rows = []
    for part in result.parts:
        found = part.audit
        balanced = "n/a" if found.balanced is None else found.balanced
        rows.append([
            part.name, part.visits.visits, part.calls, f"{part.fault_share:.1%}",
            len(part.visits.crashes), found.lost, found.doubled, balanced, found.unresolved,
            found.settlements, found.refunds,
        ])  # fmt: skip
    notes = [p.note for p in result.parts if p.note]
    show(f"chaos drill (seed {result.seed}, {result.seconds:.0f} s)", headers, rows,
         must_be_zero=[4, 5, 6, 7, 8], notes=notes)  # fmt: skip


def quiet() -> None:
    """Only the SDK's errors on the console: its warnings are what a drill provokes."""
    logging.getLogger("nhsa").setLevel(logging.ERROR)


def _default_folder() -> str | None:
    # Journals and mock databases on tmpfs when there is one: a killed process loses nothing
    # there either, and the drill measures the logic under faults, not the disk's fsync.
    return "/dev/shm" if os.access("/dev/shm", os.W_OK) else None


def main(argv: Sequence[str] | None = None) -> int:
    """``python bench/drill_chaos.py [--visits N] …``: run, print, write JSON."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--visits", type=int, default=10_000, help="in-process visits")
    parser.add_argument("--socket-visits", type=int, default=300)
    parser.add_argument("--pairs", type=int, default=30, help="two-window double charges")
    parser.add_argument("--processes", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--deadline", type=float, default=3600.0, help="seconds per part")
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args(argv)
    quiet()
    with tempfile.TemporaryDirectory(prefix="nhsa-drill-chaos-", dir=_default_folder()) as f:
        result = run(
            Path(f), visits=args.visits, socket_visits=args.socket_visits, pairs=args.pairs,
            seed=args.seed, processes=args.processes, deadline_s=args.deadline,
        )  # fmt: skip
    report(result)
    print(f"wrote {write('drill_chaos', result.as_json())}")
    return 0

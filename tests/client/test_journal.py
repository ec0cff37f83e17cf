"""The journal: durable before sending, and the visit guard across threads and processes.

Tests taking ``target`` run against both databases: a SQLite file and a PostgreSQL schema.
"""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import httpx
import psycopg
import pytest

from nhsa.client import Client, ClientConfig, Journal, VisitBusyError
from nhsa.client._journal import NewEntry
from nhsa.client.errors import JournalError
from tests.client.conftest import CLINIC, DIAGNOSES, WINDOW, card, fees
from tests.client.platform import TENANT, EnginePlatform
from tests.postgres import BACKENDS

ConfigFor = Callable[..., ClientConfig]
VISIT = "3000000000001"


@pytest.fixture(params=BACKENDS)
def target(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Where a journal lives: a SQLite file, or a PostgreSQL URL with a schema of its own."""
    if request.param == "sqlite":
        return str(tmp_path / "journal.sqlite3")
    return str(request.getfixturevalue("postgres_url"))


def _journal_settings(target: str) -> dict[str, object]:
    if target.startswith("postgresql://"):
        return {"journal_path": None, "journal_url": target}
    return {"journal_path": target}


def _entry(msgid: str, infno: str = "2207") -> NewEntry:
    return NewEntry(
        msgid=msgid,
        tenant=TENANT,
        infno=infno,
        opter_type="1",
        opter="C0001",
        body_sha256="ab" * 32,
        facts={"psn_no": "P1", "mdtrt_id": VISIT},
        amounts={"medfee_sumamt": Decimal("74.80")},
        insuplc_admdvs="530100",
    )


def test_entries_survive_a_reopen_with_exact_amounts(target: str) -> None:
    path = target
    journal = Journal(path)
    journal.record_sending(_entry("H53010100001202611231015300001"))
    journal.mark("H53010100001202611231015300001", "unknown", detail="ReadTimeout")
    journal.close()

    reopened = Journal(path)
    (entry,) = reopened.pending(TENANT)

    assert (entry.state, entry.detail, entry.mdtrt_id) == ("unknown", "ReadTimeout", VISIT)
    assert entry.amounts == {"medfee_sumamt": Decimal("74.80")}
    assert entry.owner_alive  # written by this very process


def test_the_journal_is_wal_and_synchronous_full(tmp_path: Path) -> None:
    db = sqlite3.connect(tmp_path / "journal.sqlite3")
    Journal(tmp_path / "journal.sqlite3")
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    journal = Journal(tmp_path / "journal.sqlite3")
    assert journal._db.connection.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL


def test_a_newer_journal_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite3"
    sqlite3.connect(path).execute("PRAGMA user_version=99").connection.close()
    with pytest.raises(JournalError, match="schema version 99"):
        Journal(path)


def test_entry_is_written_before_the_request_leaves(
    platform: EnginePlatform, config_for: ConfigFor, target: str
) -> None:
    journal_states: list[str] = []
    config = config_for(**_journal_settings(target))

    def spy(request: httpx.Request) -> httpx.Response:
        body = request.content
        if b'"infno":"2207"' in body:
            msgid = body.split(b'"msgid":"')[1].split(b'"')[0].decode()
            journal_states.append(Journal(config.journal_target).get(msgid).state)
        return platform.handle(request)

    with Client(config, WINDOW, transport=httpx.MockTransport(spy)) as client:
        visit = client.register(card(), insutype="310", clinic=CLINIC)
        charge = client.charge(visit, fees(), diagnoses=DIAGNOSES)
        final = client.journal.get(charge.msgid)

    assert journal_states == ["sending"]  # another connection saw it before the answer
    assert final is not None
    assert final.state == "succeeded"
    assert len(final.body_sha256) == 64


def test_visit_guard_refuses_a_second_charge_from_another_thread(
    platform: EnginePlatform, config_for: ConfigFor, target: str
) -> None:
    entered, release = threading.Event(), threading.Event()

    def slow(request: httpx.Request) -> httpx.Response:
        if b'"infno":"2204"' in request.content and not release.is_set():
            entered.set()
            release.wait(timeout=30)
        return platform.handle(request)

    config = config_for(**_journal_settings(target))
    transport = httpx.MockTransport(slow)
    with Client(config, WINDOW, transport=transport) as first:
        visit = first.register(card(), insutype="310", clinic=CLINIC)
        results: list[object] = []
        worker = threading.Thread(
            target=lambda: results.append(first.charge(visit, fees(), diagnoses=DIAGNOSES))
        )
        worker.start()
        assert entered.wait(timeout=30)
        sent = len(platform.seen)
        with Client(config, WINDOW, transport=transport) as second:  # a double tap
            with pytest.raises(VisitBusyError) as raised:
                second.charge(visit, fees(), diagnoses=DIAGNOSES)
            assert len(platform.seen) in (sent, sent + 1)  # at most the second's sign-in
            assert all(r["infno"] in ("9001",) for r in platform.seen[sent:])
            release.set()
            worker.join(timeout=30)
        assert "already being charged" in str(raised.value)

    assert len(results) == 1
    assert len(platform.settlements()) == 1


_HOLDER = textwrap.dedent(
    """
    import sys
    from nhsa.client import Journal
    journal = Journal(sys.argv[1])
    with journal.visit_guard(sys.argv[2], sys.argv[3]):
        print("held", flush=True)
        sys.stdin.readline()
    print("released", flush=True)
    """
)


def _hold_in_subprocess(journal: Path | str, visit: str = VISIT) -> subprocess.Popen[str]:
    child = subprocess.Popen(
        [sys.executable, "-c", _HOLDER, str(journal), TENANT, visit],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    assert child.stdout.readline().strip() == "held"
    return child


@pytest.mark.slow
def test_visit_guard_holds_across_processes(
    platform: EnginePlatform, config_for: ConfigFor, target: str
) -> None:
    config = config_for(**_journal_settings(target))
    with Client(config, WINDOW, transport=platform.transport()) as client:
        visit = client.register(card(), insutype="310", clinic=CLINIC)
        child = _hold_in_subprocess(config.journal_target, visit.mdtrt_id)
        try:
            sent = len(platform.seen)
            with pytest.raises(VisitBusyError):  # the other process is charging this visit
                client.charge(visit, fees(), diagnoses=DIAGNOSES)
            assert len(platform.seen) == sent
            assert child.stdin is not None
            child.stdin.write("done\n")
            child.stdin.flush()
            assert child.wait(timeout=30) == 0
            charge = client.charge(visit, fees(), diagnoses=DIAGNOSES)  # free again
        finally:
            child.kill()
    assert charge.setl_id


@pytest.mark.slow
def test_a_guard_left_by_a_killed_process_is_taken_over(target: str) -> None:
    path = target
    Journal(path).close()
    child = _hold_in_subprocess(path)
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=30)
    journal = Journal(path)
    assert journal.guard_holder(TENANT, VISIT) is not None

    with journal.visit_guard(TENANT, VISIT) as owner:
        assert journal.guard_holder(TENANT, VISIT) == owner

    child = _hold_in_subprocess(path)
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=30)
    assert journal.clear_stale_guards() == 1
    assert journal.guard_holder(TENANT, VISIT) is None


def test_the_settlement_and_visit_ids_are_recorded_in_their_columns(
    platform: EnginePlatform, config_for: ConfigFor, target: str
) -> None:
    # setl_id stayed NULL for every 2207 (the request does not name it; its answer does), and
    # mdtrt_id for every 2201: recovery and reconciliation could not find them by id.
    config = config_for(**_journal_settings(target))
    with Client(config, WINDOW, transport=platform.transport()) as client:
        visit = client.register(card(), insutype="310", clinic=CLINIC)
        paid = client.charge(visit, fees(), diagnoses=DIAGNOSES)
        refund = client.refund(paid)
    columns = _columns(target, "msgid, infno, mdtrt_id, setl_id")
    assert columns[visit.msgid] == ("2201", visit.mdtrt_id, None)
    assert columns[paid.msgid] == ("2207", visit.mdtrt_id, paid.setl_id)
    assert columns[refund.msgid] == ("2208", visit.mdtrt_id, paid.setl_id)  # the one refunded
    reopened = Journal(config.journal_target)
    settled = reopened.get(paid.msgid)
    assert settled is not None
    assert settled.setl_id == paid.setl_id
    (registration,) = reopened.entries(TENANT, infno=["2201"], mdtrt_id=visit.mdtrt_id)
    assert registration.msgid == visit.msgid


def _columns(target: str, names: str) -> dict[str, tuple[object, ...]]:
    """The journal's own columns, read with the database's client rather than the SDK."""
    query = f"SELECT {names} FROM journal"
    if target.startswith("postgresql://"):
        with psycopg.connect(target) as db:
            rows = db.execute(query).fetchall()
    else:
        with sqlite3.connect(target) as db:
            rows = db.execute(query).fetchall()
    return {str(row[0]): tuple(row[1:]) for row in rows}


def test_a_schema_1_journal_gets_its_id_columns_filled(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite3"
    journal = Journal(path)
    journal.record_sending(_entry("H53010100001202611231015300001"))
    journal.mark("H53010100001202611231015300001", "succeeded", result={"setl_id": "S1"})
    journal.close()
    with sqlite3.connect(path) as db:  # as an SDK of schema 1 left it
        db.execute("UPDATE journal SET setl_id = NULL")
        db.execute("PRAGMA user_version=1")
    upgraded = Journal(path).get("H53010100001202611231015300001")
    assert upgraded is not None
    assert upgraded.setl_id == "S1"

"""The journal on PostgreSQL: shared by machines, honest when the connection is lost.

The visit guard on another machine is judged by its *beacon* (a session advisory lock held by
the holder's connection); a lost connection is reopened for idempotent statements and, when the
database stays away, the call fails with a JournalError before anything is sent.
"""

from __future__ import annotations

import pickle
import time
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest

from nhsa._postgres import lock_key
from nhsa.client import Certificate, Client, ClientConfig, Journal, VisitBusyError
from nhsa.client._journal import NewEntry
from nhsa.client.errors import ClientConfigError, JournalError
from nhsa.mock import MockPlatform
from tests.client.conftest import CLINIC, DIAGNOSES, FAST, WINDOW, card, fees
from tests.client.pg_window import run_windows
from tests.client.platform import AREA, TENANT, TENANT_NAME, EnginePlatform

VISIT = "3000000000001"
PEOPLE = [  # invented people of the bundled fixtures, insured in Kunming
    ("530102198503150018", "310"),
    ("530103195807020020", "310"),
    ("530102197611200137", "310"),
    ("530103197204090512", "310"),
    ("530111199005080249", "390"),
    ("530112196209300461", "390"),
]


def _entry(msgid: str) -> NewEntry:
    return NewEntry(
        msgid,
        TENANT,
        "2207",
        "1",
        "C0001",
        "ab" * 32,
        {"mdtrt_id": VISIT},
        {"medfee_sumamt": Decimal("74.80")},
    )


def _backend_pid(journal: Journal) -> int:
    row = journal._db.connection.execute("SELECT pg_backend_pid()").fetchone()  # type: ignore[attr-defined]
    return int(row[0])


def test_a_guard_held_on_another_machine_holds_until_its_session_ends(
    postgres_url: str,
) -> None:
    journal = Journal(postgres_url)
    other_machine = psycopg.connect(postgres_url, autocommit=True)
    other_machine.execute(
        "INSERT INTO visit_guard (tenant, mdtrt_id, owner, owner_host, owner_pid, acquired_at)"
        " VALUES (%s, %s, 'ward-pc-07:4242:t', 'ward-pc-07', 4242, '2026-11-23T10:00:00')",
        (TENANT, VISIT),
    )
    schema = other_machine.execute("SELECT current_schema()").fetchone()[0]  # type: ignore[index]
    beacon = lock_key(schema, "beacon", TENANT, VISIT)
    other_machine.execute("SELECT pg_advisory_lock(%s)", (beacon,))

    with pytest.raises(VisitBusyError, match="ward-pc-07"), journal.visit_guard(TENANT, VISIT):
        pass

    crashed = other_machine.info.backend_pid
    other_machine.close()  # that PC crashed: its session, and so its beacon, is gone
    _await_session_end(postgres_url, crashed)
    with journal.visit_guard(TENANT, VISIT) as owner:
        assert journal.guard_holder(TENANT, VISIT) == owner
    assert journal.guard_holder(TENANT, VISIT) is None


def _await_session_end(postgres_url: str, backend_pid: int) -> None:
    """Closing a connection returns before the server has ended its session (and released its
    advisory locks): wait for the server to say the backend is gone, bounded at 30 s."""
    with psycopg.connect(postgres_url, autocommit=True) as admin:
        for _ in range(3000):
            if (
                admin.execute(
                    "SELECT 1 FROM pg_stat_activity WHERE pid = %s", (backend_pid,)
                ).fetchone()
                is None
            ):
                return
            time.sleep(0.01)
    pytest.fail(f"backend {backend_pid} still alive 30 s after its connection closed")


def test_a_lost_connection_is_reopened_and_nothing_is_doubled(postgres_url: str) -> None:
    journal = Journal(postgres_url)
    journal.record_sending(_entry("H53010100001202611231015300001"))
    with psycopg.connect(postgres_url, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (_backend_pid(journal),))

    journal.record_sending(_entry("H53010100001202611231015300002"))
    journal.record_sending(_entry("H53010100001202611231015300002"))  # a repeat after a loss
    journal.mark("H53010100001202611231015300001", "unknown", detail="ReadTimeout")

    states = {e.msgid[-4:]: e.state for e in journal.entries(TENANT)}
    assert states == {"0001": "unknown", "0002": "sending"}


def test_a_msgid_journaled_for_another_message_is_refused(postgres_url: str) -> None:
    journal = Journal(postgres_url)
    journal.record_sending(_entry("H53010100001202611231015300001"))
    other = NewEntry(
        "H53010100001202611231015300001", TENANT, "2207", "1", "C0001", "cd" * 32, {}, {}
    )
    with pytest.raises(JournalError, match="already journaled for another message"):
        journal.record_sending(other)


def test_a_journal_that_stays_away_stops_the_call_before_sending(
    platform: EnginePlatform, postgres_url: str
) -> None:
    config = ClientConfig(
        TENANT,
        TENANT_NAME,
        AREA,
        journal_url=postgres_url,
        base_url="http://platform.test",
        retry=FAST,
        **platform.client_settings(),
    )
    with Client(config, WINDOW, transport=platform.transport()) as client:
        visit = client.register(card(), insutype="310", clinic=CLINIC)
        sent = len(platform.seen)
        database = client.journal._db
        database._url = "postgresql://nhsa:secret@127.0.0.1:1/gone"  # type: ignore[attr-defined]
        database._reconnect_seconds = 0.3  # type: ignore[attr-defined]
        with psycopg.connect(postgres_url, autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (_backend_pid(client.journal),))
        with pytest.raises(JournalError) as raised:
            client.charge(visit, fees(), diagnoses=DIAGNOSES)
        assert "port 1 failed" in str(raised.value)
        assert "secret" not in str(raised.value)
        assert len(platform.seen) == sent  # nothing left without its journal entry
        with pytest.raises(JournalError, match=r"record_sending failed: .*; nothing was sent"):
            client.cancel_registration(visit)  # a write whose journal entry comes first
        assert len(platform.seen) == sent


def test_bad_journal_urls_are_refused_in_one_line_with_the_password_masked() -> None:
    with pytest.raises(ClientConfigError, match=r"journal_url: .* must start with postgresql"):
        ClientConfig(TENANT, TENANT_NAME, AREA, journal_url="mysql://his:pw@db/x")
    with pytest.raises(ClientConfigError, match="exactly one"):
        ClientConfig(
            TENANT, TENANT_NAME, AREA, journal_path="j.db", journal_url="postgresql://db/x"
        )
    config = ClientConfig(
        TENANT, TENANT_NAME, AREA, journal_url="postgresql://his:topsecret@127.0.0.1:1/nhsa"
    )
    with pytest.raises(JournalError) as raised:
        Client(config, WINDOW)
    message = str(raised.value)
    assert "postgresql://his:***@127.0.0.1:1/nhsa" in message
    assert "topsecret" not in message
    assert "\n" not in message


@pytest.mark.slow
def test_two_machines_on_one_journal_settle_each_visit_exactly_once(
    postgres_url: str, tmp_path: Path
) -> None:
    """Two cashier PCs (own processes, own working directories, one PostgreSQL journal) charge
    the same six visits (six people, so no visit's pre-settlement is changed by another's
    settlement), in different orders, twice over: one settlement per visit."""
    with MockPlatform() as mock, mock.serve() as url:
        config = ClientConfig(
            TENANT, TENANT_NAME, AREA, journal_url=postgres_url, base_url=url, retry=FAST
        )
        with Client(config, WINDOW) as registrar:
            visits = [
                registrar.register(Certificate.id_card(number), insutype=insutype, clinic=CLINIC)
                for number, insutype in PEOPLE
            ]
        (tmp_path / "visits.pickle").write_bytes(pickle.dumps(visits))
        counts = run_windows(
            [postgres_url] * 2, url, tmp_path / "visits.pickle", ["1", "2"], tmp_path
        )
        ledger = mock.settlements(TENANT)

    settled_by_visit: dict[str, int] = {}
    for row in ledger:
        if row["infno"] == "2207" and row["status"] == "active":
            settled_by_visit[row["mdtrt_id"]] = settled_by_visit.get(row["mdtrt_id"], 0) + 1
    assert settled_by_visit == {visit.mdtrt_id: 1 for visit in visits}
    assert sum(c["settled"] for c in counts) == len(PEOPLE)
    assert sum(c["settled"] + c["busy"] + c["already"] for c in counts) == 4 * len(PEOPLE)
    assert all(c["foreign"] == c["failed"] == 0 for c in counts)  # one journal holds them all
    assert all(list(Path(tmp_path / f"pc-{s}").iterdir()) == [] for s in "12"), "no local files"

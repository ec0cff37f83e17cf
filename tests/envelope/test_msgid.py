"""msgid is unique across threads, processes and restarts, and the per-second cap is honest.

Tests taking ``counter`` run against both counter databases: a SQLite file and PostgreSQL.
"""

from __future__ import annotations

import multiprocessing
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from nhsa.envelope import CHINA_TIME, SEQUENCE_LIMIT, MsgidGenerator, china_now, parse_msgid
from nhsa.spec import Contract, validate_request
from tests.postgres import BACKENDS

CODE = "H53010100001"


@pytest.fixture(params=BACKENDS)
def counter(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Where the counter lives: a SQLite file, or a PostgreSQL URL with a schema of its own."""
    if request.param == "sqlite":
        return str(tmp_path / "msgid.db")
    return str(request.getfixturevalue("postgres_url"))


class FakeClock:
    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def test_format_is_code_time_sequence() -> None:
    clock = FakeClock(datetime(2026, 11, 23, 10, 15, 30, 500_000, tzinfo=CHINA_TIME))
    msgid = MsgidGenerator(CODE, clock=clock).next()
    assert msgid == "H53010100001202611231015300000"
    assert len(msgid) == 30
    code, when, seq = parse_msgid(msgid)
    assert (code, when.isoformat(), seq) == (CODE, "2026-11-23T10:15:30+08:00", 0)


def test_time_part_is_china_time_whatever_the_clock_zone() -> None:
    utc = datetime(2026, 11, 23, 2, 0, 0, tzinfo=UTC)
    assert MsgidGenerator(CODE, clock=lambda: utc).next()[12:26] == "20261123100000"


def test_sequence_restarts_each_second() -> None:
    clock = FakeClock(datetime(2026, 11, 23, 10, 0, 0, tzinfo=CHINA_TIME))
    ids = MsgidGenerator(CODE, clock=clock)
    first = [ids.next() for _ in range(3)]
    clock.sleep(1)
    assert [parse_msgid(m)[2] for m in first] == [0, 1, 2]
    assert parse_msgid(ids.next())[1:] == (datetime(2026, 11, 23, 10, 0, 1, tzinfo=CHINA_TIME), 0)


def test_ten_thousand_and_first_id_waits_for_the_next_second(counter: str) -> None:
    clock = FakeClock(datetime(2026, 11, 23, 10, 0, 0, 250_000, tzinfo=CHINA_TIME))
    ids = MsgidGenerator(CODE, counter, clock=clock, sleep=clock.sleep)
    issued = [ids.next() for _ in range(SEQUENCE_LIMIT)]
    assert parse_msgid(issued[-1])[2] == 9999
    assert clock.now.second == 0, "the first 10,000 ids of a second do not wait"
    overflow = ids.next()
    assert parse_msgid(overflow)[1:] == (datetime(2026, 11, 23, 10, 0, 1, tzinfo=CHINA_TIME), 0)
    assert clock.now >= datetime(2026, 11, 23, 10, 0, 1, tzinfo=CHINA_TIME), "it slept"
    assert len({*issued, overflow}) == SEQUENCE_LIMIT + 1


def test_clock_stepping_back_never_repeats_an_id() -> None:
    clock = FakeClock(datetime(2026, 11, 23, 10, 0, 5, tzinfo=CHINA_TIME))
    ids = MsgidGenerator(CODE, clock=clock)
    before = [ids.next() for _ in range(5)]
    clock.now -= timedelta(seconds=3)
    after = [ids.next() for _ in range(5)]
    assert len(set(before + after)) == 10
    assert all(m[12:26] == "20261123100005" for m in after), "keeps the latest second issued"


def test_eight_threads_times_ten_thousand_ids_are_unique(tmp_path: Path) -> None:
    ids = MsgidGenerator(CODE, tmp_path / "msgid.db")
    results: list[list[str]] = [[] for _ in range(8)]

    def work(slot: list[str]) -> None:
        slot.extend(ids.next() for _ in range(10_000))

    threads = [threading.Thread(target=work, args=(slot,)) for slot in results]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    issued = [m for slot in results for m in slot]
    assert len(issued) == 80_000
    assert len(set(issued)) == 80_000


def _issue_in_process(path: str, count: int, queue: multiprocessing.Queue[list[str] | str]) -> None:
    try:
        generator = MsgidGenerator(CODE, path)
        queue.put([generator.next() for _ in range(count)])
    except Exception as error:  # sent to the parent, which fails with it at once
        queue.put(repr(error))


def test_two_processes_at_once_never_collide(counter: str) -> None:
    context = multiprocessing.get_context("spawn")
    queue: multiprocessing.Queue[list[str] | str] = context.Queue()
    path = counter
    workers = [
        context.Process(target=_issue_in_process, args=(path, 6_000, queue)) for _ in range(2)
    ]
    for worker in workers:
        worker.start()
    batches = [queue.get(timeout=120) for _ in workers]
    for worker in workers:
        worker.join(timeout=30)
        assert worker.exitcode == 0
    assert [type(batch) for batch in batches] == [list, list], batches
    issued = [msgid for batch in batches for msgid in batch]
    assert len(set(issued)) == 12_000


def test_restart_within_the_same_second_continues_the_sequence(counter: str) -> None:
    clock = FakeClock(datetime(2026, 11, 23, 10, 0, 0, tzinfo=CHINA_TIME))
    first = MsgidGenerator(CODE, counter, clock=clock)
    before = [first.next() for _ in range(3)]
    first.close()
    again = MsgidGenerator(CODE, counter, clock=clock)
    assert parse_msgid(again.next())[2] == 3
    assert again.next() not in before


def test_closed_generator_refuses_to_issue(counter: str) -> None:
    ids = MsgidGenerator(CODE, counter)
    ids.close()
    with pytest.raises(RuntimeError, match="closed"):
        ids.next()


@pytest.mark.parametrize("code", ["H5301", "h53010100001", "H53010100001X"])
def test_bad_institution_code_is_refused(code: str) -> None:
    with pytest.raises(ValueError, match="fixmedins_code"):
        MsgidGenerator(code)


@pytest.mark.parametrize(
    "msgid", ["H53010100001202611231015300", "H53010100001202613231015300001", "x" * 30]
)
def test_parse_rejects_malformed_ids(msgid: str) -> None:
    with pytest.raises(ValueError, match="msgid"):
        parse_msgid(msgid)


def test_issued_ids_pass_the_contract(spec_contract: Contract) -> None:
    request = dict(spec_contract.transaction("2207").examples[0].request)
    request["msgid"] = MsgidGenerator(CODE).next()
    request["inf_time"] = china_now().strftime("%Y-%m-%d %H:%M:%S")  # msgid-time: near it
    assert validate_request(request) == []

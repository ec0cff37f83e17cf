"""Group commit on SQLite: requests that arrive while a COMMIT is written share the next one,
each answer waits for the COMMIT covering it, and a failed COMMIT fails its whole group.

Groups are made deterministic, not timed: the first COMMIT is held (the connection's COMMIT
waits on an event) until the requests sent meanwhile are seen queued, then released.
"""

from __future__ import annotations

import asyncio
import itertools
import sqlite3
import threading
from decimal import Decimal
from typing import Any

import anyio
import httpx
import orjson
import pytest

from nhsa.envelope import dumps
from nhsa.mock import MockPlatform
from nhsa.mock.store import (
    Balance,
    CommitError,
    EachAlone,
    GroupCommit,
    Message,
    SignIn,
    SqliteStore,
    committer,
)
from tests.mock.test_app_his import KUNMING, SyntheticHis

SINGLE = "/fsi/api/rsfComIfsService/callService"
HELD_SECONDS = 30.0
"""A held COMMIT gives up after this long, so a broken test fails instead of hanging."""


class Commits:
    """The store's connection, with its COMMITs counted, the first one held, some failing."""

    def __init__(self, db: sqlite3.Connection, *, failing: frozenset[int] = frozenset()) -> None:
        self._db = db
        self._failing = failing
        self.count = 0
        self.writing = threading.Event()
        self.release = threading.Event()

    def execute(self, sql: str, *parameters: Any) -> sqlite3.Cursor:
        if sql == "COMMIT":
            self.count += 1
            if self.count == 1:
                self.writing.set()
                self.release.wait(HELD_SECONDS)
            if self.count in self._failing:
                raise sqlite3.OperationalError("disk I/O error")
        return self._db.execute(sql, *parameters)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._db, name)


def sign_in(his: SyntheticHis, opter: str) -> bytes:
    return dumps(his.envelope("9001", {"signIn": {"opter_no": opter, "ip": "10.0.0.1"}}))


async def held_then_group(
    mock: MockPlatform, commits: Commits, later: list[str]
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Sign in ``C-FIRST`` (its COMMIT held), then each of ``later`` while it is written."""
    his = SyntheticHis(httpx.Client())  # builds envelopes only
    group = mock.core.commits
    assert isinstance(group, GroupCommit)
    async with httpx.AsyncClient(transport=mock.async_transport, base_url=mock.base_url) as http:

        async def post(opter: str) -> dict[str, Any]:
            response = await http.post(SINGLE, content=sign_in(his, opter))
            answer: dict[str, Any] = orjson.loads(response.content)
            return answer

        first = asyncio.ensure_future(post("C-FIRST"))
        assert await anyio.to_thread.run_sync(commits.writing.wait, HELD_SECONDS)
        rest = [asyncio.ensure_future(post(opter)) for opter in later]
        for _ in range(2000):  # bounded: the requests need a few loop turns to queue
            if group.queued == len(later):
                break
            await asyncio.sleep(0.01)
        assert group.queued == len(later), "the later requests did not queue behind the COMMIT"
        assert not first.done(), "an answer left before its COMMIT returned"
        commits.release.set()
        return await first, list(await asyncio.gather(*rest))


@pytest.fixture
def mock() -> Any:
    with MockPlatform(synchronous="full") as platform:
        yield platform


def test_requests_that_arrive_during_a_commit_share_the_next_one(
    mock: MockPlatform, monkeypatch: pytest.MonkeyPatch
) -> None:
    commits = Commits(mock.store._db)  # type: ignore[attr-defined]
    monkeypatch.setattr(mock.store, "_db", commits)
    group = mock.core.commits
    later = [f"C-{n}" for n in range(7)]

    first, rest = anyio.run(held_then_group, mock, commits, later)

    assert [first["infcode"], *(answer["infcode"] for answer in rest)] == [0] * 8
    assert (group.units, group.commits, commits.count) == (8, 2, 2)
    with mock.store.snapshot() as tx:
        opters = {row.opter_no for row in tx.find(SignIn, tenant=KUNMING)}
    assert opters == {"C-FIRST", *later}
    # Each was processed in arrival order in the one transaction: distinct sign_no values.
    assert len({answer["output"]["signinoutb"]["sign_no"] for answer in rest}) == 7


def test_a_failed_commit_fails_every_request_of_its_group_and_keeps_nothing(
    mock: MockPlatform, monkeypatch: pytest.MonkeyPatch
) -> None:
    commits = Commits(mock.store._db, failing=frozenset({2}))  # type: ignore[attr-defined]
    monkeypatch.setattr(mock.store, "_db", commits)
    later = [f"C-{n}" for n in range(5)]

    first, rest = anyio.run(held_then_group, mock, commits, later)

    assert first["infcode"] == 0
    assert [answer["infcode"] for answer in rest] == [-1] * 5
    assert all("nothing was booked" in answer["err_msg"] for answer in rest)
    assert all("disk I/O error" in answer["err_msg"] for answer in rest)
    with mock.store.snapshot() as tx:
        opters = {row.opter_no for row in tx.find(SignIn, tenant=KUNMING)}
        msgids = {row.msgid for row in tx.find(Message, tenant=KUNMING)}
    assert opters == {"C-FIRST"}
    assert len(msgids) == 1  # the failed group's msgids are unused: nothing half-written
    records = mock.transcript(KUNMING)
    failed = [r for r in records if r["infcode"] == -1]
    assert len(failed) == 5
    assert not any(r["state_changed"] for r in failed)
    # The connection is not left inside a transaction: the next request is served.
    client = httpx.Client(transport=mock.transport, base_url=mock.base_url)
    his = SyntheticHis(client, _serial=itertools.count(500))  # msgids of its own
    assert his.call("9001", {"signIn": {"opter_no": "C-AFTER", "ip": "10.0.0.1"}})["infcode"] == 0


def test_a_unit_that_raises_undoes_only_its_own_writes_and_later_units_see_earlier_ones() -> None:
    store = SqliteStore(":memory:")
    group = GroupCommit(store)

    def first(tx: Any) -> str:
        tx.put(Balance(KUNMING, "P1", "310", Decimal("10.00")))
        return "first"

    def broken(tx: Any) -> str:
        tx.put(Balance(KUNMING, "P2", "310", Decimal("20.00")))
        raise ValueError("the engine's bug")

    def third(tx: Any) -> Decimal:
        seen = tx.get(Balance, KUNMING, "P1", "310")  # written by the first unit, uncommitted
        tx.put(Balance(KUNMING, "P3", "310", seen.balance + 1))
        return seen.balance  # type: ignore[no-any-return]

    async def together() -> list[Any]:
        return await asyncio.gather(
            group.run(first), group.run(broken), group.run(third), return_exceptions=True
        )

    results = anyio.run(together)

    assert results[0] == "first"
    assert results[2] == Decimal("10.00")
    assert isinstance(results[1], ValueError)
    assert (group.units, group.commits) == (3, 1)
    with store.snapshot() as tx:
        kept = {b.psn_no: b.balance for b in tx.find(Balance)}
    assert kept == {"P1": Decimal("10.00"), "P3": Decimal("11.00")}
    group.close()
    store.close()


@pytest.mark.parametrize("offload", [False, True])
def test_a_failed_commit_rolls_back_the_group_and_releases_the_store(offload: bool) -> None:
    store = SqliteStore(":memory:")
    commits = Commits(store._db, failing=frozenset({1}))
    commits.release.set()
    store._db = commits  # type: ignore[assignment]
    group = GroupCommit(store, offload=offload)

    def write(psn_no: str) -> Any:
        def unit(tx: Any) -> int:
            tx.put(Balance(KUNMING, psn_no, "310", Decimal("1.00")))
            return int(tx.next_id())

        return unit

    async def together(*names: str) -> list[Any]:
        return await asyncio.gather(*(group.run(write(n)) for n in names), return_exceptions=True)

    failed = anyio.run(together, "P1", "P2")
    assert all(isinstance(result, CommitError) for result in failed)
    with store.snapshot() as tx:
        assert tx.find(Balance) == []
    kept = anyio.run(together, "P3")
    assert isinstance(kept[0], int)
    with store.snapshot() as tx:
        assert [b.psn_no for b in tx.find(Balance)] == ["P3"]
        assert tx.get(Balance, KUNMING, "P1", "310") is None  # the cache forgot the rolled back
    group.close()
    store.close()


def test_group_commit_is_for_sqlite_and_can_be_switched_off() -> None:
    store = SqliteStore(":memory:")
    assert isinstance(committer(store), GroupCommit)
    alone = committer(store, group=False)
    assert isinstance(alone, EachAlone)

    async def two() -> list[int]:
        return list(
            await asyncio.gather(alone.run(lambda tx: tx.next_id()), alone.run(lambda tx: 0))
        )

    anyio.run(two)
    assert (alone.units, alone.commits) == (2, 2)
    store.close()


def test_a_unit_alone_that_raises_leaves_nothing_and_writes_no_commit() -> None:
    store = SqliteStore(":memory:")
    group = GroupCommit(store)

    def broken(tx: Any) -> None:
        tx.put(Balance(KUNMING, "P1", "310", Decimal("10.00")))
        raise ValueError("the engine's bug")

    with pytest.raises(ValueError, match="engine's bug"):
        anyio.run(group.run, broken)
    assert (group.units, group.commits) == (1, 0)
    with store.snapshot() as tx:
        assert tx.find(Balance) == []
    assert anyio.run(group.run, lambda tx: tx.next_id()) > 0  # the store was released
    group.close()
    store.close()

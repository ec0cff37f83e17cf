"""Group commit: one COMMIT for the units of work that queued while the last one was written.

With ``synchronous=FULL`` every COMMIT waits for the disk, and one server process that commits
each request alone does nothing else meanwhile. :class:`GroupCommit` lets the requests that
arrive during a COMMIT share the next one:

1. a request's unit of work (its business work and its transcript record) joins the queue;
2. the writer takes everything queued, opens one transaction and does each unit in a savepoint
   of its own, in arrival order — so unit N+1 sees what unit N wrote, and a unit that raises
   undoes only its own writes;
3. the COMMIT then runs on a thread of its own (with FULL; with NORMAL it costs microseconds
   and runs in place), while the event loop goes on reading, checking and verifying the
   requests that keep arriving — they queue for the next group;
4. when the COMMIT returns, each unit's result is released, so no answer leaves before the
   change it reports is durable. A COMMIT that fails rolls the whole group back and each unit
   raises :class:`CommitError`: no answer claims a change that was not kept.

:class:`EachAlone` is the same interface with one transaction per unit, for a store that is
shared by several processes (PostgreSQL, whose server groups commits itself) or when grouping
is switched off. :func:`committer` picks one.

Example:
    >>> import asyncio
    >>> from nhsa.mock.store import SqliteStore
    >>> store = SqliteStore(":memory:")
    >>> group = GroupCommit(store)
    >>> async def two_at_once():
    ...     return await asyncio.gather(group.run(lambda tx: tx.next_id()),
    ...                                 group.run(lambda tx: tx.next_id()))
    >>> first, second = asyncio.run(two_at_once())
    >>> second - first, group.units, group.commits
    (1, 2, 1)
    >>> group.close(); store.close()
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Protocol, TypeVar

from nhsa.mock.store._errors import StoreError
from nhsa.mock.store._protocol import Store, UnitOfWork
from nhsa.mock.store._sqlite import SqliteStore

__all__ = ["CommitError", "Committer", "EachAlone", "GroupCommit", "committer"]

T = TypeVar("T")
Work = Callable[[UnitOfWork], T]


class CommitError(StoreError):
    """The COMMIT of the unit's group failed: its work (and the whole group's) was rolled back."""


class Committer(Protocol):
    """Runs units of work, each durable before its result is returned."""

    commits: int
    """COMMITs written so far."""
    units: int
    """Units of work committed or failed so far."""

    async def run(self, work: Work[T]) -> T:
        """Do ``work`` in a transaction; its result once the transaction is committed."""
        ...

    def close(self) -> None:
        """Release the committer's thread, if it has one."""
        ...


class EachAlone:
    """One transaction per unit of work, done at once (see the module docstring)."""

    def __init__(self, store: Store) -> None:
        """Commit each unit alone in ``store``."""
        self._store = store
        self.commits = 0
        self.units = 0

    async def run(self, work: Work[T]) -> T:
        """Do ``work`` in its own transaction (on the calling thread)."""
        self.units += 1
        with self._store.transaction() as tx:
            result = work(tx)
        self.commits += 1
        return result

    def close(self) -> None:
        """Nothing to release."""


class _Lane:
    """The queue and writer of one event loop (an in-process mock may serve two loops)."""

    def __init__(self) -> None:
        self.queue: list[tuple[Work[Any], asyncio.Future[Any]]] = []
        self.writer: asyncio.Task[None] | None = None


class GroupCommit:
    """Units of work share a COMMIT (see the module docstring).

    Args:
        store: the SQLite store.
        offload: write the COMMIT on a thread of its own; by default when the store commits
            with ``synchronous=full`` (a COMMIT that waits for the disk).

    Attributes:
        commits: COMMITs written so far (a failed one counts).
        units: units of work done so far; ``units / commits`` is the mean group size.
    """

    def __init__(self, store: SqliteStore, *, offload: bool | None = None) -> None:
        """Group the commits of ``store``."""
        self._store = store
        self._offload = store.synchronous == "full" if offload is None else offload
        self._executor: ThreadPoolExecutor | None = None
        self._lanes: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Lane] = (
            weakref.WeakKeyDictionary()
        )
        self.commits = 0
        self.units = 0

    @property
    def queued(self) -> int:
        """Units waiting for the next group (all event loops)."""
        return sum(len(lane.queue) for lane in self._lanes.values())

    async def run(self, work: Work[T]) -> T:
        """Queue ``work``; its result once the COMMIT of its group has returned.

        Raises what ``work`` raised (its savepoint was rolled back, the rest of the group goes
        on), or :class:`CommitError` when the group's COMMIT failed.
        """
        loop = asyncio.get_running_loop()
        lane = self._lanes.get(loop)
        if lane is None:
            lane = self._lanes[loop] = _Lane()
        future: asyncio.Future[T] = loop.create_future()
        lane.queue.append((work, future))
        if lane.writer is None:
            lane.writer = loop.create_task(self._write(lane))
        return await future

    def close(self) -> None:
        """Wait for a COMMIT in flight and stop the commit thread."""
        if self._executor is not None:
            self._executor.shutdown(wait=True)
            self._executor = None

    async def _write(self, lane: _Lane) -> None:
        try:
            while lane.queue:
                group, lane.queue = lane.queue, []
                await self._commit(group)
        finally:
            lane.writer = None

    async def _commit(self, group: list[tuple[Work[Any], asyncio.Future[Any]]]) -> None:
        results: list[tuple[asyncio.Future[Any], Any, BaseException | None]] = []
        self.units += len(group)
        try:
            pending = self._store.begin()
        except Exception as exc:
            _settle([(future, None, exc) for _, future in group])
            return
        try:
            if len(group) == 1:  # alone, its failure may undo the whole transaction
                ((work, future),) = group
                try:
                    results.append((future, work(pending.unit), None))
                except Exception as exc:
                    pending.rollback()
                    _settle([(future, None, exc)])
                    return
            else:
                for work, future in group:
                    try:
                        with pending.unit.savepoint():
                            results.append((future, work(pending.unit), None))
                    except Exception as exc:
                        results.append((future, None, exc))
        except BaseException:
            pending.rollback()
            raise
        self.commits += 1
        try:
            if self._offload:
                await asyncio.wrap_future(pending.commit_on(self._thread()))
            else:
                pending.commit()
        except Exception as exc:
            failed = CommitError(f"COMMIT failed, the group of {len(group)} rolled back: {exc}")
            failed.__cause__ = exc
            results = [(f, None, error or failed) for f, _, error in results]
        _settle(results)

    def _thread(self) -> ThreadPoolExecutor:
        if self._executor is None:
            self._executor = ThreadPoolExecutor(1, thread_name_prefix="nhsa-mock-commit")
        return self._executor


def _settle(results: list[tuple[asyncio.Future[Any], Any, BaseException | None]]) -> None:
    for future, value, error in results:
        if future.done():  # its request was cancelled; the work stands (or fell) with the group
            continue
        if error is None:
            future.set_result(value)
        else:
            future.set_exception(error)


def committer(store: Store, *, group: bool = True) -> Committer:
    """A :class:`GroupCommit` for a SQLite store when ``group`` is on, else :class:`EachAlone`.

    Example:
        >>> from nhsa.mock.store import SqliteStore
        >>> type(committer(SqliteStore(":memory:"))).__name__
        'GroupCommit'
    """
    if group and isinstance(store, SqliteStore):
        return GroupCommit(store)
    return EachAlone(store)

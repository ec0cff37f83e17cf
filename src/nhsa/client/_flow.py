"""The sans-IO seam: policy written once as generators, driven by a sync or an async loop.

Every call and every workflow is a generator that *yields instructions* — :class:`Send` a
prepared HTTP request, :class:`Sleep` a while — and is resumed with the result: the
:class:`httpx.Response` (body already read) or the :class:`httpx.TransportError` that sending
raised. :func:`drive` runs a flow with :meth:`httpx.Client.send` and :func:`time.sleep`;
:func:`drive_async` with ``await httpx.AsyncClient.send`` and :func:`anyio.sleep`. Nothing
about envelopes, signing, outcomes, retries, the journal, the session or resolution lives in
the drivers, so the sync and async clients cannot drift apart.

Example:
    >>> def ping():
    ...     reply = yield Send(httpx.Request("POST", "http://platform.invalid/"))
    ...     return reply.status_code
    >>> transport = httpx.MockTransport(lambda request: httpx.Response(204))
    >>> with httpx.Client(transport=transport) as http:
    ...     drive(ping(), http, sleep=lambda seconds: None)
    204
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Generator
from dataclasses import dataclass
from typing import TypeVar

import anyio
import httpx

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Send:
    """Instruction: send this request (its timeout rides in ``request.extensions``)."""

    request: httpx.Request


@dataclass(frozen=True, slots=True)
class Sleep:
    """Instruction: wait this many seconds before going on."""

    seconds: float


Instruction = Send | Sleep
Reply = httpx.Response | httpx.TransportError | None
Flow = Generator[Instruction, Reply, T]
"""A policy generator: yields instructions, is sent replies, returns its result."""


def drive(flow: Flow[T], http: httpx.Client, *, sleep: Callable[[float], None] = time.sleep) -> T:
    """Run ``flow`` to completion with blocking I/O.

    Example:
        >>> def nap():
        ...     yield Sleep(0)
        ...     return "rested"
        >>> drive(nap(), httpx.Client(), sleep=lambda seconds: None)
        'rested'
    """
    reply: Reply = None
    while True:
        try:
            instruction = flow.send(reply)
        except StopIteration as finished:
            return finished.value  # type: ignore[no-any-return]
        if isinstance(instruction, Send):
            try:
                reply = http.send(instruction.request)
            except httpx.TransportError as error:
                reply = error
        else:
            sleep(instruction.seconds)
            reply = None


async def drive_async(
    flow: Flow[T],
    http: httpx.AsyncClient,
    *,
    sleep: Callable[[float], Awaitable[None]] = anyio.sleep,
) -> T:
    """Run ``flow`` to completion with async I/O.

    Example:
        >>> import anyio
        >>> def nap():
        ...     yield Sleep(0)
        ...     return "rested"
        >>> anyio.run(drive_async, nap(), httpx.AsyncClient())
        'rested'
    """
    reply: Reply = None
    while True:
        try:
            instruction = flow.send(reply)
        except StopIteration as finished:
            return finished.value  # type: ignore[no-any-return]
        if isinstance(instruction, Send):
            try:
                reply = await http.send(instruction.request)
            except httpx.TransportError as error:
                reply = error
        else:
            await sleep(instruction.seconds)
            reply = None

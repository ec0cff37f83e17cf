"""Rejecting stale and replayed requests with memory that stays bounded.

A request is fresh when its timestamp lies within ``±window`` seconds of the clock. A nonce is
remembered until ``timestamp + window``: after that instant a replay fails the freshness check
anyway, so forgetting it is safe, and since a fresh timestamp is at most ``now + window`` no
entry lives longer than ``2 × window``. A msgid is remembered for ``window`` seconds after it
was first seen (the mock's durable store catches older duplicates). Stored entries are thus
bounded by the request rate times ``2 × window``, whatever the traffic.

Example:
    >>> guard = ReplayGuard(window=300, clock=lambda: 1_000_000.0)
    >>> guard.claim_nonce("paas-1", "n-1", timestamp=1_000_000)
    >>> try:
    ...     guard.claim_nonce("paas-1", "n-1", timestamp=1_000_000)
    ... except ReplayedNonceError as error:
    ...     print(error.code, error.field)
    replayed-nonce x-tif-nonce
"""

from __future__ import annotations

import heapq
import threading
import time
from collections.abc import Callable
from typing import Protocol

from nhsa.signing.errors import ReplayedMsgidError, ReplayedNonceError, StaleTimestampError

__all__ = ["Clock", "ReplayGuard", "SharedMemory"]

Clock = Callable[[], float]
"""Seconds since the Unix epoch, like :func:`time.time` (inject a fake one in tests)."""

DEFAULT_WINDOW_SECONDS = 300.0


class SharedMemory(Protocol):
    """Where several server processes remember claims together (e.g. a database table)."""

    def claim(self, key: tuple[str, str, str], *, expires_at: float, now: float) -> bool:
        """Remember ``key`` until ``expires_at``; ``False`` when a live entry already has it."""
        ...


class ReplayGuard:
    """Thread-safe freshness, nonce and msgid checks with self-expiring memory.

    Args:
        window: accepted clock difference in seconds, and how long entries are remembered.
        clock: the time source.
        shared: remember claims there instead of in this process (several server workers
            must refuse a nonce or msgid that any of them has seen).

    Example:
        >>> guard = ReplayGuard(clock=lambda: 1_000_000.0)
        >>> guard.claim_msgid("H53010100001", "H53010100001202611231015300001")
        >>> len(guard)
        1
    """

    def __init__(
        self,
        window: float = DEFAULT_WINDOW_SECONDS,
        *,
        clock: Clock = time.time,
        shared: SharedMemory | None = None,
    ) -> None:
        """Create an empty guard."""
        if window <= 0:
            raise ValueError(f"window must be positive seconds, got {window}")
        self.window = window
        self.clock = clock
        self._shared = shared
        self._lock = threading.Lock()
        self._expiry: dict[tuple[str, str, str], float] = {}
        self._queue: list[tuple[float, tuple[str, str, str]]] = []

    def check_timestamp(self, timestamp: float, *, field: str = "x-tif-timestamp") -> None:
        """Raise :class:`StaleTimestampError` unless ``timestamp`` is within the window.

        Example:
            >>> ReplayGuard(clock=lambda: 1_000_000.0).check_timestamp(1_000_000 - 299)
        """
        skew = timestamp - self.clock()
        if abs(skew) > self.window:
            direction = "ahead of" if skew > 0 else "behind"
            raise StaleTimestampError(
                f"{field} is {abs(skew):.0f} s {direction} the server clock; "
                f"allowed ±{self.window:.0f} s (a timestamp is computed per attempt, in seconds)",
                field=field,
                rule="within-window",
            )

    def claim_nonce(self, scope: str, nonce: str, timestamp: float) -> None:
        """Accept ``nonce`` once per ``scope`` (the paasid) while ``timestamp`` is fresh.

        Raises :class:`StaleTimestampError` or :class:`ReplayedNonceError`.
        """
        self.check_timestamp(timestamp)
        if not self._claim(("nonce", scope, nonce), timestamp + self.window):
            raise ReplayedNonceError(
                f"x-tif-nonce {nonce!r} was already used by {scope!r} within the last "
                f"{self.window:.0f} s; every attempt needs a fresh nonce",
                field="x-tif-nonce",
                rule="unique-within-window",
            )

    def claim_msgid(self, institution: str, msgid: str) -> None:
        """Accept ``msgid`` once per ``institution`` (fixmedins_code) within the window.

        Raises :class:`ReplayedMsgidError`.
        """
        if not self._claim(("msgid", institution, msgid), self.clock() + self.window):
            raise ReplayedMsgidError(
                f"msgid {msgid!r} was already sent by institution {institution!r}; "
                "each message needs a new msgid (an unknown outcome is resolved with 2601)",
                field="msgid",
                rule="unique",
            )

    def __len__(self) -> int:
        """How many nonces and msgids this process remembers right now (0 when shared)."""
        with self._lock:
            self._forget_expired(self.clock())
            return len(self._expiry)

    def _claim(self, key: tuple[str, str, str], expires_at: float) -> bool:
        if self._shared is not None:
            return self._shared.claim(key, expires_at=expires_at, now=self.clock())
        with self._lock:
            self._forget_expired(self.clock())
            if key in self._expiry:
                return False
            self._expiry[key] = expires_at
            heapq.heappush(self._queue, (expires_at, key))
            return True

    def _forget_expired(self, now: float) -> None:
        while self._queue and self._queue[0][0] <= now:
            _, key = heapq.heappop(self._queue)
            del self._expiry[key]

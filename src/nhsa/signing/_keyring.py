"""Public keys by key id, each bound to its owner, with a refresh hook for rotation.

The SDK holds the platform's key(s); the mock holds one key per institution, owned by its
``fixmedins_code``. When a message names a key id the ring does not know, the ring calls the
refresh hook once (how payment SDKs fetch a rotated platform certificate) and looks again;
a second miss is :class:`UnknownKeyIdError`. Refreshes are rate-limited so a stream of
made-up key ids cannot turn into a stream of downloads.

Example:
    >>> from nhsa.signing._keys import Sm2PrivateKey
    >>> platform = Sm2PrivateKey.generate().public_key
    >>> ring = KeyRing([KeyEntry(platform, owner="NHSA")])
    >>> ring.resolve(platform.key_id).owner
    'NHSA'
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from nhsa.redaction import get_logger
from nhsa.signing._keys import Sm2PublicKey
from nhsa.signing._replay import Clock
from nhsa.signing.errors import KeyMaterialError, UnknownKeyIdError, WrongKeyError

__all__ = ["KeyEntry", "KeyRing", "RefreshHook"]

_log = get_logger(__name__)

DEFAULT_MIN_REFRESH_INTERVAL = 30.0


@dataclass(frozen=True, slots=True)
class KeyEntry:
    """A public key and who it belongs to (a ``fixmedins_code``, or e.g. ``"NHSA"``).

    Example:
        >>> from nhsa.signing._keys import Sm2PrivateKey
        >>> public = Sm2PrivateKey.generate().public_key
        >>> KeyEntry(public, "H53010100001").key_id == public.key_id
        True
    """

    public_key: Sm2PublicKey
    owner: str

    @property
    def key_id(self) -> str:
        """The key id of :attr:`public_key`."""
        return self.public_key.key_id


RefreshHook = Callable[[str], Iterable[KeyEntry]]
"""Called with the unknown key id; returns entries to add (possibly none)."""


class KeyRing:
    """Thread-safe key id → :class:`KeyEntry` map with an optional refresh hook.

    Args:
        entries: the keys known from the start.
        refresh: called on an unknown key id; its entries are added before the second lookup.
        min_refresh_interval: seconds between two calls of ``refresh``; misses inside it fail
            without calling the hook.
        clock: time source for the interval.

    Example:
        >>> calls = []
        >>> ring = KeyRing(refresh=lambda key_id: calls.append(key_id) or [])
        >>> try:
        ...     ring.resolve("0123456789abcdef")
        ... except UnknownKeyIdError as error:
        ...     print(error.code, calls)
        unknown-key-id ['0123456789abcdef']
    """

    def __init__(
        self,
        entries: Iterable[KeyEntry] = (),
        *,
        refresh: RefreshHook | None = None,
        min_refresh_interval: float = DEFAULT_MIN_REFRESH_INTERVAL,
        clock: Clock = time.monotonic,
    ) -> None:
        """Create a ring holding ``entries``."""
        self._lock = threading.Lock()
        self._entries: dict[str, KeyEntry] = {}
        self._refresh = refresh
        self._min_refresh_interval = min_refresh_interval
        self._clock = clock
        self._last_refresh: float | None = None
        for entry in entries:
            self.add(entry.public_key, entry.owner)

    def add(self, public_key: Sm2PublicKey, owner: str) -> KeyEntry:
        """Register ``public_key`` for ``owner``; one key cannot serve two owners.

        Example:
            >>> from nhsa.signing._keys import Sm2PrivateKey
            >>> ring, key = KeyRing(), Sm2PrivateKey.generate().public_key
            >>> ring.resolve(ring.add(key, "H53010100001").key_id).owner
            'H53010100001'
            >>> ring.add(key, "H53010100002")  # doctest: +ELLIPSIS
            Traceback (most recent call last):
            ...
            nhsa.signing.errors.KeyMaterialError: ...
        """
        if not owner:
            raise KeyMaterialError(
                "a key's owner must not be empty", field="owner", rule="required"
            )
        entry = KeyEntry(public_key, owner)
        with self._lock:
            known = self._entries.get(entry.key_id)
            if known is not None and known.owner != owner:
                raise KeyMaterialError(
                    f"key {entry.key_id} is already registered for {known.owner!r}; "
                    f"it cannot also belong to {owner!r}",
                    field="owner",
                    rule="one-owner-per-key",
                )
            self._entries[entry.key_id] = entry
        return entry

    def remove(self, key_id: str) -> None:
        """Forget a key (revocation); unknown ids are ignored."""
        with self._lock:
            self._entries.pop(key_id, None)

    def get(self, key_id: str) -> KeyEntry | None:
        """The entry for ``key_id`` if known now, without refreshing."""
        with self._lock:
            return self._entries.get(key_id)

    def resolve(self, key_id: str) -> KeyEntry:
        """The entry for ``key_id``, refreshing once on a miss; else :class:`UnknownKeyIdError`."""
        entry = self.get(key_id)
        refresh = self._refresh
        outcome = "no refresh hook"
        if entry is None and refresh is not None:
            outcome = self._refresh_once(refresh, key_id)
            entry = self.get(key_id)
        if entry is None:
            raise UnknownKeyIdError(
                f"cainfo names key id {key_id!r}, which is not registered "
                f"({len(self)} key(s) known; {outcome})",
                field="cainfo",
                rule="known-key-id",
            )
        return entry

    def check_owner(self, key_id: str, owner: str) -> KeyEntry:
        """The entry for ``key_id`` if it belongs to ``owner``; else :class:`WrongKeyError`.

        This is the institution binding: a signature by institution A's key on a message
        whose ``fixmedins_code`` is B fails here.
        """
        entry = self.resolve(key_id)
        if entry.owner != owner:
            raise WrongKeyError(
                f"cainfo names key {key_id}, registered for {entry.owner!r}, but the message "
                f"comes from {owner!r}; each sender must sign with its own key",
                field="cainfo",
                rule="key-belongs-to-sender",
            )
        return entry

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def __contains__(self, key_id: object) -> bool:
        with self._lock:
            return key_id in self._entries

    def __iter__(self) -> Iterator[KeyEntry]:
        with self._lock:
            return iter(list(self._entries.values()))

    def __repr__(self) -> str:
        return f"KeyRing({len(self)} key(s))"

    def _refresh_once(self, refresh: RefreshHook, key_id: str) -> str:
        now = self._clock()
        with self._lock:
            last = self._last_refresh
            if last is not None and now - last < self._min_refresh_interval:
                return f"last refresh was under {self._min_refresh_interval:.0f} s ago"
            self._last_refresh = now
        try:
            fresh = list(refresh(key_id))
        except Exception as exc:  # the hook is foreign code; its failure is still a rejection
            _log.warning("key ring refresh for key id %s failed: %s", key_id, type(exc).__name__)
            return f"refresh failed with {type(exc).__name__}"
        for entry in fresh:
            self.add(entry.public_key, entry.owner)
        return f"refresh added {len(fresh)} key(s), none with this id"

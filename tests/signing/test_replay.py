"""The replay guard: window, nonces, msgids, bounded memory, thread safety."""

from __future__ import annotations

import random
import threading

import pytest

from nhsa.signing import ReplayGuard
from nhsa.signing.errors import ReplayedMsgidError, ReplayedNonceError, StaleTimestampError

from .conftest import FakeClock


def test_window_boundaries(clock: FakeClock) -> None:
    guard = ReplayGuard(clock=clock)
    guard.check_timestamp(clock() - 300)
    guard.check_timestamp(clock() + 300)
    with pytest.raises(StaleTimestampError, match="301 s behind"):
        guard.check_timestamp(clock() - 301)
    with pytest.raises(StaleTimestampError, match="301 s ahead of"):
        guard.check_timestamp(clock() + 301)


def test_window_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        ReplayGuard(window=0)


def test_nonces_are_scoped_per_caller(clock: FakeClock) -> None:
    guard = ReplayGuard(clock=clock)
    guard.claim_nonce("paas-a", "n", clock())
    guard.claim_nonce("paas-b", "n", clock())
    with pytest.raises(ReplayedNonceError):
        guard.claim_nonce("paas-a", "n", clock())


def test_a_nonce_is_forgotten_only_when_its_timestamp_has_gone_stale(clock: FakeClock) -> None:
    guard = ReplayGuard(clock=clock)
    sent_at = clock()
    guard.claim_nonce("paas", "n", sent_at)
    clock.advance(299)
    with pytest.raises(ReplayedNonceError):
        guard.claim_nonce("paas", "n", sent_at)
    clock.advance(1)
    assert len(guard) == 0  # forgotten: its timestamp can no longer pass the window
    clock.advance(1)
    with pytest.raises(StaleTimestampError):
        guard.claim_nonce("paas", "n", sent_at)


def test_msgids_are_scoped_per_institution(clock: FakeClock) -> None:
    guard = ReplayGuard(clock=clock)
    guard.claim_msgid("H53010100001", "H53010100001202611231015300001")
    guard.claim_msgid("H44030000002", "H53010100001202611231015300001")
    with pytest.raises(ReplayedMsgidError) as caught:
        guard.claim_msgid("H53010100001", "H53010100001202611231015300001")
    assert (caught.value.field, caught.value.rule) == ("msgid", "unique")


def test_a_msgid_is_remembered_for_one_window(clock: FakeClock) -> None:
    guard = ReplayGuard(clock=clock)
    guard.claim_msgid("H53010100001", "m")
    clock.advance(299)
    with pytest.raises(ReplayedMsgidError):
        guard.claim_msgid("H53010100001", "m")
    clock.advance(2)
    guard.claim_msgid("H53010100001", "m")


def test_memory_stays_bounded_under_100k_requests(clock: FakeClock) -> None:
    guard = ReplayGuard(window=300, clock=clock)
    rate = 50  # requests per simulated second
    rng = random.Random(7)
    high_water = 0
    for index in range(100_000):
        if index % rate == 0:
            clock.advance(1)
        skew = rng.uniform(-300, 300)  # every timestamp the window allows
        guard.claim_nonce("paas", f"nonce-{index}", clock() + skew)
        guard.claim_msgid("H53010100001", f"msgid-{index}")
        if index % 1000 == 0:
            high_water = max(high_water, len(guard))
    # Nonces live at most 2 × window, msgids one window: 50/s × (600 + 300) s.
    bound = rate * (2 * 300 + 300)
    assert high_water <= bound
    assert len(guard) <= bound
    clock.advance(601)
    assert len(guard) == 0


def test_concurrent_claims_of_one_nonce_admit_exactly_one(clock: FakeClock) -> None:
    guard = ReplayGuard(clock=clock)
    admitted: list[int] = []
    start = threading.Barrier(8)

    def attempt(worker: int) -> None:
        start.wait()
        for round_ in range(200):
            try:
                guard.claim_nonce("paas", f"n-{round_}", clock())
            except ReplayedNonceError:
                continue
            admitted.append(worker)

    threads = [threading.Thread(target=attempt, args=(w,)) for w in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(admitted) == 200
    assert len(guard) == 200

"""The tamper/replay drill, short: a few trials per signing profile (``bench/drills/tamper.py``;
the benchmark makes 500). Every forged or replayed request is refused, nothing is booked, and
every original is accepted — else the trial proves nothing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from bench.drills import tamper

TRIALS = 8
COVERED = {  # what each profile's signature covers, hence which forgeries it is sent
    "tif": {"header", "signature", "replay", "stale"},
    "sm2": {"body", "signature", "replay"},
    "tif+sm2": {"body", "header", "signature", "replay", "stale"},
}


@pytest.fixture(scope="module")
def result(drill_run: Callable[..., dict[str, Any]]) -> dict[str, Any]:
    return drill_run("tamper", lambda folder: tamper.run(folder, trials=TRIALS).as_json())


@pytest.mark.parametrize("profile", tamper.PROFILES)
def test_every_forgery_and_replay_is_refused(result: dict[str, Any], profile: str) -> None:
    tally = result["profiles"][profile]
    assert set(tally["sent"]) == COVERED[profile]
    assert tally["refused"] == tally["sent"], tally["examples"]


@pytest.mark.parametrize("profile", tamper.PROFILES)
def test_nothing_is_booked_and_every_original_is(result: dict[str, Any], profile: str) -> None:
    tally = result["profiles"][profile]
    assert tally["state_changes"] == 0
    assert tally["originals_accepted"] == tally["trials"] == TRIALS

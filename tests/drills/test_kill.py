"""The kill -9 drill, short: one SIGKILL of ``nhsa mock serve`` while it holds a committed
2207's answer, and one of the HIS's counter processes while a 2207's answer is withheld; each
restarted on the same database or journal (``bench/drills/kill.py``; the benchmark kills five
times each, under four counters). Then recover and reconcile: nothing lost, nothing doubled,
nothing left open, the day balanced."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from bench.drills import kill


@pytest.fixture(scope="module")
def parts(drill_run: Callable[..., dict[str, Any]]) -> list[dict[str, Any]]:
    def compute(folder: Any) -> dict[str, Any]:
        # One counter each: the kill always finds it waiting for the held 2207.
        return kill.run(folder, rounds=1, counters=1).as_json()

    made: list[dict[str, Any]] = drill_run("kill", compute)["parts"]
    return made


@pytest.mark.slow
@pytest.mark.parametrize("part", [0, 1], ids=["server-killed", "client-killed"])
def test_a_kill_loses_doubles_and_leaves_nothing(parts: list[dict[str, Any]], part: int) -> None:
    found = parts[part]
    assert found["kills"] >= 1
    assert found["held_at_kill"] == 1  # the kill came after a 2207 was committed, unanswered
    audit = found["audit"]
    assert (audit["lost"], audit["doubled"], audit["unresolved"]) == (0, 0, 0), audit["examples"]
    assert audit["balanced"] is True, audit["examples"]
    assert audit["settlements"] > 0

"""The roll-up rule, case by case (documented in conformance/README.md)."""

from __future__ import annotations

import pytest

from nhsa.conformance import (
    Status,
)
from nhsa.conformance._results import Member, roll_up

P, F, S, E, W = Status.PASS, Status.FAIL, Status.SKIP, Status.ERROR, Status.WAIT


@pytest.mark.parametrize(
    ("members", "expected"),
    [
        ([Member(P), Member(P)], P),
        ([Member(P), Member(F)], F),
        ([Member(F), Member(E)], E),
        ([Member(P), Member(S)], S),
        ([Member(F), Member(S)], F),
        ([Member(E), Member(W)], W),
        ([Member(P), Member(W, required=False)], W),
        ([Member(P), Member(F, required=False)], P),
        ([Member(P), Member(E, required=False)], P),
        ([Member(F, required=False), Member(P, required=False)], P),
        ([Member(F, required=False)], S),
        ([], S),
    ],
)
def test_roll_up(members: list[Member], expected: Status) -> None:
    assert roll_up(members) is expected


def test_only_pass_lets_a_run_exit_zero() -> None:
    assert [s.blocks_exit for s in Status] == [False, True, True, True, True]

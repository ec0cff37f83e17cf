"""The retry policy: its table row by row, its budget, its history, and that it is the one loop.

The rows are asserted on :meth:`RetryPolicy.decide` directly, the loop on :func:`retrying` with
scripted attempts (no platform), and the claim that there is only one loop twice: in the code
(no other module of the client waits or imports tenacity) and in behaviour (one charge's
exchange, sign-in resend and 2601 reversal all grow the history of the configured policy).
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import respx

from nhsa.client import (
    ClientConfig,
    NotSent,
    NotSentError,
    OutcomeUnknownError,
    Rejected,
    RetryPolicy,
    Reversed,
    SignInError,
    Succeeded,
    Unknown,
)
from nhsa.client._config import SINGLE_ENTRY_PATH
from nhsa.client._flow import Sleep
from nhsa.client._outcomes import Attempt, Outcome
from nhsa.client._retry import Budget, RetryDecision, retrying
from nhsa.spec import contract
from tests.client.conftest import CLINIC, DIAGNOSES, WINDOW, Twin, card, fees
from tests.client.platform import EnginePlatform

MSGID = "H53010100001202611231015300001"
POLICY = RetryPolicy(max_attempts=4, backoff_initial=1, backoff_max=4, rng=lambda: 1.0)
CLIENT_SRC = Path(__file__).resolve().parents[2] / "src" / "nhsa" / "client"


def _sent(infno: str = "2207") -> NotSent:
    return NotSent(infno, MSGID, "ConnectError", ())


def _unknown(infno: str) -> Unknown:
    return Unknown(infno, MSGID, "ReadTimeout", ())


def _refused(infno: str = "2207", **flags: Any) -> Rejected:
    return Rejected(infno, MSGID, -1, "refused", (), **flags)


def _decide(
    outcome: Outcome,
    budget: Budget | None = None,
    *,
    undo: bool = False,
    policy: RetryPolicy = POLICY,
) -> RetryDecision:
    return policy.decide(outcome, contract().transaction(outcome.infno), budget, undo=undo)


# -- the table, row by row ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("outcome", "again", "new_msgid"),
    [
        (Succeeded("2207", MSGID, None, ()), False, False),
        (_refused(busy=True), True, True),
        (_refused(), False, False),
        (_refused(downtime=True), False, False),
        (_sent("2207"), True, False),
        (_unknown("1101"), True, True),
        (_unknown("2601"), True, True),
        (_unknown("9001"), True, True),
        (_unknown("2207"), False, False),
        (_unknown("2204"), False, False),
    ],
    ids=lambda value: getattr(value, "kind", str(value)),
)
def test_each_row_of_the_table(outcome: Outcome, again: bool, new_msgid: bool) -> None:
    decision = _decide(outcome)
    assert (decision.again, decision.new_msgid) == (again, new_msgid)
    assert decision.go is again  # a round just begun has budget left
    assert not decision.sign_in_again


def test_a_sign_in_refusal_signs_in_again_once_and_starts_afresh() -> None:
    first = _decide(_refused("2204", sign_in=True), Budget(attempts=4))
    assert (first.go, first.new_msgid, first.sign_in_again, first.fresh_round) == (
        True,
        True,
        True,
        True,
    )  # even with the round's attempts used up: the refusal proves nothing was booked
    refused_before = POLICY.increment(
        Attempt(1, "H53010100001202611231015300009", "sign_in", "rejected", decision=first.reason)
    )
    again = _decide(_refused("2204", sign_in=True), policy=refused_before)
    assert (again.again, again.reason) == (False, "definite refusal")


def test_a_sign_in_refusal_of_the_sign_in_itself_is_definite() -> None:
    assert not _decide(_refused("9001", sign_in=True)).again


def test_busy_waits_at_least_as_long_as_retry_after() -> None:
    short = _decide(_refused(busy=True, retry_after=0.1))
    long = _decide(_refused(busy=True, retry_after=9.0))
    assert (short.wait, long.wait) == (1.0, 9.0)


@pytest.mark.parametrize(
    ("budget", "spent"),
    [
        (Budget(attempts=3, elapsed=29.0), False),
        (Budget(attempts=4, elapsed=0.0), True),
        (Budget(attempts=1, elapsed=30.0), True),
    ],
)
def test_the_budget_is_max_attempts_and_the_deadline(budget: Budget, spent: bool) -> None:
    decision = _decide(_sent(), budget)
    assert decision.again
    assert decision.out_of_budget is spent
    assert decision.go is not spent


def test_backoff_doubles_per_attempt_of_a_round_up_to_the_cap() -> None:
    waits = [_decide(_sent(), Budget(attempts=n)).wait for n in (1, 2, 3)]
    assert waits == [1.0, 2.0, 4.0]


def test_jitter_stays_between_half_and_all_of_the_backoff() -> None:
    for fraction in (0.0, 0.3, 0.999):
        delay = RetryPolicy(backoff_initial=4, backoff_max=8, rng=lambda f=fraction: f).delay(2)
        assert 4.0 <= delay <= 8.0


# -- the undo rows ------------------------------------------------------------------------------

SPENT = Budget(attempts=4, elapsed=1.0, since_first=1.0, rounds=2)


@pytest.mark.parametrize("outcome", [_unknown("2601"), _sent("2601")], ids=["unknown", "not_sent"])
def test_an_undo_without_a_definite_answer_starts_a_new_round(outcome: Outcome) -> None:
    decision = _decide(outcome, SPENT, undo=True)
    assert (decision.go, decision.new_msgid, decision.fresh_round) == (True, True, True)
    assert decision.wait == POLICY.delay(2)  # backoff counts rounds between rounds
    assert _decide(outcome, SPENT).out_of_budget  # an ordinary call stops there


def test_an_undo_refused_as_down_starts_a_new_round_at_once() -> None:
    decision = _decide(_refused("2601", downtime=True), Budget(), undo=True)
    assert (decision.go, decision.new_msgid, decision.fresh_round) == (True, True, True)


def test_an_undo_busy_to_the_last_is_definite() -> None:
    assert _decide(_refused("2601", busy=True), SPENT, undo=True).out_of_budget


def test_undo_rounds_end_at_the_resolution_deadline() -> None:
    late = Budget(attempts=4, elapsed=1.0, since_first=120.0, rounds=5)
    decision = _decide(_unknown("2601"), late, undo=True)
    assert (decision.again, decision.go) == (True, False)
    assert "resolution deadline" in decision.reason


# -- the loop -----------------------------------------------------------------------------------


@dataclass
class Scripted:
    """Attempts that return scripted outcomes and note what each was told."""

    outcomes: list[Outcome]
    told: list[RetryDecision | None]

    def __call__(self, previous: RetryDecision | None) -> Any:
        self.told.append(previous)
        return self.outcomes.pop(0), None
        yield  # an attempt that never sends


def _loop(
    policy: RetryPolicy, infno: str, outcomes: list[Outcome], *, undo: bool = False
) -> tuple[Outcome, list[float], list[RetryDecision | None]]:
    script = Scripted(list(outcomes), [])
    flow = retrying(policy, contract().transaction(infno), script, undo=undo)
    sleeps: list[float] = []
    try:
        instruction = next(flow)
        while True:
            assert isinstance(instruction, Sleep)
            sleeps.append(instruction.seconds)
            instruction = flow.send(None)
    except StopIteration as done:
        return done.value, sleeps, script.told


def test_the_loop_backs_off_and_stops_at_max_attempts_with_the_same_msgid() -> None:
    policy = RetryPolicy(max_attempts=3, backoff_initial=1, backoff_max=1.5, rng=lambda: 1.0)
    final, sleeps, told = _loop(policy, "1101", [_sent("1101")] * 3)
    assert sleeps == [1.0, 1.5]  # 1 × 2⁰, then capped at 1.5
    assert told[0] is None
    assert [decision.new_msgid for decision in told[1:] if decision] == [False, False]
    assert [attempt.number for attempt in final.attempts] == [1, 2, 3]
    assert final.attempts[-1].decision.endswith("but 3 of 3 attempts are used")


def test_the_loop_honours_retry_after_and_asks_for_a_new_msgid_when_busy() -> None:
    policy = RetryPolicy(max_attempts=3, backoff_initial=0.1, rng=lambda: 0.0)
    busy = Rejected("2207", MSGID, None, "HTTP 429", (), busy=True, retry_after=2.0)
    done = Succeeded("2207", MSGID, None, ())
    final, sleeps, told = _loop(policy, "2207", [busy, done])
    assert final.kind == "succeeded"
    assert sleeps == [2.0]
    assert told[1] is not None
    assert told[1].new_msgid
    assert [a.result for a in final.attempts] == ["busy", "succeeded"]


def test_the_loop_records_every_decision_in_the_history() -> None:
    final, _, _ = _loop(POLICY, "1101", [_sent("1101"), _unknown("1101"), _refused("1101")])
    assert [(a.result, a.decision) for a in final.attempts] == [
        ("not_sent", "provably not sent: the same message again"),
        ("unknown", "1101 is safe to repeat: again with a new msgid"),
        ("rejected", "definite refusal"),
    ]


def test_a_sign_in_resend_restarts_the_round_once() -> None:
    policy = RetryPolicy(max_attempts=2, backoff_initial=0, backoff_max=0)
    sign_in = _refused("2204", sign_in=True)
    final, _, told = _loop(policy, "2204", [_sent("2204"), sign_in, _sent("2204"), _sent("2204")])
    # The refusal came on the round's last attempt; the resend still went, with two of its own.
    assert [a.result for a in final.attempts] == ["not_sent", "sign_in", "not_sent", "not_sent"]
    assert told[2] is not None
    assert told[2].sign_in_again
    final, _, _ = _loop(policy, "2204", [sign_in, sign_in])
    assert [a.decision for a in final.attempts][-1] == "definite refusal"


def test_undo_rounds_go_on_until_definite() -> None:
    policy = RetryPolicy(max_attempts=2, backoff_initial=0, backoff_max=0, resolution_deadline=3600)
    lost, reversed_ = _unknown("2601"), Succeeded("2601", MSGID, None, ())
    outcomes = [lost, lost, _sent("2601"), _sent("2601"), lost, reversed_]
    final, _, told = _loop(policy, "2601", outcomes, undo=True)
    assert final.kind == "succeeded"
    rounds = [decision.fresh_round for decision in told[1:] if decision]
    assert rounds == [False, True, False, True, False]


def test_without_a_resolution_deadline_an_undo_has_one_round() -> None:
    policy = RetryPolicy(max_attempts=2, backoff_initial=0, backoff_max=0, resolution_deadline=0)
    final, _, _ = _loop(policy, "2601", [_unknown("2601")] * 2, undo=True)
    assert len(final.attempts) == 2
    assert "resolution deadline" in final.attempts[-1].decision


def test_an_attempt_that_raises_ends_the_loop_with_that_error() -> None:
    def attempt(previous: RetryDecision | None) -> Any:
        raise SignInError("sign-in (9001) refused: 非法用户")
        yield

    flow = retrying(POLICY, contract().transaction("2207"), attempt)
    with pytest.raises(SignInError):
        next(flow)


# -- one loop -----------------------------------------------------------------------------------


def _modules_that(predicate: Callable[[ast.AST], bool]) -> list[str]:
    found = []
    for path in sorted(CLIENT_SRC.glob("*.py")):
        if any(predicate(node) for node in ast.walk(ast.parse(path.read_text("utf-8")))):
            found.append(path.name)
    return found


def test_no_module_but_the_retry_policy_waits_or_uses_tenacity() -> None:
    def waits(node: ast.AST) -> bool:
        return (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in {"Sleep", "sleep"}
        )

    def uses_tenacity(node: ast.AST) -> bool:
        if isinstance(node, ast.Import):
            return any(alias.name.startswith("tenacity") for alias in node.names)
        return isinstance(node, ast.ImportFrom) and (node.module or "").startswith("tenacity")

    assert _modules_that(waits) == ["_flow.py", "_retry.py"]  # _flow: the drivers' own sleep
    assert _modules_that(uses_tenacity) == ["_retry.py"]


@pytest.fixture
def routed(platform: EnginePlatform) -> Iterator[respx.MockRouter]:
    with respx.mock(base_url="http://platform.test", assert_all_called=False) as router:
        router.post(SINGLE_ENTRY_PATH).mock(side_effect=platform.handle)
        yield router


def test_the_exchange_the_sign_in_resend_and_the_reversal_share_one_policy(
    platform: EnginePlatform,
    config_for: Callable[..., ClientConfig],
    make_twin: Callable[..., Twin],
    routed: respx.MockRouter,
) -> None:
    grown: list[tuple[int, Attempt]] = []

    @dataclass(frozen=True)
    class Watched(RetryPolicy):
        def increment(self, attempt: Attempt) -> RetryPolicy:
            grown.append((len(self.history), attempt))
            return super().increment(attempt)

    # One attempt per round, so the second 2601 can only come from a new round of the undo.
    configured = Watched(max_attempts=1, backoff_initial=0, backoff_max=0, resolution_deadline=60)
    twin = make_twin(config_for(retry=configured), WINDOW, None)
    visit = twin.register(card(), insutype="310", clinic=CLINIC)
    platform.script.on("2204", "sign-in-expired").on("2207", "drop").on("2601", "drop")
    grown.clear()

    with pytest.raises(OutcomeUnknownError) as raised:
        twin.charge(visit, fees(), diagnoses=DIAGNOSES)

    infno_of = {request["msgid"]: request["infno"] for request in platform.seen}
    by_infno: dict[str, list[tuple[int, str]]] = {}
    for before, attempt in grown:
        by_infno.setdefault(infno_of[attempt.msgid], []).append((before, attempt.result))
    assert by_infno["2204"] == [(0, "sign_in"), (1, "succeeded")]  # the resend: attempt 2
    assert by_infno["9001"] == [(0, "succeeded")]  # the sign-in between them
    assert by_infno["2207"] == [(0, "unknown")]  # never resent
    assert by_infno["2601"] == [(0, "unknown"), (1, "succeeded")]  # two rounds, one history
    first, second = platform.requests_of("2601")
    assert first["msgid"] != second["msgid"]
    error = raised.value
    assert isinstance(error.resolution, Reversed)
    assert [a.result for a in error.history] == ["unknown"]
    assert error.history[0].decision == "unknown outcome of a write: resolution, not a resend"
    assert error.history == error.outcome.attempts  # type: ignore[union-attr]


def test_a_second_sign_in_refusal_is_raised_with_both_in_its_history(
    platform: EnginePlatform,
    config_for: Callable[..., ClientConfig],
    make_twin: Callable[..., Twin],
    routed: respx.MockRouter,
) -> None:
    twin = make_twin(config_for(), WINDOW, None)
    platform.script.on("1101", "sign-in-expired").on("1101", "sign-in-expired", nth=2)

    with pytest.raises(SignInError) as raised:
        twin.register(card(), insutype="310", clinic=CLINIC)

    assert [a.result for a in raised.value.history] == ["sign_in", "sign_in"]
    assert len(platform.requests_of("9001")) == 2  # first use, then once more
    assert raised.value.attempts == 2


def test_a_call_that_never_left_says_so_in_its_history(
    platform: EnginePlatform,
    config_for: Callable[..., ClientConfig],
    make_twin: Callable[..., Twin],
    routed: respx.MockRouter,
) -> None:
    twin = make_twin(config_for(), WINDOW, None)
    for attempt in range(1, 5):
        platform.script.on("1101", "connect-error", nth=attempt)

    with pytest.raises(NotSentError) as raised:
        twin.register(card(), insutype="310", clinic=CLINIC)

    history = raised.value.history
    assert [a.number for a in history] == [1, 2, 3, 4]
    assert {a.msgid for a in history} == {raised.value.msgid}
    assert history[-1].decision.endswith("but 4 of 4 attempts are used")

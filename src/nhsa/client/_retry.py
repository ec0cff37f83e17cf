"""When a call is sent again, how long to wait, what was tried: one policy, one loop.

The national platform has no idempotency key, so repeating a state-changing message whose
outcome is unknown could book it twice. The decision is therefore narrow, and it reads what
is safe from the contract (``safe_to_repeat`` of each transaction), never from a list in code.
:meth:`RetryPolicy.decide` is the one place it is made, row by row:

==================================  ===========  =======  ======================================
last attempt                        again?       msgid    why
==================================  ===========  =======  ======================================
Succeeded                           no           —        done
Rejected, explicit busy answer      yes          new      definite "not now"; the platform saw
                                                          the old msgid, so reusing it would be
                                                          refused as a duplicate
Rejected, sign-in missing or        once, after  new      definite, so nothing was booked; the
expired                             signing in            call starts afresh (its attempts and
                                    again                 deadline count from the resend)
Rejected, anything else             no           —        definite
NotSent                             yes          same     it never arrived
Unknown, ``safe_to_repeat``         yes          new      repeating does no harm (queries,
                                                          sign-in, 2601)
Unknown, not ``safe_to_repeat``     no           —        goes to resolution (2601 / undo)
==================================  ===========  =======  ======================================

An undo — the 2601 that resolution sends, ``undo=True`` — must be pursued until it is definite,
so two rows change: a round of ``max_attempts`` that ends without a definite answer (unknown,
not sent, or 停机 — the insured place down) starts another round with a new msgid, until
``resolution_deadline``; ``recover()`` picks up what is still open then. A round that ends
refused (busy to the last, or any other refusal) is definite and goes to a person.

Waiting follows Stripe: capped exponential backoff (``backoff_initial`` × 2ⁿ⁻¹ for the n-th
attempt of a round, at most ``backoff_max``), jittered to 50–100 % of that, and never shorter
than a ``Retry-After`` the platform sent; between undo rounds n counts rounds. ``max_attempts``
and ``deadline`` bound each round.

The loop is :func:`retrying`: tenacity's own iteration (``for attempt in Retrying(...)``) run
sans-IO — tenacity's retry, stop and wait predicates read the policy's decision, its sleep is
handed back to the flow's driver as a :class:`Sleep`. Every call runs it: the exchange of one
transaction, the sign-in resend (a row of it, above) and the 2601 rounds of resolution (the same
exchange with ``undo=True``), so one history records all of them.

Example:
    >>> from nhsa.spec import contract
    >>> policy = RetryPolicy()
    >>> lost = Unknown("1101", "H53010100001202611231015300001", "ReadTimeout", ())
    >>> decision = policy.decide(lost, contract().transaction("1101"))
    >>> (decision.again, decision.new_msgid, decision.reason)
    (True, True, '1101 is safe to repeat: again with a new msgid')
    >>> policy.decide(replace(lost, infno="2207"), contract().transaction("2207")).again
    False
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, Final

import tenacity

from nhsa.client._flow import Flow, Sleep
from nhsa.client._outcomes import (
    Attempt,
    AttemptResult,
    NotSent,
    Outcome,
    Rejected,
    Succeeded,
    Unknown,
)
from nhsa.client.errors import ClientConfigError
from nhsa.redaction import get_logger, redact
from nhsa.spec import Transaction

SIGN_IN: Final = "9001"
_log = get_logger("nhsa.client")


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try one logical call, and what has been tried so far.

    The policy never changes: :meth:`increment` returns a copy with one more :class:`Attempt`
    in :attr:`history` (urllib3's ``Retry`` does the same), so the last policy of a call is its
    record; every outcome's ``attempts`` is that history, and every error's ``history`` too.

    Attributes:
        max_attempts: attempts per round, the first included. Raising it is safe: only the
            rows of the module's table repeat anything, and none of them can book twice (the
            message never arrived, the platform refused it, or the contract marks it
            ``safe_to_repeat``).
        backoff_initial: seconds before the second attempt of a round (then doubling). Waiting
            longer is always safe; it only delays the answer.
        backoff_max: cap on one wait, before jitter.
        deadline: seconds after a round's first attempt when no further attempt of it starts.
            A long deadline is safe for the same reason as ``max_attempts``; a read timeout
            near it means the last attempt may end well after it.
        resolution_deadline: seconds to keep undoing an unknown outcome: 2601 rounds go on,
            each with a new msgid, until one is definite or this runs out. Repeating 2601 is
            safe — the platform answers a second reversal of the same original as "already
            reversed" — and stopping early is safe too: the journal entry stays
            ``reversing`` and ``recover()`` finishes it.
        rng: source of jitter in [0, 1); injectable so tests can pin it.
        history: the attempts made so far, oldest first — empty in a configuration.

    Example:
        >>> policy = RetryPolicy(max_attempts=2)
        >>> tried = policy.increment(Attempt(1, "H53010100001202611231015300001", "not_sent",
        ...                                  "not sent: ConnectError"))
        >>> (len(policy.history), len(tried.history), tried.max_attempts)
        (0, 1, 2)
    """

    max_attempts: int = 4
    backoff_initial: float = 0.5
    backoff_max: float = 5.0
    deadline: float = 30.0
    resolution_deadline: float = 120.0
    rng: Callable[[], float] = field(default=random.random, repr=False, compare=False)
    history: tuple[Attempt, ...] = ()

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ClientConfigError("retry.max_attempts must be at least 1")
        for name in ("backoff_initial", "backoff_max", "deadline", "resolution_deadline"):
            if getattr(self, name) < 0:
                raise ClientConfigError(f"retry.{name} must not be negative")

    def replace(self, **changes: Any) -> RetryPolicy:
        """A copy with some settings changed (the policy itself never changes).

        Example:
            >>> policy = RetryPolicy()
            >>> (policy.replace(deadline=5.0).deadline, policy.deadline)
            (5.0, 30.0)
        """
        return replace(self, **changes)

    def increment(self, attempt: Attempt) -> RetryPolicy:
        """The same policy with ``attempt`` appended to its history."""
        return replace(self, history=(*self.history, attempt))

    def delay(self, attempt_number: int, retry_after: float | None = None) -> float:
        """Seconds to wait after the ``attempt_number``-th attempt of a round failed.

        Example:
            >>> policy = RetryPolicy(backoff_initial=1, backoff_max=4, rng=lambda: 1.0)
            >>> [policy.delay(n) for n in (1, 2, 3, 4)], policy.delay(1, retry_after=10)
            ([1.0, 2.0, 4.0, 4.0], 10)
        """
        base = min(self.backoff_max, self.backoff_initial * 2.0 ** max(attempt_number - 1, 0))
        jittered = base * (0.5 + 0.5 * self.rng())
        return max(jittered, retry_after or 0.0)

    def decide(
        self,
        outcome: Outcome,
        transaction: Transaction,
        budget: Budget | None = None,
        *,
        undo: bool = False,
    ) -> RetryDecision:
        """Whether ``outcome`` (the last attempt) is followed by another: the module's table.

        :attr:`history` holds the attempts before this one (a sign-in refusal among them means
        the resend has been made).

        Args:
            budget: what the current round has used; ``None`` for a round just begun.
            undo: the call is an undo (2601 of resolution), pursued until definite.

        Example:
            >>> from nhsa.spec import contract
            >>> busy = Rejected("2207", "H53010100001202611231015300001", -1, "系统繁忙", (),
            ...                 busy=True, retry_after=3.0)
            >>> decision = RetryPolicy(rng=lambda: 0.0).decide(busy, contract().transaction("2207"))
            >>> (decision.again, decision.new_msgid, decision.wait)
            (True, True, 3.0)
            >>> spent = Budget(attempts=4, elapsed=1.0, since_first=1.0, rounds=1)
            >>> RetryPolicy().decide(busy, contract().transaction("2207"), spent).reason
            'explicit busy answer: again with a new msgid; but 4 of 4 attempts are used'
        """
        budget = budget or Budget()
        row = self._row(outcome, transaction)
        if undo and isinstance(outcome, Rejected) and outcome.downtime and not row.again:
            return self._next_round(budget, "the insured place is down (停机)")
        if not row.again or row.fresh_round:
            return row
        spent = self._spent(budget)
        if spent is None:
            hint = outcome.retry_after if isinstance(outcome, Rejected) else None
            return replace(row, wait=self.delay(budget.attempts, hint))
        if undo and isinstance(outcome, Unknown | NotSent):
            return self._next_round(budget, f"{outcome.kind}, and {spent}")
        return replace(row, out_of_budget=True, reason=f"{row.reason}; but {spent}")

    def _row(self, outcome: Outcome, transaction: Transaction) -> RetryDecision:
        if isinstance(outcome, Succeeded):
            return _SUCCEEDED
        if isinstance(outcome, NotSent):
            return _NOT_SENT
        if isinstance(outcome, Unknown):
            return _repeat(transaction) if transaction.safe_to_repeat else _UNKNOWN_WRITE
        if outcome.busy:
            return _BUSY
        if outcome.sign_in and transaction.infno != SIGN_IN and not self._signed_in_again():
            return _SIGN_IN_AGAIN
        return _REFUSED

    def _signed_in_again(self) -> bool:
        return any(attempt.result == "sign_in" for attempt in self.history)

    def _spent(self, budget: Budget) -> str | None:
        if budget.attempts >= self.max_attempts:
            return f"{budget.attempts} of {self.max_attempts} attempts are used"
        if budget.elapsed >= self.deadline:
            return f"the {self.deadline:g} s deadline has passed"
        return None

    def _next_round(self, budget: Budget, why: str) -> RetryDecision:
        if budget.since_first >= self.resolution_deadline:
            return RetryDecision(
                True,
                True,
                f"undo not definite ({why}); the {self.resolution_deadline:g} s resolution "
                "deadline has passed",
                out_of_budget=True,
            )
        return RetryDecision(
            True,
            True,
            f"undo not definite ({why}): a new round with a new msgid",
            fresh_round=True,
            wait=self.delay(budget.rounds),
        )


@dataclass(frozen=True, slots=True)
class Budget:
    """What the current round of one call has used: the input of the stop rule.

    Attributes:
        attempts: attempts made in this round.
        elapsed: seconds since this round's first attempt started.
        since_first: seconds since the call's first attempt started.
        rounds: rounds begun so far (a sign-in resend or an undo round begins one).
    """

    attempts: int = 1
    elapsed: float = 0.0
    since_first: float = 0.0
    rounds: int = 1


@dataclass(frozen=True, slots=True)
class RetryDecision:
    """What follows an attempt, and why (the row of the module's table).

    Attributes:
        again: the table says the call may go again.
        new_msgid: the next attempt needs a fresh msgid (the platform saw the last one).
        reason: the row, in words; recorded in the history as the attempt's ``decision``.
        sign_in_again: sign in (9001) before the next attempt.
        fresh_round: the next attempt begins a new round (its own attempts and deadline).
        out_of_budget: the table says again, but the attempts or the time are used up.
        wait: seconds to wait before the next attempt.

    Example:
        >>> RetryDecision(True, False, "provably not sent").go
        True
        >>> RetryDecision(True, True, "busy", out_of_budget=True).go
        False
    """

    again: bool
    new_msgid: bool
    reason: str
    sign_in_again: bool = False
    fresh_round: bool = False
    out_of_budget: bool = False
    wait: float = 0.0

    @property
    def go(self) -> bool:
        """Whether another attempt is made."""
        return self.again and not self.out_of_budget


_SUCCEEDED: Final = RetryDecision(False, False, "succeeded")
_NOT_SENT: Final = RetryDecision(True, False, "provably not sent: the same message again")


def _repeat(transaction: Transaction) -> RetryDecision:
    reason = f"{transaction.infno} is safe to repeat: again with a new msgid"
    return RetryDecision(True, True, reason)


_UNKNOWN_WRITE: Final = RetryDecision(
    False, False, "unknown outcome of a write: resolution, not a resend"
)
_BUSY: Final = RetryDecision(True, True, "explicit busy answer: again with a new msgid")
_SIGN_IN_AGAIN: Final = RetryDecision(
    True,
    True,
    "sign-in missing or expired, so nothing was booked: sign in again, then once more with a "
    "new msgid",
    sign_in_again=True,
    fresh_round=True,
)
_REFUSED: Final = RetryDecision(False, False, "definite refusal")


Attempted = tuple[Outcome, int | None]
"""What one attempt yields: its outcome and the HTTP status of the answer, if one came."""


def retrying(
    policy: RetryPolicy,
    transaction: Transaction,
    attempt: Callable[[RetryDecision | None], Flow[Attempted]],
    *,
    undo: bool = False,
) -> Flow[Outcome]:
    """Run ``attempt(previous decision)`` until the policy says stop; the last outcome, with the
    whole history as its ``attempts``. The one retry loop of the SDK.

    ``attempt`` receives ``None`` first, then the :class:`RetryDecision` that sent it again
    (whether it needs a new msgid, whether to sign in first). tenacity runs the iteration: its
    ``retry`` predicate is the table's "again", ``stop`` the budget, ``wait`` the backoff, and
    its sleeps come back to this flow, which yields them as :class:`Sleep` to whichever driver
    runs it — so the sync and the async client share this loop. Running out of attempts or
    time is not an error: the last outcome stands.

    Example:
        >>> from nhsa.spec import contract
        >>> refused = NotSent("1101", "H53010100001202611231015300001", "ConnectError", ())
        >>> def attempt(previous):
        ...     return (refused, None)
        ...     yield
        >>> flow = retrying(RetryPolicy(max_attempts=3, backoff_initial=1, rng=lambda: 1.0),
        ...                 contract().transaction("1101"), attempt)
        >>> [next(flow), flow.send(None)]  # the sleeps between the three attempts
        [Sleep(seconds=1.0), Sleep(seconds=2.0)]
        >>> try:
        ...     flow.send(None)
        ... except StopIteration as finished:
        ...     [(a.number, a.decision) for a in finished.value.attempts][-1]
        (3, 'provably not sent: the same message again; but 3 of 3 attempts are used')
    """
    run = _Run(policy, transaction, undo)
    outcome = yield from run.try_once(attempt)
    if run.decision is None or not run.decision.go:
        return replace(outcome, attempts=run.policy.history)
    # Most calls end above, so tenacity is set up only for one that goes again; the attempt
    # already made is the first of its iteration.
    sleeps: list[float] = []
    loop = tenacity.Retrying(
        retry=tenacity.retry_if_result(lambda _: run.decision is not None and run.decision.again),
        stop=lambda _: run.decision is not None and run.decision.out_of_budget,
        wait=lambda _: run.decision.wait if run.decision is not None else 0.0,
        sleep=sleeps.append,
        # Out of budget is not an error (no tenacity.RetryError): the last outcome stands.
        retry_error_callback=lambda state: state.outcome.result() if state.outcome else None,
    )
    first = True
    for try_ in loop:
        if not first:
            if sleeps:
                yield Sleep(sleeps.pop())
            outcome = yield from run.try_once(attempt)
        first = False
        try_.retry_state.set_result(outcome)
    return replace(outcome, attempts=run.policy.history)


class _Run:
    """One run of the loop: the policy so far, the last decision, the clocks of its round."""

    def __init__(self, policy: RetryPolicy, transaction: Transaction, undo: bool) -> None:
        self.policy = policy
        self.transaction = transaction
        self.undo = undo
        self.decision: RetryDecision | None = None
        self.started = self.round_started = 0.0
        self.round_first = len(policy.history)
        self.rounds = 0

    def try_once(self, attempt: Callable[[RetryDecision | None], Flow[Attempted]]) -> Flow[Outcome]:
        """Make one attempt, decide what follows it and add it to the history."""
        start = time.monotonic()
        if self.decision is None or self.decision.fresh_round:
            if self.decision is None:
                self.started = start
            self.round_started = start
            self.round_first = len(self.policy.history)
            self.rounds += 1
        outcome, status_code = yield from attempt(self.decision)
        now = time.monotonic()
        number = len(self.policy.history) + 1
        budget = Budget(
            attempts=number - self.round_first,
            elapsed=now - self.round_started,
            since_first=now - self.started,
            rounds=self.rounds,
        )
        self.decision = self.policy.decide(outcome, self.transaction, budget, undo=self.undo)
        record = Attempt(
            number,
            outcome.msgid,
            _result(outcome),
            _detail(outcome),
            status_code,
            decision=self.decision.reason,
        )
        _log.info("%s attempt %s", self.transaction.infno, record)
        self.policy = self.policy.increment(record)
        return outcome


def _result(outcome: Outcome) -> AttemptResult:
    if isinstance(outcome, Rejected) and outcome.busy:
        return "busy"
    if isinstance(outcome, Rejected) and outcome.sign_in:
        return "sign_in"
    return outcome.kind


def _detail(outcome: Outcome) -> str:
    if isinstance(outcome, Succeeded):
        return "succeeded" + (f" (warn_msg: {outcome.warn_msg})" if outcome.warn_msg else "")
    if isinstance(outcome, Rejected):
        return f"rejected: infcode {outcome.infcode}: {redact(outcome.err_msg)}"
    if isinstance(outcome, NotSent):
        return f"not sent: {outcome.reason}"
    return f"unknown: {outcome.reason}"

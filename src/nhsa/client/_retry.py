"""When a call is sent again, and how long to wait: one immutable policy, one decision.

The national platform has no idempotency key, so repeating a state-changing message whose
outcome is unknown could book it twice. The decision below is therefore narrow, and it reads
what is safe from the contract (``safe_to_repeat`` of each transaction), never from a list in
code:

=====================================  =========  =========  =================================
last attempt                           retry?     msgid      why
=====================================  =========  =========  =================================
Succeeded                              no         —          done
Rejected, explicit busy answer         yes        new        definite "not now"; the platform
                                                             saw the old msgid, so reusing it
                                                             would be refused as a duplicate
Rejected, anything else                no         —          definite; sign-in refusals are
                                                             handled by the session, once
NotSent                                yes        same       it never arrived
Unknown, ``safe_to_repeat``            yes        new        repeating does no harm (queries,
                                                             sign-in, 2601)
Unknown, not ``safe_to_repeat``        no         —          goes to resolution (2601 / undo)
=====================================  =========  =========  =================================

Waiting follows Stripe: capped exponential backoff (``backoff_initial`` × 2ⁿ⁻¹, at most
``backoff_max``), jittered to 50–100 % of that, and never shorter than a ``Retry-After`` the
platform sent. ``max_attempts`` and an overall ``deadline`` bound the whole call. The loop is
tenacity's, run sans-IO: tenacity decides, the flow yields the sleep to its driver.

Example:
    >>> policy = RetryPolicy(max_attempts=3)
    >>> policy.replace(deadline=5.0).deadline, policy.deadline
    (5.0, 30.0)
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import tenacity
from tenacity.wait import wait_base

from nhsa.client._flow import Flow, Sleep
from nhsa.client._outcomes import NotSent, Outcome, Rejected, Unknown
from nhsa.client.errors import ClientConfigError
from nhsa.spec import Transaction


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try one logical call.

    Attributes:
        max_attempts: attempts per call, the first included. Repeating is only ever done
            where the table in this module's docstring allows it.
        backoff_initial: seconds before the second attempt (then doubling).
        backoff_max: cap on one wait, before jitter.
        deadline: seconds after the first attempt when no further attempt starts.
        resolution_deadline: seconds to keep trying to undo an unknown outcome (2601 is
            repeated with a new msgid until it gets a definite answer or this runs out;
            ``recover()`` picks up what is left).
        rng: source of jitter in [0, 1); injectable so tests can pin it.

    Example:
        >>> RetryPolicy().max_attempts
        4
    """

    max_attempts: int = 4
    backoff_initial: float = 0.5
    backoff_max: float = 5.0
    deadline: float = 30.0
    resolution_deadline: float = 120.0
    rng: Callable[[], float] = field(default=random.random, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ClientConfigError("retry.max_attempts must be at least 1")
        for name in ("backoff_initial", "backoff_max", "deadline", "resolution_deadline"):
            if getattr(self, name) < 0:
                raise ClientConfigError(f"retry.{name} must not be negative")

    def replace(self, **changes: Any) -> RetryPolicy:
        """A copy with some settings changed (the policy itself never changes)."""
        return replace(self, **changes)

    def delay(self, attempt_number: int, retry_after: float | None = None) -> float:
        """Seconds to wait after attempt ``attempt_number`` failed.

        Example:
            >>> RetryPolicy(backoff_initial=1, backoff_max=4, rng=lambda: 1.0).delay(5)
            4.0
        """
        base = min(self.backoff_max, self.backoff_initial * 2.0 ** max(attempt_number - 1, 0))
        jittered = base * (0.5 + 0.5 * self.rng())
        return max(jittered, retry_after or 0.0)


@dataclass(frozen=True, slots=True)
class RetryDecision:
    """Whether to try again, and whether the next attempt needs a fresh msgid.

    Example:
        >>> RetryDecision(True, False, "not sent").new_msgid
        False
    """

    retry: bool
    new_msgid: bool
    reason: str


def decide(outcome: Outcome, transaction: Transaction) -> RetryDecision:
    """The one place that decides whether a call is sent again (see the module's table).

    Example:
        >>> from nhsa.spec import contract
        >>> from nhsa.client._outcomes import Unknown
        >>> decide(Unknown("2207", "m", "ReadTimeout", ()), contract().transaction("2207")).retry
        False
    """
    if isinstance(outcome, NotSent):
        return RetryDecision(True, False, "provably not sent: the same message may go again")
    if isinstance(outcome, Rejected):
        if outcome.busy:
            return RetryDecision(True, True, "explicit busy answer: try later with a new msgid")
        return RetryDecision(False, False, "definite refusal")
    if isinstance(outcome, Unknown):
        if transaction.safe_to_repeat:
            return RetryDecision(True, True, f"{transaction.infno} is safe to repeat")
        return RetryDecision(False, False, "unknown outcome of a write: resolution, not a resend")
    return RetryDecision(False, False, "succeeded")


class _Backoff(wait_base):
    """tenacity wait strategy that applies :meth:`RetryPolicy.delay` and ``Retry-After``."""

    def __init__(self, policy: RetryPolicy) -> None:
        self._policy = policy

    def __call__(self, retry_state: tenacity.RetryCallState) -> float:
        last = retry_state.outcome.result() if retry_state.outcome is not None else None
        hint = last.retry_after if isinstance(last, Rejected) else None
        return self._policy.delay(retry_state.attempt_number, hint)


def with_retries(
    policy: RetryPolicy,
    transaction: Transaction,
    attempt: Callable[[bool], Flow[Outcome]],
) -> Flow[Outcome]:
    """Run ``attempt(new_msgid)`` until :func:`decide` says stop or the budget runs out.

    tenacity keeps the count, the clock and the waits; this flow yields each wait as a
    :class:`Sleep` so the same loop serves the sync and the async client. Most calls need one
    attempt, so tenacity is only set up once the first outcome asks for a retry; that outcome
    then answers tenacity's first attempt, and its clock starts from before it.
    """
    started = time.monotonic()
    first = yield from attempt(False)
    if not decide(first, transaction).retry:
        return first
    retrying = tenacity.Retrying(
        stop=tenacity.stop_after_attempt(policy.max_attempts)
        | tenacity.stop_after_delay(policy.deadline),
        wait=_Backoff(policy),
        retry=tenacity.retry_if_result(lambda result: decide(result, transaction).retry),
        retry_error_callback=_last_result,
    )
    retrying.begin()
    state = tenacity.RetryCallState(retrying, fn=None, args=(), kwargs={})
    state.start_time = started
    made: Outcome | None = first
    new_msgid = False
    while True:
        action = retrying.iter(state)
        if isinstance(action, tenacity.DoAttempt):
            outcome = made if made is not None else (yield from attempt(new_msgid))
            made = None
            state.set_result(outcome)
            new_msgid = decide(outcome, transaction).new_msgid
        elif isinstance(action, tenacity.DoSleep):
            state.prepare_for_next_attempt()
            yield Sleep(float(action))
        else:
            return action  # type: ignore[no-any-return]


def _last_result(state: tenacity.RetryCallState) -> Outcome:
    # Out of attempts or time: the last outcome stands (never a tenacity.RetryError).
    assert state.outcome is not None
    return state.outcome.result()  # type: ignore[no-any-return]

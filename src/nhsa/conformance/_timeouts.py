"""Per-step timeouts: run a driver call in a worker thread and stop waiting when time is up.

A driver call cannot be interrupted safely from outside (it may be inside an HTTP request or a
SQLite transaction), so the runner stops *waiting*: the call goes on in a daemon thread whose
result is discarded, the step is reported as timed out, and the scenario's remaining steps
are skipped with that reason (the HIS's state is unknown). Daemon threads never keep the
process alive at exit.

Example:
    >>> call_with_timeout(lambda: 41 + 1, 1.0)
    42
    >>> import time
    >>> call_with_timeout(lambda: time.sleep(1), 0.01)
    Traceback (most recent call last):
    nhsa.conformance._timeouts.StepTimeoutError: no answer within 0.01 s
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Generic, TypeVar

__all__ = ["StepTimeoutError", "call_with_timeout"]

_T = TypeVar("_T")


class StepTimeoutError(TimeoutError):
    """The call did not finish within the step timeout.

    Example:
        >>> str(StepTimeoutError(2.5))
        'no answer within 2.5 s'
    """

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        super().__init__(f"no answer within {seconds:g} s")


class _Outcome(Generic[_T]):
    def __init__(self) -> None:
        self.value: _T | None = None
        self.error: BaseException | None = None


def call_with_timeout(call: Callable[[], _T], seconds: float) -> _T:
    """``call()``'s value, its exception re-raised, or StepTimeoutError after ``seconds``.

    Example:
        >>> call_with_timeout(lambda: "done", 5)
        'done'
    """
    outcome: _Outcome[_T] = _Outcome()

    def target() -> None:
        try:
            outcome.value = call()
        except BaseException as exc:  # handed to the waiting thread, which re-raises it
            outcome.error = exc

    worker = threading.Thread(target=target, name="nhsa-conformance-step", daemon=True)
    worker.start()
    worker.join(seconds)
    if worker.is_alive():
        raise StepTimeoutError(seconds)
    if outcome.error is not None:
        raise outcome.error
    return outcome.value  # type: ignore[return-value]  # set when the call returned

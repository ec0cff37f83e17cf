"""From an outcome to a value or an error: the single mapping of outcomes onto the error tree.

Example:
    >>> from nhsa.client._outcomes import Rejected
    >>> error_for(Rejected("2202", "H53010100001202611231015300001", -1, "就诊信息不存在", ()))
    BusinessError('2202 refused by the platform (infcode -1): 就诊信息不存在')
"""

from __future__ import annotations

from typing import Any, TypeVar

from nhsa.client._outcomes import NotSent, Outcome, Rejected, Succeeded
from nhsa.client.errors import (
    BusinessError,
    NhsaClientError,
    NotSentError,
    OutcomeUnknownError,
    UnusableAnswerError,
)

E = TypeVar("E", bound=BusinessError)


def error_for(outcome: Outcome) -> NhsaClientError:
    """The error that stands for a failed outcome (a transport failure never becomes a
    :class:`~nhsa.client.errors.BusinessError`)."""
    attempts = len(outcome.attempts)
    if isinstance(outcome, Rejected):
        return refusal_error(
            outcome,
            f"{outcome.infno} refused by the platform (infcode {outcome.infcode}): "
            f"{outcome.err_msg}",
            BusinessError,
        )
    if isinstance(outcome, NotSent):
        return NotSentError(
            f"{outcome.infno} was not sent after {attempts} attempt(s): {outcome.reason}",
            infno=outcome.infno,
            msgid=outcome.msgid,
            attempts=attempts,
            outcome=outcome,
        )
    if isinstance(outcome, Succeeded):
        if outcome.usable:
            raise TypeError("a usable succeeded outcome is not an error")
        return UnusableAnswerError(
            f"{outcome.infno} {outcome.msgid} succeeded (definite: nothing is undone), but "
            "its answer cannot be used: " + "; ".join(map(str, outcome.unusable)),
            infno=outcome.infno,
            msgid=outcome.msgid,
            attempts=attempts,
            outcome=outcome,
        )
    resolution = outcome.resolution
    done = f"; {type(resolution).__name__}" if resolution is not None else ""
    return OutcomeUnknownError(
        f"{outcome.infno} {outcome.msgid}: outcome unknown ({outcome.reason}){done}",
        resolution=resolution,
        infno=outcome.infno,
        msgid=outcome.msgid,
        attempts=attempts,
        body=outcome.body,
        outcome=outcome,
    )


def refusal_error(outcome: Rejected, message: str, kind: type[E]) -> E:
    """An error of ``kind`` (:class:`~nhsa.client.errors.BusinessError` or a subclass) carrying the
    refusal's infno, msgid, infcode, err_msg, attempts and body.

    Example:
        >>> from nhsa.client.errors import SignInError
        >>> refused = Rejected("9001", "H53010100001202611231015300001", -1, "非法用户", ())
        >>> refusal_error(refused, "sign-in refused", SignInError).err_msg
        '非法用户'
    """
    return kind(
        message,
        infno=outcome.infno,
        msgid=outcome.msgid,
        infcode=outcome.infcode,
        err_msg=outcome.err_msg,
        attempts=len(outcome.attempts),
        body=outcome.body,
        outcome=outcome,
    )


def unwrap(outcome: Outcome) -> Any:
    """The output of a usable succeeded outcome; otherwise raise :func:`error_for` of it.

    Example:
        >>> unwrap(NotSent("1101", "H53010100001202611231015300001", "ConnectError", ()))
        Traceback (most recent call last):
        ...
        nhsa.client.errors.NotSentError: 1101 was not sent after 0 attempt(s): ConnectError
    """
    if isinstance(outcome, Succeeded) and outcome.usable:
        return outcome.output
    raise error_for(outcome)

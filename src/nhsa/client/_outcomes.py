"""What became of a call: exactly one of four outcomes, and what was done about an unknown one.

Every call the SDK makes ends in one of:

- :class:`Succeeded` — the platform answered ``infcode`` 0 and the answer was trustworthy
  (signature verified, an answer to this transaction). Definite, whatever its shape: what did
  not match the contract is in :attr:`Succeeded.warnings`, and a success lacking a member the
  SDK needs to act on is still a success, with :attr:`Succeeded.unusable` saying what is missing;
- :class:`Rejected` — a definite refusal: ``infcode`` ≠ 0, a gateway refusal, or HTTP 429.
  Nothing was booked;
- :class:`NotSent` — the request provably never left this machine (DNS, connect, pool);
- :class:`Unknown` — it was sent and no trustworthy answer came back (read timeout, reset after
  sending, HTTP 5xx, garbled or badly signed answer). The platform may or may not have booked it.

An :class:`Unknown` of a state-changing call is handed to resolution, whose verdict rides on the
outcome as :attr:`Unknown.resolution`: :class:`Reversed`, :class:`Held`,
:class:`NeedsManualDecision` or :class:`StillPending`.

Example:
    >>> outcome = NotSent("2207", "H53010100001202611231015300001", "connect refused", ())
    >>> (outcome.kind, outcome.definite)
    ('not_sent', True)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Generic, Literal, TypeVar

from nhsa.client._load_bearing import Shortfall
from nhsa.envelope import AnswerWarning

OutT = TypeVar("OutT")

AttemptResult = Literal["succeeded", "rejected", "busy", "not_sent", "unknown"]


@dataclass(frozen=True, slots=True)
class Attempt:
    """One try of a call: which msgid went out and what came of it.

    Example:
        >>> Attempt(1, "H53010100001202611231015300001", "not_sent", "ConnectError").number
        1
    """

    number: int
    msgid: str
    result: AttemptResult
    detail: str
    status_code: int | None = None


@dataclass(frozen=True, slots=True)
class Reversed:
    """The unknown call is now certainly without effect: it was undone (or never arrived).

    Attributes:
        by_infno: ``"2601"`` (冲正) or the business cancel that undid it (e.g. ``"2205"``).
        msgid: msgid of the call that undid it.
        original_found: for 2601, whether the platform had booked the original (``False``
            when it answered "original not found": the request never arrived); ``None``
            when the answer does not say.
        note: the platform's note (warn_msg), if any.

    Example:
        >>> Reversed("2601", "H53010100001202611231015300002", True).by_infno
        '2601'
    """

    by_infno: str
    msgid: str
    original_found: bool | None
    note: str | None = None


@dataclass(frozen=True, slots=True)
class Held:
    """Left for the cashier to decide (``WindowMode(on_unknown="hold")``); nothing was undone.

    Example:
        >>> Held("window policy: hold unknown outcomes").reason
        'window policy: hold unknown outcomes'
    """

    reason: str


@dataclass(frozen=True, slots=True)
class NeedsManualDecision:
    """The SDK cannot close this automatically; a person must look (the reason says where).

    Example:
        >>> NeedsManualDecision("2201 has no automatic undo").err_msg is None
        True
    """

    reason: str
    err_msg: str | None = None


@dataclass(frozen=True, slots=True)
class StillPending:
    """Undoing was started but the platform could not be reached in time; ``recover()``
    finishes it (the journal entry stays in ``reversing``).

    Example:
        >>> StillPending("2601 not answered within 120 s").reason
        '2601 not answered within 120 s'
    """

    reason: str


Resolution = Reversed | Held | NeedsManualDecision | StillPending


@dataclass(frozen=True, slots=True)
class Succeeded(Generic[OutT]):
    """``infcode`` 0 with a trustworthy answer.

    Attributes:
        output: the typed output (a model from :mod:`nhsa.models`, or ``bytes`` for 9102).
        warn_msg: the platform's warning, if any (2601 uses it for "original not found").
        warnings: what was tolerated while reading the answer, one
            :class:`~nhsa.envelope.AnswerWarning` per member that departs from the contract.
        unusable: the load-bearing members the answer lacks (empty when the SDK can act on
            it); see :data:`nhsa.client.LOAD_BEARING`.

    Example:
        >>> done = Succeeded("9001", "H53010100001202611231015300001", None, ())
        >>> done.kind, done.usable
        ('succeeded', True)
    """

    infno: str
    msgid: str
    output: OutT
    attempts: tuple[Attempt, ...]
    warn_msg: str | None = None
    warnings: tuple[AnswerWarning, ...] = ()
    unusable: tuple[Shortfall, ...] = ()

    @property
    def kind(self) -> Literal["succeeded"]:
        """The outcome's name."""
        return "succeeded"

    @property
    def usable(self) -> bool:
        """Whether the answer carries every member the SDK needs to act on it."""
        return not self.unusable

    @property
    def definite(self) -> bool:
        """True: the outcome is known."""
        return True


@dataclass(frozen=True, slots=True)
class Rejected:
    """A definite refusal; the platform booked nothing.

    Attributes:
        infcode: the answer's infcode (``None`` for a refusal without an envelope, e.g. 429).
        err_msg: the refusal's text.
        busy: an explicit "busy, try later" answer (retried automatically).
        sign_in: the refusal says the sign-in is missing or expired.
        downtime: the refusal says the insured place is down (停机).
        retry_after: seconds the platform asked us to wait, if it said.
        body: the answer's body, redacted.

    Example:
        >>> Rejected("2202", "H53010100001202611231015300001", -1, "no visit", ()).definite
        True
    """

    infno: str
    msgid: str
    infcode: int | None
    err_msg: str
    attempts: tuple[Attempt, ...]
    status_code: int | None = None
    busy: bool = False
    sign_in: bool = False
    downtime: bool = False
    retry_after: float | None = None
    body: str = ""

    @property
    def kind(self) -> Literal["rejected"]:
        """The outcome's name."""
        return "rejected"

    @property
    def definite(self) -> bool:
        """True: the outcome is known."""
        return True


@dataclass(frozen=True, slots=True)
class NotSent:
    """The request provably never left (DNS, connect or pool failure).

    Example:
        >>> NotSent("1101", "H53010100001202611231015300001", "ConnectError", ()).reason
        'ConnectError'
    """

    infno: str
    msgid: str
    reason: str
    attempts: tuple[Attempt, ...]

    @property
    def kind(self) -> Literal["not_sent"]:
        """The outcome's name."""
        return "not_sent"

    @property
    def definite(self) -> bool:
        """True: nothing reached the platform."""
        return True


@dataclass(frozen=True, slots=True)
class Unknown:
    """Sent, and no trustworthy answer: the platform may or may not have booked it.

    Attributes:
        reason: why the answer cannot be trusted (``ReadTimeout``, ``HTTP 502``, …).
        resolution: what was done about it (``None`` for calls that are safe to repeat or
            when resolution was not asked for).
        body: the untrusted answer's body, redacted (empty when nothing came back).

    Example:
        >>> Unknown("2207", "H53010100001202611231015300001", "ReadTimeout", ()).definite
        False
    """

    infno: str
    msgid: str
    reason: str
    attempts: tuple[Attempt, ...]
    resolution: Resolution | None = None
    body: str = ""

    @property
    def kind(self) -> Literal["unknown"]:
        """The outcome's name."""
        return "unknown"

    @property
    def definite(self) -> bool:
        """False: the platform may or may not have booked it."""
        return False


Outcome = Succeeded[Any] | Rejected | NotSent | Unknown
"""The four ways a call can end."""

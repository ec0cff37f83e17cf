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

from dataclasses import dataclass, fields
from typing import Any, Generic, Literal, TypeVar

from nhsa.client._load_bearing import Shortfall
from nhsa.envelope import AnswerWarning
from nhsa.redaction import redact

OutT = TypeVar("OutT")

AttemptResult = Literal["succeeded", "rejected", "busy", "sign_in", "not_sent", "unknown"]
"""How one attempt ended; ``busy`` and ``sign_in`` are refusals the retry policy acts on."""


@dataclass(frozen=True, slots=True)
class Attempt:
    """One try of a call, as the retry policy's history records it.

    Attributes:
        number: 1 for the first attempt of the call, counting on through every retry.
        msgid: the msgid that went out.
        result: how it ended.
        detail: what came back, in words (personal data masked).
        status_code: the HTTP status of the answer, when one came.
        decision: what the policy did next, and why (a row of :mod:`nhsa.client._retry`).

    Example:
        An outcome's ``attempts`` (and an error's ``history``) read as a support desk needs:

        >>> busy = Attempt(1, "H53010100001202611231015300001", "busy",
        ...                "rejected: infcode -1: 系统繁忙", 200,
        ...                "explicit busy answer: again with a new msgid")
        >>> print(busy)  # doctest: +NORMALIZE_WHITESPACE
        #1 H53010100001202611231015300001 busy (HTTP 200): rejected: infcode -1: 系统繁忙
        → explicit busy answer: again with a new msgid
    """

    number: int
    msgid: str
    result: AttemptResult
    detail: str
    status_code: int | None = None
    decision: str = ""

    def __str__(self) -> str:
        status = f" (HTTP {self.status_code})" if self.status_code is not None else ""
        then = f" → {self.decision}" if self.decision else ""
        return f"#{self.number} {self.msgid} {self.result}{status}: {self.detail}{then}"


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
        A settlement whose answer the platform withholds after booking it:

        >>> from nhsa.client import OutcomeUnknownError
        >>> visit = client.register(card, insutype="310", clinic=clinic)
        >>> fault = mock.arm_fault("H53010100001", "commit-then-drop", infno="2207")
        >>> try:
        ...     client.charge(visit, fees, diagnoses=diagnoses)
        ... except OutcomeUnknownError as error:
        ...     reversed_ = error.resolution
        >>> (reversed_.by_infno, reversed_.original_found)  # it had been booked, and is undone
        ('2601', True)
    """

    by_infno: str
    msgid: str
    original_found: bool | None
    note: str | None = None


@dataclass(frozen=True, slots=True)
class Held:
    """Left for the cashier to decide (``WindowMode(on_unknown="hold")``); nothing was undone.

    Example:
        >>> from nhsa.client import Client, OutcomeUnknownError, WindowMode
        >>> with Client(config, WindowMode("C0001", "收费员甲", on_unknown="hold"),
        ...             transport=mock.transport) as cashier:
        ...     visit = cashier.register(card, insutype="310", clinic=clinic)
        ...     fault = mock.arm_fault("H53010100001", "commit-then-drop", infno="2207")
        ...     try:
        ...         cashier.charge(visit, fees, diagnoses=diagnoses)
        ...     except OutcomeUnknownError as error:
        ...         print(error.resolution.reason, cashier.journal.get(error.msgid).state)
        held for the cashier's decision (WindowMode on_unknown='hold') held
    """

    reason: str


@dataclass(frozen=True, slots=True)
class NeedsManualDecision:
    """The SDK cannot close this automatically; a person must look (the reason says where).

    Example:
        A registration whose answer is lost: cancelling it (2202) needs the visit id that only
        the lost answer carried.

        >>> from nhsa.client import OutcomeUnknownError
        >>> fault = mock.arm_fault("H53010100001", "commit-then-drop", infno="2201")
        >>> try:
        ...     client.register(card, insutype="310", clinic=clinic)
        ... except OutcomeUnknownError as error:
        ...     print(error.resolution.reason.split(";")[0])
        2201 has no automatic undo (2202 needs identifiers only the lost answer carried)
    """

    reason: str
    err_msg: str | None = None


@dataclass(frozen=True, slots=True)
class StillPending:
    """Undoing was started but the platform could not be reached in time; ``recover()``
    finishes it (the journal entry stays in ``reversing``).

    Example:
        A settlement and then every 2601 of its round lost (``config`` gives the reversal no
        time beyond one round):

        >>> from nhsa.client import OutcomeUnknownError
        >>> visit = client.register(card, insutype="310", clinic=clinic)
        >>> lost = mock.arm_fault("H53010100001", "commit-then-drop", infno="2207")
        >>> lost = mock.arm_fault("H53010100001", "commit-then-drop", infno="2601", times=4)
        >>> try:
        ...     client.charge(visit, fees, diagnoses=diagnoses)
        ... except OutcomeUnknownError as error:
        ...     pending, msgid = error.resolution, error.msgid
        >>> pending.reason.split(":")[0], client.journal.get(msgid).state
        ('2601 not definite after 4 attempt(s)', 'reversing')
        >>> [entry.resolution.by_infno for entry in client.recover().resolved]  # later
        ['2601']
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
        >>> from nhsa.models import Input9001, Input9001SignIn
        >>> sign_in = Input9001(signIn=Input9001SignIn(opter_no="C0001", ip="10.0.0.8"))
        >>> outcome = client.call("9001", sign_in)
        >>> (outcome.kind, outcome.definite, type(outcome.output).__name__, outcome.warn_msg)
        ('succeeded', True, 'Output9001', None)
        >>> outcome.usable, outcome.warnings
        (True, ())
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


@dataclass(frozen=True, slots=True, repr=False)
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
        >>> from nhsa.models import Input2202, Input2202Data
        >>> cancel = Input2202(data=Input2202Data(psn_no="P53010000000001", mdtrt_id="0",
        ...                                       ipt_otp_no="MZ0"))
        >>> outcome = client.call("2202", cancel, insuplc_admdvs="530100")
        >>> (outcome.infcode, outcome.busy, outcome.sign_in, outcome.err_msg[:7])
        (-1, False, False, '就诊信息不存在')
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

    def __repr__(self) -> str:
        # err_msg is the platform's free text: it may name the patient or carry an ID number.
        shown = ", ".join(
            f"{item.name}={redact({item.name: getattr(self, item.name)})[item.name]!r}"
            for item in fields(self)
        )
        return f"Rejected({shown})"

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
        A platform nobody can connect to: the same message is tried ``max_attempts`` times.

        >>> import httpx
        >>> from nhsa.client import Client
        >>> from nhsa.models import Input9001, Input9001SignIn
        >>> def refuse(request):
        ...     raise httpx.ConnectError("connection refused", request=request)
        >>> with Client(config, window, transport=httpx.MockTransport(refuse)) as offline:
        ...     outcome = offline.call("9001", Input9001(signIn=Input9001SignIn(opter_no="C0001",
        ...                                                                    ip="10.0.0.8")))
        >>> (outcome.kind, len(outcome.attempts), len({a.msgid for a in outcome.attempts}))
        ('not_sent', 4, 1)
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
        A gateway that answers 503: sign-in is safe to repeat, so it went four times, each
        under a new msgid, and there is nothing to undo.

        >>> import httpx
        >>> from nhsa.client import Client
        >>> from nhsa.models import Input9001, Input9001SignIn
        >>> down = httpx.MockTransport(lambda request: httpx.Response(503))
        >>> with Client(config, window, transport=down) as offline:
        ...     outcome = offline.call("9001", Input9001(signIn=Input9001SignIn(opter_no="C0001",
        ...                                                                    ip="10.0.0.8")))
        >>> (outcome.definite, outcome.reason, outcome.resolution)
        (False, 'HTTP 503', None)
        >>> len({attempt.msgid for attempt in outcome.attempts})
        4
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

"""Every way an SDK call can fail, as one small tree.

::

    NhsaClientError       .infno .msgid .infcode .err_msg .attempts .history .body .patient_message
    ├── InvalidInputError          refused before anything was sent; .field .rule  (also ValueError)
    │   └── ForbiddenCertificateError   a kiosk asked to accept a certificate type it must not
    ├── ClientConfigError          a configuration that cannot work                (also ValueError)
    ├── VisitBusyError             another charge or refund of this visit is in flight (double tap)
    ├── AlreadySettledError        the journal holds a live settlement of this visit
    ├── VisitNotInJournalError     the visit was not registered (or adopted) in this journal
    ├── InsuredPlaceOffline        the insured place is down (停机); .area .until
    ├── NotSentError               the request provably never left; retries ran out
    ├── OutcomeUnknownError        sent, no trustworthy answer; .resolution says what was done
    ├── BusinessError              the platform refused (infcode ≠ 0): definite, nothing booked
    │   └── SignInError            sign-in (9001) refused, or still refused after signing in again
    ├── UnusableAnswerError        a definite success lacking what the SDK needs; .shortfalls
    ├── SettlementMismatchError    the settlement differs from the pre-settlement; .differences
    └── JournalError               the local journal could not be written; nothing was sent

A transport failure is never turned into a :class:`BusinessError`: only a real answer from the
platform with ``infcode`` ≠ 0 is one. Every error carries the transaction (``infno``), the
``msgid`` that went out, the platform's ``infcode`` and ``err_msg`` when it answered (masked
as :func:`nhsa.redaction.redact` masks a log line: ID numbers, and names it knows; the
outcome behind the error keeps the answer as sent), how many
attempts were made and, in ``history``, what the retry policy did after each, the answer's
body with personal data masked (:func:`nhsa.redaction.redact`), and a bilingual
:attr:`~NhsaClientError.patient_message` a kiosk can show as is.

Example:
    One ``except`` for everything the SDK refuses or fails at, with the facts to act on:

    >>> from decimal import Decimal
    >>> from nhsa.client import FeeLine
    >>> try:
    ...     FeeLine("110200001000000", "HIS-ZC-0001", cnt=1, pric=25.1)
    ... except NhsaClientError as error:
    ...     print(type(error).__name__, error.field, error.rule, error.attempts)
    InvalidInputError pric decimal 0
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from nhsa.client._load_bearing import Shortfall
from nhsa.client._outcomes import Attempt, Held, Outcome, Resolution, Reversed, Succeeded
from nhsa.redaction import redact

__all__ = [
    "AlreadySettledError",
    "BusinessError",
    "ClientConfigError",
    "ForbiddenCertificateError",
    "InsuredPlaceOffline",
    "InvalidInputError",
    "JournalError",
    "NhsaClientError",
    "NotSentError",
    "OutcomeUnknownError",
    "PatientMessage",
    "SettlementMismatchError",
    "SignInError",
    "UnusableAnswerError",
    "VisitBusyError",
    "VisitNotInJournalError",
]


@dataclass(frozen=True, slots=True)
class PatientMessage:
    """What to tell the patient, in Chinese and English.

    Example:
        >>> print(AlreadySettledError("visit 3000000000002 is already settled").patient_message)
        本次就诊已缴费。 / This visit has already been paid.
    """

    zh: str
    en: str

    def __str__(self) -> str:
        return f"{self.zh} / {self.en}"


_SEE_WINDOW = PatientMessage(
    "暂时无法办理，请到人工窗口。",
    "This cannot be done here right now; please go to a staffed window.",
)


class NhsaClientError(Exception):
    """Base of every error the SDK raises.

    Attributes:
        infno: the transaction concerned, if any.
        msgid: the msgid that went out last, if any.
        infcode: the platform's infcode when it answered, else ``None``.
        err_msg: the platform's error text when it answered, else ``None``.
        attempts: how many attempts were made (0 when nothing was sent).
        body: the answer's body with personal data masked ("" when there was none).
        outcome: the outcome behind the error, when a call was made.
        history: every attempt of that call and what the retry policy did after it
            (:class:`~nhsa.client.Attempt`; empty when nothing was sent).

    Example:
        A refusal by the platform, as a support desk reads it:

        >>> from nhsa.models import Input2202, Input2202Data
        >>> cancel = Input2202(data=Input2202Data(psn_no="P53010000000001", mdtrt_id="0",
        ...                                       ipt_otp_no="MZ0"))
        >>> try:
        ...     client.cancel_outpatient_registration(cancel, insuplc_admdvs="530100")
        ... except NhsaClientError as error:
        ...     print(type(error).__name__, error.infno, error.infcode, error.attempts)
        ...     print(error.msgid == error.history[-1].msgid, error.history[-1].decision)
        BusinessError 2202 -1 1
        True definite refusal
    """

    def __init__(
        self,
        message: str,
        *,
        infno: str | None = None,
        msgid: str | None = None,
        infcode: int | None = None,
        err_msg: str | None = None,
        attempts: int = 0,
        body: str = "",
        outcome: Outcome | None = None,
    ) -> None:
        if err_msg is not None:
            # The platform's free text may name the patient and carry an ID number: what the
            # error shows of it (str, repr, a traceback, a log) is masked like a log line.
            shown = redact(err_msg)
            message, err_msg = message.replace(err_msg, shown), shown
        super().__init__(message)
        self.message = message
        self.infno = infno
        self.msgid = msgid
        self.infcode = infcode
        self.err_msg = err_msg
        self.attempts = attempts
        self.body = body
        self.outcome = outcome

    @property
    def history(self) -> tuple[Attempt, ...]:
        """The retry policy's history of the call behind this error."""
        return self.outcome.attempts if self.outcome is not None else ()

    @property
    def patient_message(self) -> PatientMessage:
        """A sentence for the patient (kiosk screen or cashier), Chinese and English."""
        return _SEE_WINDOW


class InvalidInputError(NhsaClientError, ValueError):
    """Bad input, refused before anything was sent.

    Attributes:
        field: the offending field (a wire name like ``mdtrt_cert_no`` or a JSON pointer).
        rule: the rule it broke (``gb11643-check-digit``, ``decimal``, ``maxItems``, …).

    Example:
        >>> from nhsa.client import Certificate
        >>> try:
        ...     Certificate.id_card("530102198503150019")
        ... except InvalidInputError as error:
        ...     print(error.field, error.rule, isinstance(error, ValueError))
        mdtrt_cert_no gb11643-check-digit True
    """

    def __init__(self, message: str, *, field: str, rule: str, infno: str | None = None) -> None:
        super().__init__(message, infno=infno)
        self.field = field
        self.rule = rule

    @property
    def patient_message(self) -> PatientMessage:
        """The input needs correcting before anything can be done."""
        return PatientMessage(
            "信息有误，请核对后重试或到人工窗口。",
            "Some details are wrong; please check them or go to a staffed window.",
        )


class ForbiddenCertificateError(InvalidInputError):
    """A kiosk was asked to accept a certificate type it must not (only 01 and 03 at a kiosk).

    Example:
        >>> ForbiddenCertificateError("02 not accepted", field="mdtrt_cert_type",
        ...                           rule="kiosk-certificates").patient_message.en
        'Please use the medical-insurance e-voucher or your social-security card here.'
    """

    @property
    def patient_message(self) -> PatientMessage:
        """Which certificates the kiosk takes."""
        return PatientMessage(
            "本机仅支持医保电子凭证或社会保障卡，请更换或到人工窗口。",
            "Please use the medical-insurance e-voucher or your social-security card here.",
        )


class ClientConfigError(NhsaClientError, ValueError):
    """A configuration that cannot work (missing keys for the profile, bad URL, …).

    Example:
        >>> from nhsa.client import ClientConfig
        >>> ClientConfig("H53010100001", "医院", "530100", journal_path=":memory:", profile="sm2")
        Traceback (most recent call last):
        ...
        nhsa.client.errors.ClientConfigError: signing profile sm2: signing profile sm2 \
(verify=require) needs private_key
    """


class VisitBusyError(NhsaClientError):
    """Another charge or refund of the same visit is in flight (a kiosk double tap, or a second
    window); the second one is refused before anything is sent.

    Example:
        >>> VisitBusyError("visit 530100000000001001 is being charged").patient_message.en
        'This visit is already being paid; please wait for the first payment to finish.'
    """

    @property
    def patient_message(self) -> PatientMessage:
        """Wait for the first payment."""
        return PatientMessage(
            "本次就诊正在缴费中，请勿重复操作。",
            "This visit is already being paid; please wait for the first payment to finish.",
        )


class AlreadySettledError(NhsaClientError):
    """The journal holds a live (not refunded) settlement of this visit: charging again would
    charge twice.

    Example:
        >>> AlreadySettledError("visit already settled").patient_message.en
        'This visit has already been paid.'
    """

    @property
    def patient_message(self) -> PatientMessage:
        """Already paid."""
        return PatientMessage("本次就诊已缴费。", "This visit has already been paid.")


class VisitNotInJournalError(NhsaClientError):
    """The visit was not registered (2201) or adopted in this client's journal, so this client
    cannot guard it: a window on another journal may be charging it at the same moment.

    The visit guard is a row in the journal; it holds for every client of that journal and no
    other. Charge a visit where it was registered, let every window share one journal (one file
    on one machine, ``journal_url="postgresql://…"`` across machines), or take a visit registered
    outside the SDK in with :meth:`~nhsa.client.Client.adopt_visit`.

    Example:
        >>> VisitNotInJournalError("visit 3000000000009 is not in this journal").patient_message.en
        'This cannot be done here right now; please go to a staffed window.'
    """


class InsuredPlaceOffline(NhsaClientError):  # noqa: N818 - the name the design fixed
    """The patient's insured place (参保地) is down; calls for it fail fast until ``until``.

    Attributes:
        area: the insured area code (insuplc_admdvs).
        until: when to come back (China time), if known.

    Example:
        >>> from datetime import datetime
        >>> error = InsuredPlaceOffline("440300", datetime(2026, 11, 23, 18, 0))
        >>> str(error)
        'insured place 440300 is offline until 2026-11-23 18:00; come back after that'
    """

    def __init__(
        self, area: str, until: datetime | None, *, reason: str = "", infno: str | None = None
    ) -> None:
        when = until.strftime("%Y-%m-%d %H:%M") if until else None
        text = f"insured place {area} is offline"
        text += f" until {when}; come back after that" if when else "; try again later"
        if reason:
            text += f" ({reason})"
        super().__init__(text, infno=infno)
        self.area = area
        self.until = until

    @property
    def patient_message(self) -> PatientMessage:
        """When to come back."""
        if self.until is None:
            return PatientMessage(
                "参保地医保系统停机维护，请稍后再来办理。",
                "Your insured place's system is down for maintenance; please come back later.",
            )
        when = self.until.strftime("%Y-%m-%d %H:%M")
        return PatientMessage(
            f"参保地医保系统停机维护，请于{when}后再来办理。",
            f"Your insured place's system is down for maintenance; please come back after {when}.",
        )


class NotSentError(NhsaClientError):
    """The request provably never left this machine and retries ran out: nothing happened.

    Example:
        >>> import httpx
        >>> from nhsa.client import Client
        >>> def refuse(request):
        ...     raise httpx.ConnectError("connection refused", request=request)
        >>> with Client(config, window, transport=httpx.MockTransport(refuse)) as offline:
        ...     try:
        ...         offline.sign_in()
        ...     except NotSentError as error:
        ...         print(error.infno, error.attempts, len({a.msgid for a in error.history}))
        9001 4 1
    """

    @property
    def patient_message(self) -> PatientMessage:
        """Nothing happened; try again."""
        return PatientMessage(
            "网络暂时不通，未办理任何业务，请稍后重试。",
            "The network is unavailable; nothing was done. Please try again shortly.",
        )


class OutcomeUnknownError(NhsaClientError):
    """The call was sent and no trustworthy answer came back.

    Attributes:
        resolution: what the SDK did about it — :class:`~nhsa.client.Reversed` (the call is
            certainly without effect), :class:`~nhsa.client.Held` (left for the cashier),
            :class:`~nhsa.client.NeedsManualDecision` or :class:`~nhsa.client.StillPending`
            (``recover()`` will finish undoing it).

    Example:
        >>> from nhsa.client import Reversed
        >>> error = OutcomeUnknownError("2207 timed out", infno="2207",
        ...     resolution=Reversed("2601", "H53010100001202611231015300002", True))
        >>> error.patient_message.en.startswith("This payment did not complete")
        True
    """

    def __init__(
        self,
        message: str,
        *,
        resolution: Resolution | None = None,
        infno: str | None = None,
        msgid: str | None = None,
        attempts: int = 0,
        body: str = "",
        outcome: Outcome | None = None,
    ) -> None:
        super().__init__(
            message, infno=infno, msgid=msgid, attempts=attempts, body=body, outcome=outcome
        )
        self.resolution = resolution

    @property
    def patient_message(self) -> PatientMessage:
        """Whether the patient was charged, as far as the SDK knows."""
        if isinstance(self.resolution, Reversed):
            return PatientMessage(
                "本次结算未完成，已自动撤销，未扣款。请重新缴费或到人工窗口办理。",
                "This payment did not complete and was cancelled automatically; nothing was "
                "charged. Please try again or go to a staffed window.",
            )
        if isinstance(self.resolution, Held):
            return PatientMessage(
                "结算结果待确认，请稍候，收费员正在处理。",
                "The payment result is being confirmed; please wait while the cashier checks.",
            )
        return PatientMessage(
            "结算结果未能确认，系统将自动处理，请到人工窗口确认。",
            "The payment result could not be confirmed and will be corrected automatically; "
            "please see a staffed window.",
        )


class BusinessError(NhsaClientError):
    """The platform refused the call (``infcode`` ≠ 0). Definite: nothing was booked.

    Example:
        >>> from nhsa.models import Input2202, Input2202Data
        >>> cancel = Input2202(data=Input2202Data(psn_no="P53010000000001", mdtrt_id="0",
        ...                                       ipt_otp_no="MZ0"))
        >>> try:
        ...     client.cancel_outpatient_registration(cancel, insuplc_admdvs="530100")
        ... except BusinessError as error:
        ...     print(error.infcode, error.err_msg.split("：")[0], error.outcome.kind)
        -1 就诊信息不存在 rejected
    """

    @property
    def patient_message(self) -> PatientMessage:
        """The platform's reason, for the cashier to explain."""
        reason = self.err_msg or "医保平台拒绝办理"
        return PatientMessage(
            f"医保平台未受理：{reason}。请到人工窗口咨询。",
            "The insurance platform declined this; please ask at a staffed window.",
        )


class SignInError(BusinessError):
    """Sign-in (9001) was refused, or a call was still refused for sign-in after signing in
    again once.

    Example:
        A platform that does not know this operator:

        >>> import httpx
        >>> from nhsa.client import Client
        >>> refusing = httpx.MockTransport(
        ...     lambda request: httpx.Response(200, json={"infcode": -1, "err_msg": "非法用户"}))
        >>> with Client(config, window, transport=refusing) as unknown_operator:
        ...     try:
        ...         unknown_operator.register(card, insutype="310", clinic=clinic)
        ...     except SignInError as error:
        ...         print(error.infno, error.err_msg, error.attempts)
        9001 非法用户 1
    """


class UnusableAnswerError(NhsaClientError):
    """The platform answered success (definite: it was booked), but the answer lacks a member
    the SDK needs to act on it (``nhsa.client.LOAD_BEARING``) or names another request's msgid.

    Nothing is reversed: the journal records the success and what was missing, so
    ``recover()`` and ``reconcile()`` treat it as the definite fact it is. What the SDK could
    not do (refund, next step) needs a person, who can look the settlement up (5203, 3202).

    Example:
        >>> from nhsa.client._load_bearing import Shortfall
        >>> from nhsa.client._outcomes import Succeeded
        >>> settled = Succeeded("2207", "H53010100001202611231015300001", None, (), unusable=(
        ...     Shortfall("setlinfo.setl_id", "missing", "a refund (2208) names it"),))
        >>> error = UnusableAnswerError("2207 answer lacks setl_id", infno="2207", outcome=settled)
        >>> error.shortfalls[0].member, error.patient_message.en.startswith("This was done")
        ('setlinfo.setl_id', True)
    """

    @property
    def shortfalls(self) -> tuple[Shortfall, ...]:
        """Each member the answer lacks, with what the SDK needed it for."""
        return self.outcome.unusable if isinstance(self.outcome, Succeeded) else ()

    @property
    def patient_message(self) -> PatientMessage:
        """It was done; the cashier completes the record."""
        return PatientMessage(
            "业务已办理成功，收费员正在补全记录，请稍候。",
            "This was done; the cashier is completing the record, please wait a moment.",
        )


class SettlementMismatchError(NhsaClientError):
    """The settlement's totals differ from the pre-settlement shown to the patient; the SDK
    refunded it (2208) so the patient is not charged an amount they did not see.

    Attributes:
        differences: field → (pre-settlement value, settlement value).
        refunded: whether the refund (2208) succeeded.

    Example:
        >>> from decimal import Decimal
        >>> error = SettlementMismatchError("2207 totals differ from 2206", differences={
        ...     "psn_cash_pay": (Decimal("10.00"), Decimal("12.00"))}, refunded=True)
        >>> (error.refunded, error.patient_message.en)
        (True, 'This cannot be done here right now; please go to a staffed window.')
    """

    def __init__(
        self,
        message: str,
        *,
        differences: dict[str, tuple[object, object]],
        refunded: bool,
        infno: str | None = "2207",
        msgid: str | None = None,
    ) -> None:
        super().__init__(message, infno=infno, msgid=msgid)
        self.differences = differences
        self.refunded = refunded


class JournalError(NhsaClientError):
    """The local journal could not be written, so nothing was sent (a call the SDK cannot
    trace afterwards is never made).

    Example:
        >>> import tempfile
        >>> from nhsa.client import Journal
        >>> Journal(tempfile.gettempdir())  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        nhsa.client.errors.JournalError: cannot open the journal ...: unable to open database file
    """

"""The policy core: one call, from typed input to outcome, written once for both clients.

:meth:`Core.call` is a flow (see :mod:`nhsa.client._flow`) that

1. checks the input against the mode (a kiosk refuses ID-card numbers; ID numbers must pass
   GB 11643) and fails fast if the patient's insured place is offline;
2. signs in (9001) on first use, reusing the cached ``sign_no`` afterwards;
3. builds the envelope with a fresh msgid, validates it against the contract, seals it
   (SM2 when the profile says so) and — for every state-changing transaction — writes it to
   the journal *before* it is sent;
4. sends it, classifies what came back (:mod:`nhsa.client._classify`) and goes again only
   where :meth:`nhsa.client._retry.RetryPolicy.decide` allows, each attempt with fresh gateway
   headers — the one loop, :func:`nhsa.client._retry.retrying`. One of its rows is a sign-in
   refusal: the attempt after it signs in again first and goes under a new msgid, once;
5. records the outcome in the journal, and hands an unknown outcome of a state-changing call to
   resolution (:mod:`nhsa.client._resolution`), whose 2601 is this same call with ``undo=True``.

Journal writes are synchronous database calls made inside the flow, also when the async client
drives it: each is a fast local commit, and making them awaitable would split the one
policy in two.

Example:
    >>> from nhsa.client import ClientConfig, WindowMode
    >>> core = Core(ClientConfig("H53010100001", "医院", "530100", journal_path=":memory:"),
    ...             WindowMode("C0001", "收费员甲"))
    >>> core.transaction("2207").reversible_by_2601
    True
"""

from __future__ import annotations

import functools
import hashlib
import threading
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

import httpx
import orjson
from pydantic import ValidationError

from nhsa import spec
from nhsa.client._breaker import InsuredPlaceBreaker, parse_notice_board
from nhsa.client._classify import classify
from nhsa.client._config import ClientConfig
from nhsa.client._facts import facts_of
from nhsa.client._flow import Flow, Send
from nhsa.client._journal import Journal, JournalState, NewEntry
from nhsa.client._load_bearing import loaded
from nhsa.client._modes import Mode
from nhsa.client._outcomes import (
    NotSent,
    Outcome,
    Rejected,
    Succeeded,
    Unknown,
)
from nhsa.client._resolution import resolve as resolve_unknown
from nhsa.client._retry import Attempted, RetryDecision, retrying
from nhsa.client._unwrap import refusal_error, unwrap
from nhsa.client._validation import check_certificates, error_from_issues, error_from_pydantic
from nhsa.client.errors import ClientConfigError, InvalidInputError, SignInError
from nhsa.envelope import (
    Clock,
    CounterInUseError,
    DialectRenderError,
    MissingInsuredAreaError,
    MsgidGenerator,
    Operator,
    build_request,
    china_now,
    dumps,
    fill_envelope,
    render_request,
)
from nhsa.models import Input9001, Input9001SignIn, Input9002, Input9002SignOut, InputModel
from nhsa.redaction import get_logger, is_name_key, remember_names
from nhsa.signing.errors import SigningError
from nhsa.spec import Transaction, UnknownTransactionError, iter_fields

SIGN_IN = "9001"
SIGN_OUT = "9002"
_log = get_logger("nhsa.client")


class Session:
    """``sign_no`` per operator or terminal, shared by every call of one client.

    Example:
        >>> session = Session()
        >>> operator = Operator("1", "C0001", "收费员甲")
        >>> session.remember(operator, "530100202611230000000001")
        >>> session.sign_no(operator)
        '530100202611230000000001'
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sign_nos: dict[tuple[str, str], str] = {}

    def sign_no(self, operator: Operator) -> str | None:
        """The cached sign_no of ``operator``, if signed in."""
        with self._lock:
            return self._sign_nos.get((operator.opter_type, operator.opter))

    def remember(self, operator: Operator, sign_no: str) -> None:
        """Cache ``sign_no`` for ``operator``."""
        with self._lock:
            self._sign_nos[(operator.opter_type, operator.opter)] = sign_no

    def forget(self, operator: Operator) -> None:
        """Drop ``operator``'s sign_no (signed out, or the platform says it expired)."""
        with self._lock:
            self._sign_nos.pop((operator.opter_type, operator.opter), None)


class _Message:
    """One msgid's envelope, serialized and sealed, as the journal recorded it."""

    def __init__(self, msgid: str, body: bytes) -> None:
        self.msgid = msgid
        self.body = body
        self.sha256 = hashlib.sha256(body).hexdigest()


class Core:
    """Everything a call needs, shared by the sync and the async client.

    Args:
        config: the client configuration.
        mode: the counter mode (operator fields, accepted certificates, unknown-outcome rule).
        clock: China-time clock for msgid and inf_time; injectable for tests.
    """

    def __init__(self, config: ClientConfig, mode: Mode, *, clock: Clock = china_now) -> None:
        self.config = config
        self.mode = mode
        self.contract = spec.contract()
        self.journal = Journal(config.journal_target, clock=clock)
        try:
            self.msgids = _counter_of(config, self.journal, clock)
        except BaseException:
            self.journal.close()
            raise
        self.signing = config.signing()
        self.dialect = config.province
        self._content_type = self.dialect.gateway.text(
            "content_type", "application/json;charset=utf-8"
        )
        self.session = Session()
        self.breaker = InsuredPlaceBreaker(config.breaker, clock=clock)
        self.clock = clock
        self._timeout = config.timeouts.as_httpx().as_dict()
        self._base = httpx.URL(config.base_url)
        self._urls: dict[str, httpx.URL] = {}
        self._verify: Callable[[bytes], object] | None = (
            self.signing.open_response if config.signing_profile.policy != "off" else None
        )

    @property
    def tenant(self) -> str:
        """The institution code: the journal's tenant key."""
        return self.config.fixmedins_code

    @property
    def operator(self) -> Operator:
        """The envelope's operator fields for this client's mode."""
        return self.mode.operator

    def close(self) -> None:
        """Release the journal and the msgid counter."""
        self.msgids.close()
        self.journal.close()

    def _url(self, infno: str) -> httpx.URL:
        """The URL a transaction is posted to under the configured route (cached)."""
        url = self._urls.get(infno)
        if url is None:
            path = self.config.url_path(infno)
            url = self._base.copy_with(path=self._base.path.rstrip("/") + path)
            self._urls[infno] = url
        return url

    def transaction(self, infno: str) -> Transaction:
        """The contract's description of ``infno``; unknown codes are an input error."""
        try:
            return self.contract.transaction(infno)
        except UnknownTransactionError as error:
            raise InvalidInputError(str(error), field="infno", rule="known-transaction") from None

    # -- one call ----------------------------------------------------------------------------

    def call(
        self,
        infno: str,
        input_model: InputModel,
        *,
        insuplc_admdvs: str | None = None,
        resolve: bool = True,
        reverses: str | None = None,
        check_breaker: bool = True,
        undo: bool = False,
        extras: Mapping[str, Any] | None = None,
    ) -> Flow[Outcome]:
        """Send one logical call and return its outcome (see the module docstring).

        Args:
            extras: members the dialect sends beside the contract's, keyed by their place in
                the input (``feedetail/0/medins_list_name``); ignored where the dialect has
                no such member.
            resolve: hand an unknown outcome of a state-changing call to resolution.
            reverses: msgid this call undoes (recorded in the journal).
            check_breaker: fail fast when the insured place is offline (resolution skips
                this: undoing must be tried even then).
            undo: pursue the call in rounds until it is definite (the 2601 of resolution;
                see :mod:`nhsa.client._retry`).
        """
        transaction = self.transaction(infno)
        nodes = input_model.to_wire()
        check_certificates(
            nodes, self.mode.accepted_certificates, where=self.mode.name, infno=infno
        )
        if check_breaker:
            yield from self._refresh_notice_board()
            self.breaker.check(insuplc_admdvs, infno)
        sign_no = "" if infno == SIGN_IN else (yield from self.ensure_signed_in())
        outcome = yield from self._exchange(
            transaction, input_model, insuplc_admdvs, sign_no, reverses, undo=undo, extras=extras
        )
        if isinstance(outcome, Rejected) and outcome.sign_in and infno != SIGN_IN:
            # The policy signs in again and resends once; a second refusal is the answer.
            raise refusal_error(
                outcome,
                f"{infno} still refused for sign-in after signing in again: {outcome.err_msg}",
                SignInError,
            )
        self._observe(infno, insuplc_admdvs, outcome)
        if resolve and isinstance(outcome, Unknown) and _needs_resolution(transaction):
            resolution = yield from resolve_unknown(self, outcome.msgid)
            outcome = replace(outcome, resolution=resolution)
        return outcome

    def typed(
        self,
        infno: str,
        input_model: InputModel,
        *,
        insuplc_admdvs: str | None = None,
        extras: Mapping[str, Any] | None = None,
    ) -> Flow[Any]:
        """:meth:`call`, then the output on success or the matching error otherwise."""
        outcome = yield from self.call(
            infno, input_model, insuplc_admdvs=insuplc_admdvs, extras=extras
        )
        return unwrap(outcome)

    # -- session ---------------------------------------------------------------------------

    def ensure_signed_in(self) -> Flow[str]:
        """The operator's sign_no, signing in (9001) first if there is none yet."""
        cached = self.session.sign_no(self.operator)
        if cached:
            return cached
        return (yield from self.sign_in())

    def sign_in_input(self) -> Input9001:
        """The 9001 input of this client's operator (terminal address from the config)."""
        try:
            return Input9001(
                signIn=Input9001SignIn(
                    opter_no=self.operator.opter,
                    mac=self.config.terminal_mac,
                    ip=self.config.terminal_ip,
                )
            )
        except ValidationError as error:
            raise error_from_pydantic(error, "signIn") from None

    def sign_out_input(self) -> Input9002 | None:
        """The 9002 input ending this operator's session, or ``None`` when not signed in."""
        sign_no = self.session.sign_no(self.operator)
        if not sign_no:
            return None
        return Input9002(signOut=Input9002SignOut(sign_no=sign_no, opter_no=self.operator.opter))

    def sign_in(self) -> Flow[str]:
        """Sign in (9001) as this client's operator and cache the new sign_no."""
        operator = self.operator
        sign_in = self.sign_in_input()
        outcome = yield from self._exchange(self.transaction(SIGN_IN), sign_in, None, "", None)
        if isinstance(outcome, Rejected):
            raise refusal_error(outcome, f"sign-in (9001) refused: {outcome.err_msg}", SignInError)
        sign_no: str = loaded(unwrap(outcome), "signinoutb.sign_no")  # raises unless usable
        self.session.remember(operator, sign_no)
        return sign_no

    def sign_out(self) -> Flow[Outcome | None]:
        """Sign out (9002) if signed in; the outcome, or ``None`` when there was no session."""
        operator = self.operator
        sign_out = self.sign_out_input()
        if sign_out is None:
            return None
        outcome = yield from self._exchange(
            self.transaction(SIGN_OUT), sign_out, None, sign_out.signOut.sign_no, None
        )
        self.session.forget(operator)
        return outcome

    # -- internals ---------------------------------------------------------------------------

    def _exchange(
        self,
        transaction: Transaction,
        input_model: InputModel,
        insuplc_admdvs: str | None,
        sign_no: str,
        reverses: str | None,
        *,
        undo: bool = False,
        extras: Mapping[str, Any] | None = None,
    ) -> Flow[Outcome]:
        """One logical call with its retries; the journal follows every msgid."""
        infno = transaction.infno
        journaled = transaction.kind == "write"
        sent: list[tuple[_Message, Outcome]] = []

        def attempt(previous: RetryDecision | None) -> Flow[Attempted]:
            nonlocal sign_no
            if previous is not None and previous.sign_in_again:
                self.session.forget(self.operator)
                sign_no = yield from self.sign_in()
            if previous is None or previous.new_msgid:
                if sent and journaled:
                    self._journal_outcome(transaction, sent[-1][1], then=previous)
                message = self._prepare(transaction, input_model, insuplc_admdvs, sign_no, extras)
                if journaled:
                    self._journal_sending(
                        transaction, message, input_model, insuplc_admdvs, reverses
                    )
            else:
                message = sent[-1][0]
            number = len(sent) + 1
            problem = yield from self._gateway_token()
            if problem is not None:  # the call itself was never sent
                not_sent = NotSent(infno, message.msgid, problem, ())
                sent.append((message, not_sent))
                return not_sent, None
            _log.debug(
                "%s %s attempt %d sending %s", infno, message.msgid, number, _text(message.body)
            )
            reply = yield Send(self._request(infno, message.body))
            assert reply is not None, "a Send is always answered with a response or an error"
            if isinstance(reply, httpx.Response):
                _log.debug(
                    "%s %s answer HTTP %d %s",
                    infno,
                    message.msgid,
                    reply.status_code,
                    _text(reply.content),
                )
            if (
                isinstance(reply, httpx.Response)
                and reply.status_code == 401
                and self.signing.bearer
            ):
                self.signing.bearer.forget()  # refused token: the next attempt asks anew
            outcome = classify(
                reply,
                infno=infno,
                msgid=message.msgid,
                patterns=self.config.patterns,
                verify=self._verify,
                response_body=transaction.response_body,
                dialect=self.dialect,
            )
            sent.append((message, outcome))
            return outcome, reply.status_code if isinstance(reply, httpx.Response) else None

        outcome = yield from retrying(self.config.retry, transaction, attempt, undo=undo)
        if journaled:
            self._journal_outcome(transaction, outcome)
        return outcome

    def _prepare(
        self,
        transaction: Transaction,
        input_model: InputModel,
        insuplc_admdvs: str | None,
        sign_no: str,
        extras: Mapping[str, Any] | None = None,
    ) -> _Message:
        infno = transaction.infno
        msgid = self.msgids.next()
        try:
            envelope = build_request(
                infno,
                input_model,
                sender=self.config.sender,
                operator=self.operator,
                msgid=msgid,
                inf_time=self.clock(),
                sign_no=sign_no,
                insuplc_admdvs=insuplc_admdvs,
            )
        except MissingInsuredAreaError as error:
            raise InvalidInputError(
                str(error), field="insuplc_admdvs", rule="insuplc-when-psn", infno=infno
            ) from None
        except TypeError as error:
            raise InvalidInputError(str(error), field="input", rule="model", infno=infno) from None
        except ValidationError as error:
            raise error_from_pydantic(error, "envelope") from None
        national = fill_envelope(
            self.dialect, envelope.model_dump(by_alias=True, exclude_none=True)
        )
        body = dumps(national)
        message = orjson.loads(body)
        validators = self.contract.validators
        if not validators.is_valid_request(message):  # the fast yes/no first; reasons if not
            raise error_from_issues(validators.check_request(message), infno)
        try:
            if not self.dialect.is_national:  # national: the bytes just made are the ones sent
                body = dumps(render_request(self.dialect, national, extras or {}))
        except DialectRenderError as error:
            raise InvalidInputError(
                str(error), field=error.field, rule=error.rule, infno=infno
            ) from None
        return _Message(msgid, self.signing.seal_request(body))

    def _gateway_token(self) -> Flow[str | None]:
        """Fetch a bearer gateway's token when none is fresh; why not, if it failed."""
        bearer = self.signing.bearer
        if bearer is None or bearer.fresh():
            return None
        request = bearer.token_request(self._base)
        request.extensions["timeout"] = self._timeout
        reply = yield Send(request)
        if not isinstance(reply, httpx.Response):
            return f"gateway token request failed: {type(reply).__name__}: {reply}"
        try:
            bearer.accept(reply)
        except SigningError as error:
            return f"gateway token refused: {error}"
        return None

    def _request(self, infno: str, body: bytes) -> httpx.Request:
        # Built afresh for every attempt, so the gateway headers carry a new timestamp and nonce.
        headers = {"content-type": self._content_type}
        headers.update(self.signing.gateway_headers(infno))
        return httpx.Request(
            "POST",
            self._url(infno),
            content=body,
            headers=headers,
            extensions={"timeout": self._timeout},
        )

    def _journal_sending(
        self,
        transaction: Transaction,
        message: _Message,
        input_model: InputModel,
        insuplc_admdvs: str | None,
        reverses: str | None,
    ) -> None:
        facts, amounts = facts_of(input_model.to_wire())
        operator = self.operator
        self.journal.record_sending(
            NewEntry(
                msgid=message.msgid,
                tenant=self.tenant,
                infno=transaction.infno,
                opter_type=operator.opter_type,
                opter=operator.opter,
                body_sha256=message.sha256,
                facts=facts,
                amounts=amounts,
                insuplc_admdvs=insuplc_admdvs,
                reverses=reverses,
            )
        )

    def _journal_outcome(
        self, transaction: Transaction, outcome: Outcome, *, then: RetryDecision | None = None
    ) -> None:
        """Close the entry of ``outcome``'s msgid; ``then`` is the retry that replaced it."""
        note = f"; then {then.reason}" if then is not None else ""
        if isinstance(outcome, Succeeded):
            output = outcome.output
            result: dict[str, Any] = {}
            if hasattr(output, "to_wire"):
                for node in output.to_wire().values():
                    if isinstance(node, dict):
                        facts, amounts = facts_of({"node": node})
                        result.update(facts)
                        result.update(amounts)
            detail = outcome.warn_msg
            if outcome.unusable:
                # Still a definite success: recorded as such, with what the SDK could not use.
                result["unusable"] = ", ".join(s.member for s in outcome.unusable)
                missing = "answer unusable: " + "; ".join(map(str, outcome.unusable))
                detail = f"{detail}; {missing}" if detail else missing
            self.journal.mark(outcome.msgid, "succeeded", detail=detail, result=result)
        elif isinstance(outcome, Rejected):
            self.journal.mark(outcome.msgid, "rejected", detail=outcome.err_msg + note)
        elif isinstance(outcome, NotSent):
            self.journal.mark(outcome.msgid, "not_sent", detail=outcome.reason + note)
        else:
            state: JournalState = "abandoned" if transaction.safe_to_repeat else "unknown"
            self.journal.mark(outcome.msgid, state, detail=outcome.reason + note)

    def _observe(self, infno: str, area: str | None, outcome: Outcome) -> None:
        if isinstance(outcome, Rejected) and outcome.downtime:
            self.breaker.record_downtime(area, outcome.err_msg)
        elif isinstance(outcome, Succeeded):
            self.breaker.record_success(area)
            if infno == SIGN_IN and outcome.usable:
                self.session.remember(self.operator, loaded(outcome.output, "signinoutb.sign_no"))
            elif infno == SIGN_OUT:
                self.session.forget(self.operator)
            else:
                # The patient's name, now known, is masked in every later error and log line
                # (a refusal's err_msg may repeat it in free text).
                names = (_member(outcome.output, path) for path in _name_paths(infno))
                remember_names(*(name for name in names if isinstance(name, str)))

    def _refresh_notice_board(self) -> Flow[None]:
        if not self.breaker.notice_board_due():
            return
        board = self.config.breaker.notice_board
        if callable(board):
            self.breaker.load_notices(board())
            return
        assert board is not None
        request = httpx.Request("GET", board, extensions={"timeout": self._timeout})
        reply = yield Send(request)
        if isinstance(reply, httpx.Response) and reply.status_code == 200:
            try:
                self.breaker.load_notices(parse_notice_board(reply.content))
                return
            except (ValueError, TypeError) as error:
                _log.warning("downtime notice board %s unreadable: %s", board, error)
        else:
            _log.warning("downtime notice board %s not read: %s", board, _reply_text(reply))
        self.breaker.mark_notice_board_read()


def _counter_of(config: ClientConfig, journal: Journal, clock: Clock) -> MsgidGenerator:
    """The msgid counter, bound to ``journal``: a counter already serving another journal of
    the institution is the configuration under which two windows charged one visit twice."""
    where = config.msgid_state_path or config.journal_target
    try:
        counter = MsgidGenerator(
            config.fixmedins_code, None if str(where) == ":memory:" else where, clock=clock
        )
    except ValueError as error:  # a counter file on a network filesystem
        raise ClientConfigError(f"msgid_state_path: {error}") from None
    if journal.path == ":memory:":
        return counter  # throw-away: nothing to share, nothing to bind
    try:
        counter.serve_journal(journal.journal_id, journal.path)
    except CounterInUseError as error:
        counter.close()
        raise ClientConfigError(
            f"msgid_state_path: {error}. Two journals for one institution cannot guard its "
            "visits together (each keeps its own visit guard, so two windows could charge one "
            "visit at once): give every window and kiosk one journal — one journal_path on "
            "one machine, journal_url='postgresql://…' across machines. If that journal is "
            "retired for good, delete the counter's msgid_journal row of "
            f"{config.fixmedins_code}."
        ) from None
    return counter


@functools.cache
def _name_paths(infno: str) -> tuple[tuple[str, ...], ...]:
    """Where the answer of ``infno`` names a person (1101 ``baseinfo.psn_name``, 2207
    ``setlinfo.psn_name``, …), read from the contract; list items are not searched."""
    contract = spec.contract()
    location = f"{contract.transaction(infno).schema_id}#/$defs/output"
    return tuple(
        tuple(field.path.split("."))
        for field in iter_fields(contract, location)
        if is_name_key(field.name) and "[]" not in field.path
    )


def _member(node: object, path: tuple[str, ...]) -> object:
    for name in path:
        node = getattr(node, name, None)
    return node


def _needs_resolution(transaction: Transaction) -> bool:
    return transaction.kind == "write" and not transaction.safe_to_repeat


def _text(body: bytes) -> str:
    """A body as text for a log line (the redaction filter masks it before any handler)."""
    return body.decode("utf-8", "replace")


def _reply_text(reply: object) -> str:
    if isinstance(reply, httpx.Response):
        return f"HTTP {reply.status_code}"
    return type(reply).__name__

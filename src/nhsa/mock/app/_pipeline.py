"""One business request, from raw bytes to the reply and its transcript record.

The steps, in order; each refusal is a complete answer, recorded, with no state change:

====  =========================  ======  ====  ============================================
step  check                      owner   HTTP  err_msg starts with
====  =========================  ======  ====  ============================================
1     body ≤ 1 MiB, JSON text    app     413   报文过大
      content type (UTF-8)       app     415   请求内容类型不支持
2     gateway (profile ``tif``)  app     401   缺少请求头 / 签名不一致 / 签名时间戳超时 / 非法用户 …
3     body is a JSON object,     app     200   报文格式错误
      ≤ 32 levels deep
4     institution registered     app     401   非法用户
5     SM2 message signature      app     200   缺少签名 / 签名不一致 / 签名密钥与机构不符 …
6     path: the dialect's, and   app     200   交易编号与请求路径不符 / 请求路径不是本平台入口
      its infno = body's
6a    dialect (the province's    app     200   报文不符合<省>规范
      spelling, members, codes)
7     contract (``nhsa.spec``)   app     200   报文校验失败 / 交易编号不存在
8     msgid not reused           engine  200   发送方报文ID重复
9     x-mock-fault header valid  app     400   x-mock-fault 无效
====  =========================  ======  ====  ============================================

Every institution speaks one province dialect (``Tenant.dialect``; the server's default when
its registration names none). The engine is national: step 6a translates the request into the
contract's shape (:func:`nhsa.envelope.decode_request`) and refuses one that is not in the
dialect, naming each member; every answer is spelt back in the dialect
(:func:`nhsa.envelope.encode_answer`), and a gateway refusal comes in the dialect's gateway
shape when it has one (a CSB ``{"code": 401, "message": …}``, Guangdong's wrapper). The gateway
check (step 2) is the dialect's family: ``x-tif-*``, ``_api_*`` or a bearer token. The
transcript keeps the request as received and the answer as sent.

This module (``app``) owns transport, gateway, signature and schema (steps 1–7 and 9): their
refusals are made in front of the engine and write only the transcript record. The engine owns
tenancy, msgid durability and the business rules: step 8 is
:meth:`~nhsa.mock.engine.Engine.admit`, which reads the durable msgid memory, so a reused msgid
gets the same answer a second later or after a restart. Step 4 asks the
:class:`~nhsa.mock.app.TenantDirectory`, which admits exactly the institutions the engine serves
(``Engine.institution``); it is the gateway's refusal because step 5 checks the signature with
that institution's key.

Gateway refusals (401) come from the layer in front of the platform: the real gateway's body
format is not public (reference §7 gap 2), so the mock answers with a response envelope
(infcode -1, ``inf_refmsgid`` empty, never signed) and the header ``x-mock-rejected-by:
gateway``; every other answer is the platform's (HTTP 200, signed when the institution's
profile signs). Steps 8 and 9 and what follows run in one unit of work: the engine admits
the call, the fault for it is taken (``before`` faults replace the call), the engine processes
it, and its answer and the transcript record are committed together before a byte is sent.
On SQLite the units of the requests that arrived while the last COMMIT was written share the
next one (:class:`~nhsa.mock.store.GroupCommit`), each in its own savepoint, in arrival order;
a COMMIT that fails fails every request of its group (infcode -1, nothing booked).
Nothing here raises: an unexpected error rolls the unit back and answers infcode -1
"mock internal error".
"""

from __future__ import annotations

import hashlib
import traceback
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Literal

import orjson

from nhsa import spec
from nhsa._nesting import MAX_DEPTH, deeper_than, pruned, text_depth
from nhsa.envelope import decode_request, dumps, encode_answer, gateway_refusal_body
from nhsa.mock.app import _wording as wording
from nhsa.mock.app._answers import Reply, answer_envelope, bad_signature, seal
from nhsa.mock.app._core import PlatformCore
from nhsa.mock.app._tenants import Tenant
from nhsa.mock.engine._gate import NOT_ROUTED_TO_INSURED_PLACE
from nhsa.mock.engine._types import Answer, Call
from nhsa.mock.faults import (
    FAULT_HEADER,
    AppliedFault,
    CallFacts,
    FaultKind,
    FaultSpecError,
    Withhold,
    garble,
    parse_fault_header,
    realistic_business_error,
    unreachable_message,
)
from nhsa.mock.store import CommitError, UnitOfWork
from nhsa.mock.transcript import TranscriptDraft
from nhsa.redaction import get_logger
from nhsa.signing import SigningProfile
from nhsa.signing.errors import GatewayAuthError, RejectedMessageError
from nhsa.spec import Dialect

__all__ = ["Delivery", "Incoming", "Pipeline"]

_log = get_logger("nhsa.mock.app")

_FILE_TYPE = "application/octet-stream"
_JSON_MEDIA_TYPES = frozenset({"application/json", "text/plain"})
"""Content types a request body may declare (reference §2.3; research-dialects §1.2)."""
_REJECTED_BY = "x-mock-rejected-by"
_DOWNTIME = (
    "参保地医保系统停机维护，暂不能办理：{area}（故障注入），恢复时间未公布；"
    "请稍后再办理，或按自费结算 / the insured place's system ({area}) is down for "
    "maintenance (armed fault), no end announced: try later, or settle as self-paid"
)
_HTTP_PHRASES = {
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


@dataclass(frozen=True, slots=True)
class Incoming:
    """A request as the endpoint read it.

    Attributes:
        route: ``single-entry`` or ``per-transaction``.
        path: the URL path.
        path_infno: the infno a per-transaction path serves (``None`` for the single entry).
        headers: request headers, names in lower case.
        body: the raw body bytes (cut short after the size limit).
        received_at: when the platform received it (China time).
        size: the body's size as declared (Content-Length) or read; may exceed ``len(body)``.
    """

    route: Literal["single-entry", "per-transaction"]
    path: str
    path_infno: str | None
    headers: Mapping[str, str]
    body: bytes
    received_at: datetime
    size: int


@dataclass(frozen=True, slots=True)
class Delivery:
    """What the endpoint must do: send ``reply`` (after ``delay`` s), or withhold the answer.

    Attributes:
        reply: the reply to send; ``None`` when the answer is withheld.
        withhold: ``hang`` or ``reset`` when a fault withholds the answer.
        delay: seconds to wait before sending (a ``latency`` fault).
        seq: the transcript record's sequence number.
    """

    reply: Reply | None
    withhold: Withhold | None = None
    delay: float = 0.0
    seq: int | None = None


_GATEWAY_ERROR_IDS = {
    "missing-header": "gateway.missing_header",
    "csb-missing-header": "gateway.missing_header",
    "unknown-paasid": "gateway.unknown_paasid",
    "gateway-signature-mismatch": "gateway.signature_mismatch",
    "stale-timestamp": "gateway.stale_timestamp",
    "replayed-nonce": "gateway.replayed_nonce",
}
"""Gateway error code → its entry in ``interface_specs/v1/errors.json`` (others have none)."""


class _Refusal(Exception):  # noqa: N818 - control flow inside the pipeline, never escapes
    def __init__(
        self, status: int, err_msg: str, *, gateway: bool = False, error: str | None = None
    ) -> None:
        super().__init__(err_msg)
        self.status = status
        self.err_msg = err_msg
        self.gateway = gateway
        self.error = error


@dataclass
class _Progress:
    """How far the checks got: the profile and dialect of the sender, once they are known."""

    profile: SigningProfile
    dialect: Dialect


@dataclass
class _Accepted:
    tenant: Tenant
    document: dict[str, Any]
    infno: str
    msgid: str


class Pipeline:
    """Runs the steps above for each request (see the module docstring).

    Example::

        delivery = await Pipeline(core).process(incoming)
    """

    def __init__(self, core: PlatformCore) -> None:
        """Serve requests for ``core``."""
        self._core = core

    async def process(self, incoming: Incoming) -> Delivery:
        """Check, run and record one request; never raises. Returns once its record (and its
        state change, if any) is committed."""
        self._core.sync_shared_state()
        draft = TranscriptDraft.start(
            received_at=incoming.received_at,
            route=incoming.route,
            path=incoming.path,
            headers=incoming.headers,
            body=incoming.body,
        )
        progress = _Progress(self._core.default_profile, self._core.default_dialect)
        try:
            accepted = self._accept(incoming, draft, progress)
        except _Refusal as refusal:
            return await self._refuse(incoming, draft, refusal, progress)
        return await self._run(incoming, draft, accepted)

    # -- steps 1–7: in front of the engine --------------------------------------------------

    def _accept(self, incoming: Incoming, draft: TranscriptDraft, progress: _Progress) -> _Accepted:
        """Steps 1–7 of the table, in order; each refuses by raising a :class:`_Refusal`."""
        self._attribute(incoming.headers, draft)
        self._check_size(incoming)
        _check_content_type(incoming.headers.get("content-type"))
        document, problem = _parse(incoming.body)
        draft.read_envelope(document)
        claimed = _text(document, "fixmedins_code")
        self._check_gateway(incoming.headers, claimed, _text(document, "infno"), draft, progress)
        envelope = _check_json(document, problem)
        tenant = self._check_registered(claimed, progress, draft)
        self._check_signature(tenant.profile, incoming.body, envelope, draft)
        infno = _check_path(incoming, envelope, tenant.dialect)
        national = _check_dialect(tenant.dialect, envelope, draft)
        _check_contract(national, draft)
        return _Accepted(tenant, national, infno, str(envelope["msgid"]))

    def _attribute(self, headers: Mapping[str, str], draft: TranscriptDraft) -> None:
        """Record under the gateway application's owner even a body that is never parsed."""
        gateway = self._core.gateway_for(self._core.default_dialect)
        claimed = gateway.app_id(headers) if gateway is not None else None
        owner = self._core.directory.by_paasid(claimed) if claimed else None
        if owner is not None:
            draft.tenant = owner.code

    def _check_size(self, incoming: Incoming) -> None:
        """Step 1: the body is at most ``max_body_bytes``."""
        limit = self._core.options.max_body_bytes
        if incoming.size > limit:
            raise _Refusal(413, wording.body_too_large(incoming.size, limit), gateway=True)

    def _check_gateway(
        self,
        headers: Mapping[str, str],
        claimed: str | None,
        infno: str | None,
        draft: TranscriptDraft,
        progress: _Progress,
    ) -> None:
        """Step 2: the gateway headers of the claimed institution's dialect, when its profile
        has the gateway (``tif``)."""
        sender = self._identify(headers, claimed)
        if sender is not None:
            progress.profile, progress.dialect = sender.profile, sender.dialect
            draft.dialect = {"name": sender.dialect.name, "ok": True, "error": None}
        gateway = self._core.gateway_for(progress.dialect)
        if not progress.profile.tif or gateway is None:
            return
        draft.gateway = {"scheme": "tif", "ok": False, "error": None, "family": gateway.family}
        try:
            app = gateway.verify(headers, infno=infno)
        except GatewayAuthError as error:
            draft.gateway["error"] = error.err_msg
            raise _Refusal(
                401, _named(error), gateway=True, error=_GATEWAY_ERROR_IDS.get(error.code)
            ) from None
        owner = self._core.directory.by_paasid(app)
        if claimed is not None and owner is not None and owner.code != claimed:
            message = (
                f"非法用户: the gateway application {app!r} belongs to {owner.code} but the "
                f"message claims fixmedins_code {claimed} (rule paasid-owns-institution); send "
                "with the institution's own gateway application"
            )
            draft.gateway["error"] = message
            raise _Refusal(401, message, gateway=True, error="gateway.unknown_paasid")
        draft.gateway["ok"] = True

    def _identify(self, headers: Mapping[str, str], claimed: str | None) -> Tenant | None:
        directory = self._core.directory
        named = directory.get(claimed) if claimed else None
        spoken = named.dialect if named is not None else self._core.default_dialect
        gateway = self._core.gateway_for(spoken)
        app = gateway.app_id(headers) if gateway is not None else None
        owner = directory.by_paasid(app) if app else None
        return owner or named

    def _check_registered(
        self, claimed: str | None, progress: _Progress, draft: TranscriptDraft
    ) -> Tenant:
        """Step 4: the claimed institution is one the engine serves (the gateway's 非法用户)."""
        registered = self._core.directory.get(claimed) if claimed else None
        if registered is None:
            raise _Refusal(
                401,
                wording.unregistered_institution(claimed),
                gateway=True,
                error="gateway.unknown_paasid",
            )
        progress.profile, progress.dialect = registered.profile, registered.dialect
        draft.dialect = {"name": registered.dialect.name, "ok": True, "error": None}
        return registered

    def _check_signature(
        self, profile: SigningProfile, body: bytes, document: dict[str, Any], draft: TranscriptDraft
    ) -> None:
        """Step 5: the SM2 signature in ``cainfo``, when the institution's profile has it."""
        verifier = self._core.verifier_for(profile)
        present = _signed(draft.request)
        draft.signature = {"present": present, "ok": None, "key_id": None, "error": None}
        if verifier is None:
            return
        try:
            key_id = verifier.verify_request(body, document=document)  # parsed once, in _parse
        except RejectedMessageError as error:
            draft.signature.update(ok=False, error=error.err_msg)
            raise _Refusal(200, _named(error)) from None
        draft.signature.update(ok=True, key_id=key_id)

    # -- steps 8–9 and the call: one transaction ----------------------------------------------

    async def _run(
        self, incoming: Incoming, draft: TranscriptDraft, accepted: _Accepted
    ) -> Delivery:
        core = self._core
        call = Call(
            accepted.tenant.code,
            accepted.infno,
            accepted.msgid,
            accepted.document,
            incoming.received_at,
        )

        def unit(tx: UnitOfWork) -> tuple[Delivery, int]:
            delivery, now = self._decide(incoming, draft, accepted, call, tx)
            return delivery, core.store.append_transcript(tx, draft.finish(answered_at=now))

        try:
            delivery, seq = await core.commits.run(unit)
        except _Refusal as refusal:  # step 9; the unit wrote nothing
            return await self._refuse(incoming, draft, refusal, _spoken_by(accepted.tenant))
        except CommitError as exc:  # the group's COMMIT failed: nothing of it was kept
            _log.error(
                "%s msgid %s of %s not durable; rolled back: %s",
                accepted.infno,
                accepted.msgid,
                accepted.tenant.code,
                exc,
            )
            return await self._refuse(
                incoming,
                _reset_effects(draft),
                _Refusal(200, wording.not_durable(str(exc.__cause__ or exc))),
                _spoken_by(accepted.tenant),
            )
        except Exception as exc:  # the engine's bug must not become a 500 or a traceback
            _log.error(
                "engine failed on %s msgid %s of %s; rolled back:\n%s",
                accepted.infno,
                accepted.msgid,
                accepted.tenant.code,
                traceback.format_exc(),
            )
            return await self._refuse(
                incoming,
                _reset_effects(draft),
                _Refusal(200, wording.internal_error(type(exc).__name__)),
                _spoken_by(accepted.tenant),
            )
        return replace(delivery, seq=seq)

    def _decide(
        self,
        incoming: Incoming,
        draft: TranscriptDraft,
        accepted: _Accepted,
        call: Call,
        tx: UnitOfWork,
    ) -> tuple[Delivery, datetime]:
        """Step 8 (the engine admits the call), step 9 and the fault, then the engine's work."""
        engine = self._core.engine
        admitted = engine.admit(call, tx)
        if isinstance(admitted, Answer):  # a reused msgid: refused before any fault is taken
            now = self._core.clock()
            return self._compose(incoming, draft, accepted, admitted, fault=None, now=now), now
        fault = self._fault_for(accepted, call, incoming.headers)
        if fault is not None:
            draft.fault = fault.record()
            if fault.spec.stage == "before":
                now = self._core.clock()
                return self._fault_instead(incoming, draft, accepted, fault, now), now
        answer: Answer = engine.process(admitted)
        now = self._core.clock()
        return self._compose(incoming, draft, accepted, answer, fault=fault, now=now), now

    def _fault_for(
        self, accepted: _Accepted, call: Call, headers: Mapping[str, str]
    ) -> AppliedFault | None:
        """Step 9 (a valid x-mock-fault header), then the fault armed for this call, if any."""
        core = self._core
        header = headers.get(FAULT_HEADER)
        if header is not None and core.options.allow_fault_header:
            try:
                return core.faults.one_shot(parse_fault_header(header))
            except FaultSpecError as error:
                raise _Refusal(400, wording.fault_header_invalid(str(error))) from None
        facts = CallFacts(
            accepted.infno,
            psn_no=call.psn_no,
            area=_text(accepted.document, "insuplc_admdvs"),
            routed=accepted.infno not in NOT_ROUTED_TO_INSURED_PLACE,
        )
        return core.faults.take(accepted.tenant.code, facts)

    # -- answering ------------------------------------------------------------------------

    async def _refuse(
        self,
        incoming: Incoming,
        draft: TranscriptDraft,
        refusal: _Refusal,
        sender: _Progress,
    ) -> Delivery:
        now = self._core.clock()
        infno = str(draft.envelope.get("infno") or "")

        def envelope_of_refusal() -> dict[str, Any]:
            national = answer_envelope(
                infcode=-1,
                err_msg=refusal.err_msg,
                output=None,
                inf_refmsgid="" if refusal.gateway else self._refmsgid(draft, None, now),
                received_at=incoming.received_at,
                responded_at=now,
            )
            return encode_answer(sender.dialect, infno, national)

        envelope = (
            dict(gateway_refusal_body(sender.dialect, refusal.status, refusal.err_msg, dict))
            if refusal.gateway and sender.dialect.gateway_shape() is not None
            else envelope_of_refusal()
        )
        signer = None if refusal.gateway else self._core.signer_for(sender.profile)
        headers: tuple[tuple[str, str], ...] = (
            (_REJECTED_BY, "gateway" if refusal.gateway else "platform"),
        )
        if refusal.status == 413:
            headers += (("connection", "close"),)
        reply = Reply(refusal.status, seal(envelope, signer), headers=headers)
        draft.infcode, draft.err_msg, draft.response = -1, refusal.err_msg, envelope
        draft.error_id = refusal.error
        return Delivery(reply, seq=await self._record_alone(draft, now))

    def _fault_instead(
        self,
        incoming: Incoming,
        draft: TranscriptDraft,
        accepted: _Accepted,
        fault: AppliedFault,
        now: datetime,
    ) -> Delivery:
        """A ``before`` fault: the call is not processed; its answer is replaced or withheld."""
        kind, area = fault.kind, _text(accepted.document, "insuplc_admdvs")
        withhold = fault.spec.drop_mode
        if withhold is not None:
            draft.delivered = False
            return Delivery(None, withhold=withhold)
        if kind is FaultKind.HTTP_ERROR:
            draft.delivered = False
            return Delivery(_error_page(fault.spec.http_status))
        if kind is FaultKind.INSURED_PLACE_DOWNTIME:
            err_msg = _DOWNTIME.format(area=area or fault.spec.area or "未知")
            draft.error_id = "business.insured_place_offline"
        elif kind is FaultKind.INSURED_PLACE_UNREACHABLE:
            err_msg = unreachable_message(area)
        else:
            err_msg = fault.spec.err_msg or realistic_business_error(accepted.infno)
        national = answer_envelope(
            infcode=-1,
            err_msg=err_msg,
            output=None,
            inf_refmsgid=self._refmsgid(draft, accepted.tenant, now),
            received_at=incoming.received_at,
            responded_at=now,
        )
        envelope = encode_answer(accepted.tenant.dialect, accepted.infno, national)
        body = seal(envelope, self._core.signer_for(accepted.tenant.profile))
        draft.infcode, draft.err_msg, draft.response = -1, err_msg, envelope
        return Delivery(Reply(200, body))

    def _compose(
        self,
        incoming: Incoming,
        draft: TranscriptDraft,
        accepted: _Accepted,
        answer: Answer,
        *,
        fault: AppliedFault | None,
        now: datetime,
    ) -> Delivery:
        draft.infcode, draft.err_msg = answer.infcode, answer.err_msg
        draft.error_id = answer.error
        draft.state_changed = answer.state_changed
        draft.effects = dict(answer.effects)
        if answer.file is not None and answer.infcode == 0:
            reply = Reply(200, answer.file, content_type=_FILE_TYPE)
            draft.response = {"file": {"bytes": len(answer.file), "sha256": _sha256(answer.file)}}
            return self._after_fault(reply, None, accepted, draft, fault)
        national = answer_envelope(
            infcode=answer.infcode,
            err_msg=answer.err_msg,
            output=answer.output,
            inf_refmsgid=self._refmsgid(draft, accepted.tenant, now),
            received_at=incoming.received_at,
            responded_at=now,
            warn_msg=answer.warn_msg,
        )
        envelope = encode_answer(accepted.tenant.dialect, accepted.infno, national)
        # Encoded once: the same bytes are signed and sent, and kept in the transcript record;
        # the signer finds cainfo/signtype in them without parsing them back into a dict.
        encoded = dumps(envelope)
        draft.response = orjson.Fragment(encoded)
        signer = self._core.signer_for(accepted.tenant.profile)
        signed = signer.sign(encoded, document=envelope) if signer is not None else encoded
        reply = Reply(200, signed)
        return self._after_fault(reply, envelope, accepted, draft, fault)

    def _after_fault(
        self,
        reply: Reply,
        envelope: dict[str, Any] | None,
        accepted: _Accepted,
        draft: TranscriptDraft,
        fault: AppliedFault | None,
    ) -> Delivery:
        """An ``after`` fault: the call was processed; its answer is delayed, spoilt or lost."""
        if fault is None:
            return Delivery(reply)
        kind = fault.kind
        if kind is FaultKind.LATENCY:
            return Delivery(reply, delay=(fault.spec.ms or 0) / 1000)
        if kind is FaultKind.BAD_SIGNATURE and envelope is not None:
            signer = self._core.any_signer(accepted.tenant.profile)
            return Delivery(Reply(200, bad_signature(envelope, signer)))
        draft.delivered = False
        if kind is FaultKind.COMMIT_THEN_DROP:
            return Delivery(None, withhold=fault.spec.drop_mode)
        return Delivery(_spoilt(kind, reply, fault.spec.http_status))

    # -- helpers --------------------------------------------------------------------------

    async def _record_alone(self, draft: TranscriptDraft, now: datetime) -> int | None:
        """Write a record for a request the engine never saw (its own unit of work)."""
        record = draft.finish(answered_at=now)
        store = self._core.store
        try:
            return await self._core.commits.run(lambda tx: store.append_transcript(tx, record))
        except Exception:  # a full disk must not turn a refusal into a 500
            _log.error("transcript record not written:\n%s", traceback.format_exc())
            return None

    def _refmsgid(self, draft: TranscriptDraft, tenant: Tenant | None, now: datetime) -> str:
        area = _text(draft.request, "mdtrtarea_admvs") or (tenant.area if tenant else None)
        return self._core.refmsgids.next(area, now)


def _check_content_type(value: str | None) -> None:
    """Step 1: a body the platform reads as JSON text, in UTF-8.

    HIS send ``application/json`` (with or without ``charset=utf-8``) or, behind the CSB
    gateway of Hunan, ``text/plain; charset=utf-8``; many send none at all. A form, multipart,
    XML or binary content type, or a charset other than UTF-8, is not a JSON envelope and is
    refused before the body is read (415, in front of the platform).
    """
    if value is None or not value.strip():
        return
    media, _, parameters = value.partition(";")
    media = media.strip().lower()
    charsets = [
        item.partition("=")[2].strip().strip('"').lower()
        for item in parameters.split(";")
        if item.partition("=")[0].strip().lower() == "charset"
    ]
    if media not in _JSON_MEDIA_TYPES or any(c not in ("utf-8", "utf8") for c in charsets):
        raise _Refusal(415, wording.unsupported_content_type(value), gateway=True)


def _check_json(document: object, problem: str | _Refusal | None) -> dict[str, Any]:
    """Step 3: the body is a JSON object, nested no deeper than ``MAX_DEPTH``."""
    if isinstance(problem, _Refusal):
        raise problem
    if problem is not None or not isinstance(document, dict):
        raise _Refusal(
            200,
            wording.malformed_json(problem or "not a JSON object"),
            error="envelope.malformed_json",
        )
    return document


def _check_path(incoming: Incoming, document: Mapping[str, Any], spoken: Dialect) -> str:
    """Step 6: the path is an entry of the institution's dialect, and a per-transaction path
    serves the body's infno; returns the infno."""
    infno = document.get("infno")
    if incoming.path_infno is not None and infno != incoming.path_infno:
        raise _Refusal(
            200, wording.path_infno_mismatch(incoming.path, incoming.path_infno, str(infno))
        )
    entries = spoken.entries(str(infno))
    if incoming.path not in entries:
        raise _Refusal(200, wording.not_an_entry(incoming.path, spoken.name, entries))
    return str(infno)


def _check_dialect(
    spoken: Dialect, document: dict[str, Any], draft: TranscriptDraft
) -> dict[str, Any]:
    """Step 6a: the request is in the institution's dialect; returns it in the national shape."""
    national, issues = decode_request(spoken, document)
    draft.dialect = {"name": spoken.name, "ok": not issues, "error": None}
    if issues:
        err_msg = wording.dialect_violation(spoken.name, issues)
        draft.dialect["error"] = err_msg
        draft.validation = [
            {"pointer": i.pointer, "rule": i.rule, "message": i.message} for i in issues
        ]
        raise _Refusal(200, err_msg, error="envelope.validation_failed")
    return national


def _spoken_by(tenant: Tenant) -> _Progress:
    return _Progress(tenant.profile, tenant.dialect)


def _check_contract(document: Mapping[str, Any], draft: TranscriptDraft) -> None:
    """Step 7: the envelope is valid per the contract, its infno one the contract knows."""
    # The yes/no check is several times cheaper than collecting every issue, and nearly
    # every request passes it; the issues are collected only to explain a refusal.
    if spec.contract().validators.is_valid_request(document):
        return
    issues = spec.validate_request(document)
    draft.validation = [
        {"pointer": i.pointer, "rule": i.rule, "message": i.message} for i in issues
    ]
    if any(i.rule == "known-transaction" for i in issues):
        known = sorted(spec.contract().transactions)
        raise _Refusal(
            200,
            wording.unknown_infno(str(document.get("infno")), known),
            error="envelope.unknown_infno",
        )
    raise _Refusal(200, wording.contract_violation(issues), error="envelope.validation_failed")


def _parse(body: bytes) -> tuple[Any, str | _Refusal | None]:
    """The body parsed, or what is wrong with it. A body nested deeper than ``MAX_DEPTH`` is
    refused for that (rule ``max-depth``) before any recursive reader sees it; what the
    transcript keeps of it is cut at that depth, so its record can always be written."""
    if not body.strip():
        return None, "the body is empty"
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        if text_depth(body) > MAX_DEPTH:  # orjson itself stops at 1024 levels
            return None, _too_deep(None)
        return None, f"not UTF-8 JSON: {exc}"
    if body.count(b"{") + body.count(b"[") > MAX_DEPTH and deeper_than(document):
        kept, cut = pruned(document)
        return kept, _too_deep(cut[0])
    return document, None


def _too_deep(pointer: str | None) -> _Refusal:
    return _Refusal(200, wording.too_deep(MAX_DEPTH, pointer), error="envelope.malformed_json")


def _text(document: object, name: str) -> str | None:
    value = document.get(name) if isinstance(document, Mapping) else None
    return value if isinstance(value, str) and value else None


def _signed(document: object) -> bool:
    return bool(_text(document, "cainfo")) and bool(_text(document, "signtype"))


def _named(error: RejectedMessageError) -> str:
    """The error's wording and message, with the field and rule it broke."""
    where = f" (field {error.field}, rule {error.rule})" if error.field or error.rule else ""
    return f"{error.err_msg}{where}"


def _spoilt(kind: FaultKind, reply: Reply, status: int) -> Reply:
    """The reply an ``empty-body``, ``garbled-body`` or ``http-error`` fault sends instead."""
    if kind is FaultKind.EMPTY_BODY:
        return Reply(200, b"", content_type=reply.content_type)
    if kind is FaultKind.GARBLED_BODY:
        return Reply(200, garble(reply.body), content_type=reply.content_type)
    return _error_page(status)


def _error_page(status: int) -> Reply:
    phrase = _HTTP_PHRASES.get(status, "Server Error")
    page = (
        f"<html><head><title>{status} {phrase}</title></head><body><center><h1>{status} "
        f"{phrase}</h1></center><hr><center>nhsa-kit mock gateway (armed fault)</center>"
        "</body></html>"
    ).encode()
    return Reply(status, page, content_type="text/html; charset=utf-8")


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _reset_effects(draft: TranscriptDraft) -> TranscriptDraft:
    draft.state_changed, draft.effects, draft.delivered = False, {}, True
    draft.error_id = None
    return draft

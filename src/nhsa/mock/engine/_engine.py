"""The engine: one handler per infno over a store, no HTTP (the server is a thin skin).

``Engine.handle(call, tx)`` runs inside the caller's transaction and never raises for a
business error: it answers infcode -1 and leaves nothing written but the record of the msgid
(so a reused msgid is recognised, and a later 2601 knows what the call did). A handler's writes
happen inside a savepoint that a refusal rolls back, so a refusal can never leave half a change.
Unexpected exceptions propagate: the server rolls the whole transaction back.

What the engine owns, in this order: tenancy — the call sees its institution's own state and
fixtures (:meth:`Engine.admit`); msgid durability — a msgid this institution already sent is
refused with the first use named, from the store, so also after a restart (the first answer is
kept); then the business rules: the infno is simulated (one of the contract that no handler
serves is answered "not simulated"), the area, sign-in and downtime gate, the input read
through ``nhsa.models``, the handler.

What the engine takes as given, because the server checked it in front (``nhsa.mock.app``): the
sender is a registered institution (the gateway's 非法用户, HTTP 401), the envelope is valid per
the contract and its infno is known. A call that breaks these is the caller's bug: it raises
(:class:`UnknownTenantError`, :class:`~nhsa.spec.UnknownTransactionError`) instead of being
answered, so each of those refusals has one author.

``handle`` is :meth:`Engine.admit` then :meth:`Engine.process`; the server calls the two itself,
so that a reused msgid is refused before a fault is taken for it.

Example::

    engine = Engine(store, bundled_fixtures(), clock=china_now)
    with store.transaction() as tx:
        answer = engine.handle(Call(tenant, "9001", msgid, envelope, china_now()), tx)
        store.append_transcript(tx, record)
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from nhsa.envelope import Clock, china_now
from nhsa.mock.engine._chronic import cancel_disease, query_diseases, register_disease
from nhsa.mock.engine._context import Context
from nhsa.mock.engine._errors import BusinessError, UnknownTenantError
from nhsa.mock.engine._fees import cancel_fees, upload_fees
from nhsa.mock.engine._files import download_file, upload_file
from nhsa.mock.engine._gate import check_call
from nhsa.mock.engine._person import entitlement, person_info
from nhsa.mock.engine._query import settlement_info
from nhsa.mock.engine._reconcile import reconcile_details, reconcile_totals
from nhsa.mock.engine._registration import cancel_registration, register, upload_visit_info
from nhsa.mock.engine._reversal import reverse_message
from nhsa.mock.engine._setlinfo import DATETIME
from nhsa.mock.engine._settle import cancel_settlement, presettle, settle_visit
from nhsa.mock.engine._signin import sign_in, sign_out
from nhsa.mock.engine._stay_fees import cancel_stay_fees, upload_stay_fees
from nhsa.mock.engine._stay_settle import cancel_stay_settlement, presettle_stay, settle_stay
from nhsa.mock.engine._stays import admit, cancel_admission, cancel_discharge, discharge
from nhsa.mock.engine._types import Answer, Call, EngineOptions
from nhsa.mock.fixtures import DesignatedInstitution, FixtureSet, Service, load_fixtures
from nhsa.mock.settlement import SettlementError
from nhsa.mock.store import Message, RegisteredInstitution, Store, TenantSetting, UnitOfWork
from nhsa.models import models_for
from nhsa.spec import contract

Handler = Callable[[Context, Any], Answer]

HANDLERS: Mapping[str, Handler] = {
    "9001": sign_in,
    "9002": sign_out,
    "1101": person_info,
    "2001": entitlement,
    "2201": register,
    "2202": cancel_registration,
    "2203": upload_visit_info,
    "2203A": upload_visit_info,
    "2204": upload_fees,
    "2205": cancel_fees,
    "2206": presettle,
    "2207": settle_visit,
    "2208": cancel_settlement,
    "2301": upload_stay_fees,
    "2302": cancel_stay_fees,
    "2303": presettle_stay,
    "2304": settle_stay,
    "2305": cancel_stay_settlement,
    "2401": admit,
    "2402": discharge,
    "2404": cancel_admission,
    "2405": cancel_discharge,
    "2601": reverse_message,
    "3201": reconcile_totals,
    "3202": reconcile_details,
    "5203": settlement_info,
    "9101": upload_file,
    "9102": download_file,
    "2503": register_disease,
    "2504": cancel_disease,
    "5301": query_diseases,
}
"""infno → handler: every transaction the mock simulates."""

FIXTURES_DIR = "fixtures_dir"
"""Tenant setting: a fixture folder replacing the bundled set for that tenant."""


class Engine:
    """The mock platform's business rules (see the module docstring).

    Args:
        store: where state lives (the server opens the transactions).
        fixtures: the default fixture set (a tenant may be given its own folder).
        clock: current time for the public services (calls carry their own ``received_at``).
        options: province-dependent switches.
    """

    def __init__(
        self,
        store: Store,
        fixtures: FixtureSet,
        *,
        clock: Clock = china_now,
        options: EngineOptions | None = None,
    ) -> None:
        self.store = store
        self.fixtures = fixtures
        self.clock = clock
        self.options = options or EngineOptions()
        self._loaded: dict[str, FixtureSet] = {}
        self._lock = threading.Lock()

    def now(self) -> datetime:
        """The current time by the engine's clock."""
        return self.clock()

    # -- the call ---------------------------------------------------------------------------

    def handle(self, call: Call, tx: UnitOfWork) -> Answer:
        """Answer one call inside ``tx``: :meth:`admit` it, then :meth:`process` it."""
        admitted = self.admit(call, tx)
        return admitted if isinstance(admitted, Answer) else self.process(admitted)

    def admit(self, call: Call, tx: UnitOfWork) -> Context | Answer:
        """The call as its institution's own, or the refusal of a msgid it already sent.

        Reads only. Raises :class:`UnknownTenantError` for an institution the engine does not
        serve (the server's gateway check refuses those before a call is made).
        """
        fixtures = self.fixtures_for(tx, call.tenant)
        institution = self.institution(tx, call.tenant, fixtures)
        if institution is None:
            raise UnknownTenantError(call.tenant)
        if call.msgid:
            seen = tx.get(Message, call.tenant, call.msgid)
            if seen is not None:
                return _duplicate(seen)
        return Context(tx, call, institution, fixtures, self.options)

    def process(self, ctx: Context) -> Answer:
        """Run the business rules for an admitted call and remember its msgid with the answer."""
        call = ctx.call
        answer = self._answer(ctx)
        if call.msgid:
            ctx.tx.put(
                Message(
                    tenant=call.tenant,
                    msgid=call.msgid,
                    infno=call.infno,
                    received_at=call.received_at,
                    infcode=answer.infcode,
                    psn_no=call.psn_no,
                    effects=dict(answer.effects),
                    err_msg=answer.err_msg,
                    output=dict(answer.output) if answer.output is not None else None,
                )
            )
        return answer

    def _answer(self, ctx: Context) -> Answer:
        handler = HANDLERS.get(ctx.call.infno)
        if handler is None:
            return _not_simulated(ctx.call.infno)
        try:
            with ctx.tx.savepoint():
                check_call(ctx)
                return handler(ctx, _read_input(ctx.call))
        except BusinessError as refusal:
            return Answer.failed(refusal.err_msg, refusal.kind)
        except SettlementError as refusal:
            return Answer.failed(
                f"当前状态不允许此操作：结算计算拒绝：{refusal} / the settlement calculator "
                f"refused: {refusal}",
                "business.illegal_state",
            )

    # -- tenants ----------------------------------------------------------------------------

    def fixtures_for(self, tx: UnitOfWork, tenant: str) -> FixtureSet:
        """The tenant's fixture set: its own folder if one was loaded, else the default."""
        setting = tx.get(TenantSetting, tenant, FIXTURES_DIR)
        return self.fixtures if setting is None else self.load(setting.value)

    def load(self, directory: str) -> FixtureSet:
        """Load (once per folder) and validate a fixture folder; raises ``FixtureError``."""
        with self._lock:
            if directory not in self._loaded:
                self._loaded[directory] = load_fixtures(directory)
            return self._loaded[directory]

    def forget(self, directory: str) -> None:
        """Drop a cached folder so the next use reads it again (after a lab edits it)."""
        with self._lock:
            self._loaded.pop(directory, None)

    def institution(
        self, tx: UnitOfWork, tenant: str, fixtures: FixtureSet | None = None
    ) -> DesignatedInstitution | None:
        """The institution as registered through the admin API, else from its fixtures."""
        registered = tx.get(RegisteredInstitution, tenant)
        if registered is not None:
            return DesignatedInstitution(
                fixmedins_code=registered.fixmedins_code,
                fixmedins_name=registered.fixmedins_name,
                mdtrtarea_admvs=registered.mdtrtarea_admvs,
                level=registered.level,
                networked=frozenset(Service(s) for s in registered.networked),
            )
        return (fixtures or self.fixtures_for(tx, tenant)).institution(tenant)


def _not_simulated(infno: str) -> Answer:
    """An infno of the contract that no handler serves (raises for one the contract lacks)."""
    transaction = contract().transaction(infno)
    return Answer.failed(
        f"当前状态不允许此操作：【{infno}】{transaction.title_zh}本模拟平台尚未模拟 / "
        f"{infno} ({transaction.title_en}) is not simulated by this mock platform",
        "business.illegal_state",
    )


def _duplicate(seen: Message) -> Answer:
    when = seen.received_at.strftime(DATETIME)
    if seen.tombstone:
        return Answer.failed(
            f"发送方报文ID重复：{seen.msgid} 已于 {when} 被冲正(2601, msgid={seen.reversed_by})，"
            "原交易不再受理；请用新的报文ID重新办理 / "
            f"msgid {seen.msgid} was reversed (2601 {seen.reversed_by}) before it arrived: it is "
            "refused; send the business again with a new msgid",
            "envelope.duplicate_msgid",
        )
    return Answer.failed(
        f"发送方报文ID重复：{seen.msgid} 已于 {when} 用于【{seen.infno}】；"
        "每个请求须使用新的报文ID，"
        "结果未知的交易请用【2601】冲正 / "
        f"duplicate msgid: {seen.msgid} was used at {when} for {seen.infno}; send every request "
        "with a new msgid, and undo an unknown outcome with 2601",
        "envelope.duplicate_msgid",
    )


def _read_input(call: Call) -> Any:
    """The call's ``input`` through its generated model (the contract's field names)."""
    try:
        return models_for(call.infno).input.model_validate(call.envelope.get("input"))
    except ValidationError as invalid:
        problems = []
        for error in invalid.errors(include_url=False)[:3]:
            pointer = "/input/" + "/".join(str(part) for part in error["loc"])
            problems.append(f"{pointer} {error['type']}: {error['msg']}")
        text = "; ".join(problems)
        raise BusinessError(
            "envelope.validation_failed",
            f"报文校验失败：{text}",
            f"the input breaks the contract: {text}",
        ) from None

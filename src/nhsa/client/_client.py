"""``Client`` and ``AsyncClient``: thin drivers over the one policy core.

Every method builds a flow from the core (:mod:`nhsa.client._core` and the workflow modules)
and runs it — the sync client with :func:`nhsa.client._flow.drive`, the async one with
:func:`nhsa.client._flow.drive_async`. Neither holds any policy of its own, so both give the
same outcome for the same answers and faults.

Example:
    A platform whose gateway answers 503 to everything, through both clients:

    >>> import anyio, httpx
    >>> from nhsa.client import (Client, ClientConfig, OutcomeUnknownError, RetryPolicy,
    ...                          WindowMode)
    >>> config = ClientConfig("H53010100001", "昆明市测试第一人民医院", "530100",
    ...                       journal_path=":memory:", retry=RetryPolicy(backoff_max=0))
    >>> down = httpx.MockTransport(lambda request: httpx.Response(503))
    >>> window = WindowMode("C0001", "收费员甲")
    >>> with Client(config, window, transport=down) as client:
    ...     try:
    ...         client.sign_in()
    ...     except OutcomeUnknownError as error:
    ...         print([attempt.result for attempt in error.history])
    ['unknown', 'unknown', 'unknown', 'unknown']
    >>> async def main():
    ...     async with AsyncClient(config, window, transport=down) as client:
    ...         try:
    ...             await client.sign_in()
    ...         except OutcomeUnknownError as error:
    ...             print([attempt.result for attempt in error.history])
    >>> anyio.run(main)
    ['unknown', 'unknown', 'unknown', 'unknown']
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal
from types import TracebackType
from typing import Any, TypeVar

import anyio
import httpx

from nhsa.client import (
    _charge,
    _chronic,
    _reconcile,
    _recover,
    _refund,
    _register,
    _resolution,
    _stay,
)
from nhsa.client._config import ClientConfig
from nhsa.client._core import SIGN_IN, Core
from nhsa.client._flow import Flow, drive, drive_async
from nhsa.client._inputs import Certificate, ChronicDisease, Clinic, Diagnosis, FeeLine, Ward
from nhsa.client._journal import Journal
from nhsa.client._modes import Mode
from nhsa.client._outcomes import Outcome, Resolution
from nhsa.client._results import (
    Charge,
    ChronicRegistration,
    Recognition,
    ReconcileReport,
    RecoveryReport,
    Refund,
    Registration,
)
from nhsa.client._stay_results import FeeBatch, Stay, StayCancellation, StaySettlement
from nhsa.client._transactions import AsyncTransactions, SyncTransactions
from nhsa.client.errors import InvalidInputError, NhsaClientError
from nhsa.envelope import Clock, china_now
from nhsa.models import Input9001, InputModel, Output9001
from nhsa.redaction import get_logger

T = TypeVar("T")
_log = get_logger("nhsa.client")


class _Base:
    """What both clients share: the core and its read-only views."""

    def __init__(self, config: ClientConfig, mode: Mode, clock: Clock) -> None:
        self._core = Core(config, mode, clock=clock)

    @property
    def config(self) -> ClientConfig:
        """The configuration this client was built with."""
        return self._core.config

    @property
    def mode(self) -> Mode:
        """The counter mode (window or kiosk)."""
        return self._core.mode

    @property
    def journal(self) -> Journal:
        """The journal (read it to audit; the client writes it)."""
        return self._core.journal

    # -- flows, shared by both clients ------------------------------------------------------

    def _call_flow(
        self, infno: str, input_model: InputModel, insuplc_admdvs: str | None
    ) -> Flow[Outcome]:
        return self._core.call(infno, input_model, insuplc_admdvs=insuplc_admdvs)

    def _typed_flow(
        self, infno: str, input_model: InputModel, insuplc_admdvs: str | None
    ) -> Flow[Any]:
        return self._core.typed(infno, input_model, insuplc_admdvs=insuplc_admdvs)

    def _held_flow(self, msgid: str) -> Flow[Resolution]:
        entry = self._core.journal.get(msgid)
        if entry is None or entry.state not in ("held", "manual"):
            state = entry.state if entry else "not in the journal"
            raise InvalidInputError(
                f"msgid {msgid}: only a held or manual entry can be reversed this way "
                f"(it is {state})",
                field="msgid",
                rule="held-or-manual",
            )
        return _resolution.resolve(self._core, msgid, hold=False)


class Client(SyncTransactions, _Base):
    """The blocking SDK client for one counter (a window or a kiosk).

    Args:
        config: institution, platform URL, signing, timeouts, retries, journal.
        mode: :class:`~nhsa.client.WindowMode` or :class:`~nhsa.client.KioskMode`.
        transport: any httpx transport (the mock's in-process transport in tests);
            ``None`` uses real HTTP to ``config.base_url``.
        clock: China-time clock (msgid, inf_time); injectable for tests.
        sleep: how to wait between retries; injectable for tests.

    Use it as a context manager, or call :meth:`close`: closing signs out (9002).

    Example:
        A visit at a window, against the in-process mock platform (``mock``):

        >>> with Client(config, window, transport=mock.transport) as client:
        ...     visit = client.register(card, insutype="310", clinic=clinic)
        ...     paid = client.charge(visit, fees, diagnoses=diagnoses)
        >>> (visit.psn_no, paid.totals.medfee_sumamt, paid.totals == paid.pre_settlement)
        ('P53010000000001', Decimal('25.00'), True)
    """

    def __init__(
        self,
        config: ClientConfig,
        mode: Mode,
        *,
        transport: httpx.BaseTransport | None = None,
        clock: Clock = china_now,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        """Build the client; nothing is sent until the first call."""
        _Base.__init__(self, config, mode, clock)
        self._http = httpx.Client(transport=transport, timeout=config.timeouts.as_httpx())
        self._sleep = sleep

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def _run(self, flow: Flow[T]) -> T:
        return drive(flow, self._http, sleep=self._sleep)

    def _typed(self, infno: str, input_model: InputModel, insuplc_admdvs: str | None) -> Any:
        return self._run(self._typed_flow(infno, input_model, insuplc_admdvs))

    def call(
        self, infno: str, input_model: InputModel, *, insuplc_admdvs: str | None = None
    ) -> Outcome:
        """Send any transaction and return its outcome instead of raising.

        Example:
            >>> from nhsa.models import Input2202, Input2202Data
            >>> cancel = Input2202(data=Input2202Data(psn_no="P53010000000001", mdtrt_id="0",
            ...                                       ipt_otp_no="MZ0"))
            >>> outcome = client.call("2202", cancel, insuplc_admdvs="530100")
            >>> (outcome.kind, outcome.definite, [a.result for a in outcome.attempts])
            ('rejected', True, ['rejected'])
        """
        return self._run(self._call_flow(infno, input_model, insuplc_admdvs))

    def register(
        self,
        certificate: Certificate,
        *,
        insutype: str,
        clinic: Clinic,
        ipt_otp_no: str | None = None,
    ) -> Registration:
        """Find the person (1101) and register the visit (2201) under ``insutype``.

        Example:
            >>> visit = client.register(card, insutype="310", clinic=clinic)
            >>> (visit.psn_no, visit.insutype, visit.insuplc_admdvs)
            ('P53010000000001', '310', '530100')
        """
        return self._run(
            _register.register(
                self._core, certificate, insutype=insutype, clinic=clinic, ipt_otp_no=ipt_otp_no
            )
        )

    def adopt_visit(self, registration: Registration | Stay) -> bool:
        """Take in a visit registered (or a stay admitted) outside the SDK — another program,
        a machine that keeps its own journal: this client's journal records it, guards it from
        now on, and lets :meth:`charge` and :meth:`refund` (for a stay: its fee uploads,
        discharge, settlements and their cancellation) act on it. Nothing is sent. Returns
        ``False`` when the journal holds the visit already. Adopt a visit in one journal only.

        Example:
            A registration desk with a journal of its own (its clock a minute behind, as
            another machine's may be, so its msgids never meet this client's):

            >>> from datetime import timedelta
            >>> from nhsa.client import Client, ClientConfig, VisitNotInJournalError
            >>> from nhsa.envelope import china_now
            >>> other = ClientConfig("H53010100001", "昆明市测试第一人民医院", "530100",
            ...                      journal_path=":memory:", base_url=mock.base_url)
            >>> behind = lambda: china_now() - timedelta(minutes=1)
            >>> with Client(other, window, transport=mock.transport, clock=behind) as desk:
            ...     visit = desk.register(card, insutype="310", clinic=clinic)
            >>> try:
            ...     client.charge(visit, fees, diagnoses=diagnoses)
            ... except VisitNotInJournalError:
            ...     print("refused: another journal registered it")
            refused: another journal registered it
            >>> client.adopt_visit(visit)
            True
            >>> client.charge(visit, fees, diagnoses=diagnoses).totals.medfee_sumamt
            Decimal('25.00')
        """
        return _register.adopt(self._core, registration)

    def cancel_registration(self, registration: Registration) -> str:
        """Cancel the visit (2202); returns the 2202 msgid.

        Example:
            >>> visit = client.register(card, insutype="310", clinic=clinic)
            >>> cancelled = client.journal.get(client.cancel_registration(visit))
            >>> (cancelled.infno, cancelled.state, cancelled.mdtrt_id == visit.mdtrt_id)
            ('2202', 'succeeded', True)
        """
        return self._run(_register.cancel_registration(self._core, registration))

    def charge(
        self,
        registration: Registration,
        fees: Sequence[FeeLine],
        *,
        diagnoses: Sequence[Diagnosis],
        med_type: str | None = None,
        chronic: ChronicDisease | None = None,
        psn_setlway: str = "01",
        acct_used_flag: str = "1",
        invono: str | None = None,
    ) -> Charge:
        """Charge the visit: 2203, 2204, 2206, 2207, totals checked (see ``_charge``).

        ``med_type`` defaults to 11 (普通门诊). A chronic visit (门诊慢特病, med_type 14) is
        charged with ``chronic=`` the disease the person has recognised (``recognitions``):
        its code goes in 2203 and on every 2204 line; med_type 14 without it is refused before
        anything is sent.

        Example:
            >>> visit = client.register(card, insutype="310", clinic=clinic)
            >>> paid = client.charge(visit, fees, diagnoses=diagnoses)
            >>> (paid.totals.medfee_sumamt, paid.totals.acct_pay, paid.setl_id != "")
            (Decimal('25.00'), Decimal('25.00'), True)
            >>> [line.feedetl_sn is not None for line in paid.lines]
            [True]

            A chronic visit, once the hospital has registered the patient's hypertension:

            >>> from nhsa.client import ChronicDisease
            >>> hypertension = ChronicDisease.of("M03900")
            >>> _ = client.register_chronic(card, hypertension, insutype="310", clinic=clinic)
            >>> visit = client.register(card, insutype="310", clinic=clinic)
            >>> paid = client.charge(visit, fees, diagnoses=diagnoses, chronic=hypertension)
            >>> (paid.med_type, paid.setlinfo.med_type, paid.chronic.code)
            ('14', '14', 'M03900')
        """
        return self._run(
            _charge.charge(
                self._core,
                registration,
                fees,
                diagnoses=diagnoses,
                med_type=med_type,
                chronic=chronic,
                psn_setlway=psn_setlway,
                acct_used_flag=acct_used_flag,
                invono=invono,
            )
        )

    def recognitions(
        self, person: Certificate | Registration, *, insutype: str | None = None
    ) -> tuple[Recognition, ...]:
        """The person's chronic diseases on record with the insured place (5301), expired ones
        included: keep those ``valid_on`` the visit's day and charge under one of them.

        ``person`` is the patient's certificate (then 1101 finds them, and ``insutype`` names
        the insurance) or a registered visit.

        Example:
            >>> from datetime import datetime
            >>> from nhsa.client import ChronicDisease
            >>> from nhsa.envelope import CHINA_TIME
            >>> _ = client.register_chronic(card, ChronicDisease.of("M01600"), insutype="310",
            ...                             clinic=clinic)
            >>> [(r.opsp_dise_code, r.valid_on(datetime.now(CHINA_TIME).date())) for r in
            ...  client.recognitions(card, insutype="310")]
            [('M01600', True)]
        """
        return self._run(_chronic.recognitions(self._core, person, insutype=insutype))

    def register_chronic(
        self,
        person: Certificate | Registration,
        disease: ChronicDisease,
        *,
        clinic: Clinic,
        insutype: str | None = None,
        begndate: date | None = None,
        enddate: date | None = None,
        identified_on: date | None = None,
    ) -> ChronicRegistration:
        """Register a chronic disease this hospital identified (2503, 人员慢特病备案).

        ``clinic`` names the diagnosing doctor; the dates default to today (``enddate``: open).
        An unknown outcome cannot be undone automatically (2504 needs the serial only the
        answer carried): it is marked for a manual decision — ``recognitions`` shows whether
        the disease is on record.

        Example:
            >>> from nhsa.client import ChronicDisease
            >>> done = client.register_chronic(card, ChronicDisease.of("M03900"), insutype="310",
            ...                                clinic=clinic)
            >>> (done.psn_no, done.disease.name, client.journal.get(done.msgid).state)
            ('P53010000000001', '高血压病', 'succeeded')
        """
        return self._run(
            _chronic.register_chronic(
                self._core,
                person,
                disease,
                clinic=clinic,
                insutype=insutype,
                begndate=begndate,
                enddate=enddate,
                identified_on=identified_on,
            )
        )

    def cancel_chronic(self, registration: ChronicRegistration, *, reason: str) -> str:
        """Cancel a chronic-disease registration this HIS made (2504); returns the 2504 msgid.

        Example:
            >>> from nhsa.client import ChronicDisease
            >>> done = client.register_chronic(card, ChronicDisease.of("M03900"), insutype="310",
            ...                                clinic=clinic)
            >>> _ = client.cancel_chronic(done, reason="病种录入错误")
            >>> client.recognitions(card, insutype="310")
            ()
        """
        return self._run(_chronic.cancel_chronic(self._core, registration, reason=reason))

    def refund(self, charge: Charge, *, lines: Sequence[str] | None = None) -> Refund:
        """Refund a charge fully, or only the fee lines whose serials are in ``lines``.

        Example:
            >>> paid = client.charge(client.register(card, insutype="310", clinic=clinic), fees,
            ...                      diagnoses=diagnoses)
            >>> refund = client.refund(paid)
            >>> (refund.refunded.medfee_sumamt, refund.fee_batch_cancelled, refund.recharge)
            (Decimal('-25.00'), True, None)
        """
        return self._run(_refund.refund(self._core, charge, lines=lines))

    # -- inpatient stays (see nhsa.client._stay) -------------------------------------------

    def admit(
        self,
        certificate: Certificate,
        *,
        insutype: str,
        ward: Ward,
        diagnoses: Sequence[Diagnosis],
        med_type: str = "21",
        ipt_no: str | None = None,
        begntime: datetime | None = None,
    ) -> Stay:
        """Find the person (1101) and admit them (2401) under ``insutype``.

        Example:
            >>> stay = client.admit(card, insutype="310", ward=ward, diagnoses=diagnoses)
            >>> (stay.psn_no, stay.insuplc_admdvs, stay.ipt_no[:2], stay.discharged)
            ('P53010000000001', '530100', 'ZY', False)
        """
        return self._run(
            _stay.admit(
                self._core, certificate, insutype=insutype, ward=ward, diagnoses=diagnoses,
                med_type=med_type, ipt_no=ipt_no, begntime=begntime,
            )
        )  # fmt: skip

    def upload_stay_fees(self, stay: Stay, fees: Sequence[FeeLine]) -> tuple[FeeBatch, ...]:
        """Upload fee lines of the stay (2301), one batch per ``config.fee_lines_per_upload``.

        Example:
            >>> stay = client.admit(card, insutype="310", ward=ward, diagnoses=diagnoses)
            >>> [batch.total for batch in client.upload_stay_fees(stay, fees * 3)]
            [Decimal('75.00')]
        """
        return self._run(_stay.upload_stay_fees(self._core, stay, fees))

    def settle_midway(
        self,
        stay: Stay,
        medfee_sumamt: Decimal,
        *,
        until: date,
        psn_setlway: str = "01",
        acct_used_flag: str = "1",
        card_token: str | None = None,
    ) -> StaySettlement:
        """Settle the stay's unsettled fees up to ``until`` while the patient stays (中途结算:
        2303 + 2304 ``mid_setl_flag`` 1); ``medfee_sumamt`` is the HIS's own total of them.

        Example:
            >>> stay = client.admit(card, insutype="310", ward=ward, diagnoses=diagnoses)
            >>> (batch,) = client.upload_stay_fees(stay, fees)
            >>> part = client.settle_midway(stay, batch.total, until=stay.begntime.date(),
            ...                             card_token=card.card_sn)
            >>> (part.midway, part.setlinfo.clr_type, part.totals.medfee_sumamt)
            (True, '21', Decimal('25.00'))
        """
        return self._run(
            _stay.settle(
                self._core, stay, medfee_sumamt, until=until, midway=True,
                psn_setlway=psn_setlway, acct_used_flag=acct_used_flag, card_token=card_token,
            )
        )  # fmt: skip

    def discharge(
        self,
        stay: Stay,
        *,
        diagnoses: Sequence[Diagnosis],
        endtime: datetime | None = None,
        dscg_way: str = "1",
    ) -> Stay:
        """Discharge the patient (2402); returns the stay, discharged.

        Example:
            >>> stay = client.admit(card, insutype="310", ward=ward, diagnoses=diagnoses)
            >>> client.discharge(stay, diagnoses=diagnoses).discharged
            True
        """
        return self._run(
            _stay.discharge(
                self._core, stay, diagnoses=diagnoses, endtime=endtime, dscg_way=dscg_way
            )
        )

    def settle_stay(
        self,
        stay: Stay,
        medfee_sumamt: Decimal,
        *,
        psn_setlway: str = "01",
        acct_used_flag: str = "1",
        card_token: str | None = None,
    ) -> StaySettlement:
        """Settle a discharged stay (2303 + 2304 ``mid_setl_flag`` 0), the totals checked;
        ``medfee_sumamt`` is the HIS's own total of what is still unsettled.

        Example:
            >>> stay = client.admit(card, insutype="310", ward=ward, diagnoses=diagnoses)
            >>> (batch,) = client.upload_stay_fees(stay, fees)
            >>> stay = client.discharge(stay, diagnoses=diagnoses)
            >>> paid = client.settle_stay(stay, batch.total, card_token=card.card_sn)
            >>> (paid.midway, paid.totals.medfee_sumamt, paid.totals == paid.pre_settlement)
            (False, Decimal('25.00'), True)
        """
        return self._run(
            _stay.settle(
                self._core, stay, medfee_sumamt, until=None, midway=False,
                psn_setlway=psn_setlway, acct_used_flag=acct_used_flag, card_token=card_token,
            )
        )  # fmt: skip

    def cancel_stay_settlement(self, settlement: StaySettlement) -> StayCancellation:
        """Cancel a settlement of a stay (2305); a stay's settlements go newest first.

        Example:
            >>> stay = client.admit(card, insutype="310", ward=ward, diagnoses=diagnoses)
            >>> (batch,) = client.upload_stay_fees(stay, fees)
            >>> part = client.settle_midway(stay, batch.total, until=stay.begntime.date(),
            ...                             card_token=card.card_sn)
            >>> client.cancel_stay_settlement(part).refunded.medfee_sumamt
            Decimal('-25.00')
        """
        return self._run(_stay.cancel_stay_settlement(self._core, settlement))

    def cancel_discharge(self, stay: Stay) -> Stay:
        """Undo the discharge (2405); returns the stay, admitted again.

        Example:
            >>> stay = client.admit(card, insutype="310", ward=ward, diagnoses=diagnoses)
            >>> client.cancel_discharge(client.discharge(stay, diagnoses=diagnoses)).discharged
            False
        """
        return self._run(_stay.cancel_discharge(self._core, stay))

    def cancel_admission(self, stay: Stay) -> str:
        """Cancel the admission (its unsettled fees with 2302 "0000", then 2404); the 2404
        msgid. A settled or discharged stay is refused by the platform, saying why.

        Example:
            >>> stay = client.admit(card, insutype="310", ward=ward, diagnoses=diagnoses)
            >>> batches = client.upload_stay_fees(stay, fees)
            >>> client.journal.get(client.cancel_admission(stay)).state
            'succeeded'
        """
        return self._run(_stay.cancel_admission(self._core, stay))

    def reconcile(
        self,
        day: date,
        *,
        extra_groups: Iterable[tuple[str, str]] = (),
        include_refunds: bool = True,
        details: bool = False,
    ) -> ReconcileReport:
        """Day-end reconciliation of ``day`` from the journal (3201, 3202 where unbalanced).

        Args:
            extra_groups: insutype × clr_type pairs to check although the journal has no row.
            include_refunds: count refunds as rows of their own (``refd_setl_flag`` 1, the
                platform's default), or only the settlements that stand (0).
            details: compare row by row (3202) even where the totals balance.

        Example:
            >>> paid = client.charge(client.register(card, insutype="310", clinic=clinic), fees,
            ...                      diagnoses=diagnoses)
            >>> report = client.reconcile(paid.setlinfo.setl_time.date())
            >>> (report.balanced, [(g.insutype, g.his.count) for g in report.groups])
            (True, [('310', 1)])
        """
        return self._run(
            _reconcile.reconcile(
                self._core,
                day,
                extra_groups=extra_groups,
                include_refunds=include_refunds,
                details=details,
            )
        )

    def recover(self) -> RecoveryReport:
        """Resolve every journal entry a crash or a lost answer left open; run at start-up.

        Example:
            >>> report = client.recover()  # a fresh journal: nothing is open
            >>> (report.clean, report.resolved, report.held)
            (True, (), ())
        """
        return self._run(_recover.recover(self._core))

    def sign_in(
        self, input_model: Input9001 | None = None, /, *, insuplc_admdvs: str | None = None
    ) -> Output9001:
        """Sign in now (9001) — as this client's operator by default — and keep the sign_no.

        Calls sign in on first use anyway; this is for a HIS that signs in at the start of a
        shift. Safe to repeat, so retried like a query.

        Example:
            >>> signed = client.sign_in()
            >>> visit = client.register(card, insutype="310", clinic=clinic)
            >>> [entry.infno for entry in client.journal.entries("H53010100001")]  # one sign-in
            ['9001', '2201']
        """
        chosen = input_model or self._core.sign_in_input()
        answer: Output9001 = self._typed(SIGN_IN, chosen, insuplc_admdvs)
        return answer

    def reverse_held(self, msgid: str) -> Resolution:
        """Undo a call a window held for the cashier (2601 or its business cancel) — or try
        the undo of a ``manual`` entry again once its cause is fixed.

        Example:
            A cashier's window that holds an unknown outcome, and a settlement whose answer the
            mock withholds after booking it:

            >>> from nhsa.client import OutcomeUnknownError, WindowMode
            >>> hold = WindowMode("C0001", "收费员甲", on_unknown="hold")
            >>> with Client(config, hold, transport=mock.transport) as cashier:
            ...     visit = cashier.register(card, insutype="310", clinic=clinic)
            ...     fault = mock.arm_fault("H53010100001", "commit-then-drop", infno="2207")
            ...     try:
            ...         cashier.charge(visit, fees, diagnoses=diagnoses)
            ...     except OutcomeUnknownError as lost:
            ...         held = lost
            ...     undone = cashier.reverse_held(held.msgid)
            >>> (type(held.resolution).__name__, undone.by_infno, undone.original_found)
            ('Held', '2601', True)
        """
        return self._run(self._held_flow(msgid))

    def close(self) -> None:
        """Sign out (9002) if signed in, then release the connection pool and the journal.

        Example:
            >>> visit = client.register(card, insutype="310", clinic=clinic)
            >>> client.close()
            >>> [record["infno"] for record in mock.transcript("H53010100001")][-1]
            '9002'
        """
        try:
            self._run(self._core.sign_out())
        except NhsaClientError as error:
            _log.warning("sign-out (9002) failed while closing: %s", error)
        finally:
            self._http.close()
            self._core.close()


class AsyncClient(AsyncTransactions, _Base):
    """The async SDK client: same policy, same outcomes as :class:`Client`.

    Args:
        config, mode, clock: as for :class:`Client`.
        transport: any async httpx transport (the mock's ``async_transport`` in tests).
        sleep: how to wait between retries (default :func:`anyio.sleep`).

    Example:
        A visit at a window, against the in-process mock platform (``mock``):

        >>> import anyio
        >>> async def main():
        ...     async with AsyncClient(config, window, transport=mock.async_transport) as client:
        ...         visit = await client.register(card, insutype="310", clinic=clinic)
        ...         paid = await client.charge(visit, fees, diagnoses=diagnoses)
        ...         return visit.psn_no, paid.totals.medfee_sumamt
        >>> anyio.run(main)
        ('P53010000000001', Decimal('25.00'))
    """

    def __init__(
        self,
        config: ClientConfig,
        mode: Mode,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Clock = china_now,
        sleep: Callable[[float], Awaitable[None]] = anyio.sleep,
    ) -> None:
        """Build the client; nothing is sent until the first call."""
        _Base.__init__(self, config, mode, clock)
        self._http = httpx.AsyncClient(transport=transport, timeout=config.timeouts.as_httpx())
        self._sleep = sleep

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def _run(self, flow: Flow[T]) -> T:
        return await drive_async(flow, self._http, sleep=self._sleep)

    async def _typed(self, infno: str, input_model: InputModel, insuplc_admdvs: str | None) -> Any:
        return await self._run(self._typed_flow(infno, input_model, insuplc_admdvs))

    async def call(
        self, infno: str, input_model: InputModel, *, insuplc_admdvs: str | None = None
    ) -> Outcome:
        """Send any transaction and return its outcome instead of raising.

        Example:
            >>> from nhsa.models import Input2202, Input2202Data
            >>> cancel = Input2202(data=Input2202Data(psn_no="P53010000000001", mdtrt_id="0",
            ...                                       ipt_otp_no="MZ0"))
            >>> import anyio
            >>> async def main():
            ...     client = AsyncClient(config, window, transport=mock.async_transport)
            ...     async with client:
            ...         return await client.call("2202", cancel, insuplc_admdvs="530100")
            >>> outcome = anyio.run(main)
            >>> (outcome.kind, outcome.definite)
            ('rejected', True)
        """
        return await self._run(self._call_flow(infno, input_model, insuplc_admdvs))

    async def register(
        self,
        certificate: Certificate,
        *,
        insutype: str,
        clinic: Clinic,
        ipt_otp_no: str | None = None,
    ) -> Registration:
        """Find the person (1101) and register the visit (2201) under ``insutype``.

        Example:
            >>> import anyio
            >>> async def main():
            ...     client = AsyncClient(config, window, transport=mock.async_transport)
            ...     async with client:
            ...         return await client.register(card, insutype="310", clinic=clinic)
            >>> visit = anyio.run(main)
            >>> (visit.psn_no, visit.insutype, visit.insuplc_admdvs)
            ('P53010000000001', '310', '530100')
        """
        return await self._run(
            _register.register(
                self._core, certificate, insutype=insutype, clinic=clinic, ipt_otp_no=ipt_otp_no
            )
        )

    async def adopt_visit(self, registration: Registration | Stay) -> bool:
        """Take in a visit or a stay opened outside the SDK (see :meth:`Client.adopt_visit`).

        Example:
            >>> import anyio
            >>> async def main():
            ...     async with AsyncClient(config, window, transport=mock.async_transport) as c:
            ...         visit = await c.register(card, insutype="310", clinic=clinic)
            ...         return await c.adopt_visit(visit)  # registered here: held already
            >>> anyio.run(main)
            False
        """
        return _register.adopt(self._core, registration)

    async def cancel_registration(self, registration: Registration) -> str:
        """Cancel the visit (2202); returns the 2202 msgid.

        Example:
            >>> import anyio
            >>> async def main():
            ...     client = AsyncClient(config, window, transport=mock.async_transport)
            ...     async with client:
            ...         visit = await client.register(card, insutype="310", clinic=clinic)
            ...         return client.journal.get(await client.cancel_registration(visit))
            >>> cancelled = anyio.run(main)
            >>> (cancelled.infno, cancelled.state)
            ('2202', 'succeeded')
        """
        return await self._run(_register.cancel_registration(self._core, registration))

    async def charge(
        self,
        registration: Registration,
        fees: Sequence[FeeLine],
        *,
        diagnoses: Sequence[Diagnosis],
        med_type: str | None = None,
        chronic: ChronicDisease | None = None,
        psn_setlway: str = "01",
        acct_used_flag: str = "1",
        invono: str | None = None,
    ) -> Charge:
        """Charge the visit: 2203, 2204, 2206, 2207, totals checked (``chronic``: as
        :meth:`Client.charge`).

        Example:
            >>> import anyio
            >>> async def main():
            ...     client = AsyncClient(config, window, transport=mock.async_transport)
            ...     async with client:
            ...         visit = await client.register(card, insutype="310", clinic=clinic)
            ...         return await client.charge(visit, fees, diagnoses=diagnoses)
            >>> paid = anyio.run(main)
            >>> (paid.totals.medfee_sumamt, paid.totals == paid.pre_settlement)
            (Decimal('25.00'), True)
        """
        return await self._run(
            _charge.charge(
                self._core,
                registration,
                fees,
                diagnoses=diagnoses,
                med_type=med_type,
                chronic=chronic,
                psn_setlway=psn_setlway,
                acct_used_flag=acct_used_flag,
                invono=invono,
            )
        )

    async def recognitions(
        self, person: Certificate | Registration, *, insutype: str | None = None
    ) -> tuple[Recognition, ...]:
        """The person's chronic diseases on record (5301), as :meth:`Client.recognitions`.

        Example:
            >>> import anyio
            >>> async def main():
            ...     client = AsyncClient(config, window, transport=mock.async_transport)
            ...     async with client:
            ...         return await client.recognitions(card, insutype="310")
            >>> anyio.run(main)
            ()
        """
        return await self._run(_chronic.recognitions(self._core, person, insutype=insutype))

    async def register_chronic(
        self,
        person: Certificate | Registration,
        disease: ChronicDisease,
        *,
        clinic: Clinic,
        insutype: str | None = None,
        begndate: date | None = None,
        enddate: date | None = None,
        identified_on: date | None = None,
    ) -> ChronicRegistration:
        """Register a chronic disease (2503), as :meth:`Client.register_chronic`.

        Example:
            >>> import anyio
            >>> from nhsa.client import ChronicDisease
            >>> async def main():
            ...     client = AsyncClient(config, window, transport=mock.async_transport)
            ...     async with client:
            ...         done = await client.register_chronic(
            ...             card, ChronicDisease.of("M03900"), insutype="310", clinic=clinic)
            ...         await client.cancel_chronic(done, reason="病种录入错误")
            ...         return done
            >>> anyio.run(main).disease.code
            'M03900'
        """
        return await self._run(
            _chronic.register_chronic(
                self._core,
                person,
                disease,
                clinic=clinic,
                insutype=insutype,
                begndate=begndate,
                enddate=enddate,
                identified_on=identified_on,
            )
        )

    async def cancel_chronic(self, registration: ChronicRegistration, *, reason: str) -> str:
        """Cancel a chronic-disease registration (2504), as :meth:`Client.cancel_chronic`.

        Example:
            >>> import anyio
            >>> from nhsa.client import ChronicDisease
            >>> async def main():
            ...     client = AsyncClient(config, window, transport=mock.async_transport)
            ...     async with client:
            ...         done = await client.register_chronic(
            ...             card, ChronicDisease.of("M01600"), insutype="310", clinic=clinic)
            ...         return client.journal.get(
            ...             await client.cancel_chronic(done, reason="录入错误")).state
            >>> anyio.run(main)
            'succeeded'
        """
        return await self._run(_chronic.cancel_chronic(self._core, registration, reason=reason))

    async def refund(self, charge: Charge, *, lines: Sequence[str] | None = None) -> Refund:
        """Refund a charge fully, or only the fee lines whose serials are in ``lines``.

        Example:
            >>> import anyio
            >>> async def main():
            ...     client = AsyncClient(config, window, transport=mock.async_transport)
            ...     async with client:
            ...         visit = await client.register(card, insutype="310", clinic=clinic)
            ...         paid = await client.charge(visit, fees, diagnoses=diagnoses)
            ...         return await client.refund(paid, lines=[paid.lines[0].feedetl_sn])
            >>> refund = anyio.run(main)
            >>> (refund.refunded.medfee_sumamt, refund.recharge)  # the only line: nothing left
            (Decimal('-25.00'), None)
        """
        return await self._run(_refund.refund(self._core, charge, lines=lines))

    # -- inpatient stays (see nhsa.client._stay) -------------------------------------------

    async def admit(
        self,
        certificate: Certificate,
        *,
        insutype: str,
        ward: Ward,
        diagnoses: Sequence[Diagnosis],
        med_type: str = "21",
        ipt_no: str | None = None,
        begntime: datetime | None = None,
    ) -> Stay:
        """Find the person (1101) and admit them (2401) under ``insutype``.

        Example:
            >>> import anyio
            >>> async def main():
            ...     async with AsyncClient(config, window, transport=mock.async_transport) as c:
            ...         return await c.admit(card, insutype="310", ward=ward, diagnoses=diagnoses)
            >>> anyio.run(main).med_type
            '21'
        """
        return await self._run(
            _stay.admit(
                self._core, certificate, insutype=insutype, ward=ward, diagnoses=diagnoses,
                med_type=med_type, ipt_no=ipt_no, begntime=begntime,
            )
        )  # fmt: skip

    async def upload_stay_fees(self, stay: Stay, fees: Sequence[FeeLine]) -> tuple[FeeBatch, ...]:
        """Upload fee lines of the stay (2301), one batch per ``config.fee_lines_per_upload``.

        Example:
            >>> import anyio
            >>> async def main():
            ...     async with AsyncClient(config, window, transport=mock.async_transport) as c:
            ...         stay = await c.admit(card, insutype="310", ward=ward, diagnoses=diagnoses)
            ...         return await c.upload_stay_fees(stay, fees)
            >>> [batch.total for batch in anyio.run(main)]
            [Decimal('25.00')]
        """
        return await self._run(_stay.upload_stay_fees(self._core, stay, fees))

    async def settle_midway(
        self,
        stay: Stay,
        medfee_sumamt: Decimal,
        *,
        until: date,
        psn_setlway: str = "01",
        acct_used_flag: str = "1",
        card_token: str | None = None,
    ) -> StaySettlement:
        """Settle the stay's unsettled fees up to ``until`` (中途结算, 2303 + 2304).

        Example:
            >>> import anyio
            >>> async def main():
            ...     async with AsyncClient(config, window, transport=mock.async_transport) as c:
            ...         stay = await c.admit(card, insutype="310", ward=ward, diagnoses=diagnoses)
            ...         (batch,) = await c.upload_stay_fees(stay, fees)
            ...         return await c.settle_midway(stay, batch.total,
            ...             until=stay.begntime.date(), card_token=card.card_sn)
            >>> anyio.run(main).midway
            True
        """
        return await self._run(
            _stay.settle(
                self._core, stay, medfee_sumamt, until=until, midway=True,
                psn_setlway=psn_setlway, acct_used_flag=acct_used_flag, card_token=card_token,
            )
        )  # fmt: skip

    async def discharge(
        self,
        stay: Stay,
        *,
        diagnoses: Sequence[Diagnosis],
        endtime: datetime | None = None,
        dscg_way: str = "1",
    ) -> Stay:
        """Discharge the patient (2402); returns the stay, discharged.

        Example:
            >>> import anyio
            >>> async def main():
            ...     async with AsyncClient(config, window, transport=mock.async_transport) as c:
            ...         stay = await c.admit(card, insutype="310", ward=ward, diagnoses=diagnoses)
            ...         return await c.discharge(stay, diagnoses=diagnoses)
            >>> anyio.run(main).discharged
            True
        """
        return await self._run(
            _stay.discharge(
                self._core, stay, diagnoses=diagnoses, endtime=endtime, dscg_way=dscg_way
            )
        )

    async def settle_stay(
        self,
        stay: Stay,
        medfee_sumamt: Decimal,
        *,
        psn_setlway: str = "01",
        acct_used_flag: str = "1",
        card_token: str | None = None,
    ) -> StaySettlement:
        """Settle a discharged stay (2303 + 2304 ``mid_setl_flag`` 0), the totals checked.

        Example:
            >>> import anyio
            >>> async def main():
            ...     async with AsyncClient(config, window, transport=mock.async_transport) as c:
            ...         stay = await c.admit(card, insutype="310", ward=ward, diagnoses=diagnoses)
            ...         (batch,) = await c.upload_stay_fees(stay, fees)
            ...         stay = await c.discharge(stay, diagnoses=diagnoses)
            ...         return await c.settle_stay(stay, batch.total, card_token=card.card_sn)
            >>> paid = anyio.run(main)
            >>> (paid.midway, paid.totals == paid.pre_settlement)
            (False, True)
        """
        return await self._run(
            _stay.settle(
                self._core, stay, medfee_sumamt, until=None, midway=False,
                psn_setlway=psn_setlway, acct_used_flag=acct_used_flag, card_token=card_token,
            )
        )  # fmt: skip

    async def cancel_stay_settlement(self, settlement: StaySettlement) -> StayCancellation:
        """Cancel a settlement of a stay (2305); a stay's settlements go newest first.

        Example:
            >>> import anyio
            >>> async def main():
            ...     async with AsyncClient(config, window, transport=mock.async_transport) as c:
            ...         stay = await c.admit(card, insutype="310", ward=ward, diagnoses=diagnoses)
            ...         (batch,) = await c.upload_stay_fees(stay, fees)
            ...         part = await c.settle_midway(stay, batch.total,
            ...             until=stay.begntime.date(), card_token=card.card_sn)
            ...         return await c.cancel_stay_settlement(part)
            >>> anyio.run(main).refunded.medfee_sumamt
            Decimal('-25.00')
        """
        return await self._run(_stay.cancel_stay_settlement(self._core, settlement))

    async def cancel_discharge(self, stay: Stay) -> Stay:
        """Undo the discharge (2405); returns the stay, admitted again.

        Example:
            >>> import anyio
            >>> async def main():
            ...     async with AsyncClient(config, window, transport=mock.async_transport) as c:
            ...         stay = await c.admit(card, insutype="310", ward=ward, diagnoses=diagnoses)
            ...         left = await c.discharge(stay, diagnoses=diagnoses)
            ...         return await c.cancel_discharge(left)
            >>> anyio.run(main).discharged
            False
        """
        return await self._run(_stay.cancel_discharge(self._core, stay))

    async def cancel_admission(self, stay: Stay) -> str:
        """Cancel the admission (2302 "0000" of its unsettled fees, then 2404); the 2404 msgid.

        Example:
            >>> import anyio
            >>> async def main():
            ...     async with AsyncClient(config, window, transport=mock.async_transport) as c:
            ...         stay = await c.admit(card, insutype="310", ward=ward, diagnoses=diagnoses)
            ...         return c.journal.get(await c.cancel_admission(stay)).infno
            >>> anyio.run(main)
            '2404'
        """
        return await self._run(_stay.cancel_admission(self._core, stay))

    async def reconcile(
        self,
        day: date,
        *,
        extra_groups: Iterable[tuple[str, str]] = (),
        include_refunds: bool = True,
        details: bool = False,
    ) -> ReconcileReport:
        """Day-end reconciliation of ``day`` from the journal (see :meth:`Client.reconcile`).

        Example:
            >>> import anyio
            >>> async def main():
            ...     client = AsyncClient(config, window, transport=mock.async_transport)
            ...     async with client:
            ...         visit = await client.register(card, insutype="310", clinic=clinic)
            ...         paid = await client.charge(visit, fees, diagnoses=diagnoses)
            ...         return await client.reconcile(paid.setlinfo.setl_time.date())
            >>> report = anyio.run(main)
            >>> (report.balanced, [(g.insutype, g.his.count) for g in report.groups])
            (True, [('310', 1)])
        """
        return await self._run(
            _reconcile.reconcile(
                self._core,
                day,
                extra_groups=extra_groups,
                include_refunds=include_refunds,
                details=details,
            )
        )

    async def recover(self) -> RecoveryReport:
        """Resolve every journal entry a crash or a lost answer left open.

        Example:
            >>> import anyio
            >>> async def main():
            ...     client = AsyncClient(config, window, transport=mock.async_transport)
            ...     async with client:
            ...         return await client.recover()  # a fresh journal: nothing is open
            >>> report = anyio.run(main)
            >>> (report.clean, report.resolved)
            (True, ())
        """
        return await self._run(_recover.recover(self._core))

    async def sign_in(
        self, input_model: Input9001 | None = None, /, *, insuplc_admdvs: str | None = None
    ) -> Output9001:
        """Sign in now (9001) — as this client's operator by default — and keep the sign_no.

        Example:
            >>> import anyio
            >>> async def main():
            ...     client = AsyncClient(config, window, transport=mock.async_transport)
            ...     async with client:
            ...         await client.sign_in()
            ...         await client.register(card, insutype="310", clinic=clinic)
            ...         return [entry.infno for entry in client.journal.entries("H53010100001")]
            >>> anyio.run(main)  # one sign-in, kept for the calls after it
            ['9001', '2201']
        """
        chosen = input_model or self._core.sign_in_input()
        answer: Output9001 = await self._typed(SIGN_IN, chosen, insuplc_admdvs)
        return answer

    async def reverse_held(self, msgid: str) -> Resolution:
        """Undo a held call, or try the undo of a ``manual`` entry again.

        Example:
            >>> import anyio
            >>> from nhsa.client import OutcomeUnknownError, WindowMode
            >>> hold = WindowMode("C0001", "收费员甲", on_unknown="hold")
            >>> async def main():
            ...     async with AsyncClient(config, hold, transport=mock.async_transport) as cashier:
            ...         visit = await cashier.register(card, insutype="310", clinic=clinic)
            ...         mock.arm_fault("H53010100001", "commit-then-drop", infno="2207")
            ...         try:
            ...             await cashier.charge(visit, fees, diagnoses=diagnoses)
            ...         except OutcomeUnknownError as lost:
            ...             return await cashier.reverse_held(lost.msgid)
            >>> undone = anyio.run(main)
            >>> (undone.by_infno, undone.original_found)
            ('2601', True)
        """
        return await self._run(self._held_flow(msgid))

    async def aclose(self) -> None:
        """Sign out (9002) if signed in, then release the connection pool and the journal.

        Example:
            >>> import anyio
            >>> async def main():
            ...     client = AsyncClient(config, window, transport=mock.async_transport)
            ...     await client.register(card, insutype="310", clinic=clinic)
            ...     await client.aclose()
            >>> anyio.run(main)
            >>> [record["infno"] for record in mock.transcript("H53010100001")][-1]
            '9002'
        """
        try:
            await self._run(self._core.sign_out())
        except NhsaClientError as error:
            _log.warning("sign-out (9002) failed while closing: %s", error)
        finally:
            await self._http.aclose()
            self._core.close()

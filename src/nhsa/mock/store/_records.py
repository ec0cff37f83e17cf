"""The rows the mock platform keeps, one frozen dataclass per table.

Every row of business state carries its ``tenant`` (the institution's ``fixmedins_code``) as
the first key, so two institutions — two lab runs — never see each other's state. Amounts are
:class:`~decimal.Decimal`, times are aware datetimes in China time, nested payloads are plain
mappings of JSON values (Decimal amounts allowed).

Each class names its table (``TABLE``) and primary key (``KEY``); the store reads and writes
records generically by those two facts (:class:`~nhsa.mock.store.UnitOfWork`).

Example:
    >>> from nhsa.mock.store import SqliteStore
    >>> store = SqliteStore(":memory:")
    >>> with store.transaction() as tx:
    ...     tx.put(TenantSetting("H53010100001", "fixtures_dir", "/data/lab-fixtures"))
    >>> with store.snapshot() as tx:  # looked up by KEY, in its order
    ...     tx.get(TenantSetting, "H53010100001", "fixtures_dir").value
    '/data/lab-fixtures'
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any, ClassVar

ACTIVE = "active"
"""Settlement row status: part of the ledger."""
VOIDED = "voided"
"""Settlement row status: undone by a 冲正 (2601) of the transaction that wrote it."""

UNSETTLED, SETTLED, CANCELLED = "unsettled", "settled", "cancelled"
"""Fee-line statuses: waiting for settlement, settled by ``setl_id``, deleted by 2205/2202."""

REGISTERED = "registered"
"""Visit status after 2201 (the finer states follow from its fee lines and settlements)."""

ADMITTED, DISCHARGED = "admitted", "discharged"
"""Stay statuses after 2401 and 2402 (a cancelled stay is :data:`CANCELLED`; whether it is
settled follows from its settlements)."""


@dataclass(frozen=True)
class RegisteredInstitution:
    """An institution registered through the admin API (bundled ones come from fixtures).

    ``networked`` lists :class:`~nhsa.mock.fixtures.Service` values. The key and gateway
    credentials are kept for the server, which checks signatures; the engine ignores them.

    Example::

        registered = tx.get(RegisteredInstitution, fixmedins_code)
    """

    TABLE: ClassVar[str] = "institutions"
    KEY: ClassVar[tuple[str, ...]] = ("fixmedins_code",)

    fixmedins_code: str
    fixmedins_name: str
    mdtrtarea_admvs: str
    level: str
    networked: tuple[str, ...]
    key_id: str | None = None
    public_key_pem: str | None = None
    paasid: str | None = None
    paas_token: str | None = None
    signing_profile: str | None = None
    dialect: str | None = None


@dataclass(frozen=True)
class TenantSetting:
    """One setting of a tenant, e.g. ``fixtures_dir`` (a fixture folder replacing the bundle).

    Example::

        folder = tx.get(TenantSetting, tenant, FIXTURES_DIR)
    """

    TABLE: ClassVar[str] = "tenant_settings"
    KEY: ClassVar[tuple[str, ...]] = ("tenant", "name")

    tenant: str
    name: str
    value: str


@dataclass(frozen=True)
class SignIn:
    """A 9001 sign-in; ``signed_out_at`` is set by 9002.

    Example::

        sign_in = tx.get(SignIn, tenant, envelope["sign_no"])
    """

    TABLE: ClassVar[str] = "sign_ins"
    KEY: ClassVar[tuple[str, ...]] = ("tenant", "sign_no")

    tenant: str
    sign_no: str
    opter_no: str
    sign_time: datetime
    mac: str | None
    ip: str
    signed_out_at: datetime | None = None


@dataclass(frozen=True)
class Message:
    """A msgid the platform has handled for a tenant, with the first answer it gave.

    ``effects`` are the ids the call created or touched (``mdtrt_id``, ``setl_id``…), which a
    later 2601 needs. ``reversed_by`` is the msgid of the 2601 that undid it. A 2601 naming a
    msgid never received leaves a *tombstone* (``tombstone`` true, ``infcode`` None) so the
    original, should it arrive late, is refused instead of booked.

    Example::

        seen = tx.get(Message, tenant, msgid)   # a resend, or the original a 2601 names
    """

    TABLE: ClassVar[str] = "messages"
    KEY: ClassVar[tuple[str, ...]] = ("tenant", "msgid")

    tenant: str
    msgid: str
    infno: str
    received_at: datetime
    infcode: int | None
    psn_no: str | None
    effects: Mapping[str, str]
    err_msg: str | None = None
    output: Mapping[str, Any] | None = None
    reversed_by: str | None = None
    reversed_at: datetime | None = None
    tombstone: bool = False


@dataclass(frozen=True)
class Visit:
    """An outpatient visit (2201), with its 2203 visit information once uploaded.

    Example::

        visit = tx.get(Visit, tenant, mdtrt_id)
    """

    TABLE: ClassVar[str] = "visits"
    KEY: ClassVar[tuple[str, ...]] = ("tenant", "mdtrt_id")

    tenant: str
    mdtrt_id: str
    psn_no: str
    insutype: str
    insuplc_admdvs: str
    ipt_otp_no: str
    begntime: datetime
    mdtrt_cert_type: str
    mdtrt_cert_no: str
    status: str
    registered_at: datetime
    msgid: str
    registration: Mapping[str, Any]
    """The 2201 ``data`` node as received (doctor, department…)."""
    med_type: str | None = None
    dise_codg: str | None = None
    dise_name: str | None = None
    info: Mapping[str, Any] | None = None
    """The 2203/2203A input (``mdtrtinfo`` and ``diseinfo``) as received."""
    cancelled_at: datetime | None = None


@dataclass(frozen=True)
class UploadedFeeLine:
    """A fee line the platform holds since its 2204 upload, with the amounts the catalogue gave it.

    ``line_id`` is unique; ``feedetl_sn`` is unique among the visit's lines that are not
    cancelled (a cancelled serial may be uploaded again).

    Example::

        lines = tx.find(UploadedFeeLine, tenant=tenant, mdtrt_id=mdtrt_id)
    """

    TABLE: ClassVar[str] = "fee_lines"
    KEY: ClassVar[tuple[str, ...]] = ("tenant", "line_id")

    tenant: str
    line_id: str
    mdtrt_id: str
    feedetl_sn: str
    chrg_bchno: str
    dise_codg: str | None
    med_list_codg: str
    pric: Decimal
    cnt: Decimal
    det_item_fee_sumamt: Decimal
    fulamt_ownpay_amt: Decimal
    overlmt_amt: Decimal
    preselfpay_amt: Decimal
    inscp_scp_amt: Decimal
    hosp_part_amt: Decimal
    status: str
    setl_id: str | None
    uploaded_at: datetime
    msgid: str
    result: Mapping[str, Any]
    """The 2204 (2301) ``result`` row the platform answered for this line."""
    fee_ocur_time: datetime | None = None
    """When the fee arose (kept for inpatient lines: a mid-way settlement settles by it)."""
    init_feedetl_sn: str | None = None
    """For an inpatient refund line (negative ``cnt``): the serial of the line it refunds."""


@dataclass(frozen=True)
class Stay:
    """An inpatient stay (2401), with its discharge (2402) once it is recorded.

    The stay's fee lines are :class:`UploadedFeeLine` rows of its ``mdtrt_id`` whose
    ``chrg_bchno`` is the msgid of the 2301 that uploaded them (the platform knows no batch
    number for inpatient fees; one 2301 call is one batch).

    Example::

        stay = tx.get(Stay, tenant, mdtrt_id)
    """

    TABLE: ClassVar[str] = "stays"
    KEY: ClassVar[tuple[str, ...]] = ("tenant", "mdtrt_id")

    tenant: str
    mdtrt_id: str
    psn_no: str
    insutype: str
    insuplc_admdvs: str
    ipt_no: str
    med_type: str
    begntime: datetime
    mdtrt_cert_type: str
    mdtrt_cert_no: str
    status: str
    admitted_at: datetime
    msgid: str
    admission: Mapping[str, Any]
    """The 2401 input (``mdtrtinfo``, ``diseinfo``, ``agnterinfo``) as received."""
    endtime: datetime | None = None
    discharge: Mapping[str, Any] | None = None
    """The 2402 input (``dscginfo``, ``diseinfo``) as received."""
    discharged_at: datetime | None = None
    discharge_msgid: str | None = None
    cancelled_at: datetime | None = None


@dataclass(frozen=True)
class PreSettlement:
    """The latest 2206 of a charge batch: which lines it priced and what it computed.

    Example::

        latest = tx.get(PreSettlement, tenant, mdtrt_id, chrg_bchno)
    """

    TABLE: ClassVar[str] = "presettlements"
    KEY: ClassVar[tuple[str, ...]] = ("tenant", "mdtrt_id", "chrg_bchno")

    tenant: str
    mdtrt_id: str
    chrg_bchno: str
    line_ids: tuple[str, ...]
    msgid: str
    computed_at: datetime
    amounts: Mapping[str, Any]


@dataclass(frozen=True)
class Settlement:
    """A row of the settlement ledger: a settlement (2207) or its negative reversal row.

    A reversal row (2208, or 2601 of a 2207) has ``refd_setl_flag`` "1", negated amounts and
    ``reverses`` = the original ``setl_id``; the original then carries ``reversed_by``. A 2601
    of a 2208 sets the reversal row's ``status`` to :data:`VOIDED` and clears ``reversed_by``.
    ``year`` is the calendar year whose accumulators the row changed (a reversal changes the
    original's year). ``calculation`` is the calculator's full result, so a reversal can be
    computed from it; ``setlinfo`` holds the identity fields the answer carried.

    Example::

        row = tx.get(Settlement, tenant, setl_id)
        live = row.refd_setl_flag == "0" and row.reversed_by is None and row.status == ACTIVE
    """

    TABLE: ClassVar[str] = "settlements"
    KEY: ClassVar[tuple[str, ...]] = ("tenant", "setl_id")

    tenant: str
    setl_id: str
    mdtrt_id: str
    psn_no: str
    insutype: str
    insuplc_admdvs: str
    clr_type: str
    clr_optins: str
    setl_time: datetime
    setl_date: date
    year: int
    medfee_sumamt: Decimal
    fund_pay_sumamt: Decimal
    acct_pay: Decimal
    psn_cash_pay: Decimal
    refd_setl_flag: str
    status: str
    msgid: str
    infno: str
    chrg_bchno: str
    line_ids: tuple[str, ...]
    calculation: Mapping[str, Any]
    setlinfo: Mapping[str, Any]
    reverses: str | None = None
    reversed_by: str | None = None
    mid_setl_flag: str | None = None
    """Inpatient settlements (2304): ``1`` a mid-way settlement (中途结算), ``0`` the final one."""

    @property
    def is_live(self) -> bool:
        """A settlement that counts today: active, not a reversal row, not reversed."""
        return self.status == ACTIVE and self.refd_setl_flag == "0" and self.reversed_by is None


@dataclass(frozen=True)
class Balance:
    """A person's personal-account balance for one insutype, as this tenant has changed it.

    Absent until the first settlement: the fixture's ``balc`` is the opening balance.

    Example::

        balance = tx.get(Balance, tenant, psn_no, insutype)
    """

    TABLE: ClassVar[str] = "balances"
    KEY: ClassVar[tuple[str, ...]] = ("tenant", "psn_no", "insutype")

    tenant: str
    psn_no: str
    insutype: str
    balance: Decimal


@dataclass(frozen=True)
class YearToDate:
    """Year-to-date counters of one benefit rule of one person (deductible, caps, funds).

    ``counters`` is :class:`~nhsa.mock.settlement.Accumulators` as JSON values (the engine
    converts); absent means all zero.

    Example::

        counters = tx.get(YearToDate, tenant, psn_no, 2026, insuplc_admdvs, rule.id)
    """

    TABLE: ClassVar[str] = "year_to_date"
    KEY: ClassVar[tuple[str, ...]] = ("tenant", "psn_no", "year", "insuplc_admdvs", "benefit_id")

    tenant: str
    psn_no: str
    year: int
    insuplc_admdvs: str
    benefit_id: str
    counters: Mapping[str, Any]


@dataclass(frozen=True)
class StoredFile:
    """A file uploaded with 9101, or a result file the platform produced (3202).

    Example::

        stored = tx.get(StoredFile, tenant, file_qury_no)
    """

    TABLE: ClassVar[str] = "files"
    KEY: ClassVar[tuple[str, ...]] = ("tenant", "file_qury_no")

    tenant: str
    file_qury_no: str
    filename: str
    kind: str
    content: bytes
    created_at: datetime
    dld_endtime: datetime


@dataclass(frozen=True)
class FilingOverride:
    """A filing record (备案) set for a person through the admin API, replacing the fixture's.

    ``filing`` ``None`` means "no filing" (an unfiled patient), which is different from no
    override at all. Its mapping has ``kind`` (retiree, long_term_resident, resident_worker,
    referral, or emergency: 急诊 without a filing), ``area``, ``begndate``, ``enddate``.

    Example::

        override = tx.get(FilingOverride, tenant, psn_no)
    """

    TABLE: ClassVar[str] = "filings"
    KEY: ClassVar[tuple[str, ...]] = ("tenant", "psn_no")

    tenant: str
    psn_no: str
    filing: Mapping[str, Any] | None
    updated_at: datetime


@dataclass(frozen=True)
class EcToken:
    """A test e-voucher token (医保电子凭证令牌) issued through the admin API.

    Example:
        >>> from nhsa.envelope import CHINA_TIME
        >>> start = datetime(2026, 11, 23, 9, tzinfo=CHINA_TIME)
        >>> EcToken("H53010100001", "EC1", "P1", start, start).valid_at(start)
        False
    """

    TABLE: ClassVar[str] = "ec_tokens"
    KEY: ClassVar[tuple[str, ...]] = ("tenant", "token")

    tenant: str
    token: str
    psn_no: str
    issued_at: datetime
    expires_at: datetime

    def valid_at(self, moment: datetime) -> bool:
        """Whether the token is accepted at ``moment`` (it expires at ``expires_at``)."""
        return self.issued_at <= moment < self.expires_at


@dataclass(frozen=True)
class Downtime:
    """A scheduled downtime window (停机) of one insured area's system.

    ``admdvs`` may be a province (``xx0000``), a city (``xxxx00``) or one area; the window
    covers every insured area inside it.

    Example:
        >>> from nhsa.envelope import CHINA_TIME
        >>> start = datetime(2026, 11, 23, 9, tzinfo=CHINA_TIME)
        >>> end = datetime(2026, 11, 23, 18, tzinfo=CHINA_TIME)
        >>> Downtime("H53010100001", "W1", "440000", start, end, "升级").covers("440305", start)
        True
    """

    TABLE: ClassVar[str] = "downtime"
    KEY: ClassVar[tuple[str, ...]] = ("tenant", "window_id")

    tenant: str
    window_id: str
    admdvs: str
    start: datetime
    end: datetime
    reason: str
    created_at: datetime | None = field(default=None)

    def covers(self, insuplc_admdvs: str, moment: datetime) -> bool:
        """Whether a call for this insured area at ``moment`` falls in the window."""
        return self.start <= moment < self.end and _area_contains(self.admdvs, insuplc_admdvs)


@dataclass(frozen=True)
class Recognition:
    """A person's recognised chronic or special outpatient disease (门慢/门特 待遇认定) as this
    tenant holds it: registered by a HIS (2503, ``source`` ``hospital``), set through the admin
    API (``insured_place``: the insured place's own recognition), or a fixture recognition
    changed here (same serial; the fixtures' rows are the opening state).

    ``insu_optins`` is the recognising insured place; ``status`` is :data:`ACTIVE` or
    :data:`CANCELLED` (2504, or withdrawn through the admin API, with ``memo`` the reason);
    ``registration`` is the 2503 ``data`` node as received.

    Example::

        rows = tx.find(Recognition, tenant=tenant, psn_no=psn_no)
    """

    TABLE: ClassVar[str] = "recognitions"
    KEY: ClassVar[tuple[str, ...]] = ("tenant", "trt_dcla_detl_sn")

    tenant: str
    trt_dcla_detl_sn: str
    psn_no: str
    insutype: str
    opsp_dise_code: str
    opsp_dise_name: str
    insu_optins: str
    begndate: date
    enddate: date | None
    source: str
    status: str
    recorded_at: datetime
    msgid: str | None = None
    registration: Mapping[str, Any] | None = None
    cancelled_at: datetime | None = None
    memo: str | None = None

    def valid_on(self, day: date) -> bool:
        """Whether the recognition is in force on ``day`` (active and within its dates)."""
        in_dates = self.begndate <= day and (self.enddate is None or day <= self.enddate)
        return self.status == ACTIVE and in_dates


def _area_contains(outer: str, inner: str) -> bool:
    if outer.endswith("0000"):
        return inner[:2] == outer[:2]
    if outer.endswith("00"):
        return inner[:4] == outer[:4]
    return inner == outer


@dataclass(frozen=True)
class LabInstitution:
    """An institution a lab's console run registered: only that lab's sessions may see it.

    Written before the institution is registered on the platform, so an institution is never
    in use without its owner known; a code claimed by one lab is refused to every other.

    Example::

        owner = tx.get(LabInstitution, fixmedins_code)
    """

    TABLE: ClassVar[str] = "lab_institutions"
    KEY: ClassVar[tuple[str, ...]] = ("fixmedins_code",)

    fixmedins_code: str
    lab: str
    run_id: str
    scenario: str
    claimed_at: datetime


@dataclass(frozen=True)
class LabRun:
    """A conformance run a lab started from the console, written once it has finished.

    Its reports are :class:`LabReport` rows of the same ``(lab, run_id)``, written in the same
    transaction, so a run listed is a run whose reports can be downloaded. ``summary`` is the
    report's ``summary`` member (counts by result).

    Example::

        runs = tx.find(LabRun, lab="lab-kunming")
    """

    TABLE: ClassVar[str] = "lab_runs"
    KEY: ClassVar[tuple[str, ...]] = ("lab", "run_id")

    lab: str
    run_id: str
    stages: tuple[str, ...]
    driver: str
    dialect: str | None
    result: str
    exit_code: int
    started_at: datetime
    finished_at: datetime
    summary: Mapping[str, Any]
    institutions: tuple[str, ...]


@dataclass(frozen=True)
class LabReport:
    """One file of a finished run's reports (``report.json``, its signature, JUnit, HTML).

    Example::

        page = tx.get(LabReport, "lab-kunming", run_id, "report.html")
    """

    TABLE: ClassVar[str] = "lab_reports"
    KEY: ClassVar[tuple[str, ...]] = ("lab", "run_id", "name")

    lab: str
    run_id: str
    name: str
    media_type: str
    content: bytes
    sha256: str


RECORD_TYPES: tuple[type[Any], ...] = (
    RegisteredInstitution,
    TenantSetting,
    SignIn,
    Message,
    Visit,
    UploadedFeeLine,
    PreSettlement,
    Settlement,
    Balance,
    YearToDate,
    StoredFile,
    FilingOverride,
    EcToken,
    Downtime,
    LabInstitution,
    LabRun,
    LabReport,
    Recognition,
    Stay,
)
"""Every record type the store keeps (the transcript is a separate, append-only log)."""

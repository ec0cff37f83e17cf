"""The driver: how the suite makes a HIS act — the same actions whatever the HIS is built on.

The system under test is the hospital's HIS, a *client* of the platform. The suite cannot
call the platform in its place; it asks the HIS to act (register this patient, charge these
fee lines, refund that settlement) through a :class:`Driver`, and then judges what the HIS
sent to the mock platform (the transcript) plus what the driver reports back.

Three drivers are planned (``nhsa.conformance.drivers``): ``sdk`` (nhsa-kit's own client,
in process), ``http`` (a foreign HIS implementing ``conformance/driver-api.yaml``) and
``manual`` (an operator acts at the window or kiosk while the suite watches the mock). Each
action takes one frozen request object and returns one :class:`DriverResult`; the HTTP
driver API mirrors these types field by field (amounts as decimal strings there).

What an action must do (the HIS decides *how*, that is what is being tested):

============================  =================================================================
``configure(HisConfiguration)``  use this institution code, platform URL, keys and mode from now
``sign_in(SignInRequest)``       sign in (9001) the configured operator or terminal
``register(RegisterRequest)``    look the patient up (1101) and register the visit (2201)
``cancel_registration(...)``     cancel a visit's registration (2202)
``charge(ChargeRequest)``        upload visit info and fees, pre-settle and settle (2203–2207)
``refund(RefundRequest)``        refund a settlement in full (2208, then 2205)
``partial_refund(...)``          refund some fee lines: reverse and settle the rest again
``reconcile(ReconcileRequest)``  day-end reconciliation (3201; 3202 where unbalanced)
``register_chronic(...)``        register a chronic disease the hospital identified (2503)
``cancel_chronic(...)``          cancel such a registration (2504)
``admit(AdmitRequest)``          look the patient up (1101) and admit them (2401)
``upload_stay_fees(...)``        upload a batch of the stay's fee lines (2301)
``settle_midway(...)``           settle the stay mid-way, up to a day (2303, 2304 mid_setl_flag 1)
``discharge(DischargeRequest)``  discharge the patient (2402)
``settle_stay(...)``             settle the discharged stay (2303, 2304 mid_setl_flag 0)
``cancel_stay_settlement(...)``  cancel a settlement of the stay (2305), newest first
``cancel_admission(...)``        cancel the admission (its fee lines 2302, then 2404)
``health()``                     say whether the HIS is ready
============================  =================================================================

A result's ``status``:

- ``ok`` — the action took effect (ids and amounts filled in);
- ``rejected`` — it did not take effect: the platform refused it, the HIS refused it before
  sending (e.g. a kiosk asked to accept an ID card), or an unknown outcome was resolved by a
  reversal; ``patient_message`` says what the patient was told;
- ``unknown`` — the HIS does not know whether it took effect (and says so honestly);
- ``error`` — the HIS itself failed (crashed, could not act); the suite records an error;
- ``pending`` — handed to a human and not confirmed yet (manual driver only); the step waits.

A driver raises :class:`~nhsa.conformance.DriverUnavailableError` when it cannot reach the
HIS and :class:`~nhsa.conformance.DriverProtocolError` when the HIS answers garbage; the
runner turns both into an ``error`` step, never into a verdict on the business rules.

Example:
    >>> r = DriverResult(status="ok", mdtrt_id="M1", msgids=("H53010100001202611231015300001",))
    >>> r.status, r.field("mdtrt_id")
    ('ok', 'M1')
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import date
from decimal import Decimal
from typing import Any, Final, Literal, Protocol, runtime_checkable

from nhsa.conformance._money import cents

__all__ = [
    "RESULT_FIELDS",
    "AdmitRequest",
    "CancelAdmissionRequest",
    "CancelChronicRequest",
    "CancelRegistrationRequest",
    "CancelStaySettlementRequest",
    "ChargeRequest",
    "DischargeRequest",
    "Driver",
    "DriverCertificate",
    "DriverHealth",
    "DriverResult",
    "DriverStatus",
    "FeeItem",
    "HisConfiguration",
    "ModeConfig",
    "PartialRefundRequest",
    "ReconcileRequest",
    "RefundRequest",
    "RegisterChronicRequest",
    "RegisterRequest",
    "SignInRequest",
    "SigningConfig",
    "StayFeesRequest",
    "StaySettlementRequest",
]

DriverStatus = Literal["ok", "rejected", "unknown", "error", "pending"]
CertType = Literal["01", "02", "03"]
"""mdtrt_cert_type: 01 医保电子凭证 (e-voucher), 02 居民身份证 (ID card), 03 社会保障卡 (card)."""


@dataclass(frozen=True, slots=True)
class ModeConfig:
    """Where the HIS acts: a staffed window (opter_type 1) or a self-service kiosk (2).

    Example::

        ModeConfig("kiosk", opter="KIOSK-07", opter_name="自助机7号", dev_no="DEV-07",
                   dev_safe_info="…")   # a kiosk names its terminal and device
    """

    kind: Literal["window", "kiosk"]
    opter: str
    opter_name: str
    dev_no: str | None = None
    dev_safe_info: str | None = None


@dataclass(frozen=True, slots=True)
class SigningConfig:
    """Credentials of this run: gateway (tif) paasid/token, the HIS's SM2 key, the platform's.

    ``profile`` is ``none``, ``tif``, ``sm2`` or ``tif+sm2``; ``tif`` is the gateway of the
    run's dialect (TIF ``x-tif-*``, CSB ``_api_*`` with paasid as the access key and token as
    the secret, or an OAuth2 bearer token with paasid as the client id and token as its
    secret, asked for with ``gateway_user``/``gateway_password``). PEM texts are complete PEM
    blocks; the private key is generated for this run only and registered nowhere else.

    Example::

        SigningConfig("tif+sm2", paasid="run-1", token="…", private_key_pem=pem, key_id="…",
                      platform_public_key_pem=platform_pem)
    """

    profile: str
    paasid: str | None = None
    token: str | None = None
    private_key_pem: str | None = field(default=None, repr=False)
    key_id: str | None = None
    platform_public_key_pem: str | None = None
    gateway_user: str | None = None
    gateway_password: str | None = field(default=None, repr=False)


@dataclass(frozen=True, slots=True)
class HisConfiguration:
    """Everything the HIS needs for one scenario: who it is, where the platform is, how to sign.

    ``on_unknown`` says what the HIS does with an unknown outcome: ``reverse`` at once (2601;
    the default, and a kiosk's only choice) or ``hold`` it for a person to decide (a window may).
    ``dialect`` is the province dialect the platform speaks (``interface_specs/v1/dialects``):
    the HIS must send in it; ``national`` is the contract as written.

    Example:
        >>> cfg = HisConfiguration("H53010112345", "测试医院", "530100", "http://127.0.0.1:8700",
        ...                        ModeConfig("window", "W01", "窗口1"), SigningConfig("none"))
        >>> cfg.on_unknown
        'reverse'
    """

    fixmedins_code: str
    fixmedins_name: str
    mdtrtarea_admvs: str
    platform_url: str
    mode: ModeConfig
    signing: SigningConfig
    run_id: str = ""
    on_unknown: Literal["reverse", "hold"] = "reverse"
    dialect: str = "national"


@dataclass(frozen=True, slots=True)
class DriverCertificate:
    """The certificate a patient presents: type and number (and card_sn for a card).

    The numbers are personal data: a repr never shows them.

    Example:
        >>> DriverCertificate("03", "TA5300001", card_sn="530100D156...")
        DriverCertificate(cert_type='03')
    """

    cert_type: CertType
    cert_no: str = field(repr=False)
    card_sn: str | None = field(default=None, repr=False)


@dataclass(frozen=True, slots=True)
class FeeItem:
    """One fee line: national catalogue code, hospital item code, quantity and unit price, and
    the item's name (a dialect may send it: Guangdong's 2204 medins_list_name).

    Example:
        >>> FeeItem("110200001000000", "H-ZC-001", Decimal("1"), Decimal("25.00")).total
        Decimal('25.00')
    """

    code: str
    hospital_code: str
    qty: Decimal
    price: Decimal
    name: str | None = None

    @property
    def total(self) -> Decimal:
        """qty × price, rounded half-up to the cent (the line's det_item_fee_sumamt)."""
        return cents(self.qty * self.price)


@dataclass(frozen=True, slots=True)
class SignInRequest:
    """Sign in (9001) the configured operator or terminal, or the ``operator`` named."""

    operator: str | None = None


@dataclass(frozen=True, slots=True)
class RegisterRequest:
    """Register an outpatient visit for the patient presenting ``certificate``.

    ``ipt_otp_no`` is unique per run (the suite makes it so); ``emergency`` marks an emergency
    visit (急诊) of an unfiled cross-region patient.

    Example:
        >>> card = DriverCertificate("02", "530102198503150018")
        >>> RegisterRequest(card, "310", "11", "OTP1").dept_code     # the defaults a HIS may use
        'A03'
    """

    certificate: DriverCertificate
    insutype: str
    med_type: str
    ipt_otp_no: str
    dept_code: str = "A03"
    dept_name: str = "内科"
    caty: str = "A03"
    atddr_no: str = "D530100000001"
    dr_name: str = "测试医师"
    emergency: bool = False


@dataclass(frozen=True, slots=True)
class CancelRegistrationRequest:
    """Cancel the registration of visit ``mdtrt_id`` (2202)."""

    mdtrt_id: str
    psn_no: str
    ipt_otp_no: str


@dataclass(frozen=True, slots=True)
class ChargeRequest:
    """Charge ``items`` to visit ``mdtrt_id`` as batch ``chrg_bchno`` (unique per run).

    A chronic visit (门诊慢特病, ``med_type`` 14) names its recognised disease: ``dise_codg``
    (门慢门特病种目录代码) and ``dise_name``, which the HIS sends in 2203 and on every 2204
    line; any other visit leaves both ``None``.

    Example:
        >>> item = FeeItem("110200001000000", "H1", Decimal("1"), Decimal("25"))
        >>> voucher = DriverCertificate("01", "EC")
        >>> ChargeRequest("M1", "P1", voucher, "310", "11", "B1", (item, item)).total
        Decimal('50.00')
    """

    mdtrt_id: str
    psn_no: str
    certificate: DriverCertificate
    insutype: str
    med_type: str
    chrg_bchno: str
    items: tuple[FeeItem, ...]
    acct_used_flag: Literal["0", "1"] = "1"
    dise_codg: str | None = None
    dise_name: str | None = None

    @property
    def total(self) -> Decimal:
        """The sum of the lines' totals: what medfee_sumamt must be."""
        return sum((item.total for item in self.items), Decimal("0.00"))


@dataclass(frozen=True, slots=True)
class RefundRequest:
    """Refund settlement ``setl_id`` of visit ``mdtrt_id`` in full (2208, then 2205)."""

    mdtrt_id: str
    setl_id: str
    psn_no: str


@dataclass(frozen=True, slots=True)
class PartialRefundRequest:
    """Refund ``items`` of settlement ``setl_id``; settle the remaining lines as ``chrg_bchno``.

    Hospitals do this by reversing the settlement (2208), cancelling its fee lines (2205),
    uploading the remaining lines as a new batch (2204) and settling again (2206, 2207).
    """

    mdtrt_id: str
    setl_id: str
    psn_no: str
    items: tuple[FeeItem, ...]
    chrg_bchno: str


@dataclass(frozen=True, slots=True)
class ReconcileRequest:
    """Reconcile settlements of ``day`` (China time) with the platform (3201, 3202)."""

    day: date


@dataclass(frozen=True, slots=True)
class RegisterChronicRequest:
    """Register (2503) a chronic disease the hospital identified for the patient presenting
    ``certificate``, under ``insutype``, from ``begndate`` (``None``: today) to ``enddate``
    (``None``: open-ended); the diagnosing doctor's code and name go with it.

    On ``ok`` the result carries the patient's ``psn_no`` and the registration's
    ``trt_dcla_detl_sn`` (which a later cancel names).

    Example:
        >>> card = DriverCertificate("02", "530102198503150018")
        >>> RegisterChronicRequest(card, "310", "M01600", "糖尿病").begndate is None
        True
    """

    certificate: DriverCertificate
    insutype: str
    opsp_dise_code: str
    opsp_dise_name: str
    begndate: date | None = None
    enddate: date | None = None
    diag_dr_codg: str = "D530100000001"
    diag_dr_name: str = "测试医师"


@dataclass(frozen=True, slots=True)
class CancelChronicRequest:
    """Cancel (2504) the chronic-disease registration ``trt_dcla_detl_sn`` this HIS made for
    ``psn_no``, giving ``memo`` as the reason."""

    psn_no: str
    trt_dcla_detl_sn: str
    memo: str = "备案有误，撤销"


@dataclass(frozen=True, slots=True)
class AdmitRequest:
    """Admit the patient presenting ``certificate`` for an inpatient stay (1101, 2401).

    ``ipt_no`` (住院号) is unique per run (the suite makes it so). The result's ``mdtrt_id``
    names the stay in later steps.

    Example:
        >>> card = DriverCertificate("03", "TA5300001", card_sn="530100D156…")
        >>> AdmitRequest(card, "310", "21", "IPT1").diag_name    # the defaults a HIS may use
        '肺炎'
    """

    certificate: DriverCertificate
    insutype: str
    med_type: str
    ipt_no: str
    dept_code: str = "0302"
    dept_name: str = "呼吸内科病区"
    bed: str = "12床"
    atddr_no: str = "D530100000001"
    dr_name: str = "测试医师"
    diag_code: str = "J18.900"
    diag_name: str = "肺炎"


@dataclass(frozen=True, slots=True)
class StayFeesRequest:
    """Upload ``items`` to stay ``mdtrt_id`` as one batch (2301), arising now."""

    mdtrt_id: str
    psn_no: str
    items: tuple[FeeItem, ...]

    @property
    def total(self) -> Decimal:
        """The batch's total."""
        return sum((item.total for item in self.items), Decimal("0.00"))


@dataclass(frozen=True, slots=True)
class StaySettlementRequest:
    """Settle stay ``mdtrt_id``: mid-way up to ``until`` (中途结算), or finally once discharged.

    The HIS settles what it holds unsettled for the stay, sending its own total as
    ``medfee_sumamt``; ``certificate`` is what the patient presents for the password check.
    """

    mdtrt_id: str
    psn_no: str
    certificate: DriverCertificate
    insutype: str
    midway: bool
    until: date | None = None
    acct_used_flag: Literal["0", "1"] = "1"


@dataclass(frozen=True, slots=True)
class DischargeRequest:
    """Discharge the patient of stay ``mdtrt_id`` now (2402)."""

    mdtrt_id: str
    psn_no: str
    insutype: str


@dataclass(frozen=True, slots=True)
class CancelStaySettlementRequest:
    """Cancel settlement ``setl_id`` of stay ``mdtrt_id`` (2305); a HIS cancels newest first
    and refuses to cancel an older one while a newer stands."""

    mdtrt_id: str
    setl_id: str
    psn_no: str


@dataclass(frozen=True, slots=True)
class CancelAdmissionRequest:
    """Cancel the admission of stay ``mdtrt_id``: its unsettled fee lines (2302), then 2404."""

    mdtrt_id: str
    psn_no: str


@dataclass(frozen=True, slots=True)
class DriverHealth:
    """What ``health()`` says: ready or not, who the HIS is, and a human-readable detail."""

    ready: bool
    name: str
    detail: str = ""


@dataclass(frozen=True, slots=True)
class DriverResult:
    """The HIS's own account of one action (see the module docstring for ``status``).

    ``msgids`` lists every msgid the HIS sent for the action, in order; ``amounts`` holds the
    settlement's ``medfee_sumamt``, ``fund_pay_sumamt``, ``acct_pay`` and ``psn_cash_pay`` as
    the HIS recorded them; ``balanced`` is the reconciliation verdict; ``patient_message`` is
    what the patient was shown or told; ``message`` is the HIS's note for the operator or lab;
    ``trt_dcla_detl_sn`` is the serial of a chronic-disease registration (2503).

    Example:
        >>> DriverResult("ok", amounts={"acct_pay": Decimal("3")}).as_dict()["amounts"]
        {'acct_pay': '3'}
    """

    status: DriverStatus
    mdtrt_id: str | None = None
    setl_id: str | None = None
    psn_no: str | None = None
    ipt_otp_no: str | None = None
    msgids: tuple[str, ...] = ()
    reversed_msgids: tuple[str, ...] = ()
    amounts: Mapping[str, Decimal] = field(default_factory=dict)
    balanced: bool | None = None
    patient_message: str | None = None
    message: str | None = None
    trt_dcla_detl_sn: str | None = None

    def field(self, name: str) -> Any:
        """A result field by name (``amounts.<name>`` reaches into amounts), for references.

        Example:
            >>> DriverResult("ok", amounts={"acct_pay": Decimal("3")}).field("amounts.acct_pay")
            Decimal('3')
        """
        if name.startswith("amounts."):
            return self.amounts.get(name.removeprefix("amounts."))
        if name not in RESULT_FIELDS:
            raise KeyError(name)
        return getattr(self, name)

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready view (amounts as decimal strings) for reports."""
        data: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "amounts":
                value = {k: str(v) for k, v in value.items()}
            elif isinstance(value, tuple):
                value = list(value)
            data[f.name] = value
        return data


RESULT_FIELDS: Final = frozenset(f.name for f in fields(DriverResult))
"""Names a scenario may reference as ``$step.<field>`` (plus ``amounts.<name>``)."""


@runtime_checkable
class Driver(Protocol):
    """What every driver implements; each call blocks until the HIS has finished acting.

    The runner calls one action at a time per driver and enforces the step timeout itself
    (a call that overruns is abandoned and reported, so an action need not time out on its
    own). ``describe()`` names the driver in reports, e.g. ``http://10.0.0.5:8080``.

    Example::

        class MyDriver:
            def describe(self) -> str: return "my HIS"
            def health(self) -> DriverHealth: return DriverHealth(True, "my HIS")
            def configure(self, config: HisConfiguration) -> DriverResult: ...
            ...  # one method per driver action of the action table, then close()
    """

    def describe(self) -> str:
        """A short description for reports (driver kind and target)."""
        ...

    def health(self) -> DriverHealth:
        """Whether the HIS is ready; raise DriverUnavailableError when it cannot be reached."""
        ...

    def configure(self, config: HisConfiguration) -> DriverResult:
        """Point the HIS at this scenario's institution, platform, keys and mode."""
        ...

    def sign_in(self, request: SignInRequest) -> DriverResult:
        """Sign in (9001)."""
        ...

    def register(self, request: RegisterRequest) -> DriverResult:
        """Look the patient up and register the visit (1101, 2201)."""
        ...

    def cancel_registration(self, request: CancelRegistrationRequest) -> DriverResult:
        """Cancel a registration (2202)."""
        ...

    def charge(self, request: ChargeRequest) -> DriverResult:
        """Charge fee lines to a visit (2203, 2204, 2206, 2207)."""
        ...

    def refund(self, request: RefundRequest) -> DriverResult:
        """Refund a settlement in full (2208, 2205)."""
        ...

    def partial_refund(self, request: PartialRefundRequest) -> DriverResult:
        """Refund some fee lines of a settlement."""
        ...

    def reconcile(self, request: ReconcileRequest) -> DriverResult:
        """Day-end reconciliation (3201; 3202 where unbalanced)."""
        ...

    def register_chronic(self, request: RegisterChronicRequest) -> DriverResult:
        """Register a chronic disease the hospital identified (1101, 2503)."""
        ...

    def cancel_chronic(self, request: CancelChronicRequest) -> DriverResult:
        """Cancel a chronic-disease registration this HIS made (2504)."""
        ...

    def admit(self, request: AdmitRequest) -> DriverResult:
        """Look the patient up and admit them (1101, 2401)."""
        ...

    def upload_stay_fees(self, request: StayFeesRequest) -> DriverResult:
        """Upload one batch of the stay's fee lines (2301)."""
        ...

    def settle_midway(self, request: StaySettlementRequest) -> DriverResult:
        """Settle the stay mid-way (2303, 2304 mid_setl_flag 1)."""
        ...

    def discharge(self, request: DischargeRequest) -> DriverResult:
        """Discharge the patient (2402)."""
        ...

    def settle_stay(self, request: StaySettlementRequest) -> DriverResult:
        """Settle the discharged stay (2303, 2304 mid_setl_flag 0)."""
        ...

    def cancel_stay_settlement(self, request: CancelStaySettlementRequest) -> DriverResult:
        """Cancel a settlement of the stay (2305)."""
        ...

    def cancel_admission(self, request: CancelAdmissionRequest) -> DriverResult:
        """Cancel the admission (2302, 2404)."""
        ...

    def close(self) -> None:
        """Release connections; called once at the end of the run."""
        ...

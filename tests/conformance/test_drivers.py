"""The sdk driver and its parts: the SDK-based HIS, its visit book, the recording transport."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from datetime import date
from decimal import Decimal

import httpx
import pytest

from nhsa.client import (
    BusinessError,
    ForbiddenCertificateError,
    Held,
    InsuredPlaceOffline,
    NotSentError,
    OutcomeUnknownError,
    Reversed,
    SettlementMismatchError,
    StillPending,
)
from nhsa.client.errors import JournalError, UnusableAnswerError
from nhsa.conformance import (
    CancelRegistrationRequest,
    ChargeRequest,
    Driver,
    DriverCertificate,
    FeeItem,
    HisConfiguration,
    InProcessMock,
    ModeConfig,
    PartialRefundRequest,
    ReconcileRequest,
    RefundRequest,
    RegisterRequest,
    SigningConfig,
    SignInRequest,
)
from nhsa.conformance._mock_handle import InstitutionRegistration
from nhsa.conformance.drivers import (
    RecordingTransport,
    SdkDriver,
    SentLog,
    result_of_error,
)
from nhsa.conformance.drivers.sdk import create_driver
from nhsa.mock import MockPlatform
from nhsa.mock.fixtures import InsuredPerson, bundled_fixtures


def _person(psn_no: str) -> InsuredPerson:
    person = bundled_fixtures().person(psn_no)
    assert person is not None, psn_no
    return person


PERSON = _person("P53010000000001")
ID_CARD = DriverCertificate("02", PERSON.certno)
E_VOUCHER = DriverCertificate("01", PERSON.certificates.ec_token)
FEES = (
    FeeItem("110200001000000", "H-ZC-001", Decimal("1"), Decimal("25.00")),
    FeeItem("XJ01DCC035A001010100002", "H-YP-002", Decimal("6"), Decimal("3.50")),
)


@pytest.fixture(scope="module")
def platform() -> Iterator[MockPlatform]:
    with MockPlatform() as mock:
        yield mock


def _configuration(platform: MockPlatform, kind: str = "window") -> HisConfiguration:
    """A fresh institution registered on the mock, and the configuration a HIS gets for it."""
    code = f"H530101{secrets.randbelow(100_000):05d}"
    name = f"昆明市测试第一人民医院（测试{code[-5:]}）"
    InProcessMock(platform).register_institution(
        InstitutionRegistration(
            code, name, "530100", "3", ("cross_province_outpatient", "outpatient"), "none"
        )
    )
    mode = (
        ModeConfig("kiosk", "KIOSK01", "自助机01", dev_no=f"DEV-{code}", dev_safe_info="ok")
        if kind == "kiosk"
        else ModeConfig("window", "W001", "收费窗口01")
    )
    return HisConfiguration(code, name, "530100", platform.base_url, mode, SigningConfig("none"))


def _infnos(platform: MockPlatform, tenant: str, since: int = 0) -> list[str]:
    return [r["infno"] for r in InProcessMock(platform).transcript(tenant, since)]


def _seq(platform: MockPlatform, tenant: str) -> int:
    records = InProcessMock(platform).transcript(tenant, 0)
    return records[-1]["seq"] if records else 0


def test_sdk_driver_is_a_driver_and_reports_its_path(platform: MockPlatform) -> None:
    driver = create_driver("sdk", mock=InProcessMock(platform), step_timeout=30)
    assert isinstance(driver, Driver)
    assert driver.describe() == "sdk (nhsa-kit client, in process, in-process transport)"
    assert driver.health().ready


def test_actions_before_configure_are_errors_not_crashes() -> None:
    driver = SdkDriver()
    result = driver.register(RegisterRequest(ID_CARD, "310", "11", "OTP1"))
    assert result.status == "error"
    assert "configure" in (result.message or "")


def test_a_window_visit_end_to_end_with_the_msgids_it_sent(platform: MockPlatform) -> None:
    config = _configuration(platform)
    driver = SdkDriver.for_mock(InProcessMock(platform))
    assert driver.configure(config).status == "ok"

    signed = driver.sign_in(SignInRequest())
    visit = driver.register(RegisterRequest(ID_CARD, "310", "11", "OTP-T1"))
    paid = driver.charge(
        ChargeRequest(visit.mdtrt_id or "", PERSON.psn_no, ID_CARD, "310", "11", "B1", FEES)
    )

    assert (signed.status, visit.status, paid.status) == ("ok", "ok", "ok")
    assert visit.psn_no == PERSON.psn_no
    assert visit.ipt_otp_no == "OTP-T1"
    assert _infnos(platform, config.fixmedins_code) == [
        "9001", "1101", "2201", "2203", "2204", "2206", "2207",
    ]  # fmt: skip
    assert len(signed.msgids) == 1
    assert len(visit.msgids) == 2
    assert len(paid.msgids) == 4
    assert all(m.startswith(config.fixmedins_code) for m in paid.msgids)
    assert paid.amounts["medfee_sumamt"] == Decimal("46.00")
    assert paid.amounts["fund_pay_sumamt"] + paid.amounts["acct_pay"] + paid.amounts[
        "psn_cash_pay"
    ] == Decimal("46.00")
    driver.close()


def test_cancelling_a_settled_visit_is_refused_before_anything_is_sent(
    platform: MockPlatform,
) -> None:
    config = _configuration(platform)
    driver = SdkDriver.for_mock(InProcessMock(platform))
    driver.configure(config)
    visit = driver.register(RegisterRequest(ID_CARD, "310", "11", "OTP-T2"))
    mdtrt_id = visit.mdtrt_id or ""
    paid = driver.charge(ChargeRequest(mdtrt_id, PERSON.psn_no, ID_CARD, "310", "11", "B", FEES))
    before = _seq(platform, config.fixmedins_code)

    refused = driver.cancel_registration(CancelRegistrationRequest(mdtrt_id, PERSON.psn_no, "x"))

    assert refused.status == "rejected"
    assert refused.msgids == ()
    assert paid.setl_id
    assert paid.setl_id in (refused.message or "")
    assert "refund" in (refused.patient_message or "")
    assert _infnos(platform, config.fixmedins_code, before) == []
    refund = driver.refund(RefundRequest(mdtrt_id, paid.setl_id or "", PERSON.psn_no))
    assert refund.status == "ok"
    assert refund.amounts["medfee_sumamt"].copy_abs() == Decimal("46.00")
    cancelled = driver.cancel_registration(CancelRegistrationRequest(mdtrt_id, PERSON.psn_no, "x"))
    assert cancelled.status == "ok"
    assert _infnos(platform, config.fixmedins_code, before) == ["2208", "2205", "2202"]
    again = driver.refund(RefundRequest(mdtrt_id, paid.setl_id or "", PERSON.psn_no))
    assert again.status == "rejected"
    assert "already refunded" in (again.message or "")


def test_partial_refund_of_part_of_a_line_settles_the_kept_quantity(
    platform: MockPlatform,
) -> None:
    config = _configuration(platform)
    driver = SdkDriver.for_mock(InProcessMock(platform))
    driver.configure(config)
    visit = driver.register(RegisterRequest(E_VOUCHER, "310", "11", "OTP-T3"))
    mdtrt_id = visit.mdtrt_id or ""
    paid = driver.charge(ChargeRequest(mdtrt_id, PERSON.psn_no, E_VOUCHER, "310", "11", "B", FEES))
    take_back = (FeeItem("XJ01DCC035A001010100002", "H-YP-002", Decimal("2"), Decimal("3.50")),)

    partial = driver.partial_refund(
        PartialRefundRequest(mdtrt_id, paid.setl_id or "", PERSON.psn_no, take_back, "B2")
    )

    assert partial.status == "ok"
    assert partial.setl_id not in (None, paid.setl_id)
    assert partial.amounts["medfee_sumamt"] == Decimal("39.00")  # 46.00 − 2 × 3.50
    too_much = (FeeItem("110200001000000", "H-ZC-001", Decimal("2"), Decimal("25.00")),)
    refused = driver.partial_refund(
        PartialRefundRequest(mdtrt_id, partial.setl_id or "", PERSON.psn_no, too_much, "B3")
    )
    assert refused.status == "rejected"
    assert "more than was charged" in (refused.message or "")
    day = driver.reconcile(ReconcileRequest(date.today()))
    assert day.status == "ok"
    assert day.balanced is True


def test_whole_lines_refund_through_the_sdks_own_partial_refund(platform: MockPlatform) -> None:
    config = _configuration(platform)
    driver = SdkDriver.for_mock(InProcessMock(platform))
    driver.configure(config)
    visit = driver.register(RegisterRequest(ID_CARD, "310", "11", "OTP-T4"))
    mdtrt_id = visit.mdtrt_id or ""
    paid = driver.charge(ChargeRequest(mdtrt_id, PERSON.psn_no, ID_CARD, "310", "11", "B", FEES))
    before = _seq(platform, config.fixmedins_code)

    partial = driver.partial_refund(
        PartialRefundRequest(mdtrt_id, paid.setl_id or "", PERSON.psn_no, FEES[1:], "B2")
    )

    assert partial.status == "ok"
    assert partial.amounts["medfee_sumamt"] == Decimal("25.00")
    # No second 2203: the kept line is settled again as a new batch of the same visit.
    assert _infnos(platform, config.fixmedins_code, before) == [
        "2208", "2205", "2204", "2206", "2207",
    ]  # fmt: skip


def test_a_kiosk_refuses_an_id_card_and_tells_the_patient(platform: MockPlatform) -> None:
    config = _configuration(platform, "kiosk")
    driver = SdkDriver.for_mock(InProcessMock(platform))
    driver.configure(config)

    refused = driver.register(RegisterRequest(ID_CARD, "310", "11", "OTP-K1"))

    assert refused.status == "rejected"
    assert refused.msgids == ()
    assert "电子凭证" in (refused.patient_message or "")
    assert PERSON.certno not in repr(refused.as_dict())
    assert _infnos(platform, config.fixmedins_code) == []


def test_unknown_visits_and_settlements_are_rejected_by_the_his(platform: MockPlatform) -> None:
    driver = SdkDriver.for_mock(InProcessMock(platform))
    driver.configure(_configuration(platform))
    charge = driver.charge(ChargeRequest("M-NONE", "P1", ID_CARD, "310", "11", "B", FEES))
    refund = driver.refund(RefundRequest("M-NONE", "S-NONE", "P1"))
    assert (charge.status, refund.status) == ("rejected", "rejected")
    assert "M-NONE" in (charge.message or "")
    assert "S-NONE" in (refund.message or "")


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (BusinessError("2207 refused", infno="2207", infcode=-1, err_msg="no"), "rejected"),
        (NotSentError("no connection", attempts=3), "rejected"),
        (InsuredPlaceOffline("440300", None), "rejected"),
        (ForbiddenCertificateError("02", field="mdtrt_cert_type", rule="kiosk"), "rejected"),
        (OutcomeUnknownError("lost", resolution=Reversed("2601", "M2", True)), "rejected"),
        (OutcomeUnknownError("lost", resolution=Held("cashier")), "unknown"),
        (OutcomeUnknownError("lost", resolution=StillPending("later")), "unknown"),
        (SettlementMismatchError("differs", differences={}, refunded=True), "rejected"),
        (SettlementMismatchError("differs", differences={}, refunded=False), "unknown"),
        (JournalError("disk full"), "error"),
        (UnusableAnswerError("settled, lacks setl_id", infno="2207"), "error"),
    ],
)
def test_every_sdk_error_becomes_an_honest_status(error: Exception, status: str) -> None:
    result = result_of_error(error)  # type: ignore[arg-type]
    assert result.status == status
    assert result.patient_message
    assert " / " in result.patient_message
    assert type(error).__name__ in (result.message or "")


def test_error_messages_are_redacted() -> None:
    error = BusinessError(f"1101 refused for {PERSON.certno}", infno="1101", infcode=-1)
    assert PERSON.certno not in (result_of_error(error).message or "")


def test_the_recording_transport_keeps_what_left_and_drops_what_never_did() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        if b'"fail"' in request.content:
            raise httpx.ConnectError("refused", request=request)
        if b'"lost"' in request.content:
            raise httpx.ReadTimeout("no answer", request=request)
        return httpx.Response(200, json={"infcode": 0})

    log = SentLog()
    transport = RecordingTransport(httpx.MockTransport(answer), log)
    with log.capture() as sent, httpx.Client(transport=transport) as http:
        http.post("http://p/", content=b'{"infno": "2207", "msgid": "M1"}')
        with pytest.raises(httpx.ConnectError):
            http.post("http://p/", content=b'{"infno": "2207", "msgid": "M2", "x": "fail"}')
        with pytest.raises(httpx.ReadTimeout):
            http.post("http://p/", content=b'{"infno": "2207", "msgid": "M3", "x": "lost"}')
        http.post(
            "http://p/",
            content=b'{"infno": "2601", "msgid": "M4", "input": {"data": {"omsgid": "M3"}}}',
        )
        http.post("http://p/", content=b"not json")
    assert sent.msgids == ("M1", "M3", "M4")
    assert sent.reversed_msgids == ("M3",)
    with httpx.Client(transport=transport) as http:
        http.post("http://p/", content=b'{"infno": "9001", "msgid": "M5"}')
    assert sent.msgids == ("M1", "M3", "M4")  # outside the capture: not kept

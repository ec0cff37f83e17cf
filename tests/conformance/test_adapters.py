"""The two MockHandle adapters against the real mock platform (in-process, and its admin API)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal

import httpx
import pytest

from nhsa import spec
from nhsa.conformance import (
    InProcessMock,
    MockError,
    MockUnavailableError,
    RemoteMock,
)
from nhsa.conformance._mock_adapters import ledger_totals_of
from nhsa.conformance._mock_handle import (
    Downtime,
    InstitutionRegistration,
    InstitutionTakenError,
    MockHandle,
)
from nhsa.envelope import dumps
from nhsa.mock.faults import FaultSpec
from nhsa.mock.platform import MockPlatform

CODE = "H53010188888"


@pytest.fixture(scope="module")
def platform() -> Iterator[MockPlatform]:
    with MockPlatform() as mock:
        yield mock


@pytest.fixture(params=["in-process", "admin-api"])
def handle(request: pytest.FixtureRequest, platform: MockPlatform) -> Iterator[MockHandle]:
    if request.param == "in-process":
        yield InProcessMock(platform)
        return
    remote = RemoteMock(
        platform.base_url, admin_token=platform.admin_token, transport=platform.transport
    )
    yield remote
    remote.close()


def fresh(handle: MockHandle, suffix: str) -> str:
    code = CODE[:-2] + suffix
    handle.register_institution(
        InstitutionRegistration(code, "测试医院", "530100", "3", ("outpatient",), "none")
    )
    return code


def test_basics(handle: MockHandle) -> None:
    assert handle.now().utcoffset() is not None
    assert "BEGIN PUBLIC KEY" in (handle.platform_public_key_pem() or "")
    assert handle.platform_url().startswith("http")


def test_registration_and_taken_codes(handle: MockHandle, platform: MockPlatform) -> None:
    suffix = "01" if isinstance(handle, InProcessMock) else "02"
    code = fresh(handle, suffix)
    assert platform.admin.institution(code)["mdtrtarea_admvs"] == "530100"
    registration = InstitutionRegistration(code, "again", "530100", "3", ("outpatient",), "none")
    with pytest.raises(InstitutionTakenError):
        handle.register_institution(registration)
    fixture = InstitutionRegistration("H53010100001", "x", "530100", "3", ("outpatient",), "none")
    with pytest.raises(InstitutionTakenError):
        handle.register_institution(fixture)


def test_faults_and_downtime_are_armed_as_they_are_and_cleared(
    handle: MockHandle, platform: MockPlatform
) -> None:
    code = fresh(handle, "11" if isinstance(handle, InProcessMock) else "12")
    handle.arm_fault(code, FaultSpec(kind="commit-then-drop", infno="2207"))
    handle.arm_fault(code, FaultSpec(kind="http-error", infno="2206", status=502, times=2))
    handle.arm_fault(code, FaultSpec(kind="insured-place-unreachable", area="440300"))
    handle.arm_fault(code, FaultSpec(kind="reset", times=None, probability=0.5, seed=7))
    handle.schedule_downtime(code, Downtime("110100", 30))
    armed = {(f["kind"], f["times"], f.get("status"), f.get("seed")) for f in platform.faults(code)}
    assert armed == {
        ("commit-then-drop", 1, None, None),
        ("http-error", 2, 502, None),
        ("insured-place-unreachable", 1, None, None),
        ("reset", None, None, 7),
    }
    notices = platform.notices(code)
    assert [n["admdvs"] for n in notices] == ["110100"]
    handle.clear_faults(code)
    assert platform.faults(code) == []
    assert platform.notices(code) == []


def test_transcript_and_ledger(handle: MockHandle, platform: MockPlatform) -> None:
    code = fresh(handle, "21" if isinstance(handle, InProcessMock) else "22")
    request = dict(spec.contract().transaction("9001").examples[0].request)
    request.update(fixmedins_code=code, msgid=code + request["msgid"][12:])
    with httpx.Client(transport=platform.transport, base_url=platform.base_url) as client:
        answer = client.post("/fsi/api/rsfComIfsService/callService", content=dumps(request))
    assert answer.json()["infcode"] == 0
    records = handle.transcript(code)
    assert [r["infno"] for r in records] == ["9001"]
    assert handle.transcript(code, since_seq=records[-1]["seq"]) == []
    totals = handle.ledger_totals(code, date(2026, 1, 1), date(2026, 12, 31))
    assert (totals.setl_cnt, totals.medfee_sumamt) == (0, Decimal("0.00"))
    handle.reset_tenant(code)
    assert handle.transcript(code) == []


def test_remote_errors_name_the_url(platform: MockPlatform) -> None:
    wrong = RemoteMock(platform.base_url, admin_token="wrong", transport=platform.transport)
    with pytest.raises(MockError, match=r"GET .*/admin/tenants/X/settlements answered HTTP 401"):
        wrong.ledger_totals("X", date(2026, 1, 1), date(2026, 1, 1))
    gone = RemoteMock("http://127.0.0.1:9", admin_token="t")
    with pytest.raises(
        MockUnavailableError, match=r"http://127\.0\.0\.1:9/admin/health is unreachable"
    ):
        gone.now()


def test_ledger_sums() -> None:
    rows = [
        {
            "setl_id": "S1",
            "setl_date": "2026-11-23",
            "status": "active",
            "refd_setl_flag": "0",
            "reversed_by": "S2",
            "medfee_sumamt": 30.1,
            "fund_pay_sumamt": "20",
            "acct_pay": "10.1",
        },
        {
            "setl_id": "S2",
            "setl_date": "2026-11-23",
            "status": "active",
            "refd_setl_flag": "1",
            "reverses": "S1",
            "medfee_sumamt": "-30.10",
            "fund_pay_sumamt": "-20",
            "acct_pay": "-10.1",
        },
        {
            "setl_date": "2026-11-24",
            "status": "active",
            "medfee_sumamt": "5",
            "fund_pay_sumamt": "0",
            "acct_pay": "5",
        },
        {
            "setl_date": "2026-11-23",
            "status": "voided",
            "medfee_sumamt": "99",
            "fund_pay_sumamt": "0",
            "acct_pay": "0",
        },
    ]
    day = ledger_totals_of(rows, date(2026, 11, 23), date(2026, 11, 23))
    assert (day.setl_cnt, day.medfee_sumamt, day.acct_pay) == (2, Decimal("0.00"), Decimal("0.00"))
    # refd_setl_flag 0: the refunded settlement and its refund both drop out (model A)
    standing = ledger_totals_of(rows, date(2026, 11, 23), date(2026, 11, 23), "0")
    assert (standing.setl_cnt, standing.medfee_sumamt) == (0, Decimal("0.00"))

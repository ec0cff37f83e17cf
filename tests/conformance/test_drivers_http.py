"""The http driver: the reference HIS over real HTTP, and every way a foreign HIS can misbehave.

The reference HIS app is served by uvicorn on a thread, the mock platform on another port, so
the HIS reaches the platform over sockets exactly as a separate process would.
"""

from __future__ import annotations

import dataclasses
import json
import threading
from collections.abc import Callable, Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from examples.reference_his.app import build_app
from examples.reference_his.service import ReferenceHis

from nhsa.conformance import (
    CancelRegistrationRequest,
    ChargeRequest,
    DriverCertificate,
    DriverHealth,
    DriverProtocolError,
    DriverResult,
    DriverUnavailableError,
    FeeItem,
    HisConfiguration,
    InProcessMock,
    ModeConfig,
    PartialRefundRequest,
    ReconcileRequest,
    RefundRequest,
    RegisterRequest,
    RunAbortedError,
    Runner,
    RunResult,
    SigningConfig,
    SignInRequest,
    Status,
    bundled_stages_dir,
    default_registry,
    load_stages,
)
from nhsa.conformance.drivers._api import check, driver_api, request_schema
from nhsa.conformance.drivers.http import HttpDriver, create_driver
from nhsa.conformance.drivers.wire import REQUEST_TYPES, decode, from_json, to_json
from nhsa.conformance.reports import write_reports
from nhsa.mock import MockPlatform
from nhsa.mock.app import BackgroundServer


@pytest.fixture(scope="module")
def served_mock() -> Iterator[InProcessMock]:
    with MockPlatform() as platform, platform.serve() as url:
        yield InProcessMock(platform, url=url)


@pytest.fixture(scope="module")
def reference_his(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ReferenceHis]:
    his = ReferenceHis(tmp_path_factory.mktemp("his"), read_timeout=1.0)
    yield his
    his.close()


def _run(driver: Any, mock: InProcessMock, ids: set[str], step_timeout: float = 30) -> RunResult:
    stages = load_stages(bundled_stages_dir(), ["lab"], default_registry())
    chosen = {"lab": [s for s in stages["lab"] if s.id in ids]}
    return Runner(driver, mock, step_timeout=step_timeout).run(chosen)


def test_the_reference_his_passes_the_lab_stage_over_http(
    served_mock: InProcessMock, reference_his: ReferenceHis
) -> None:
    with BackgroundServer(build_app(reference_his)) as server:
        driver = create_driver(server.url, mock=served_mock, step_timeout=30)
        stages = load_stages(bundled_stages_dir(), ["lab"], default_registry())
        result = Runner(driver, served_mock, step_timeout=30).run(stages)
        driver.close()

    assert result.driver == server.url
    failures = {
        s.scenario.id: [c.name for c in s.checks if c.status is not Status.PASS]
        for s in result.scenarios()
        if s.status is not Status.PASS
    }
    assert failures == {}
    assert result.status is Status.PASS


def test_the_reference_his_refuses_bad_requests_naming_the_field(
    reference_his: ReferenceHis,
) -> None:
    with BackgroundServer(build_app(reference_his)) as server:
        bad_day = httpx.post(f"{server.url}/reconcile", json={"day": "yesterday"})
        unknown = httpx.post(f"{server.url}/dance", json={})
        not_json = httpx.post(f"{server.url}/sign_in", content=b"{")
    assert bad_day.status_code == 400
    assert bad_day.json() == {
        "error": "/day: 'yesterday' is not an ISO date (format)",
        "pointer": "/day",
        "rule": "format",
    }
    assert unknown.status_code == 404
    assert "reconcile" in unknown.json()["error"]
    assert not_json.status_code == 400
    assert not_json.json()["rule"] == "json"


def test_an_unreachable_his_is_named_and_the_run_does_not_start(
    served_mock: InProcessMock,
) -> None:
    with BackgroundServer(build_app(_Never())) as server:
        url = server.url  # a port that was just closed again
    driver = HttpDriver(url, timeout=5)
    with pytest.raises(DriverUnavailableError, match=rf"driver at {url}/health is unreachable"):
        driver.health()
    with pytest.raises(RunAbortedError, match=url):
        _run(driver, served_mock, {"lab/sign-in-expired"})


def _answering(body: bytes, status: int = 200) -> HttpDriver:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, content=body)

    return HttpDriver("http://his.test:8800", transport=httpx.MockTransport(handler))


@pytest.mark.parametrize(
    ("status", "body", "problem"),
    [
        (200, b"<html>ok</html>", r"body that is not JSON: '<html>ok</html>'"),
        (500, b"Internal Server Error", r"answered HTTP 500: 'Internal Server Error'"),
        (200, b'{"status": "maybe"}', r'/status: "maybe" is not one of "ok"'),
        (200, b'{"status": "ok", "amounts": {"acct_pay": 3.1}}', r"/amounts/acct_pay: 3.1 is"),
        (200, b'{"status": "ok", "setl_id": 7}', r"/setl_id: 7 is not of type"),
        (200, b'{"status": "ok", "surprise": 1}', r"/surprise: is not a member of ActionResult"),
        (200, b"[]", r'/: \[\] is not of type "object" \(type\)'),
        (200, b"", r"not JSON: \(empty body\)"),
        # a validator recursed on this one (a hostile HIS cannot crash the run)
        (200, b'{"status": "ok", "x": ' + b"[" * 600 + b"]" * 600 + b"}", r"rule max-depth"),
    ],
)
def test_garbage_answers_are_protocol_errors_naming_url_and_problem(
    status: int, body: bytes, problem: str
) -> None:
    driver = _answering(body, status)
    with pytest.raises(DriverProtocolError, match=r"http://his\.test:8800/reconcile") as caught:
        driver.reconcile(ReconcileRequest(date(2026, 11, 23)))
    assert caught.match(problem)


def test_a_healthy_answer_is_read_exactly() -> None:
    driver = _answering(b'{"ready": false, "name": "HIS X", "detail": "database down"}')
    assert driver.health() == DriverHealth(False, "HIS X", "database down")


class _Never:
    """A backend for a server that is stopped before anyone calls it."""

    def health(self) -> DriverHealth:
        raise AssertionError("not called")

    def configure(self, config: HisConfiguration) -> DriverResult:
        raise AssertionError("not called")

    def act(self, action: str, request: Any) -> DriverResult:
        raise AssertionError("not called")


class _Faulty:
    """The reference HIS, except for one action: it hangs (until released) or answers garbage."""

    def __init__(self, his: ReferenceHis, action: str, misbehave: Callable[[], Any]) -> None:
        self.his = his
        self.action = action
        self.misbehave = misbehave
        self.done = False

    def health(self) -> DriverHealth:
        return self.his.health()

    def configure(self, config: HisConfiguration) -> DriverResult:
        return self.his.configure(config)

    def act(self, action: str, request: Any) -> Any:
        if action == self.action and not self.done:
            self.done = True
            return self.misbehave()
        return self.his.act(action, request)


def test_a_timed_out_step_is_listed_and_the_run_goes_on(
    served_mock: InProcessMock, reference_his: ReferenceHis, tmp_path: Path
) -> None:
    release = threading.Event()
    hanging = _Faulty(reference_his, "register", lambda: release.wait(60))
    with BackgroundServer(build_app(hanging)) as server:
        driver = HttpDriver(server.url)
        try:
            result = _run(
                driver, served_mock, {"lab/error-answers", "lab/sign-in-expired"}, step_timeout=3
            )
        finally:
            release.set()  # let the abandoned request end, so the server stops at once
            driver.close()

    first, second = result.scenarios()
    (timed_out,) = [s for s in first.steps if s.timed_out]
    assert timed_out.name == "register"
    assert timed_out.status is Status.ERROR
    assert "timed out" in timed_out.message
    assert all(s.status is Status.SKIP for s in first.steps[3:])
    assert first.status is Status.ERROR
    assert second.status is Status.PASS
    assert result.exit_code == 2
    paths = write_reports(result, tmp_path)
    report = json.loads(paths.json.read_text("utf-8"))
    assert report["timeouts"] == [
        {
            "stage": "lab",
            "scenario": first.scenario.id,
            "step": "register",
            "message": timed_out.message,
        }
    ]


def test_garbage_mid_run_errors_that_step_only(
    served_mock: InProcessMock, reference_his: ReferenceHis
) -> None:
    garbled = _Faulty(reference_his, "charge", lambda: "not a result")
    with BackgroundServer(build_app(garbled)) as server:
        driver = HttpDriver(server.url)
        result = _run(driver, served_mock, {"lab/error-answers", "lab/sign-in-expired"})
        driver.close()

    first, second = result.scenarios()
    charge = next(s for s in first.steps if s.name == "charge")
    assert charge.status is Status.ERROR
    assert "driver failed" in charge.message
    assert f"{server.url}/charge" in charge.message
    assert second.status is Status.PASS


SCHEMA_TYPES: dict[str, type[Any]] = {
    **{request_schema(action): kind for action, kind in REQUEST_TYPES.items()},
    "ModeConfig": ModeConfig,
    "SigningConfig": SigningConfig,
    "Certificate": DriverCertificate,
    "FeeItem": FeeItem,
    "ActionResult": DriverResult,
    "Health": DriverHealth,
}


@pytest.mark.parametrize("component", sorted(SCHEMA_TYPES))
def test_the_driver_api_document_and_the_driver_types_name_the_same_fields(
    component: str,
) -> None:
    properties = driver_api()["components"]["schemas"][component]["properties"]
    assert set(properties) == {f.name for f in dataclasses.fields(SCHEMA_TYPES[component])}


def test_what_the_suite_sends_and_the_reference_his_answers_fit_the_document() -> None:
    item = FeeItem("110200001000000", "H1", Decimal("2"), Decimal("12.50"))
    card = DriverCertificate("03", "TA5300001", card_sn="530100D1")
    samples = {
        "configure": HisConfiguration(
            "H53010112345", "医院", "530100", "http://127.0.0.1:8700",
            ModeConfig("kiosk", "K01", "自助机", dev_no="D1", dev_safe_info="ok"),
            SigningConfig("tif+sm2", paasid="p", token="t", private_key_pem="PEM", key_id="k"),
            run_id="r1", on_unknown="reverse",
        ),
        "sign_in": SignInRequest(),
        "register": RegisterRequest(card, "310", "11", "OTP1", emergency=True),
        "cancel_registration": CancelRegistrationRequest("M1", "P1", "OTP1"),
        "charge": ChargeRequest("M1", "P1", card, "310", "11", "B1", (item,), "0"),
        "refund": RefundRequest("M1", "S1", "P1"),
        "partial_refund": PartialRefundRequest("M1", "S1", "P1", (item,), "B2"),
        "reconcile": ReconcileRequest(date(2026, 11, 23)),
    }  # fmt: skip
    for action, request in samples.items():
        assert decode(action, to_json(request)) == request
    result = DriverResult(
        "ok", mdtrt_id="M1", setl_id="S1", msgids=("m1",), reversed_msgids=("m0",),
        amounts={"acct_pay": Decimal("-3.10")}, balanced=True, patient_message="请稍候",
    )  # fmt: skip
    check("ActionResult", to_json(result))
    assert from_json(DriverResult, to_json(result)) == result

"""Fixtures for the SDK's tests: a platform, clients in both modes, sync and async alike.

``twin`` runs the same test body against :class:`nhsa.client.Client` and
:class:`nhsa.client.AsyncClient` (the latter through a blocking portal, so the test reads the
same), which is how the tests show that both drive one policy to identical outcomes.
"""

from __future__ import annotations

import functools
import inspect
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import anyio.from_thread
import httpx
import pytest

from nhsa.client import (
    AsyncClient,
    Certificate,
    Client,
    ClientConfig,
    Clinic,
    Diagnosis,
    FeeLine,
    KioskMode,
    RetryPolicy,
    WindowMode,
)
from nhsa.mock import MockPlatform
from tests.client.platform import AREA, TENANT, TENANT_NAME, EnginePlatform, MockView

# Invented patient P53010000000001 of the bundled fixtures (conformance/fixtures/persons.yaml).
ID_NUMBER = "530102198503150018"
NAME = "张晓峰"
CARD_NO, CARD_SN = "TA5300001", "530100D15600000500000000A1B2C3D4"
EC_TOKEN = "ECTEST-530100-0001-4F2A9C1E"
CLINIC = Clinic("0301", "内科门诊", "D530100000101", "医师丁", "A03")
DIAGNOSES = (Diagnosis("J06.900", "急性上呼吸道感染"),)
FAST = RetryPolicy(max_attempts=4, backoff_initial=0, backoff_max=0, resolution_deadline=0)


def fees() -> list[FeeLine]:
    """Three lines of the Kunming catalogue: 甲 consultation, 乙 drug, 丙 self-paid."""
    return [
        FeeLine("110200001000000", "HIS-ZC-0001", cnt=1, pric=Decimal("25.00")),
        FeeLine("XJ01DCC035A001010100002", "HIS-YP-0002", cnt=2, pric=Decimal("18.50")),
        FeeLine("XA11CCA001A001010100007", "HIS-YP-0007", cnt=1, pric=Decimal("12.80")),
    ]


class Twin:
    """The same calls on a sync client, or on an async client through a blocking portal."""

    def __init__(self, client: Client | AsyncClient, portal: Any | None) -> None:
        self.client = client
        self._portal = portal

    @property
    def is_async(self) -> bool:
        return self._portal is not None

    def __getattr__(self, name: str) -> Any:
        if name == "close":
            name = "aclose" if self._portal is not None else "close"
        attribute = getattr(self.client, name)
        if self._portal is None or not inspect.iscoroutinefunction(attribute):
            return attribute
        portal = self._portal
        return lambda *args, **kwargs: portal.call(functools.partial(attribute, *args, **kwargs))


@pytest.fixture
def platform() -> Iterator[EnginePlatform]:
    engine_platform = EnginePlatform()
    yield engine_platform
    engine_platform.store.close()


@pytest.fixture(params=["engine", "mock"])
def any_platform(request: pytest.FixtureRequest) -> Iterator[EnginePlatform | MockView]:
    """The engine behind a scripted handler, and the whole in-process MockPlatform (its app,
    gateway, SM2 signatures, faults and transcript) with the ``tif+sm2`` profile."""
    if request.param == "engine":
        engine_platform = EnginePlatform()
        yield engine_platform
        engine_platform.store.close()
        return
    with MockPlatform(profile="tif+sm2") as mock:
        yield MockView(mock, "tif+sm2")


@pytest.fixture
def config_for(tmp_path: Path) -> Callable[..., ClientConfig]:
    def build(platform: EnginePlatform | None = None, **overrides: Any) -> ClientConfig:
        settings: dict[str, Any] = {
            "journal_path": tmp_path / "journal.sqlite3",
            "base_url": "http://platform.test",
            "retry": FAST,
        }
        if platform is not None:
            settings.update(platform.client_settings())
        settings.update(overrides)
        return ClientConfig(TENANT, TENANT_NAME, AREA, **settings)

    return build


WINDOW = WindowMode("C0001", "收费员甲")
KIOSK = KioskMode("K01", "SAFE-K01-0001", "K01", "自助机1号")


@pytest.fixture(params=["sync", "async"])
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def make_twin(kind: str) -> Iterator[Callable[..., Twin]]:
    made: list[Twin] = []
    with anyio.from_thread.start_blocking_portal() as portal:

        def build(config: ClientConfig, mode: Any, transport: Any = None) -> Twin:
            """``transport``: an httpx transport for both kinds, or a platform with
            ``sync_transport()`` and ``async_transport()``."""
            if kind == "sync":
                sync = (
                    transport.sync_transport()
                    if hasattr(transport, "sync_transport")
                    else transport
                )
                twin = Twin(Client(config, mode, transport=sync, sleep=lambda s: None), None)
            else:

                async def no_sleep(seconds: float) -> None:
                    return None

                wanted = (
                    transport.async_transport()
                    if hasattr(transport, "async_transport")
                    else transport
                )
                client = AsyncClient(config, mode, transport=wanted, sleep=no_sleep)
                twin = Twin(client, portal)
            made.append(twin)
            return twin

        yield build
        for twin in made:
            twin.close()


ADMIN_TOKEN = "client-tests-admin-token"
NHSA = str(Path(sys.executable).with_name("nhsa"))


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def mock_server(tmp_path: Path) -> Iterator[str]:
    port = _free_port()
    server = subprocess.Popen(
        [NHSA, "mock", "serve", "--port", str(port),
         "--db", str(tmp_path / "mock.db"), "--admin-token", ADMIN_TOKEN],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                if httpx.get(url + "/public/ping", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.05)
        else:
            pytest.fail("nhsa mock serve did not come up")
        yield url
    finally:
        server.terminate()
        server.wait(timeout=30)


def card() -> Certificate:
    return Certificate.social_security_card(CARD_NO, CARD_SN)


def e_voucher() -> Certificate:
    return Certificate.e_voucher(EC_TOKEN)


def id_card() -> Certificate:
    return Certificate.id_card(ID_NUMBER)

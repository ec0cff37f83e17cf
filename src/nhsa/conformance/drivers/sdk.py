"""The ``sdk`` driver: nhsa-kit's own client as the HIS under test, in this process.

It runs :class:`~nhsa.conformance.drivers.SdkHis` directly — no driver API, no sockets when
the mock is in-process too (the SDK talks to ``MockPlatform.transport``), real HTTP to the
platform URL the runner configures when the mock is a separate server (``--mock URL``).
Window or kiosk mode, signing profile and keys come from each scenario's configuration.

Example:
    >>> SdkDriver().describe()
    'sdk (nhsa-kit client, in process, real HTTP)'
"""

from __future__ import annotations

from pathlib import Path

import httpx

from nhsa.client import Timeouts
from nhsa.conformance._driver import (
    CancelRegistrationRequest,
    ChargeRequest,
    DriverHealth,
    DriverResult,
    HisConfiguration,
    PartialRefundRequest,
    ReconcileRequest,
    RefundRequest,
    RegisterRequest,
    SignInRequest,
)
from nhsa.conformance._mock_adapters import InProcessMock
from nhsa.conformance._mock_handle import MockHandle
from nhsa.conformance.drivers._sdk_his import SdkHis

__all__ = ["SdkDriver", "create_driver"]


def create_driver(_target: str, *, mock: MockHandle, step_timeout: float) -> SdkDriver:
    """``--driver sdk``: the SDK against the run's mock (in-process transport when it can).

    The SDK's read timeout stays below the step timeout, so a lost answer is noticed (and
    reversed) inside the step rather than the step timing out around it.

    Example:
        >>> create_driver("sdk", mock=object(), step_timeout=30).describe()  # type: ignore
        'sdk (nhsa-kit client, in process, real HTTP)'
    """
    return SdkDriver.for_mock(mock, timeouts=Timeouts(read=max(1.0, min(30.0, step_timeout / 4))))


class SdkDriver:
    """A :class:`~nhsa.conformance.Driver` over :class:`SdkHis`.

    Args:
        transport: the in-process mock's transport, or ``None`` for real HTTP.
        journal_dir: where the SDK's journals go (``None``: in memory, throw-away).
        timeouts: the SDK's HTTP timeouts.

    Example::

        with MockPlatform() as platform:
            mock = InProcessMock(platform)
            result = Runner(SdkDriver.for_mock(mock), mock).run(stages)
    """

    def __init__(
        self,
        *,
        transport: httpx.BaseTransport | None = None,
        journal_dir: Path | None = None,
        timeouts: Timeouts | None = None,
    ) -> None:
        """Build the HIS; it is configured per scenario by the runner."""
        self._in_process = transport is not None
        self.his = SdkHis(
            transport=transport,
            journal_dir=journal_dir,
            timeouts=timeouts,
            name="nhsa-kit SDK (in process)",
        )

    @classmethod
    def for_mock(
        cls, mock: MockHandle, *, journal_dir: Path | None = None, timeouts: Timeouts | None = None
    ) -> SdkDriver:
        """The driver for ``mock``: its in-process transport when it has one, else real HTTP.

        Example:
            >>> SdkDriver.for_mock(object()).describe()  # type: ignore[arg-type]
            'sdk (nhsa-kit client, in process, real HTTP)'
        """
        transport = mock.platform.transport if isinstance(mock, InProcessMock) else None
        return cls(transport=transport, journal_dir=journal_dir, timeouts=timeouts)

    def describe(self) -> str:
        """``sdk (…)`` with how it reaches the platform."""
        how = "in-process transport" if self._in_process else "real HTTP"
        return f"sdk (nhsa-kit client, in process, {how})"

    def health(self) -> DriverHealth:
        """Always ready: the SDK is in this process."""
        return self.his.health()

    def configure(self, config: HisConfiguration) -> DriverResult:
        """Build a new SDK client for the scenario's institution, mode and keys."""
        return self.his.configure(config)

    def sign_in(self, request: SignInRequest) -> DriverResult:
        """9001."""
        return self.his.sign_in(request)

    def register(self, request: RegisterRequest) -> DriverResult:
        """1101 + 2201."""
        return self.his.register(request)

    def cancel_registration(self, request: CancelRegistrationRequest) -> DriverResult:
        """2202 (refused before sending while a settlement stands)."""
        return self.his.cancel_registration(request)

    def charge(self, request: ChargeRequest) -> DriverResult:
        """2203, 2204, 2206, 2207."""
        return self.his.charge(request)

    def refund(self, request: RefundRequest) -> DriverResult:
        """2208 + 2205."""
        return self.his.refund(request)

    def partial_refund(self, request: PartialRefundRequest) -> DriverResult:
        """Reverse and settle the kept lines again."""
        return self.his.partial_refund(request)

    def reconcile(self, request: ReconcileRequest) -> DriverResult:
        """3201 (3202 where unbalanced)."""
        return self.his.reconcile(request)

    def close(self) -> None:
        """Sign out and release the client."""
        self.his.close()

"""The ``sdk`` driver: nhsa-kit's own client as the HIS under test, in this process.

It is :class:`~nhsa.conformance.drivers.SdkHis` itself — every action the HIS's own, no
driver API in between, no sockets when the mock is in-process too (the SDK talks to
``MockPlatform.transport``), real HTTP to the platform URL the runner configures when the mock
is a separate server (``--mock URL``).
Window or kiosk mode, signing profile and keys come from each scenario's configuration.

Example:
    >>> SdkDriver().describe()
    'sdk (nhsa-kit client, in process, real HTTP)'
"""

from __future__ import annotations

from pathlib import Path

import httpx

from nhsa.client import Timeouts
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


class SdkDriver(SdkHis):
    """A :class:`~nhsa.conformance.Driver`: :class:`SdkHis` reached without a driver API.

    Args:
        transport: the in-process mock's transport, or ``None`` for real HTTP.
        journal_dir: where the SDK's journals go (``None``: in memory, throw-away).
        timeouts: the SDK's HTTP timeouts.
        dialect: speak this dialect whatever ``configure`` says (a HIS built for one
            province, to watch a run in another dialect fail); ``None`` follows ``configure``.

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
        dialect: str | None = None,
    ) -> None:
        """Build the HIS; it is configured per scenario by the runner."""
        super().__init__(
            transport=transport,
            journal_dir=journal_dir,
            timeouts=timeouts,
            name="nhsa-kit SDK (in process)",
            dialect=dialect,
        )
        self._in_process = transport is not None

    @classmethod
    def for_mock(
        cls,
        mock: MockHandle,
        *,
        journal_dir: Path | None = None,
        timeouts: Timeouts | None = None,
        dialect: str | None = None,
    ) -> SdkDriver:
        """The driver for ``mock``: its in-process transport when it has one, else real HTTP.

        Example:
            >>> SdkDriver.for_mock(object()).describe()  # type: ignore[arg-type]
            'sdk (nhsa-kit client, in process, real HTTP)'
        """
        transport = mock.platform.transport if isinstance(mock, InProcessMock) else None
        return cls(transport=transport, journal_dir=journal_dir, timeouts=timeouts, dialect=dialect)

    def describe(self) -> str:
        """``sdk (…)`` with how it reaches the platform."""
        how = "in-process transport" if self._in_process else "real HTTP"
        return f"sdk (nhsa-kit client, in process, {how})"

"""Opening what a run needs: the driver (``--driver``) and the mock platform (``--mock``).

Drivers live in ``nhsa.conformance.drivers.<name>``; each module offers one factory::

    def create_driver(target: str, *, mock: MockHandle, step_timeout: float) -> Driver

``--driver sdk`` → ``drivers.sdk``, ``--driver manual`` → ``drivers.manual``, an
``http://``/``https://`` URL → ``drivers.http`` (target = the URL of the HIS's driver API).
A name this installation has no module for is an :class:`UnknownDriverError`, never an
``ImportError``.

``--mock URL`` uses a running ``nhsa mock serve`` through its admin API (token from
``--admin-token`` or ``NHSA_MOCK_ADMIN_TOKEN``); without it the suite starts an in-process
``MockPlatform`` — and, because a HIS in another process cannot reach an in-process app,
serves it on a free loopback port when the driver is a URL.

Example::

    with open_mock(None, admin_token=None, serve=False) as mock:
        driver = open_driver("sdk", mock, step_timeout=30)
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import Final

from nhsa.conformance._driver import Driver
from nhsa.conformance._errors import UnknownDriverError
from nhsa.conformance._mock_adapters import InProcessMock, RemoteMock
from nhsa.conformance._mock_handle import MockHandle
from nhsa.mock.fixtures import FixtureSet
from nhsa.mock.platform import MockPlatform

__all__ = ["DRIVER_PACKAGE", "driver_module_for", "open_driver", "open_mock"]

DRIVER_PACKAGE: Final = "nhsa.conformance.drivers"


def driver_module_for(target: str) -> str:
    """The module that implements ``--driver target``.

    Example:
        >>> driver_module_for("sdk"), driver_module_for("http://127.0.0.1:9000")
        ('nhsa.conformance.drivers.sdk', 'nhsa.conformance.drivers.http')
    """
    if target.startswith(("http://", "https://")):
        return f"{DRIVER_PACKAGE}.http"
    if target in ("sdk", "manual"):
        return f"{DRIVER_PACKAGE}.{target}"
    raise UnknownDriverError(
        f"--driver {target!r}: use sdk, manual or the http(s):// URL of a HIS's driver API"
    )


def open_driver(target: str, mock: MockHandle, *, step_timeout: float) -> Driver:
    """Create the driver for ``target`` (see the module docstring).

    Example::

        driver = open_driver("http://127.0.0.1:9000", mock, step_timeout=30)
    """
    name = driver_module_for(target)
    try:
        module = importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name is not None and name.startswith(exc.name):
            raise UnknownDriverError(
                f"--driver {target!r}: this installation has no such driver ({name} is missing)"
            ) from None
        raise
    factory = getattr(module, "create_driver", None)
    if factory is None:
        raise UnknownDriverError(f"--driver {target!r}: {name} has no create_driver()")
    driver: Driver = factory(target, mock=mock, step_timeout=step_timeout)
    return driver


@contextmanager
def open_mock(
    url: str | None,
    *,
    admin_token: str | None,
    serve: bool,
    fixtures: FixtureSet | None = None,
) -> Iterator[MockHandle]:
    """The mock for a run: remote when ``url`` is given, else an in-process platform.

    ``fixtures`` is what an in-process platform serves (a remote one was started with its own
    ``--fixtures``; the suite must be given the same folder).

    Example::

        with open_mock("http://127.0.0.1:8700", admin_token=token, serve=False) as mock:
            mock.transcript("H53010112345")
    """
    if url is not None:
        remote = RemoteMock(url, admin_token=admin_token)
        try:
            remote.now()  # fail now, naming the URL, rather than in the first scenario
            remote.check_admin_token()
            yield remote
        finally:
            remote.close()
        return
    with ExitStack() as stack:
        platform = stack.enter_context(MockPlatform(fixtures=fixtures))
        served = stack.enter_context(platform.serve()) if serve else None
        yield InProcessMock(platform, url=served)

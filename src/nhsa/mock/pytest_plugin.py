"""pytest fixtures for testing a HIS against the in-process mock platform.

Registered as a ``pytest11`` entry point, so any project with ``nhsa-kit[mock]`` installed
gets them without a conftest:

- ``nhsa_mock`` — a started :class:`~nhsa.mock.MockPlatform` (temporary database, bundled
  fixtures, profile ``none``, fault header on), closed after the test;
- ``nhsa_mock_factory`` — call it with ``MockPlatform`` keyword arguments for any other set-up
  (``profile="tif+sm2"``, a ``clock``, a ``db`` path…); every platform it made is closed after
  the test.

The mock is imported only when a fixture is used, so the plugin costs nothing (and needs no
web server) in test runs that do not ask for it.

Example::

    def test_settles(nhsa_mock):
        client = httpx.Client(transport=nhsa_mock.transport, base_url=nhsa_mock.base_url)
        nhsa_mock.arm_fault("H53010100001", "commit-then-drop", infno="2207")
        ...
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from nhsa.mock.platform import MockPlatform

__all__ = ["nhsa_mock", "nhsa_mock_factory"]


@pytest.fixture
def nhsa_mock_factory() -> Iterator[Callable[..., MockPlatform]]:
    """Make started mock platforms with any ``MockPlatform`` options; all closed afterwards."""
    from nhsa.mock.platform import MockPlatform  # noqa: PLC0415 - needs the 'mock' extra

    made: list[MockPlatform] = []

    def make(**options: Any) -> MockPlatform:
        platform = MockPlatform(**options).start()
        made.append(platform)
        return platform

    try:
        yield make
    finally:
        for platform in reversed(made):
            platform.close()


@pytest.fixture
def nhsa_mock(nhsa_mock_factory: Callable[..., MockPlatform]) -> MockPlatform:
    """A started in-process mock platform with the default set-up."""
    return nhsa_mock_factory()

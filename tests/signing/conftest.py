"""Fixtures for the signing tests: pinned keys, a fake clock, a realistic 2207 envelope."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from nhsa import signing
from nhsa.spec import contract

# The private key of the GM/T 0003.5 examples: a published test value, never a real key.
VECTOR_SCALAR = 0x3945208F7B2144B13F36E38AC6D39F95889393692860B51A42FB81EF4DF7C5B8
INSTITUTION = "H53010100001"
OTHER_INSTITUTION = "H44030000002"
PLATFORM = "NHSA"


class FakeClock:
    """A clock that moves only when told to."""

    def __init__(self, now: float = 1_795_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(scope="session")
def vector_key() -> signing.Sm2PrivateKey:
    return signing.Sm2PrivateKey.from_scalar(VECTOR_SCALAR)


@pytest.fixture(scope="session")
def institution_key() -> signing.Sm2PrivateKey:
    return signing.Sm2PrivateKey.generate()


@pytest.fixture(scope="session")
def other_institution_key() -> signing.Sm2PrivateKey:
    return signing.Sm2PrivateKey.generate()


@pytest.fixture(scope="session")
def platform_key() -> signing.Sm2PrivateKey:
    return signing.Sm2PrivateKey.generate()


@pytest.fixture
def institution_ring(
    institution_key: signing.Sm2PrivateKey, other_institution_key: signing.Sm2PrivateKey
) -> signing.KeyRing:
    return signing.KeyRing(
        [
            signing.KeyEntry(institution_key.public_key, INSTITUTION),
            signing.KeyEntry(other_institution_key.public_key, OTHER_INSTITUTION),
        ]
    )


@pytest.fixture
def platform_ring(platform_key: signing.Sm2PrivateKey) -> signing.KeyRing:
    return signing.KeyRing([signing.KeyEntry(platform_key.public_key, PLATFORM)])


def envelope_2207() -> dict[str, Any]:
    """The contract's 2207 request example, unsigned (cainfo "" and signtype null)."""
    request = dict(contract().transaction("2207").examples[0].request)
    request["cainfo"] = ""
    request["signtype"] = None
    return request


def response_2207() -> dict[str, Any]:
    """The contract's 2207 answer example, unsigned."""
    response = dict(contract().transaction("2207").examples[0].response)
    response["cainfo"] = None
    response["signtype"] = None
    return response


@pytest.fixture
def request_body() -> bytes:
    return orjson.dumps(envelope_2207())


@pytest.fixture
def response_body() -> bytes:
    return orjson.dumps(response_2207())

"""A whole signed 2207 exchange logged at DEBUG: no patient identifier reaches the log.

The SDK and the mock will route their logs through the same filter; the integrator extends
this test to a full visit once they exist.
"""

from __future__ import annotations

import logging

import orjson
import pytest

from nhsa.redaction import get_logger
from nhsa.signing import (
    ClientSigning,
    KeyRing,
    PlatformSigning,
    ReplayGuard,
    SigningProfile,
    Sm2PrivateKey,
)
from nhsa.signing.errors import TamperedBodyError

from .conftest import FakeClock, envelope_2207, response_2207


def _identifiers() -> list[str]:
    request, response = envelope_2207(), response_2207()
    setlinfo = response["output"]["setlinfo"]
    found = [
        request["input"]["data"]["mdtrt_cert_no"],
        setlinfo["certno"],
        setlinfo["psn_name"],
    ]
    assert all(isinstance(value, str) and value for value in found)
    return found


def test_signed_exchange_logged_at_debug_leaks_no_identifier(
    caplog: pytest.LogCaptureFixture,
    clock: FakeClock,
    institution_key: Sm2PrivateKey,
    institution_ring: KeyRing,
    platform_key: Sm2PrivateKey,
    platform_ring: KeyRing,
) -> None:
    profile = SigningProfile.parse("tif+sm2")
    client = ClientSigning(
        profile,
        paasid="paas-1",
        token="tok",
        private_key=institution_key,
        platform_keys=platform_ring,
        clock=clock,
    )
    platform = PlatformSigning(
        profile,
        paas_tokens={"paas-1": "tok"},
        institution_keys=institution_ring,
        private_key=platform_key,
        guard=ReplayGuard(clock=clock),
    )
    log = get_logger("nhsa")
    assert client.auth is not None
    with caplog.at_level(logging.DEBUG, logger="nhsa"):
        request = client.seal_request(orjson.dumps(envelope_2207()))
        log.debug("request body %s", request)
        log.debug("request envelope %s", orjson.loads(request))
        caller = platform.check_request(client.auth.headers(), request)
        log.debug("accepted %s", caller)
        answer = platform.seal_response(orjson.dumps(response_2207()))
        log.debug("answer body %r", answer)
        log.debug(f"answer text {answer.decode()}")
        assert client.open_response(answer) == platform_key.key_id
        with pytest.raises(TamperedBodyError):
            client.open_response(answer.replace(b"72.8", b"92.8", 1))
    assert len(caplog.records) >= 7  # ours plus the signer's and the failed verification's
    assert any("does not verify" in record.getMessage() for record in caplog.records)
    captured = caplog.text + "".join(str(record.__dict__) for record in caplog.records)
    for identifier in _identifiers():
        assert identifier not in captured, identifier

"""The x-tif gateway headers: the SDK's httpx.Auth and the platform's verifier."""

from __future__ import annotations

import asyncio
import hashlib
import itertools

import httpx
import pytest

from nhsa.signing import ReplayGuard, TifAuth, TifVerifier, tif_signature
from nhsa.signing.errors import (
    GatewaySignatureMismatchError,
    MalformedHeaderError,
    MissingHeaderError,
    NonHexHeaderError,
    ReplayedNonceError,
    SigningConfigError,
    StaleTimestampError,
    UnknownPaasidError,
)

from .conftest import FakeClock

PAASID, TOKEN = "paas-hosp-001", "tif-token-for-tests"


def test_signature_formula_matches_the_reference() -> None:
    # Reference §2.3: lowercase hex SHA-256 of timestamp + token + nonce + timestamp.
    expected = hashlib.sha256(b"1795000000" + b"tok" + b"abc" + b"1795000000").hexdigest()
    assert tif_signature("1795000000", "tok", "abc") == expected
    assert tif_signature("1700000000", "token", "nonce") == (
        "ba864fe8ccab46b8d039e89c91916b5c1701c7a4fdf5bdab69da607e34568e9f"
    )


def test_every_send_of_one_request_gets_a_fresh_nonce_and_timestamp(clock: FakeClock) -> None:
    seen: list[dict[str, str]] = []

    def platform(request: httpx.Request) -> httpx.Response:
        seen.append(dict(request.headers))  # a copy: a resend re-stamps the same object
        return httpx.Response(200, json={"infcode": 0})

    auth = TifAuth(PAASID, TOKEN, clock=clock)
    with httpx.Client(transport=httpx.MockTransport(platform), auth=auth) as client:
        request = client.build_request("POST", "https://gw.invalid/fsi/api", content=b"{}")
        client.send(request)
        clock.advance(7)
        client.send(request)  # a retry of the same request object
    first, second = seen
    assert first["x-tif-nonce"] != second["x-tif-nonce"]
    assert (first["x-tif-timestamp"], second["x-tif-timestamp"]) == ("1795000000", "1795000007")
    for headers in seen:
        assert headers["x-tif-paasid"] == PAASID
        assert headers["x-tif-signature"] == tif_signature(
            headers["x-tif-timestamp"], TOKEN, headers["x-tif-nonce"]
        )


def test_retries_inside_a_transport_are_stamped_again(clock: FakeClock) -> None:
    nonces: list[str] = []
    counter = itertools.count(1)

    def flaky(request: httpx.Request) -> httpx.Response:
        nonces.append(request.headers["x-tif-nonce"])
        return httpx.Response(503 if len(nonces) < 3 else 200)

    auth = TifAuth(PAASID, TOKEN, clock=clock, nonce=lambda: f"n{next(counter)}")
    with httpx.Client(transport=httpx.MockTransport(flaky), auth=auth) as client:
        status = 503
        while status == 503:
            status = client.post("https://gw.invalid/", content=b"{}").status_code
    assert nonces == ["n1", "n2", "n3"]


def test_async_clients_use_the_same_auth_flow(clock: FakeClock) -> None:
    async def run() -> str:
        async def platform(request: httpx.Request) -> httpx.Response:
            return httpx.Response(200, text=request.headers["x-tif-timestamp"])

        auth = TifAuth(PAASID, TOKEN, clock=clock)
        async with httpx.AsyncClient(transport=httpx.MockTransport(platform), auth=auth) as c:
            return (await c.post("https://gw.invalid/", content=b"{}")).text

    assert asyncio.run(run()) == "1795000000"


def test_service_id_is_sent_only_when_configured() -> None:
    assert "x-tif-serviceid" not in TifAuth(PAASID, TOKEN).headers()
    assert TifAuth(PAASID, TOKEN, service_id="svc").headers()["x-tif-serviceid"] == "svc"


@pytest.mark.parametrize(
    ("paasid", "token", "field"), [("", TOKEN, "paasid"), (PAASID, "", "token")]
)
def test_empty_credentials_are_refused(paasid: str, token: str, field: str) -> None:
    with pytest.raises(SigningConfigError) as caught:
        TifAuth(paasid, token)
    assert caught.value.field == field


def test_the_token_never_shows() -> None:
    auth = TifAuth(PAASID, TOKEN)
    assert TOKEN not in repr(auth)
    assert TOKEN not in str(auth)
    assert TOKEN not in str(auth.headers())


@pytest.fixture
def verifier(clock: FakeClock) -> TifVerifier:
    return TifVerifier({PAASID: TOKEN}, guard=ReplayGuard(clock=clock))


@pytest.fixture
def headers(clock: FakeClock) -> dict[str, str]:
    return TifAuth(PAASID, TOKEN, clock=clock).headers()


def test_valid_headers_name_the_caller(verifier: TifVerifier, headers: dict[str, str]) -> None:
    assert verifier.verify(headers) == PAASID


def test_header_names_are_case_insensitive(verifier: TifVerifier, headers: dict[str, str]) -> None:
    mixed = {("x-tif-paasId" if k == "x-tif-paasid" else k.upper()): v for k, v in headers.items()}
    assert verifier.verify(mixed) == PAASID


def test_a_lookup_function_works_like_a_mapping(clock: FakeClock, headers: dict[str, str]) -> None:
    tokens = {PAASID: TOKEN}
    assert TifVerifier(tokens.get, guard=ReplayGuard(clock=clock)).verify(headers) == PAASID


def test_httpx_headers_are_accepted(verifier: TifVerifier, headers: dict[str, str]) -> None:
    assert verifier.verify(httpx.Headers(headers)) == PAASID


@pytest.mark.parametrize(
    "header", ["x-tif-paasid", "x-tif-timestamp", "x-tif-nonce", "x-tif-signature"]
)
@pytest.mark.parametrize("how", ["absent", "empty"])
def test_missing_headers_are_named(
    verifier: TifVerifier, headers: dict[str, str], header: str, how: str
) -> None:
    if how == "absent":
        del headers[header]
    else:
        headers[header] = " "
    with pytest.raises(MissingHeaderError) as caught:
        verifier.verify(headers)
    assert (caught.value.field, caught.value.rule) == (header, "required")


@pytest.mark.parametrize(
    "signature",
    ["A" * 64, "g" * 64, "0" * 63, "0" * 65, "zz" + "0" * 62, "０" * 64],
)
def test_non_hex_signatures_are_named(
    verifier: TifVerifier, headers: dict[str, str], signature: str
) -> None:
    headers["x-tif-signature"] = signature
    with pytest.raises(NonHexHeaderError) as caught:
        verifier.verify(headers)
    assert caught.value.field == "x-tif-signature"
    assert isinstance(caught.value, MalformedHeaderError)


def test_uppercase_hex_of_the_right_value_is_still_rejected(
    verifier: TifVerifier, headers: dict[str, str]
) -> None:
    headers["x-tif-signature"] = headers["x-tif-signature"].upper()
    with pytest.raises(NonHexHeaderError, match="lowercase"):
        verifier.verify(headers)


@pytest.mark.parametrize(
    ("timestamp", "hint"),
    [("17950000.5", ""), ("-1795000000", ""), ("abc", ""), ("1795000000000", "milliseconds")],
)
def test_timestamps_must_be_decimal_seconds(
    verifier: TifVerifier, headers: dict[str, str], timestamp: str, hint: str
) -> None:
    headers["x-tif-timestamp"] = timestamp
    with pytest.raises(MalformedHeaderError, match=hint or None) as caught:
        verifier.verify(headers)
    assert caught.value.rule == "decimal-seconds"


@pytest.mark.parametrize("nonce", ["has space", "x" * 129, "非ascii"])
def test_nonces_must_be_short_printable_ascii(
    verifier: TifVerifier, headers: dict[str, str], nonce: str
) -> None:
    headers["x-tif-nonce"] = nonce
    with pytest.raises(MalformedHeaderError) as caught:
        verifier.verify(headers)
    assert caught.value.field == "x-tif-nonce"


def test_unknown_paasid_is_illegal_user(verifier: TifVerifier, headers: dict[str, str]) -> None:
    headers["x-tif-paasid"] = "paas-nobody"
    with pytest.raises(UnknownPaasidError) as caught:
        verifier.verify(headers)
    assert caught.value.wording == "非法用户"
    assert caught.value.wording_confirmed


def test_wrong_token_is_a_signature_mismatch(clock: FakeClock, verifier: TifVerifier) -> None:
    headers = TifAuth(PAASID, "not-the-token", clock=clock).headers()
    with pytest.raises(GatewaySignatureMismatchError) as caught:
        verifier.verify(headers)
    assert caught.value.err_msg.startswith("签名不一致: ")


def test_edited_nonce_is_a_signature_mismatch(
    verifier: TifVerifier, headers: dict[str, str]
) -> None:
    headers["x-tif-nonce"] += "0"
    with pytest.raises(GatewaySignatureMismatchError):
        verifier.verify(headers)


@pytest.mark.parametrize(
    ("skew", "accepted"), [(-300, True), (300, True), (-301, False), (301, False)]
)
def test_timestamps_are_accepted_within_300_seconds_only(
    clock: FakeClock, verifier: TifVerifier, skew: int, accepted: bool
) -> None:
    headers = TifAuth(PAASID, TOKEN, clock=lambda: clock() + skew).headers()
    if accepted:
        assert verifier.verify(headers) == PAASID
    else:
        with pytest.raises(StaleTimestampError) as caught:
            verifier.verify(headers)
        assert caught.value.wording == "签名时间戳超时"


def test_a_replayed_nonce_is_rejected_and_a_fresh_one_accepted(
    clock: FakeClock, verifier: TifVerifier, headers: dict[str, str]
) -> None:
    verifier.verify(headers)
    with pytest.raises(ReplayedNonceError) as caught:
        verifier.verify(dict(headers))
    assert caught.value.field == "x-tif-nonce"
    assert verifier.verify(TifAuth(PAASID, TOKEN, clock=clock).headers()) == PAASID


def test_rejected_headers_do_not_use_up_their_nonce(
    clock: FakeClock, verifier: TifVerifier, headers: dict[str, str]
) -> None:
    forged = dict(headers, **{"x-tif-signature": "0" * 64})
    with pytest.raises(GatewaySignatureMismatchError):
        verifier.verify(forged)
    assert len(verifier.guard) == 0
    assert verifier.verify(headers) == PAASID

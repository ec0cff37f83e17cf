"""The gateway families beside TIF: CSB ``_api_*`` headers and the bearer token gateway."""

from __future__ import annotations

import base64
import hashlib
import hmac
import subprocess

import httpx
import pytest

from nhsa import spec
from nhsa.signing import (
    BearerAuth,
    BearerIssuer,
    CsbAuth,
    CsbParameters,
    CsbVerifier,
    ReplayGuard,
    TifAuth,
    basic_credentials,
    client_gateway,
    csb_parameters,
    csb_signature,
    platform_gateway,
)
from nhsa.signing.errors import (
    CsbMissingHeaderError,
    ExpiredTokenError,
    GatewaySignatureMismatchError,
    InvalidTokenError,
    MalformedHeaderError,
    MissingHeaderError,
    SigningConfigError,
    StaleTimestampError,
    UnknownPaasidError,
)

NOW = 1_700_000_000.0
HUNAN = csb_parameters(spec.dialect("hunan").gateway)
JIANGSU = csb_parameters(spec.dialect("jiangsu").gateway)


# -- CSB ---------------------------------------------------------------------------------------


def test_the_csb_signature_is_base64_hmac_sha1_over_the_sorted_parameters() -> None:
    parameters = {
        "_api_version": "1.0.0",
        "_api_timestamp": "1700000000000",
        "_api_name": "1101",
        "_api_access_key": "ak",
    }
    text = "_api_access_key=ak&_api_name=1101&_api_timestamp=1700000000000&_api_version=1.0.0"
    expected = base64.b64encode(hmac.new(b"secret", text.encode(), hashlib.sha1).digest()).decode()
    assert csb_signature("secret", parameters) == expected == "jUFrkMrGZfRnvuGVDwMJpqLaHoA="


def test_openssl_computes_the_same_csb_signature() -> None:
    text = "_api_access_key=ak&_api_name=1101&_api_timestamp=1700000000000&_api_version=1.0.0"
    digest = subprocess.run(
        ["openssl", "dgst", "-sha1", "-hmac", "secret", "-binary"],
        input=text.encode(),
        capture_output=True,
        check=True,
    ).stdout
    assert base64.b64encode(digest).decode() == "jUFrkMrGZfRnvuGVDwMJpqLaHoA="


def test_hunan_names_the_infno_in_milliseconds_and_jiangsu_one_service_in_seconds() -> None:
    hunan = CsbAuth("ak", "s", HUNAN, clock=lambda: NOW).headers("2207")
    jiangsu = CsbAuth("ak", "s", JIANGSU, clock=lambda: NOW).headers("2207")
    assert (hunan["_api_name"], hunan["_api_timestamp"]) == ("2207", "1700000000000")
    assert (jiangsu["_api_name"], jiangsu["_api_timestamp"]) == (
        "hsa.fsi.callService",
        "1700000000",
    )
    assert hunan["_api_version"] == "1.0.0"
    assert set(hunan) == {
        "_api_name",
        "_api_version",
        "_api_access_key",
        "_api_timestamp",
        "_api_signature",
    }


def _verifier(parameters: CsbParameters = HUNAN, now: float = NOW) -> CsbVerifier:
    return CsbVerifier({"ak": "secret"}.get, parameters, clock=lambda: now)


def _headers(parameters: CsbParameters = HUNAN, infno: str = "1101") -> dict[str, str]:
    return CsbAuth("ak", "secret", parameters, clock=lambda: NOW).headers(infno)


def test_the_csb_gateway_admits_good_headers() -> None:
    assert _verifier().verify(_headers(), infno="1101") == "ak"
    assert _verifier(JIANGSU).verify(_headers(JIANGSU), infno="9001") == "ak"
    assert _verifier().app_id(_headers()) == "ak"


@pytest.mark.parametrize(
    ("change", "error", "field", "rule"),
    [
        ({"_api_signature": ""}, CsbMissingHeaderError, "_api_signature", "required"),
        ({"_api_timestamp": "1700000000"}, MalformedHeaderError, "_api_timestamp", "decimal-ms"),
        ({"_api_name": "2207"}, MalformedHeaderError, "_api_name", "api-name"),
        (
            {"_api_signature": "not base64"},
            MalformedHeaderError,
            "_api_signature",
            "base64-hmac-sha1",
        ),
        ({"_api_access_key": "other"}, UnknownPaasidError, "_api_access_key", "registered"),
        (
            {"_api_signature": "AAAAAAAAAAAAAAAAAAAAAAAAAAA="},
            GatewaySignatureMismatchError,
            "_api_signature",
            "hmac-sha1-of-sorted-parameters",
        ),
    ],
)
def test_the_csb_gateway_refuses_naming_the_header_and_the_rule(
    change: dict[str, str], error: type[Exception], field: str, rule: str
) -> None:
    with pytest.raises(error) as caught:
        _verifier().verify({**_headers(), **change}, infno="1101")
    assert (caught.value.field, caught.value.rule) == (field, rule)  # type: ignore[attr-defined]


def test_a_missing_csb_header_has_the_csb_gateways_wording() -> None:
    with pytest.raises(CsbMissingHeaderError) as caught:
        _verifier().verify({}, infno="1101")
    assert caught.value.err_msg.startswith("缺少服务网关的请求头")
    assert caught.value.wording_confirmed


def test_the_csb_window_is_the_dialects() -> None:
    assert HUNAN.window_seconds == 1800
    _verifier(now=NOW + 1700).verify(_headers(), infno="1101")
    with pytest.raises(StaleTimestampError):
        _verifier(now=NOW + 1900).verify(_headers(), infno="1101")


# -- bearer ------------------------------------------------------------------------------------


def test_a_bearer_token_is_issued_to_a_registered_client_and_checked_statelessly() -> None:
    issuer = BearerIssuer({"cid": "secret"}.get, clock=lambda: NOW)
    answer = issuer.issue("cid", "secret")
    assert (answer["token_type"], answer["expires_in"]) == ("bearer", 3600)
    headers = {"Authorization": f"Bearer {answer['access_token']}"}
    other_worker = BearerIssuer({"cid": "secret"}.get, clock=lambda: NOW + 10)
    assert other_worker.verify(headers, infno=None) == "cid"
    assert other_worker.app_id(headers) == "cid"


def test_a_wrong_client_secret_gets_no_token() -> None:
    issuer = BearerIssuer({"cid": "secret"}.get, clock=lambda: NOW)
    with pytest.raises(UnknownPaasidError):
        issuer.issue("cid", "guess")
    with pytest.raises(UnknownPaasidError):
        issuer.issue("nobody", "secret")


@pytest.mark.parametrize(
    ("authorization", "error", "rule"),
    [
        (None, MissingHeaderError, "required"),
        ("Basic abc", MissingHeaderError, "required"),
        ("Bearer nonsense", MalformedHeaderError, "token-format"),
    ],
)
def test_a_bearer_gateway_refuses_a_request_without_a_token(
    authorization: str | None, error: type[Exception], rule: str
) -> None:
    issuer = BearerIssuer({"cid": "secret"}.get, clock=lambda: NOW)
    headers = {"authorization": authorization} if authorization else {}
    with pytest.raises(error) as caught:
        issuer.verify(headers, infno=None)
    assert caught.value.rule == rule  # type: ignore[attr-defined]


def test_a_forged_or_expired_token_is_refused() -> None:
    issuer = BearerIssuer({"cid": "secret", "cid2": "other"}.get, clock=lambda: NOW)
    token = issuer.issue("cid", "secret")["access_token"]
    client, expiry, mac = token.split(".")
    forged = f"{client}.{int(expiry) + 3600}.{mac}"
    with pytest.raises(InvalidTokenError):
        issuer.verify({"authorization": f"Bearer {forged}"}, infno=None)
    later = BearerIssuer({"cid": "secret"}.get, clock=lambda: NOW + 3601)
    with pytest.raises(ExpiredTokenError):
        later.verify({"authorization": f"Bearer {token}"}, infno=None)


def test_the_sdk_asks_for_a_token_with_the_password_grant_and_keeps_it_until_nearly_expired() -> (
    None
):
    now = [NOW]
    auth = BearerAuth(
        "cid", "secret", "H53010100001", "pw", "/auth/oauth/token", clock=lambda: now[0]
    )
    request = auth.token_request(httpx.URL("http://gw.invalid/base/"))
    assert request.url == "http://gw.invalid/base/auth/oauth/token"
    assert basic_credentials(request.headers["authorization"]) == ("cid", "secret")
    form = dict(httpx.QueryParams(request.read().decode()))
    assert form == {
        "username": "H53010100001",
        "password": "pw",
        "scope": "all",
        "grant_type": "password",
    }
    auth.accept(httpx.Response(200, json={"access_token": "T1", "expires_in": 3600}))
    assert auth.fresh()
    assert auth.headers("2207") == {"authorization": "Bearer T1"}
    now[0] += 3550  # within a minute of expiry: ask again
    assert not auth.fresh()
    with pytest.raises(InvalidTokenError, match="HTTP 401"):
        auth.accept(httpx.Response(401, json={"error": "invalid_client"}))
    auth.forget()
    assert auth.headers() == {}


def test_a_bearer_client_needs_the_grants_account() -> None:
    with pytest.raises(SigningConfigError, match="gateway_user"):
        BearerAuth("cid", "secret", "", "pw", "/auth/oauth/token")


# -- families chosen by a dialect --------------------------------------------------------------


def test_each_dialect_chooses_its_family_on_both_sides() -> None:
    guard = ReplayGuard(clock=lambda: NOW)
    kinds = {}
    for name in spec.dialect_names():
        gateway = spec.dialect(name).gateway
        verifier = platform_gateway(gateway, {"p": "t"}.get, guard)
        if gateway.family == "none":
            assert verifier is None
            with pytest.raises(SigningConfigError, match="no gateway"):
                client_gateway(gateway, paasid="p", token="t")
            continue
        auth = client_gateway(gateway, paasid="p", token="t", user="u", password="pw")
        kinds[name] = (type(auth).__name__, verifier.family if verifier else None)
    assert kinds == {
        "national": ("TifAuth", "tif"),
        "guangdong": ("TifAuth", "tif"),
        "guangzhou": ("TifAuth", "tif"),
        "hunan": ("CsbAuth", "csb"),
        "jiangsu": ("CsbAuth", "csb"),
        "jilin": ("BearerAuth", "bearer"),
    }
    assert isinstance(client_gateway(None, paasid="p", token="t"), TifAuth)

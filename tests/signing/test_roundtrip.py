"""Every profile end to end: the SDK side signs and stamps, an httpx.MockTransport plays the
platform (verifies, answers, signs), the SDK side verifies the answer. No sockets."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import orjson
import pytest

from nhsa.signing import (
    Caller,
    ClientSigning,
    KeyRing,
    PlatformSigning,
    ReplayGuard,
    SigningProfile,
    Sm2PrivateKey,
)
from nhsa.signing.errors import (
    GatewaySignatureMismatchError,
    MissingHeaderError,
    MissingSignatureError,
    RejectedMessageError,
    ReplayedMsgidError,
    ReplayedNonceError,
    SigningConfigError,
    StaleTimestampError,
    TamperedBodyError,
    UnknownPaasidError,
    WrongKeyError,
)

from .conftest import INSTITUTION, FakeClock, envelope_2207, response_2207

PAASID, TOKEN = "paas-hosp-001", "tif-token-for-tests"
URL = "https://gw.invalid/fsi/api/rsfComIfsService/callService"
PROFILES = ["none", "tif", "sm2", "tif+sm2"]


class MockPlatform:
    """A platform that checks each request and answers with a signed 2207 result, or a
    failure envelope whose err_msg carries the named error's wording."""

    def __init__(self, signing: PlatformSigning) -> None:
        self.signing = signing
        self.accepted: list[Caller] = []
        self.rejected: list[RejectedMessageError] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        try:
            caller = self.signing.check_request(request.headers, request.content)
        except RejectedMessageError as error:
            self.rejected.append(error)
            answer = {"infcode": -1, "err_msg": error.err_msg, "cainfo": None, "signtype": None}
            return httpx.Response(200, content=self.signing.seal_response(orjson.dumps(answer)))
        self.accepted.append(caller)
        body = self.signing.seal_response(orjson.dumps(response_2207()))
        return httpx.Response(200, content=body)


def _sides(
    profile: SigningProfile,
    clock: FakeClock,
    institution_key: Sm2PrivateKey,
    institution_ring: KeyRing,
    platform_key: Sm2PrivateKey,
    platform_ring: KeyRing,
) -> tuple[ClientSigning, MockPlatform]:
    client = ClientSigning(
        profile,
        paasid=PAASID,
        token=TOKEN,
        private_key=institution_key,
        platform_keys=platform_ring,
        clock=clock,
    )
    platform = PlatformSigning(
        profile,
        paas_tokens={PAASID: TOKEN},
        institution_keys=institution_ring,
        private_key=platform_key,
        guard=ReplayGuard(clock=clock),
    )
    return client, MockPlatform(platform)


def _call(
    client: ClientSigning,
    platform: Callable[[httpx.Request], httpx.Response],
    envelope: dict[str, object],
) -> httpx.Response:
    with httpx.Client(transport=httpx.MockTransport(platform), auth=client.auth) as http:
        return http.post(URL, content=client.seal_request(orjson.dumps(envelope)))


@pytest.mark.parametrize("text", PROFILES)
def test_every_profile_round_trips(
    text: str,
    clock: FakeClock,
    institution_key: Sm2PrivateKey,
    institution_ring: KeyRing,
    platform_key: Sm2PrivateKey,
    platform_ring: KeyRing,
) -> None:
    profile = SigningProfile.parse(text)
    client, platform = _sides(
        profile, clock, institution_key, institution_ring, platform_key, platform_ring
    )
    response = _call(client, platform, envelope_2207())
    assert platform.rejected == []
    (caller,) = platform.accepted
    assert caller.paasid == (PAASID if profile.tif else None)
    assert caller.key_id == (institution_key.key_id if profile.sm2 else None)
    assert (caller.fixmedins_code, caller.msgid) == (INSTITUTION, envelope_2207()["msgid"])
    assert client.open_response(response.content) == (platform_key.key_id if profile.sm2 else None)
    assert orjson.loads(response.content)["output"]["setlinfo"]["setl_id"] == "530100000000002001"
    answer = orjson.loads(response.content)
    assert answer["signtype"] == ("SM2" if profile.sm2 else None)


def test_profile_tif_sm2_rejects_each_failure_with_its_named_error(
    clock: FakeClock,
    institution_key: Sm2PrivateKey,
    other_institution_key: Sm2PrivateKey,
    institution_ring: KeyRing,
    platform_key: Sm2PrivateKey,
    platform_ring: KeyRing,
) -> None:
    profile = SigningProfile.parse("tif+sm2")
    client, platform = _sides(
        profile, clock, institution_key, institution_ring, platform_key, platform_ring
    )
    envelope = envelope_2207()
    signed = client.seal_request(orjson.dumps(envelope))
    assert client.auth is not None
    good_headers = client.auth.headers

    def send(headers: dict[str, str], body: bytes) -> str:
        request = httpx.Request("POST", URL, headers=headers, content=body)
        answer = orjson.loads(platform(request).content)
        assert answer["infcode"] == -1
        return str(answer["err_msg"])

    cases: list[tuple[type[RejectedMessageError], dict[str, str], bytes]] = [
        (TamperedBodyError, good_headers(), signed.replace(b"120.0", b"12.0", 1)),
        (
            MissingHeaderError,
            {k: v for k, v in good_headers().items() if k != "x-tif-nonce"},
            signed,
        ),
        (UnknownPaasidError, {**good_headers(), "x-tif-paasid": "paas-x"}, signed),
        (GatewaySignatureMismatchError, {**good_headers(), "x-tif-signature": "0" * 64}, signed),
        (MissingSignatureError, good_headers(), orjson.dumps(envelope)),
        (
            WrongKeyError,
            good_headers(),
            ClientSigning(
                profile,
                paasid=PAASID,
                token=TOKEN,
                private_key=other_institution_key,
                platform_keys=platform_ring,
                clock=clock,
            ).seal_request(orjson.dumps(envelope)),
        ),
    ]
    for error, headers, body in cases:
        err_msg = send(headers, body)
        assert isinstance(platform.rejected[-1], error), error
        assert err_msg.startswith(error.wording + ": ")

    stale = good_headers()
    clock.advance(301)
    assert send(stale, signed).startswith("签名时间戳超时")
    assert isinstance(platform.rejected[-1], StaleTimestampError)

    accepted_headers = good_headers()
    send_ok = platform(httpx.Request("POST", URL, headers=accepted_headers, content=signed))
    assert orjson.loads(send_ok.content)["infcode"] == 0
    send(accepted_headers, signed)
    assert isinstance(platform.rejected[-1], ReplayedNonceError)
    send(good_headers(), signed)
    assert isinstance(platform.rejected[-1], ReplayedMsgidError)
    assert len(platform.accepted) == 1


def test_the_sdk_rejects_a_tampered_or_unsigned_answer(
    clock: FakeClock,
    institution_key: Sm2PrivateKey,
    institution_ring: KeyRing,
    platform_key: Sm2PrivateKey,
    platform_ring: KeyRing,
) -> None:
    profile = SigningProfile.parse("sm2")
    client, platform = _sides(
        profile, clock, institution_key, institution_ring, platform_key, platform_ring
    )
    answer = _call(client, platform, envelope_2207()).content
    with pytest.raises(TamperedBodyError):
        client.open_response(answer.replace(b"72.8", b"92.8", 1))
    with pytest.raises(MissingSignatureError):
        client.open_response(orjson.dumps(response_2207()))


def test_an_answer_signed_by_an_institution_key_is_not_trusted_by_the_sdk(
    clock: FakeClock,
    institution_key: Sm2PrivateKey,
    institution_ring: KeyRing,
    platform_ring: KeyRing,
) -> None:
    profile = SigningProfile.parse("sm2")
    impostor = PlatformSigning(
        profile,
        institution_keys=institution_ring,
        private_key=institution_key,
        guard=ReplayGuard(clock=clock),
    )
    client = ClientSigning(profile, private_key=institution_key, platform_keys=platform_ring)
    with pytest.raises(RejectedMessageError, match="not registered"):
        client.open_response(impostor.seal_response(orjson.dumps(response_2207())))


@pytest.mark.parametrize(
    ("text", "kwargs", "missing"),
    [
        ("tif", {"token": TOKEN}, "paasid"),
        ("tif", {"paasid": PAASID}, "token"),
        ("sm2", {"platform_keys": KeyRing()}, "private_key"),
        ("sm2", {"private_key": Sm2PrivateKey.generate()}, "platform_keys"),
    ],
)
def test_the_sdk_side_refuses_a_profile_it_lacks_pieces_for(
    text: str, kwargs: dict[str, object], missing: str
) -> None:
    with pytest.raises(SigningConfigError) as caught:
        ClientSigning(SigningProfile.parse(text), **kwargs)  # type: ignore[arg-type]
    assert caught.value.field == missing


@pytest.mark.parametrize(
    ("text", "kwargs", "missing"),
    [
        ("tif", {}, "paas_tokens"),
        ("sm2", {"private_key": Sm2PrivateKey.generate()}, "institution_keys"),
        ("sm2", {"institution_keys": KeyRing()}, "private_key"),
    ],
)
def test_the_platform_side_refuses_a_profile_it_lacks_pieces_for(
    text: str, kwargs: dict[str, object], missing: str
) -> None:
    with pytest.raises(SigningConfigError) as caught:
        PlatformSigning(SigningProfile.parse(text), **kwargs)  # type: ignore[arg-type]
    assert caught.value.field == missing


def test_verify_if_present_without_signing(
    clock: FakeClock,
    institution_key: Sm2PrivateKey,
    institution_ring: KeyRing,
    platform_key: Sm2PrivateKey,
    platform_ring: KeyRing,
) -> None:
    client = ClientSigning(
        SigningProfile.parse("tif", verify="if-present"),
        paasid=PAASID,
        token=TOKEN,
        platform_keys=platform_ring,
        clock=clock,
    )
    signing_platform = PlatformSigning(
        SigningProfile.parse("tif+sm2", verify="off"),
        paas_tokens={PAASID: TOKEN},
        private_key=platform_key,
        guard=ReplayGuard(clock=clock),
    )
    response = _call(client, MockPlatform(signing_platform), envelope_2207())
    assert client.open_response(response.content) == platform_key.key_id
    assert client.open_response(orjson.dumps(response_2207())) is None


def test_msgid_checking_can_be_left_to_the_caller(clock: FakeClock) -> None:
    platform = PlatformSigning(SigningProfile.parse("none"), check_msgid=False)
    body = orjson.dumps(envelope_2207())
    assert platform.check_request({}, body) == Caller(None, None)
    assert platform.check_request({}, body) == Caller(None, None)

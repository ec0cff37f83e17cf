"""SM2 message signatures in cainfo/signtype: pinned vectors, policies, every bad case."""

from __future__ import annotations

import base64
import logging
from collections.abc import Callable

import orjson
import pytest

from nhsa.signing import (
    KeyEntry,
    KeyRing,
    MessageSigner,
    MessageVerifier,
    Sm2PrivateKey,
    Sm2PublicKey,
    _sm2,
    canonical_bytes,
)
from nhsa.signing.errors import (
    MalformedBodyError,
    MalformedSignatureError,
    MissingSignatureError,
    SigningConfigError,
    TamperedBodyError,
    UnknownKeyIdError,
    UnsupportedSigntypeError,
    WrongKeyError,
)

from .conftest import INSTITUTION, OTHER_INSTITUTION, FakeClock

# Pinned vectors (signing.md §2.5): the GM/T 0003.5 example key signs a fixed 9001 envelope.
VECTOR_BODY = (
    b'{"infno":"9001","msgid":"H53010100001202611231015300001","cainfo":"","signtype":null,'
    b'"fixmedins_code":"H53010100001","input":{"signIn":{"opter_no":"C0001",'
    b'"mac":"00:00:00:00:00:00","ip":"127.0.0.1"}}}'
)
VECTOR_CANONICAL = (
    b'{"infno":"9001","msgid":"H53010100001202611231015300001","cainfo":"","signtype":"SM2",'
    b'"fixmedins_code":"H53010100001","input":{"signIn":{"opter_no":"C0001",'
    b'"mac":"00:00:00:00:00:00","ip":"127.0.0.1"}}}'
)
VECTOR_CANONICAL_SM3 = "fe7d33a7d3c6a9cc5a0c64e703e93af8daa496bd8d1a3cd9aeb85cd95256cc1f"
VECTOR_SIGNED_DIGEST = "692faa122740253cfa95df5e058b14c8cda97e89edac57cf759bba017d2a85e4"
VECTOR_SIGNED_BODY = (
    b'{"infno":"9001","msgid":"H53010100001202611231015300001","cainfo":"d94a2fcb88a63e82:'
    b"MEQCIAOP5Voj7uwo8UnHIkmcTqJDCwB5BILinpb/2iOSNw2MAiAxknWJh20ZaWSP0ZFeZeGrb6g7sOEBwgj5w3DX9VxjPg"
    b'==","signtype":"SM2","fixmedins_code":"H53010100001","input":{"signIn":{"opter_no":"C0001",'
    b'"mac":"00:00:00:00:00:00","ip":"127.0.0.1"}}}'
)


def _recording(calls: list[str]) -> Callable[[str], list[KeyEntry]]:
    """A refresh hook that finds nothing and records what it was asked for."""

    def hook(key_id: str) -> list[KeyEntry]:
        calls.append(key_id)
        return []

    return hook


@pytest.fixture
def vector_ring(vector_key: Sm2PrivateKey) -> KeyRing:
    return KeyRing([KeyEntry(vector_key.public_key, INSTITUTION)])


def test_pinned_canonical_bytes_and_digests(vector_key: Sm2PrivateKey) -> None:
    assert canonical_bytes(VECTOR_BODY) == VECTOR_CANONICAL
    assert canonical_bytes(VECTOR_SIGNED_BODY) == VECTOR_CANONICAL
    assert _sm2.sm3(VECTOR_CANONICAL).hex() == VECTOR_CANONICAL_SM3
    digest = vector_key.public_key.signing_digest(VECTOR_CANONICAL, b"1234567812345678")
    assert digest.hex() == VECTOR_SIGNED_DIGEST


def test_pinned_signature_verifies(vector_ring: KeyRing) -> None:
    verifier = MessageVerifier(vector_ring)
    assert verifier.verify_request(VECTOR_SIGNED_BODY) == "d94a2fcb88a63e82"


def test_signing_edits_only_the_two_values(vector_key: Sm2PrivateKey, vector_ring: KeyRing) -> None:
    signed = MessageSigner(vector_key).sign(VECTOR_BODY)
    prefix, _, rest = signed.partition(b'"cainfo":"d94a2fcb88a63e82:')
    assert prefix == VECTOR_BODY.partition(b'"cainfo"')[0]
    assert rest.partition(b'"')[2] == VECTOR_CANONICAL.partition(b'"cainfo":""')[2]
    assert MessageVerifier(vector_ring).verify_request(signed) == vector_key.key_id


def test_a_signtype_already_sm2_keeps_its_spelling(
    vector_key: Sm2PrivateKey, vector_ring: KeyRing
) -> None:
    body = b'{"cainfo":null,"signtype":"S\\u004d2","fixmedins_code":"H53010100001"}'
    signed = MessageSigner(vector_key).sign(body)
    assert b'"signtype":"S\\u004d2"' in signed
    assert MessageVerifier(vector_ring).verify_request(signed) == vector_key.key_id


def test_a_realistic_2207_envelope_round_trips(
    institution_key: Sm2PrivateKey, institution_ring: KeyRing, request_body: bytes
) -> None:
    signed = MessageSigner(institution_key).sign(request_body)
    document = orjson.loads(signed)
    assert document["signtype"] == "SM2"
    assert document["cainfo"].startswith(institution_key.key_id + ":")
    assert MessageVerifier(institution_ring).verify_request(signed) == institution_key.key_id


def test_a_custom_user_id_must_match_on_both_sides(
    institution_key: Sm2PrivateKey, institution_ring: KeyRing, request_body: bytes
) -> None:
    signed = MessageSigner(institution_key, user_id="H53010100001").sign(request_body)
    verifier = MessageVerifier(institution_ring, user_id="H53010100001")
    assert verifier.verify_request(signed) == institution_key.key_id
    with pytest.raises(TamperedBodyError, match="another key or user id"):
        MessageVerifier(institution_ring).verify_request(signed)


@pytest.mark.parametrize("user_id", ["", "x" * 8192])
def test_user_id_length_is_checked(institution_key: Sm2PrivateKey, user_id: str) -> None:
    with pytest.raises(SigningConfigError) as caught:
        MessageSigner(institution_key, user_id=user_id)
    assert caught.value.field == "user_id"


def test_tampered_body_is_rejected(
    institution_key: Sm2PrivateKey, institution_ring: KeyRing, request_body: bytes
) -> None:
    signed = MessageSigner(institution_key).sign(request_body)
    tampered = signed.replace(b'"medfee_sumamt":120.0', b'"medfee_sumamt":12.0')
    assert tampered != signed
    with pytest.raises(TamperedBodyError) as caught:
        MessageVerifier(institution_ring).verify_request(tampered)
    assert caught.value.wording == "签名不一致"
    assert caught.value.err_msg.startswith("签名不一致: ")


def test_reformatting_a_signed_body_breaks_it(
    institution_key: Sm2PrivateKey, institution_ring: KeyRing, request_body: bytes
) -> None:
    signed = MessageSigner(institution_key).sign(request_body)
    reserialized = orjson.dumps(orjson.loads(signed), option=orjson.OPT_INDENT_2)
    with pytest.raises(TamperedBodyError):
        MessageVerifier(institution_ring).verify_request(reserialized)


def test_signature_by_another_institution_is_the_wrong_key(
    other_institution_key: Sm2PrivateKey, institution_ring: KeyRing, request_body: bytes
) -> None:
    # Institution B signs a message that claims to come from institution A.
    signed = MessageSigner(other_institution_key).sign(request_body)
    with pytest.raises(WrongKeyError) as caught:
        MessageVerifier(institution_ring).verify_request(signed)
    assert OTHER_INSTITUTION in str(caught.value)
    assert INSTITUTION in str(caught.value)
    assert institution_ring.resolve(other_institution_key.key_id).owner == OTHER_INSTITUTION


def test_expected_owner_binds_answers_to_the_platform(
    institution_key: Sm2PrivateKey, institution_ring: KeyRing, response_body: bytes
) -> None:
    signed = MessageSigner(institution_key).sign(response_body)
    verifier = MessageVerifier(institution_ring)
    assert verifier.verify(signed) == institution_key.key_id
    with pytest.raises(WrongKeyError):
        verifier.verify(signed, expect_owner="NHSA")


def test_unknown_key_id_calls_the_hook_once_then_fails(
    institution_key: Sm2PrivateKey, request_body: bytes
) -> None:
    calls: list[str] = []
    ring = KeyRing(refresh=_recording(calls), min_refresh_interval=0)
    signed = MessageSigner(institution_key).sign(request_body)
    with pytest.raises(UnknownKeyIdError, match="refresh added 0 key"):
        MessageVerifier(ring).verify_request(signed)
    assert calls == [institution_key.key_id]


def test_a_rotated_key_is_fetched_by_the_hook_and_verification_succeeds(
    institution_key: Sm2PrivateKey, request_body: bytes
) -> None:
    calls: list[str] = []

    def fetch(key_id: str) -> list[KeyEntry]:
        calls.append(key_id)
        return [KeyEntry(institution_key.public_key, INSTITUTION)]

    ring = KeyRing(refresh=fetch)
    signed = MessageSigner(institution_key).sign(request_body)
    assert MessageVerifier(ring).verify_request(signed) == institution_key.key_id
    assert MessageVerifier(ring).verify_request(signed) == institution_key.key_id
    assert calls == [institution_key.key_id]


def test_refreshes_are_rate_limited(institution_key: Sm2PrivateKey, request_body: bytes) -> None:
    clock = FakeClock()
    calls: list[str] = []
    ring = KeyRing(refresh=_recording(calls), clock=clock)
    signed = MessageSigner(institution_key).sign(request_body)
    verifier = MessageVerifier(ring)
    for _ in range(3):
        with pytest.raises(UnknownKeyIdError):
            verifier.verify_request(signed)
    assert len(calls) == 1
    clock.advance(31)
    with pytest.raises(UnknownKeyIdError):
        verifier.verify_request(signed)
    assert len(calls) == 2


def test_a_failing_hook_is_still_an_unknown_key_id(
    institution_key: Sm2PrivateKey, request_body: bytes
) -> None:
    def broken(key_id: str) -> list[KeyEntry]:
        raise ConnectionError("platform certificate endpoint unreachable")

    ring = KeyRing(refresh=broken)
    signed = MessageSigner(institution_key).sign(request_body)
    with pytest.raises(UnknownKeyIdError, match="refresh failed with ConnectionError"):
        MessageVerifier(ring).verify_request(signed)


def test_one_key_cannot_belong_to_two_owners(institution_key: Sm2PrivateKey) -> None:
    ring = KeyRing([KeyEntry(institution_key.public_key, INSTITUTION)])
    ring.add(institution_key.public_key, INSTITUTION)
    with pytest.raises(Exception, match="already registered") as caught:
        ring.add(institution_key.public_key, OTHER_INSTITUTION)
    assert caught.value.rule == "one-owner-per-key"  # type: ignore[attr-defined]
    ring.remove(institution_key.key_id)
    assert institution_key.key_id not in ring
    assert len(ring) == 0


def _with_cainfo(signed: bytes, cainfo: str) -> bytes:
    document = orjson.loads(signed)
    start = signed.index(b'"cainfo":"') + len(b'"cainfo":')
    end = signed.index(b'"', start + 1) + 1
    assert document["cainfo"] == orjson.loads(signed[start:end])
    return signed[:start] + orjson.dumps(cainfo) + signed[end:]


@pytest.mark.parametrize(
    ("make_cainfo", "rule"),
    [
        (lambda kid, sig: sig, "cainfo-format"),
        (lambda kid, sig: f"{kid.upper()}:{sig}", "cainfo-format"),
        (lambda kid, sig: f"{kid[:8]}:{sig}", "cainfo-format"),
        (lambda kid, sig: f"{kid}:{sig}=", "base64"),
        (lambda kid, sig: f"{kid}:{sig[:-4]}!!!!", "base64"),
        (lambda kid, sig: f"{kid}:{sig[:-3]}R==", "base64"),  # unused low bits set
        (lambda kid, sig: f"{kid}:{base64.b64encode(b'0' * 7).decode()}", "der-sm2-signature"),
        (lambda kid, sig: f"{kid}:{base64.b64encode(bytes(80)).decode()}", "der-sm2-signature"),
        (lambda kid, sig: f"{kid}:{base64.b64encode(b'x' * 70).decode()}", "der-sm2-signature"),
        (
            lambda kid, sig: (
                f"{kid}:{base64.b64encode(bytes.fromhex('3006020100020101')).decode()}"
            ),
            "der-sm2-signature",
        ),
        (
            lambda kid, sig: (
                f"{kid}:{base64.b64encode(bytes.fromhex('300702020001020101')).decode()}"
            ),
            "der-sm2-signature",
        ),
    ],
)
def test_malformed_signatures_are_named(
    institution_key: Sm2PrivateKey,
    institution_ring: KeyRing,
    request_body: bytes,
    make_cainfo: Callable[[str, str], str],
    rule: str,
) -> None:
    signed = MessageSigner(institution_key).sign(request_body)
    key_id, _, signature = orjson.loads(signed)["cainfo"].partition(":")
    broken = _with_cainfo(signed, make_cainfo(key_id, signature))
    with pytest.raises(MalformedSignatureError) as caught:
        MessageVerifier(institution_ring).verify_request(broken)
    assert caught.value.rule == rule
    assert caught.value.field == "cainfo"


def test_a_signature_with_trailing_garbage_is_malformed(
    institution_key: Sm2PrivateKey, institution_ring: KeyRing, request_body: bytes
) -> None:
    signed = MessageSigner(institution_key).sign(request_body)
    key_id, _, signature = orjson.loads(signed)["cainfo"].partition(":")
    padded = base64.b64encode(base64.b64decode(signature) + b"\x00").decode()
    with pytest.raises(MalformedSignatureError, match="cainfo signature: "):
        MessageVerifier(institution_ring).verify_request(_with_cainfo(signed, f"{key_id}:{padded}"))


@pytest.mark.parametrize(
    ("cainfo", "signtype", "error", "field"),
    [
        ('""', "null", MissingSignatureError, "signtype"),
        ("null", '""', MissingSignatureError, "signtype"),
        ('""', '"SM2"', MissingSignatureError, "cainfo"),
        ('"x:y"', '"MOCK"', UnsupportedSigntypeError, "signtype"),
        ('""', '"RSA"', UnsupportedSigntypeError, "signtype"),
    ],
)
def test_unsigned_bodies_under_require(
    institution_ring: KeyRing, cainfo: str, signtype: str, error: type[Exception], field: str
) -> None:
    body = f'{{"fixmedins_code":"H53010100001","cainfo":{cainfo},"signtype":{signtype}}}'.encode()
    with pytest.raises(error) as caught:
        MessageVerifier(institution_ring).verify_request(body)
    assert caught.value.field == field  # type: ignore[attr-defined]


def test_if_present_accepts_unsigned_but_checks_signed(
    institution_key: Sm2PrivateKey, institution_ring: KeyRing, request_body: bytes
) -> None:
    verifier = MessageVerifier(institution_ring, policy="if-present")
    assert verifier.verify_request(request_body) is None
    signed = MessageSigner(institution_key).sign(request_body)
    assert verifier.verify_request(signed) == institution_key.key_id
    with pytest.raises(TamperedBodyError):
        verifier.verify_request(signed.replace(b"120.0", b"121.0", 1))
    with pytest.raises(MissingSignatureError):
        verifier.verify_request(_with_cainfo(signed, ""))


def test_policy_off_looks_at_nothing(institution_ring: KeyRing) -> None:
    verifier = MessageVerifier(institution_ring, policy="off")
    assert verifier.verify(b"") is None
    assert verifier.verify_request(b"not json") is None


def test_verify_request_needs_a_fixmedins_code(
    institution_key: Sm2PrivateKey, institution_ring: KeyRing
) -> None:
    signed = MessageSigner(institution_key).sign(b'{"cainfo":"","signtype":null}')
    with pytest.raises(MalformedBodyError) as caught:
        MessageVerifier(institution_ring).verify_request(signed)
    assert caught.value.field == "fixmedins_code"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (b'{"cainfo":"already","signtype":null}', "cainfo"),
        (b'{"cainfo":"","signtype":"MOCK"}', "signtype"),
    ],
)
def test_signer_refuses_bodies_whose_values_it_would_overwrite(
    institution_key: Sm2PrivateKey, body: bytes, field: str
) -> None:
    with pytest.raises(MalformedBodyError) as caught:
        MessageSigner(institution_key).sign(body)
    assert (caught.value.field, caught.value.rule) == (field, "empty-before-signing")


def test_a_public_key_that_verifies_a_signature_made_with_another_id(
    vector_key: Sm2PrivateKey,
) -> None:
    public = Sm2PublicKey.from_point(vector_key.public_key.to_point())
    signature = vector_key.sign(b"m", b"ALICE123@YAHOO.COM")
    assert public.verify(signature, b"m", b"ALICE123@YAHOO.COM")
    assert not public.verify(signature, b"m", b"1234567812345678")
    assert not public.verify(signature, b"n", b"ALICE123@YAHOO.COM")


def test_a_failed_verification_logs_the_canonical_digest_at_debug(
    institution_key: Sm2PrivateKey,
    institution_ring: KeyRing,
    request_body: bytes,
    caplog: pytest.LogCaptureFixture,
) -> None:
    signed = MessageSigner(institution_key).sign(request_body)
    tampered = signed.replace(b"120.0", b"121.0", 1)
    with caplog.at_level(logging.DEBUG, logger="nhsa"), pytest.raises(TamperedBodyError):
        MessageVerifier(institution_ring).verify_request(tampered)
    expected = _sm2.sm3(canonical_bytes(tampered)).hex()
    assert any(expected in record.getMessage() for record in caplog.records)

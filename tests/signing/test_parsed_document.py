"""Signing and verifying with an already-parsed document: same results, no forged body through."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from nhsa.signing import MessageSigner, MessageVerifier, PlatformSigning, SigningProfile
from nhsa.signing._canonical import locate, unsigned_tail_start
from nhsa.signing._keyring import KeyRing
from nhsa.signing._keys import Sm2PrivateKey
from nhsa.signing.errors import (
    MalformedBodyError,
    MissingSignatureError,
    ReplayedMsgidError,
    TamperedBodyError,
    WrongKeyError,
)

from .conftest import INSTITUTION, OTHER_INSTITUTION


@pytest.fixture
def signer(institution_key: Sm2PrivateKey) -> MessageSigner:
    return MessageSigner(institution_key)


@pytest.fixture
def verifier(institution_ring: KeyRing) -> MessageVerifier:
    return MessageVerifier(institution_ring)


def _replace_once(body: bytes, old: bytes, new: bytes) -> bytes:
    assert body.count(old) == 1
    return body.replace(old, new)


@pytest.mark.parametrize(
    "body",
    [
        b'{"cainfo":null,"signtype":""}',
        b'{ "cainfo" : "" , "signtype" : "SM2" }',
        b'{"output":{"cainfo":"inner"},"cainfo":"","signtype":null}',
        b'{"c\\u0061info":"","signtype":null,"x":"\\u4e2d"}',
    ],
)
def test_a_passed_document_gives_the_same_spans_as_parsing(body: bytes) -> None:
    assert locate(body, document=orjson.loads(body)) == locate(body)


def test_signing_with_the_document_gives_bytes_that_verify_like_before(
    signer: MessageSigner, verifier: MessageVerifier, request_body: bytes
) -> None:
    document = orjson.loads(request_body)
    signed = signer.sign(request_body, document=document)
    assert _without_signature(signed) == _without_signature(signer.sign(request_body))
    assert verifier.verify_request(signed, document=orjson.loads(signed)) == signer.key_id
    assert verifier.verify_request(signed) == signer.key_id


def test_the_mapping_a_body_was_encoded_from_counts_as_its_document(
    signer: MessageSigner, verifier: MessageVerifier
) -> None:
    envelope: dict[str, Any] = {"fixmedins_code": INSTITUTION, "cainfo": "", "signtype": ""}
    signed = signer.sign(orjson.dumps(envelope), document=envelope)
    assert verifier.verify_request(signed) == signer.key_id


def test_bytes_changed_after_signing_fail_even_with_the_original_document(
    signer: MessageSigner, verifier: MessageVerifier, request_body: bytes
) -> None:
    signed = signer.sign(request_body)
    document = orjson.loads(signed)  # the document of what was signed ...
    forged = _replace_once(signed, b'"medfee_sumamt":', b'"medfee_sumamt":1')  # ... not sent
    with pytest.raises(TamperedBodyError):
        verifier.verify_request(forged, document=document)


def test_a_document_with_another_cainfo_is_refused(
    signer: MessageSigner, verifier: MessageVerifier, request_body: bytes
) -> None:
    signed = signer.sign(request_body)
    other = orjson.loads(signer.sign(request_body))  # a valid signature, but not in the bytes
    with pytest.raises(MalformedBodyError) as caught:
        verifier.verify_request(signed, document=other)
    assert (caught.value.field, caught.value.rule) == ("cainfo", "document-matches-body")


def test_a_document_claiming_unsigned_cannot_skip_the_check_of_signed_bytes(
    institution_ring: KeyRing, signer: MessageSigner, request_body: bytes
) -> None:
    # Under "if-present" an unsigned message is accepted unchecked; the bytes are signed (with
    # a broken signature), so a document saying "unsigned" must not let them through.
    signed = signer.sign(request_body)
    broken = _replace_once(signed, b'"fixmedins_code":', b'"fixmedins_code": ')
    document = orjson.loads(broken) | {"cainfo": "", "signtype": ""}
    lenient = MessageVerifier(institution_ring, policy="if-present")
    with pytest.raises(MalformedBodyError) as caught:
        lenient.verify_request(broken, document=document)
    assert caught.value.rule == "document-matches-body"
    with pytest.raises(TamperedBodyError):
        lenient.verify_request(broken, document=orjson.loads(broken))


@pytest.mark.parametrize(
    ("body", "document", "field"),
    [
        (b'{"cainfo":"","signtype":null}', {"cainfo": None, "signtype": None}, "cainfo"),
        (b'{"cainfo":"","signtype":"SM2"}', {"cainfo": "", "signtype": "sm2"}, "signtype"),
        (b'{"cainfo":"a\\u0062","signtype":null}', {"cainfo": "ac", "signtype": None}, "cainfo"),
        (b'{"cainfo":1,"signtype":null}', {"cainfo": "", "signtype": None}, "cainfo"),
        (b"", {"cainfo": "", "signtype": None}, "cainfo"),
        (b'{"cainfo":"\xff","signtype":null}', {"cainfo": "x", "signtype": None}, "cainfo"),
    ],
)
def test_a_document_that_disagrees_with_the_bytes_is_named(
    body: bytes, document: dict[str, Any], field: str
) -> None:
    with pytest.raises(MalformedBodyError) as caught:
        locate(body, document=document)
    assert (caught.value.field, caught.value.rule) == (field, "document-matches-body")
    assert "document parsed from exactly these bytes" in str(caught.value)


@pytest.mark.parametrize(
    ("document", "field", "rule"),
    [
        ([], "body", "object"),
        ({"signtype": None}, "cainfo", "required"),
        ({"cainfo": 1, "signtype": None}, "cainfo", "string-or-null"),
    ],
)
def test_the_documents_own_shape_is_checked_with_the_usual_rules(
    document: Any, field: str, rule: str
) -> None:
    with pytest.raises(MalformedBodyError) as caught:
        locate(b'{"cainfo":"","signtype":null}', document=document)
    assert (caught.value.field, caught.value.rule) == (field, rule)


def test_a_document_hiding_that_the_member_is_nested_still_lets_no_changed_byte_through(
    institution_key: Sm2PrivateKey, signer: MessageSigner
) -> None:
    # Decided: with one plain "cainfo" key in the bytes, the byte checks take the document's
    # word that it is top-level (proving depth costs a full tokenizing scan). A document that
    # lies about it can only move where the signature sits; every other byte stays covered.
    body = b'{"fixmedins_code":"H53010100001","input":{"cainfo":""},"signtype":null}'
    lie: dict[str, Any] = {"fixmedins_code": INSTITUTION, "cainfo": "", "signtype": None}
    signed = signer.sign(body, document=lie)
    assert orjson.loads(signed)["input"]["cainfo"].startswith(signer.key_id)
    ring = KeyRing()
    ring.add(institution_key.public_key, INSTITUTION)
    verifier = MessageVerifier(ring)
    with pytest.raises(MalformedBodyError) as caught:
        verifier.verify_request(signed)  # anyone who parses the bytes sees no top-level cainfo
    assert (caught.value.field, caught.value.rule) == ("cainfo", "required")
    claimed = orjson.loads(signed) | {"cainfo": orjson.loads(signed)["input"]["cainfo"]}
    claimed["signtype"] = "SM2"
    assert verifier.verify_request(signed, document=claimed) == signer.key_id
    changed = _replace_once(signed, b"H53010100001", b"H53010100002")
    with pytest.raises(TamperedBodyError):
        verifier.verify_request(changed, document=claimed)


def test_duplicates_in_the_bytes_are_refused_whatever_the_document_says() -> None:
    body = b'{"cainfo":"","signtype":null,"c\\u0061info":""}'
    with pytest.raises(MalformedBodyError) as caught:
        locate(body, document={"cainfo": "", "signtype": None})
    assert caught.value.rule == "unique"


def test_signing_checks_the_bytes_not_only_the_document(signer: MessageSigner) -> None:
    body = b'{"cainfo":"kept","signtype":null}'
    with pytest.raises(MalformedBodyError) as caught:
        signer.sign(body, document={"cainfo": "", "signtype": None})
    assert caught.value.rule == "document-matches-body"


def test_verify_request_reads_the_owner_from_the_document(
    signer: MessageSigner, verifier: MessageVerifier, request_body: bytes
) -> None:
    signed = signer.sign(request_body)
    document = orjson.loads(signed) | {"fixmedins_code": OTHER_INSTITUTION}
    with pytest.raises(WrongKeyError):
        verifier.verify_request(signed, document=document)


def test_the_platform_parses_once_and_keeps_every_check(
    institution_ring: KeyRing,
    platform_key: Sm2PrivateKey,
    signer: MessageSigner,
    request_body: bytes,
) -> None:
    platform = PlatformSigning(
        SigningProfile.parse("sm2"), institution_keys=institution_ring, private_key=platform_key
    )
    signed = signer.sign(request_body)
    caller = platform.check_request({}, signed)
    assert (caller.key_id, caller.fixmedins_code) == (signer.key_id, INSTITUTION)
    assert caller.msgid == orjson.loads(signed)["msgid"]
    with pytest.raises(ReplayedMsgidError):
        platform.check_request({}, signed)
    with pytest.raises(MissingSignatureError):
        platform.check_request({}, request_body)


@pytest.mark.parametrize(
    "envelope",
    [
        {"infcode": 0, "output": {"setlinfo": {"cainfo": "x"}}, "cainfo": "", "signtype": ""},
        {"infcode": -1, "err_msg": '未签到 "cainfo"', "cainfo": "", "signtype": ""},
        {"infcode": 0, "output": None, "cainfo": "", "signtype": ""},
    ],
)
def test_an_envelope_ending_in_blank_members_is_signed_like_any_body(
    signer: MessageSigner, verifier: MessageVerifier, envelope: dict[str, Any]
) -> None:
    body = orjson.dumps(envelope)
    signed = signer.sign(body, document=envelope)
    assert _without_signature(signed) == _without_signature(signer.sign(body))
    assert verifier.verify(signed) == signer.key_id


@pytest.mark.parametrize(
    ("body", "start"),
    [
        (b'{"infcode":0,"cainfo":"","signtype":""}', 22),
        (b'{"output":{"note":"\\"cainfo\\""},"cainfo":"","signtype":""}', 41),
        (b'{"output":{"cainfo":""},"cainfo":"","signtype":""}', None),
        (b'{"cainfo":"x","cainfo":"","signtype":""}', None),
        (b'{"c\\u0061info":"x","cainfo":"","signtype":""}', None),
        (b'{"a":{"b":1,"cainfo":"","signtype":""}}', None),
        (b'{"cainfo":"","signtype":""}', None),
        (b'{"infcode":0,"cainfo":"","signtype":"" }', None),
        (b'{"infcode":0,"cainfo":null,"signtype":""}', None),
    ],
)
def test_the_blank_tail_is_used_only_where_it_is_provably_the_top_level_pair(
    body: bytes, start: int | None
) -> None:
    assert unsigned_tail_start(body) == start
    if start is not None:
        assert locate(body).spans["cainfo"][0] == start


def test_a_tail_the_document_does_not_vouch_for_takes_the_checked_path(
    signer: MessageSigner,
) -> None:
    body = b'{"infcode":0,"cainfo":"","signtype":""}'
    with pytest.raises(MalformedBodyError) as caught:
        signer.sign(body, document={"infcode": 0, "cainfo": "", "signtype": "SM2"})
    assert (caught.value.field, caught.value.rule) == ("signtype", "document-matches-body")
    with pytest.raises(MalformedBodyError) as caught:
        signer.sign(body, document=[])
    assert caught.value.rule == "object"


def _without_signature(signed: bytes) -> bytes:
    # SM2 signatures are randomized: two signings agree on everything but cainfo's value.
    start, end = locate(signed).spans["cainfo"]
    return signed[:start] + signed[end:]

"""Interop: our SM2 (tongsuopy) against two independent implementations, both directions.

The second implementations are gmalg (pure Python, CSPRNG nonces; a dev dependency) and the
system OpenSSL 3 command line, which needs the distinguishing id passed explicitly.
"""

from __future__ import annotations

import base64
import shutil
import subprocess
from pathlib import Path

import gmalg
import orjson
import pytest
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)

from nhsa.signing import (
    KeyEntry,
    KeyRing,
    MessageSigner,
    MessageVerifier,
    Sm2PrivateKey,
    Sm2PublicKey,
    canonical_bytes,
)

from .conftest import INSTITUTION

USER_IDS = [b"1234567812345678", b"ALICE123@YAHOO.COM"]
OPENSSL = shutil.which("openssl")
needs_openssl = pytest.mark.skipif(
    OPENSSL is None, reason="the openssl command line is not installed on this machine"
)


def _gmalg(key: Sm2PrivateKey, user_id: bytes) -> gmalg.SM2:
    return gmalg.SM2(sk=key.scalar().to_bytes(32, "big"), uid=user_id, pk=key.public_key.to_point())


@pytest.mark.parametrize("user_id", USER_IDS)
def test_our_signature_verifies_with_gmalg(
    institution_key: Sm2PrivateKey, request_body: bytes, user_id: bytes
) -> None:
    signature = institution_key.sign(request_body, user_id)
    r, s = decode_dss_signature(signature)
    verifier = gmalg.SM2(uid=user_id, pk=institution_key.public_key.to_point())
    assert verifier.verify(request_body, r.to_bytes(32, "big"), s.to_bytes(32, "big"))
    assert not verifier.verify(request_body + b" ", r.to_bytes(32, "big"), s.to_bytes(32, "big"))


@pytest.mark.parametrize("user_id", USER_IDS)
def test_gmalg_signature_verifies_with_ours(
    institution_key: Sm2PrivateKey, request_body: bytes, user_id: bytes
) -> None:
    r, s = _gmalg(institution_key, user_id).sign(request_body)
    signature = encode_dss_signature(int.from_bytes(r, "big"), int.from_bytes(s, "big"))
    assert institution_key.public_key.verify(signature, request_body, user_id)
    assert not institution_key.public_key.verify(signature, request_body[:-1], user_id)


def test_a_gmalg_key_pair_works_as_an_institution_key(request_body: bytes) -> None:
    secret, point = gmalg.SM2().generate_keypair()
    public = Sm2PublicKey.from_point(point)
    signer = gmalg.SM2(sk=secret, uid=b"1234567812345678", pk=point)
    key_id = public.key_id
    cainfo_template = f'"{key_id}:'.encode()
    # gmalg signs the canonical bytes; we assemble cainfo by the documented format.
    unsigned = request_body.replace(b'"signtype":null', b'"signtype":"SM2"')
    r, s = signer.sign(canonical_bytes(unsigned))
    der = encode_dss_signature(int.from_bytes(r, "big"), int.from_bytes(s, "big"))
    signed = unsigned.replace(
        b'"cainfo":""', b'"cainfo":' + cainfo_template + base64.b64encode(der) + b'"'
    )
    ring = KeyRing([KeyEntry(public, INSTITUTION)])
    assert MessageVerifier(ring).verify_request(signed) == key_id


def _openssl(*args: str) -> subprocess.CompletedProcess[bytes]:
    assert OPENSSL is not None
    return subprocess.run([OPENSSL, *args], capture_output=True, check=False, timeout=30)


@needs_openssl
@pytest.mark.parametrize("user_id", USER_IDS)
def test_our_signature_verifies_with_the_openssl_cli(
    tmp_path: Path, institution_key: Sm2PrivateKey, request_body: bytes, user_id: bytes
) -> None:
    signed = MessageSigner(institution_key, user_id=user_id.decode()).sign(request_body)
    message = canonical_bytes(signed)
    signature = base64.b64decode(orjson.loads(signed)["cainfo"].partition(":")[2])
    (tmp_path / "pub.pem").write_bytes(institution_key.public_key.to_pem())
    (tmp_path / "msg").write_bytes(message)
    (tmp_path / "sig").write_bytes(signature)
    (tmp_path / "bad").write_bytes(message + b" ")

    def verify(message_file: str) -> subprocess.CompletedProcess[bytes]:
        return _openssl(
            "pkeyutl",
            "-verify",
            "-pubin",
            "-inkey",
            str(tmp_path / "pub.pem"),
            "-rawin",
            "-digest",
            "sm3",
            "-pkeyopt",
            f"distid:{user_id.decode()}",
            "-in",
            str(tmp_path / message_file),
            "-sigfile",
            str(tmp_path / "sig"),
        )

    good = verify("msg")
    assert good.returncode == 0, good.stderr
    assert b"Signature Verified Successfully" in good.stdout
    assert verify("bad").returncode != 0


@needs_openssl
@pytest.mark.parametrize("user_id", USER_IDS)
def test_openssl_cli_signature_verifies_with_ours(
    tmp_path: Path, institution_key: Sm2PrivateKey, request_body: bytes, user_id: bytes
) -> None:
    (tmp_path / "key.pem").write_bytes(institution_key.to_pem())
    (tmp_path / "msg").write_bytes(request_body)
    made = _openssl(
        "pkeyutl",
        "-sign",
        "-inkey",
        str(tmp_path / "key.pem"),
        "-rawin",
        "-digest",
        "sm3",
        "-pkeyopt",
        f"distid:{user_id.decode()}",
        "-in",
        str(tmp_path / "msg"),
        "-out",
        str(tmp_path / "sig"),
    )
    assert made.returncode == 0, made.stderr
    signature = (tmp_path / "sig").read_bytes()
    assert institution_key.public_key.verify(signature, request_body, user_id)
    other = USER_IDS[1] if user_id == USER_IDS[0] else USER_IDS[0]
    assert not institution_key.public_key.verify(signature, request_body, other)


@needs_openssl
def test_keys_written_by_openssl_load_and_keys_we_write_load_in_openssl(tmp_path: Path) -> None:
    made = _openssl(
        "genpkey",
        "-algorithm",
        "EC",
        "-pkeyopt",
        "ec_paramgen_curve:SM2",
        "-out",
        str(tmp_path / "openssl.pem"),
    )
    assert made.returncode == 0, made.stderr
    key = Sm2PrivateKey.from_file(tmp_path / "openssl.pem")
    public = _openssl("pkey", "-in", str(tmp_path / "openssl.pem"), "-pubout")
    assert Sm2PublicKey.from_pem(public.stdout) == key.public_key

    ours = Sm2PrivateKey.generate()
    (tmp_path / "ours.pem").write_bytes(ours.to_pem(passphrase="pw"))
    exported = _openssl("pkey", "-in", str(tmp_path / "ours.pem"), "-passin", "pass:pw", "-pubout")
    assert exported.returncode == 0, exported.stderr
    assert Sm2PublicKey.from_pem(exported.stdout) == ours.public_key

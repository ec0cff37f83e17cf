"""SM2 keys: generation, PEM round trips, loading sources, bad input, no leaked material."""

from __future__ import annotations

import logging
import os
import pickle
import re
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from nhsa.signing import Sm2PrivateKey, Sm2PublicKey, _sm2, key_id_of
from nhsa.signing.errors import (
    KeyMaterialError,
    KeySourceError,
    MalformedPemError,
    PassphraseError,
    WrongCurveError,
)

from .conftest import VECTOR_SCALAR

# Pinned: the key id of the GM/T 0003.5 example key. A change here breaks every registered key.
VECTOR_KEY_ID = "d94a2fcb88a63e82"
VECTOR_PUBLIC_PEM = (
    "-----BEGIN PUBLIC KEY-----\n"
    "MFkwEwYHKoZIzj0CAQYIKoEcz1UBgi0DQgAECfnfMR5UIaFQ3X0WHkvFxnIXn60Y\n"
    "M/wHa7CP81bzUCDM6kkM4md1pS3G6nGMwapgCu0F+/NeCEpmMvYHLamtEw==\n"
    "-----END PUBLIC KEY-----\n"
)


def test_the_key_id_of_a_fixed_key_is_pinned(vector_key: Sm2PrivateKey) -> None:
    assert vector_key.key_id == VECTOR_KEY_ID
    assert vector_key.public_key.to_pem().decode() == VECTOR_PUBLIC_PEM
    assert Sm2PublicKey.from_pem(VECTOR_PUBLIC_PEM).key_id == VECTOR_KEY_ID


def test_key_id_is_sixteen_hex_digits_of_sm3_over_the_spki() -> None:
    der = bytes.fromhex("3059301306072a8648ce3d020106082a811ccf5501822d03420004") + bytes(64)
    assert key_id_of(der) == _sm2.sm3(der)[:8].hex()
    assert re.fullmatch(r"[0-9a-f]{16}", key_id_of(der))


def test_generated_keys_differ_and_sign_verifiably() -> None:
    first, second = Sm2PrivateKey.generate(), Sm2PrivateKey.generate()
    assert first.key_id != second.key_id
    signature = first.sign(b"msg", b"1234567812345678")
    assert first.public_key.verify(signature, b"msg", b"1234567812345678")
    assert not second.public_key.verify(signature, b"msg", b"1234567812345678")


def test_plain_pem_round_trip(vector_key: Sm2PrivateKey) -> None:
    pem = vector_key.to_pem()
    assert pem.startswith(b"-----BEGIN PRIVATE KEY-----")
    assert Sm2PrivateKey.from_pem(pem).scalar() == VECTOR_SCALAR
    assert Sm2PrivateKey.from_pem(pem.decode()).key_id == VECTOR_KEY_ID


def test_encrypted_pem_round_trip_with_str_or_bytes_passphrase(vector_key: Sm2PrivateKey) -> None:
    pem = vector_key.to_pem(passphrase="correct horse")
    assert pem.startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----")
    assert Sm2PrivateKey.from_pem(pem, "correct horse").scalar() == VECTOR_SCALAR
    assert Sm2PrivateKey.from_pem(pem, b"correct horse").key_id == VECTOR_KEY_ID


@pytest.mark.parametrize(
    ("passphrase_on_save", "passphrase_on_load", "rule"),
    [
        ("secret", None, "passphrase-required"),
        ("secret", "wrong", "passphrase-wrong"),
        (None, "unexpected", "passphrase-unexpected"),
    ],
)
def test_passphrase_mistakes_are_named(
    vector_key: Sm2PrivateKey,
    passphrase_on_save: str | None,
    passphrase_on_load: str | None,
    rule: str,
) -> None:
    pem = vector_key.to_pem(passphrase=passphrase_on_save)
    with pytest.raises(PassphraseError) as caught:
        Sm2PrivateKey.from_pem(pem, passphrase_on_load)
    assert caught.value.rule == rule
    assert caught.value.field == "bytes"


def _other_key_pems() -> list[tuple[str, bytes, bytes]]:
    keys: dict[str, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey]
    keys = {
        "P-256": ec.generate_private_key(ec.SECP256R1()),
        "RSA": rsa.generate_private_key(public_exponent=65537, key_size=2048),
        "Ed25519": ed25519.Ed25519PrivateKey.generate(),
    }
    return [
        (
            name,
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            ),
            key.public_key().public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            ),
        )
        for name, key in keys.items()
    ]


@pytest.mark.parametrize(("name", "private_pem", "public_pem"), _other_key_pems())
def test_keys_of_other_curves_and_types_are_wrong_curve(
    name: str, private_pem: bytes, public_pem: bytes
) -> None:
    with pytest.raises(WrongCurveError, match="not an SM2 key") as private_error:
        Sm2PrivateKey.from_pem(private_pem)
    with pytest.raises(WrongCurveError, match="not an SM2 key") as public_error:
        Sm2PublicKey.from_pem(public_pem)
    assert private_error.value.rule == public_error.value.rule == "sm2-curve"


@pytest.mark.parametrize(
    ("data", "rule"),
    [
        (b"", "pem"),
        (b"   \n", "pem"),
        (b"this is not a key", "pem"),
        ("-----BEGIN PRIVATE KEY-----\n密钥\n-----END PRIVATE KEY-----\n", "pem"),
        (b"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n", "pem-label"),
        (b"-----BEGIN PUBLIC KEY-----\nMFkw\n-----END PUBLIC KEY-----\n", "pem-label"),
        (b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", "pem"),
    ],
)
def test_malformed_private_pem_is_named(data: bytes | str, rule: str) -> None:
    with pytest.raises(MalformedPemError) as caught:
        Sm2PrivateKey.from_pem(data)
    assert caught.value.rule == rule


def test_truncated_pem_and_private_given_as_public_are_malformed(vector_key: Sm2PrivateKey) -> None:
    pem = vector_key.to_pem()
    lines = pem.splitlines(keepends=True)
    truncated = lines[0] + lines[1] + lines[-1]
    with pytest.raises(MalformedPemError, match="corrupt or truncated"):
        Sm2PrivateKey.from_pem(truncated)
    with pytest.raises(MalformedPemError, match="found a PRIVATE KEY block, expected PUBLIC KEY"):
        Sm2PublicKey.from_pem(pem)


def test_public_key_from_point_round_trips_and_rejects_points_off_the_curve(
    vector_key: Sm2PrivateKey,
) -> None:
    point = vector_key.public_key.to_point()
    assert Sm2PublicKey.from_point(point) == vector_key.public_key
    off_curve = point[:-1] + bytes([point[-1] ^ 1])
    with pytest.raises(MalformedPemError, match="not an uncompressed point on the SM2 curve"):
        Sm2PublicKey.from_point(off_curve)


def test_scalar_outside_the_group_is_rejected() -> None:
    with pytest.raises(WrongCurveError):
        Sm2PrivateKey.from_scalar(0)
    with pytest.raises(WrongCurveError):
        Sm2PrivateKey.from_scalar(_sm2.CURVE_N - 1)


def test_load_from_file_and_warn_when_others_can_read_it(
    tmp_path: Path, vector_key: Sm2PrivateKey, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "key.pem"
    path.write_bytes(vector_key.to_pem("pw"))
    path.chmod(0o600)
    with caplog.at_level(logging.WARNING, logger="nhsa"):
        assert Sm2PrivateKey.from_file(path, "pw").key_id == VECTOR_KEY_ID
    assert caplog.records == []
    path.chmod(0o644)
    with caplog.at_level(logging.WARNING, logger="nhsa"):
        Sm2PrivateKey.from_file(path, "pw")
    assert "accessible by group or others (mode 644)" in caplog.text
    public = tmp_path / "key.pub.pem"
    public.write_bytes(vector_key.public_key.to_pem())
    assert Sm2PublicKey.from_file(public).key_id == VECTOR_KEY_ID


def test_missing_file_is_a_key_source_error_naming_the_path(tmp_path: Path) -> None:
    missing = tmp_path / "nope.pem"
    with pytest.raises(KeySourceError, match=r"nope\.pem: cannot read it") as caught:
        Sm2PrivateKey.from_file(missing)
    assert caught.value.field == os.fspath(missing)
    with pytest.raises(KeySourceError):
        Sm2PublicKey.from_file(missing)


def test_load_from_environment_including_flattened_newlines(vector_key: Sm2PrivateKey) -> None:
    flattened = vector_key.to_pem("pw").decode().replace("\n", "\\n")
    environ = {"NHSA_KEY": flattened, "NHSA_PUB": vector_key.public_key.to_pem().decode()}
    assert Sm2PrivateKey.from_env("NHSA_KEY", "pw", environ=environ).key_id == VECTOR_KEY_ID
    assert Sm2PublicKey.from_env("NHSA_PUB", environ=environ).key_id == VECTOR_KEY_ID


def test_load_from_the_process_environment(
    vector_key: Sm2PrivateKey, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NHSA_TEST_KEY", vector_key.to_pem().decode())
    assert Sm2PrivateKey.from_env("NHSA_TEST_KEY").key_id == VECTOR_KEY_ID


@pytest.mark.parametrize("environ", [{}, {"NHSA_KEY": ""}, {"NHSA_KEY": "  "}])
def test_unset_or_empty_environment_variable_is_named(environ: dict[str, str]) -> None:
    with pytest.raises(KeySourceError, match="environment variable NHSA_KEY is not set or empty"):
        Sm2PrivateKey.from_env("NHSA_KEY", environ=environ)


def test_errors_from_an_env_source_name_the_variable_not_the_value(
    vector_key: Sm2PrivateKey,
) -> None:
    environ = {"NHSA_KEY": vector_key.to_pem("pw").decode()}
    with pytest.raises(PassphraseError) as caught:
        Sm2PrivateKey.from_env("NHSA_KEY", "wrong", environ=environ)
    assert "environment variable NHSA_KEY" in str(caught.value)
    assert caught.value.__cause__ is None
    assert caught.value.__suppress_context__


def _material_of(key: Sm2PrivateKey) -> list[str]:
    """Every spelling of the private key a careless log line could contain."""
    pem = key.to_pem().decode()
    body_lines = [line for line in pem.splitlines() if line and not line.startswith("-----")]
    scalar = key.scalar()
    return [*body_lines, f"{scalar:x}", f"{scalar:X}", str(scalar), f"{scalar:064x}"]


def test_repr_str_and_logs_never_contain_key_material(
    vector_key: Sm2PrivateKey, caplog: pytest.LogCaptureFixture
) -> None:
    shown = [repr(vector_key), str(vector_key), f"{vector_key}", repr(vector_key.public_key)]
    with caplog.at_level(logging.DEBUG, logger="nhsa"):
        logging.getLogger("nhsa.test").debug("loaded %s and %r", vector_key, vector_key)
    shown.append(caplog.text)
    for text in shown:
        for material in _material_of(vector_key):
            assert material not in text
    assert repr(vector_key) == f"Sm2PrivateKey(key_id='{VECTOR_KEY_ID}')"


def test_key_errors_never_contain_key_material(vector_key: Sm2PrivateKey) -> None:
    encrypted = vector_key.to_pem("pw")
    plain = vector_key.to_pem()
    failures: list[KeyMaterialError] = []
    for attempt in (
        lambda: Sm2PrivateKey.from_pem(encrypted, "wrong"),
        lambda: Sm2PrivateKey.from_pem(encrypted),
        lambda: Sm2PrivateKey.from_pem(plain, "pw"),
        lambda: Sm2PrivateKey.from_pem(plain[:120] + plain[-26:]),
        lambda: Sm2PublicKey.from_pem(plain),
    ):
        with pytest.raises(KeyMaterialError) as caught:
            attempt()
        failures.append(caught.value)
    for failure in failures:
        text = f"{failure} {failure!r} {failure.err_msg}"
        for material in _material_of(vector_key):
            assert material not in text


def test_private_keys_refuse_to_be_pickled(vector_key: Sm2PrivateKey) -> None:
    with pytest.raises(TypeError, match="cannot be pickled"):
        pickle.dumps(vector_key)


def test_public_keys_compare_by_key_id(vector_key: Sm2PrivateKey) -> None:
    again = Sm2PublicKey.from_pem(vector_key.public_key.to_pem())
    assert again == vector_key.public_key
    assert hash(again) == hash(vector_key.public_key)
    assert again != Sm2PrivateKey.generate().public_key
    assert again != "d94a2fcb88a63e82"

"""SM2 with SM3 (GM/T 0003, GM/T 0004) behind a small interface of ours.

The engine is tongsuopy (BabaSSL): about forty times faster than any pure-Python SM2 and it
draws signature nonces from OpenSSL's CSPRNG. Everything tongsuopy-specific stays in this
module, so swapping the engine touches nothing else.

tongsuopy's public API always hashes with the default distinguishing id ``1234567812345678``.
For any other id we compute ``e = SM3(Z_A || M)`` ourselves (GM/T 0003.2 §5.5, §6.1) and
sign or verify ``e`` directly with the key's SM2 method, which is exactly what the default
path does inside OpenSSL. Both paths are checked against the ``openssl`` CLI and gmalg in
``tests/signing/test_interop.py``.

Example:
    >>> key = generate_private_key()
    >>> signature = sign(key, b"message", DEFAULT_USER_ID)
    >>> verify(key.public_key(), signature, b"message", DEFAULT_USER_ID)
    True
"""

from __future__ import annotations

from typing import Any

from cryptography.hazmat.primitives import hashes as _hashes
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)
from tongsuopy.backends.tongsuo.backend import backend as _backend
from tongsuopy.crypto import hashes as _ts_hashes
from tongsuopy.crypto import serialization as _ts_serialization
from tongsuopy.crypto.asymciphers import ec as _ts_ec
from tongsuopy.crypto.exceptions import InvalidSignature as _TongsuoInvalidSignature

# tongsuopy ships no type information: its key objects are opaque to us.
PrivateKeyHandle = Any
PublicKeyHandle = Any

DEFAULT_USER_ID = b"1234567812345678"

# GM/T 0003.5 recommended curve parameters: they enter Z_A, so they must be exact.
CURVE_A = 0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFC
CURVE_B = 0x28E9FA9E9D9F5E344D5A9E4BCF6509A7F39789F515AB8F92DDBCBD414D940E93
CURVE_GX = 0x32C4AE2C1F1981195F9904466A39C9948FE30BBFF2660BE1715A4589334C74C7
CURVE_GY = 0xBC3736A2F4F6779C59BDCEE36B692153D0A9877CC62A474002DF32E52139F0A0
CURVE_N = 0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFF7203DF6B21C6052B53BBF40939D54123

# A DER SEQUENCE of two INTEGERs below n: at least 8 bytes, at most 72.
MIN_SIGNATURE_BYTES = 8
MAX_SIGNATURE_BYTES = 72
# ENTL is a 16-bit count of id *bits*.
MAX_USER_ID_BYTES = 0xFFFF // 8

_SM3 = _ts_ec.ECDSA(_ts_hashes.SM3())


class SignatureEncodingError(ValueError):
    """The signature bytes are not a strict DER ``SEQUENCE { r, s }`` with ``0 < r, s < n``."""


def sm3(data: bytes) -> bytes:
    """SM3 digest (GB/T 32905) of ``data``.

    Example:
        >>> sm3(b"abc").hex()[:16]
        '66c7f0f462eeedd9'
    """
    digest = _hashes.Hash(_hashes.SM3())
    digest.update(data)
    return digest.finalize()


def generate_private_key() -> PrivateKeyHandle:
    """A fresh SM2 private key from OpenSSL's CSPRNG."""
    return _ts_ec.generate_private_key(_ts_ec.SM2())


def private_key_from_scalar(value: int) -> PrivateKeyHandle:
    """The SM2 private key with scalar ``value`` (test vectors only: real keys are generated)."""
    return _ts_ec.derive_private_key(value, _ts_ec.SM2())


def public_key_from_point(point: bytes) -> PublicKeyHandle:
    """An SM2 public key from its uncompressed point ``04 || x || y`` (65 bytes)."""
    return _ts_ec.EllipticCurvePublicKey.from_encoded_point(_ts_ec.SM2(), point)


def load_private_pem(data: bytes, passphrase: bytes | None) -> PrivateKeyHandle:
    """Parse a PEM private key; raises the engine's own errors (the caller classifies them)."""
    return _ts_serialization.load_pem_private_key(data, passphrase)


def load_public_pem(data: bytes) -> PublicKeyHandle:
    """Parse a PEM ``SubjectPublicKeyInfo``; raises the engine's own errors."""
    return _ts_serialization.load_pem_public_key(data)


def private_pem(key: PrivateKeyHandle, passphrase: bytes | None) -> bytes:
    """PKCS#8 PEM of a private key, encrypted (PBES2) when a passphrase is given."""
    encryption = (
        _ts_serialization.BestAvailableEncryption(passphrase)
        if passphrase
        else _ts_serialization.NoEncryption()
    )
    return bytes(
        key.private_bytes(
            _ts_serialization.Encoding.PEM, _ts_serialization.PrivateFormat.PKCS8, encryption
        )
    )


def public_pem(key: PublicKeyHandle) -> bytes:
    """``SubjectPublicKeyInfo`` PEM of a public key."""
    return bytes(
        key.public_bytes(
            _ts_serialization.Encoding.PEM,
            _ts_serialization.PublicFormat.SubjectPublicKeyInfo,
        )
    )


def public_der(key: PublicKeyHandle) -> bytes:
    """``SubjectPublicKeyInfo`` DER of a public key (what key ids are computed from)."""
    return bytes(
        key.public_bytes(
            _ts_serialization.Encoding.DER,
            _ts_serialization.PublicFormat.SubjectPublicKeyInfo,
        )
    )


def public_point(key: PublicKeyHandle) -> bytes:
    """The uncompressed point ``04 || x || y`` of a public key."""
    return bytes(
        key.public_bytes(
            _ts_serialization.Encoding.X962,
            _ts_serialization.PublicFormat.UncompressedPoint,
        )
    )


def private_scalar(key: PrivateKeyHandle) -> int:
    """The private scalar ``d`` (used only to hand the key to a second implementation in tests)."""
    return int(key.private_numbers().private_value)


def z_value(key: PublicKeyHandle, user_id: bytes) -> bytes:
    """``Z_A = SM3(ENTL || ID || a || b || xG || yG || xA || yA)`` of GM/T 0003.2 §5.5.

    Example:
        >>> key = private_key_from_scalar(1)
        >>> len(z_value(key.public_key(), DEFAULT_USER_ID))
        32
    """
    point = public_point(key)
    fields = b"".join(v.to_bytes(32, "big") for v in (CURVE_A, CURVE_B, CURVE_GX, CURVE_GY))
    return sm3((len(user_id) * 8).to_bytes(2, "big") + user_id + fields + point[1:])


def message_digest(key: PublicKeyHandle, message: bytes, user_id: bytes) -> bytes:
    """``e = SM3(Z_A || M)``: the 32 bytes an SM2 signature actually signs."""
    return sm3(z_value(key, user_id) + message)


def check_signature_encoding(signature: bytes) -> tuple[int, int]:
    """``(r, s)`` of a strict-DER SM2 signature, or :class:`SignatureEncodingError`.

    Re-encoding and comparing rejects BER variants (long-form lengths, padded integers), so
    exactly one byte string stands for each signature.

    Example:
        >>> check_signature_encoding(bytes.fromhex("3006020101020102"))
        (1, 2)
    """
    if not MIN_SIGNATURE_BYTES <= len(signature) <= MAX_SIGNATURE_BYTES:
        raise SignatureEncodingError(
            f"a DER SM2 signature has {MIN_SIGNATURE_BYTES}-{MAX_SIGNATURE_BYTES} bytes, "
            f"got {len(signature)}"
        )
    try:
        r, s = decode_dss_signature(signature)
    except ValueError:
        raise SignatureEncodingError("not a DER SEQUENCE of two INTEGERs") from None
    if encode_dss_signature(r, s) != signature:
        raise SignatureEncodingError("not in canonical DER (extra bytes or padded integers)")
    if not (0 < r < CURVE_N and 0 < s < CURVE_N):
        raise SignatureEncodingError("r and s must both lie in [1, n-1]")
    return r, s


def sign(key: PrivateKeyHandle, message: bytes, user_id: bytes) -> bytes:
    """DER signature of ``message`` under ``key`` with distinguishing id ``user_id``."""
    if user_id == DEFAULT_USER_ID:
        return bytes(key.sign(message, _SM3))
    return _sign_digest(key, message_digest(key.public_key(), message, user_id))


def verify(key: PublicKeyHandle, signature: bytes, message: bytes, user_id: bytes) -> bool:
    """Whether ``signature`` (strict DER, checked first) verifies ``message`` under ``key``.

    Raises :class:`SignatureEncodingError` for a signature that is not even well formed.
    """
    check_signature_encoding(signature)
    if user_id == DEFAULT_USER_ID:
        try:
            key.verify(signature, message, _SM3)
        except _TongsuoInvalidSignature:
            return False
        return True
    return _verify_digest(key, signature, message_digest(key, message, user_id))


def _sign_digest(key: PrivateKeyHandle, digest: bytes) -> bytes:
    lib, ffi = _backend._lib, _backend._ffi
    context = ffi.gc(lib.EVP_PKEY_CTX_new(key._evp_pkey, ffi.NULL), lib.EVP_PKEY_CTX_free)
    _backend.openssl_assert(context != ffi.NULL)
    _backend.openssl_assert(lib.EVP_PKEY_sign_init(context) == 1)
    length = ffi.new("size_t *", MAX_SIGNATURE_BYTES)
    buffer = ffi.new("unsigned char[]", MAX_SIGNATURE_BYTES)
    _backend.openssl_assert(lib.EVP_PKEY_sign(context, buffer, length, digest, len(digest)) == 1)
    return bytes(ffi.buffer(buffer)[: length[0]])


def _verify_digest(key: PublicKeyHandle, signature: bytes, digest: bytes) -> bool:
    lib, ffi = _backend._lib, _backend._ffi
    context = ffi.gc(lib.EVP_PKEY_CTX_new(key._evp_pkey, ffi.NULL), lib.EVP_PKEY_CTX_free)
    _backend.openssl_assert(context != ffi.NULL)
    _backend.openssl_assert(lib.EVP_PKEY_verify_init(context) == 1)
    outcome = lib.EVP_PKEY_verify(context, signature, len(signature), digest, len(digest))
    # Anything but 1 is a failed verification; drain OpenSSL's error queue so it cannot
    # leak into the next, unrelated call.
    _backend._consume_errors()
    return bool(outcome == 1)

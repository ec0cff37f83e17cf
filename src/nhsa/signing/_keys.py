"""SM2 key pairs: generate, load (PEM bytes, file, environment variable), save, identify.

A key's id is the first 16 hex digits of SM3 over its ``SubjectPublicKeyInfo`` DER: it is
computed, never chosen, so a key id always names exactly one public key and both sides of a
connection derive the same id from the same PEM file.

Key material never leaves these objects by accident: ``repr``/``str`` show only the key id,
every error names the source (file path, variable name) and the rule, never the bytes, and the
engine's exceptions are not chained onto ours.

Example:
    >>> key = Sm2PrivateKey.generate()
    >>> again = Sm2PrivateKey.from_pem(key.to_pem(passphrase="s3cret"), passphrase="s3cret")
    >>> again.key_id == key.key_id and repr(again) == f"Sm2PrivateKey(key_id={key.key_id!r})"
    True
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import Final

from tongsuopy.crypto.exceptions import UnsupportedAlgorithm

from nhsa.redaction import get_logger
from nhsa.signing import _sm2
from nhsa.signing.errors import (
    KeySourceError,
    MalformedPemError,
    PassphraseError,
    WrongCurveError,
)

__all__ = ["Sm2PrivateKey", "Sm2PublicKey", "key_id_of"]

_log = get_logger(__name__)

KEY_ID_HEX_DIGITS: Final = 16
_PEM_LABEL = re.compile(rb"-----BEGIN ([A-Z0-9 ]+)-----")
_PRIVATE_LABELS = frozenset({b"PRIVATE KEY", b"ENCRYPTED PRIVATE KEY", b"EC PRIVATE KEY"})
_PUBLIC_LABELS = frozenset({b"PUBLIC KEY"})


def key_id_of(public_der: bytes) -> str:
    """The key id of a public key given as ``SubjectPublicKeyInfo`` DER.

    Example:
        >>> key_id_of(b"not really a key")
        '18debc6337f6b5f9'
    """
    return _sm2.sm3(public_der)[: KEY_ID_HEX_DIGITS // 2].hex()


class Sm2PublicKey:
    """An SM2 public key and its key id.

    Example:
        >>> public = Sm2PrivateKey.generate().public_key
        >>> Sm2PublicKey.from_pem(public.to_pem()) == public
        True
    """

    __slots__ = ("_handle", "key_id")

    def __init__(self, handle: _sm2.PublicKeyHandle) -> None:
        """Wrap an engine key; use the ``from_*`` constructors instead."""
        self._handle = handle
        self.key_id: str = key_id_of(_sm2.public_der(handle))

    @classmethod
    def from_pem(cls, data: bytes | str, *, source: str = "bytes") -> Sm2PublicKey:
        """Load a ``-----BEGIN PUBLIC KEY-----`` block; ``source`` only names it in errors."""
        pem = _pem_bytes(data, source)
        _expect_label(pem, _PUBLIC_LABELS, "public", source)
        try:
            return cls(_sm2.load_public_pem(pem))
        except UnsupportedAlgorithm as exc:
            raise _wrong_curve(source, exc) from None
        except (ValueError, TypeError):
            raise MalformedPemError(
                f"public key from {source}: the PEM block is corrupt or truncated",
                field=source,
                rule="pem",
            ) from None

    @classmethod
    def from_file(cls, path: str | os.PathLike[str]) -> Sm2PublicKey:
        """Load a public key PEM file."""
        return cls.from_pem(_read_file(path, "public"), source=f"file {os.fspath(path)}")

    @classmethod
    def from_env(cls, name: str, environ: Mapping[str, str] | None = None) -> Sm2PublicKey:
        """Load a public key PEM held in environment variable ``name``."""
        return cls.from_pem(
            _read_env(name, environ, "public"), source=f"environment variable {name}"
        )

    @classmethod
    def from_point(cls, point: bytes) -> Sm2PublicKey:
        """Load the uncompressed point ``04 || x || y`` (how other SM2 libraries export keys)."""
        try:
            return cls(_sm2.public_key_from_point(point))
        except (ValueError, TypeError):
            raise MalformedPemError(
                "public key point: not an uncompressed point on the SM2 curve",
                field="point",
                rule="sm2-point",
            ) from None

    def to_pem(self) -> bytes:
        """``SubjectPublicKeyInfo`` PEM (what ``openssl pkey -pubin`` reads)."""
        return _sm2.public_pem(self._handle)

    def to_point(self) -> bytes:
        """The uncompressed point ``04 || x || y``."""
        return _sm2.public_point(self._handle)

    def verify(self, signature: bytes, message: bytes, user_id: bytes) -> bool:
        """Whether the DER ``signature`` verifies ``message`` under this key and ``user_id``.

        Raises :class:`nhsa.signing._sm2.SignatureEncodingError` for a malformed signature.
        """
        return _sm2.verify(self._handle, signature, message, user_id)

    def signing_digest(self, message: bytes, user_id: bytes) -> bytes:
        """``e = SM3(Z_A || M)``, the value an SM2 signature over ``message`` signs."""
        return _sm2.message_digest(self._handle, message, user_id)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Sm2PublicKey) and other.key_id == self.key_id

    def __hash__(self) -> int:
        return hash(self.key_id)

    def __repr__(self) -> str:
        return f"Sm2PublicKey(key_id={self.key_id!r})"


class Sm2PrivateKey:
    """An SM2 private key; it signs and knows its public half, and never shows itself.

    Example:
        >>> key = Sm2PrivateKey.generate()
        >>> signature = key.sign(b"hello", b"1234567812345678")
        >>> key.public_key.verify(signature, b"hello", b"1234567812345678")
        True
    """

    __slots__ = ("_handle", "public_key")

    def __init__(self, handle: _sm2.PrivateKeyHandle) -> None:
        """Wrap an engine key; use :meth:`generate` or the ``from_*`` constructors instead."""
        self._handle = handle
        self.public_key = Sm2PublicKey(handle.public_key())

    @classmethod
    def generate(cls) -> Sm2PrivateKey:
        """A new random key pair."""
        return cls(_sm2.generate_private_key())

    @classmethod
    def from_scalar(cls, value: int) -> Sm2PrivateKey:
        """The key with private scalar ``value``: for pinned test vectors, never for real keys."""
        if not 0 < value < _sm2.CURVE_N - 1:
            raise WrongCurveError(
                "private scalar: must lie in [1, n-2] of the SM2 curve",
                field="scalar",
                rule="sm2-scalar",
            )
        return cls(_sm2.private_key_from_scalar(value))

    @classmethod
    def from_pem(
        cls,
        data: bytes | str,
        passphrase: bytes | str | None = None,
        *,
        source: str = "bytes",
    ) -> Sm2PrivateKey:
        """Load a PKCS#8 (optionally encrypted) or SEC1 private key PEM block."""
        pem = _pem_bytes(data, source)
        label = _expect_label(pem, _PRIVATE_LABELS, "private", source)
        encrypted = label == b"ENCRYPTED PRIVATE KEY" or b"Proc-Type: 4,ENCRYPTED" in pem
        secret = passphrase.encode() if isinstance(passphrase, str) else passphrase
        if encrypted and not secret:
            raise PassphraseError(
                f"private key from {source} is encrypted: a passphrase is required",
                field=source,
                rule="passphrase-required",
            )
        if secret and not encrypted:
            raise PassphraseError(
                f"private key from {source} is not encrypted but a passphrase was given; "
                "encrypt the key or drop the passphrase",
                field=source,
                rule="passphrase-unexpected",
            )
        try:
            return cls(_sm2.load_private_pem(pem, secret or None))
        except UnsupportedAlgorithm as exc:
            raise _wrong_curve(source, exc) from None
        except (ValueError, TypeError):
            if encrypted:
                raise PassphraseError(
                    f"private key from {source}: cannot decrypt it; "
                    "the passphrase is wrong or the block is corrupt",
                    field=source,
                    rule="passphrase-wrong",
                ) from None
            raise MalformedPemError(
                f"private key from {source}: the PEM block is corrupt or truncated",
                field=source,
                rule="pem",
            ) from None

    @classmethod
    def from_file(
        cls, path: str | os.PathLike[str], passphrase: bytes | str | None = None
    ) -> Sm2PrivateKey:
        """Load a private key PEM file; warns in the log when others may read the file."""
        data = _read_file(path, "private")
        mode = Path(path).stat().st_mode
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            _log.warning(
                "private key file %s is accessible by group or others (mode %o); chmod 600 it",
                os.fspath(path),
                stat.S_IMODE(mode),
            )
        return cls.from_pem(data, passphrase, source=f"file {os.fspath(path)}")

    @classmethod
    def from_env(
        cls,
        name: str,
        passphrase: bytes | str | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> Sm2PrivateKey:
        """Load a private key PEM held in environment variable ``name``."""
        data = _read_env(name, environ, "private")
        return cls.from_pem(data, passphrase, source=f"environment variable {name}")

    @property
    def key_id(self) -> str:
        """The key id of the public half."""
        return self.public_key.key_id

    def to_pem(self, passphrase: bytes | str | None = None) -> bytes:
        """PKCS#8 PEM, encrypted with ``passphrase`` when one is given."""
        secret = passphrase.encode() if isinstance(passphrase, str) else passphrase
        return _sm2.private_pem(self._handle, secret or None)

    def sign(self, message: bytes, user_id: bytes) -> bytes:
        """DER SM2 signature of ``message`` with distinguishing id ``user_id``."""
        return _sm2.sign(self._handle, message, user_id)

    def scalar(self) -> int:
        """The private scalar, to hand the key to a second SM2 implementation in interop tests."""
        return _sm2.private_scalar(self._handle)

    def __repr__(self) -> str:
        return f"Sm2PrivateKey(key_id={self.key_id!r})"

    def __reduce__(self) -> str | tuple[object, ...]:
        raise TypeError("Sm2PrivateKey cannot be pickled; save it with to_pem(passphrase=...)")


def _pem_bytes(data: bytes | str, source: str) -> bytes:
    if isinstance(data, str):
        try:
            data = data.encode("ascii")
        except UnicodeEncodeError:
            raise MalformedPemError(
                f"key from {source}: PEM text must be ASCII", field=source, rule="pem"
            ) from None
    if not data.strip():
        raise MalformedPemError(f"key from {source} is empty", field=source, rule="pem")
    return data


def _expect_label(pem: bytes, allowed: frozenset[bytes], kind: str, source: str) -> bytes:
    found = _PEM_LABEL.search(pem)
    if found is None:
        raise MalformedPemError(
            f"{kind} key from {source}: no PEM block (expected a line '-----BEGIN …-----')",
            field=source,
            rule="pem",
        )
    label = found.group(1)
    if label not in allowed:
        wanted = " or ".join(sorted(x.decode() for x in allowed))
        raise MalformedPemError(
            f"{kind} key from {source}: found a {label.decode()} block, expected {wanted}",
            field=source,
            rule="pem-label",
        )
    return label


def _wrong_curve(source: str, exc: UnsupportedAlgorithm) -> WrongCurveError:
    # The engine's text names the curve or key type ("prime256v1 is not a supported elliptic
    # curve"), which is what the operator needs, and holds no key material.
    return WrongCurveError(
        f"key from {source} is not an SM2 key (curve 1.2.156.10197.1.301): {exc}",
        field=source,
        rule="sm2-curve",
    )


def _read_file(path: str | os.PathLike[str], kind: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise KeySourceError(
            f"{kind} key file {os.fspath(path)}: cannot read it ({exc.strerror})",
            field=os.fspath(path),
            rule="readable",
        ) from None


def _read_env(name: str, environ: Mapping[str, str] | None, kind: str) -> str:
    value = (os.environ if environ is None else environ).get(name, "")
    if not value.strip():
        raise KeySourceError(
            f"{kind} key: environment variable {name} is not set or empty",
            field=name,
            rule="set",
        )
    # Container platforms often flatten a PEM into one line with literal "\n" sequences.
    if "\n" not in value and "\\n" in value:
        value = value.replace("\\n", "\n")
    return value

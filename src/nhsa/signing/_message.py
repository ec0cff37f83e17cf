"""The SM2 message signature carried in ``cainfo``/``signtype`` (``signing.md`` §2).

Signed bytes: the body exactly as sent, with ``signtype`` set to ``"SM2"`` and the value of the
single top-level ``cainfo`` member replaced by ``""``. ``cainfo`` then carries
``<key id>:<base64 of the DER signature>``. The signer edits only those two values in the
bytes it was given; the verifier blanks ``cainfo`` in the bytes it received. Nothing is ever
re-serialized, so field order, whitespace and number spelling are whatever the sender chose.

Example:
    >>> from nhsa.signing._keys import Sm2PrivateKey
    >>> from nhsa.signing._keyring import KeyEntry, KeyRing
    >>> key = Sm2PrivateKey.generate()
    >>> body = b'{"fixmedins_code":"H53010100001","cainfo":"","signtype":null}'
    >>> signed = MessageSigner(key).sign(body)
    >>> verifier = MessageVerifier(KeyRing([KeyEntry(key.public_key, "H53010100001")]))
    >>> verifier.verify_request(signed) == key.key_id
    True
"""

from __future__ import annotations

import base64
import binascii
import logging
import re
from collections.abc import Mapping
from typing import Any, Final

from nhsa.redaction import get_logger
from nhsa.signing import _sm2
from nhsa.signing._canonical import LocatedBody, locate, unsigned_tail_start
from nhsa.signing._keyring import KeyRing
from nhsa.signing._keys import KEY_ID_HEX_DIGITS, Sm2PrivateKey
from nhsa.signing._profile import DEFAULT_USER_ID, VerifyPolicy
from nhsa.signing.errors import (
    MalformedBodyError,
    MalformedSignatureError,
    MissingSignatureError,
    SigningConfigError,
    TamperedBodyError,
    UnsupportedSigntypeError,
)

__all__ = ["SIGNTYPE", "MessageSigner", "MessageVerifier", "canonical_bytes"]

SIGNTYPE: Final = "SM2"
_SIGNTYPE_JSON: Final = b'"SM2"'
_EMPTY_JSON: Final = b'""'
_BLANK_END: Final = b'""}'
_SIGNTYPE_END: Final = b'"SM2"}'
_SIGNED_END: Final = b',"signtype":"SM2"}'
_SEPARATOR: Final = ":"
_KEY_ID = re.compile(rf"[0-9a-f]{{{KEY_ID_HEX_DIGITS}}}")
_BASE64 = re.compile(r"[A-Za-z0-9+/]+={0,2}")
_log = get_logger(__name__)


def canonical_bytes(body: bytes) -> bytes:
    """The exact bytes an SM2 message signature covers, for a signed or unsigned body.

    Example:
        >>> canonical_bytes(b'{"cainfo": "0123456789abcdef:MEUC", "signtype": "SM2"}')
        b'{"cainfo": "", "signtype": "SM2"}'
    """
    return _canonical(locate(body))


def _canonical(located: LocatedBody) -> bytes:
    # A signtype already reading "SM2" keeps its bytes as sent (however the sender spelled it).
    if located.value("signtype") == SIGNTYPE:
        return located.splice(cainfo=_EMPTY_JSON)
    return located.splice(cainfo=_EMPTY_JSON, signtype=_SIGNTYPE_JSON)


class MessageSigner:
    """Signs request or answer bodies with one private key.

    Example:
        >>> from nhsa.signing._keys import Sm2PrivateKey
        >>> signer = MessageSigner(Sm2PrivateKey.generate())
        >>> signed = signer.sign(b'{"cainfo":null,"signtype":""}')
        >>> signed.startswith(b'{"cainfo":"' + signer.key_id.encode() + b":")
        True
    """

    def __init__(self, key: Sm2PrivateKey, *, user_id: str = DEFAULT_USER_ID) -> None:
        """Sign with ``key`` and SM2 distinguishing id ``user_id``."""
        self._key = key
        self._user_id = _user_id_bytes(user_id)

    @property
    def key_id(self) -> str:
        """The id of the signing key, as it appears in ``cainfo``."""
        return self._key.key_id

    def sign(self, body: bytes, *, document: Any = None) -> bytes:
        """``body`` with ``signtype`` = ``"SM2"`` and ``cainfo`` = ``"<key id>:<signature>"``.

        ``cainfo`` must be ``""`` or ``null`` and ``signtype`` ``""``, ``null`` or ``"SM2"``
        on entry; anything else is :class:`MalformedBodyError` (a value there would be lost).
        A caller that encoded ``body`` from a mapping (or parsed it) may pass that mapping
        as ``document`` to spare a parse; the bytes are still what is signed, and their
        ``cainfo``/``signtype`` must agree with it (:func:`~nhsa.signing._canonical.locate`).
        """
        if document is not None:
            cut = unsigned_tail_start(body)
            blank = isinstance(document, Mapping) and document.get("cainfo") == ""
            if cut is not None and blank and document.get("signtype") == "":
                # Both members are the body's last two, blank: the canonical bytes and the
                # answer differ from the body only in its last bytes, so no search is needed.
                canonical = body[: -len(_BLANK_END)] + _SIGNTYPE_END
                return body[:cut] + self._cainfo(canonical) + _SIGNED_END
        located = locate(body, document=document)
        if located.value("cainfo"):
            raise MalformedBodyError(
                "cainfo must be empty or null before signing; it already holds a value",
                field="cainfo",
                rule="empty-before-signing",
            )
        if located.value("signtype") not in (None, "", SIGNTYPE):
            raise MalformedBodyError(
                f"signtype must be empty, null or {SIGNTYPE!r} before signing, "
                f"got {located.value('signtype')!r}",
                field="signtype",
                rule="empty-before-signing",
            )
        cainfo = self._cainfo(_canonical(located))
        if located.value("signtype") == SIGNTYPE:
            return located.splice(cainfo=cainfo)
        return located.splice(cainfo=cainfo, signtype=_SIGNTYPE_JSON)

    def _cainfo(self, canonical: bytes) -> bytes:
        """The JSON string ``"<key id>:<base64 signature>"`` over ``canonical``."""
        signature = self._key.sign(canonical, self._user_id)
        if _log.isEnabledFor(logging.DEBUG):  # the digest costs as much as the rest of a log line
            _log.debug(
                "SM2-signed %d bytes with key %s, SM3 %s: %s",
                len(canonical),
                self.key_id,
                _sm2.sm3(canonical).hex(),
                canonical,
            )
        return f'"{self.key_id}{_SEPARATOR}{base64.b64encode(signature).decode()}"'.encode()


class MessageVerifier:
    """Checks SM2 message signatures against a :class:`KeyRing` under a policy.

    Example:
        >>> verifier = MessageVerifier(KeyRing(), policy="if-present")
        >>> verifier.verify(b'{"cainfo":null,"signtype":null}') is None
        True
    """

    def __init__(
        self, keys: KeyRing, *, policy: VerifyPolicy = "require", user_id: str = DEFAULT_USER_ID
    ) -> None:
        """Verify with the keys in ``keys`` and SM2 distinguishing id ``user_id``."""
        self._keys = keys
        self._policy = policy
        self._user_id = _user_id_bytes(user_id)

    def verify(
        self, body: bytes, *, expect_owner: str | None = None, document: Any = None
    ) -> str | None:
        """The key id that signed ``body``, or ``None`` when the policy accepts it unsigned.

        With ``expect_owner`` the signing key must be registered to that owner (the
        platform's name on the SDK side). Every failure is a named
        :class:`~nhsa.signing.errors.RejectedMessageError`. ``document`` is as for
        :meth:`verify_request`.
        """
        if self._policy == "off":
            return None
        return self._check(locate(body, document=document), expect_owner)

    def verify_request(self, body: bytes, *, document: Any = None) -> str | None:
        """:meth:`verify` with the key bound to the body's own ``fixmedins_code``.

        A signature by institution A's key on a message claiming ``fixmedins_code`` B fails
        with :class:`~nhsa.signing.errors.WrongKeyError`.

        A caller that already parsed ``body`` passes the result as ``document`` (it must be
        ``orjson.loads(body)``) and the body is not parsed again. The signature is still
        checked over the bytes, so bytes changed after signing fail whatever the document
        says; ``cainfo`` and ``signtype`` are confirmed against the bytes (rule
        ``document-matches-body``); ``fixmedins_code`` is read from the document, which is
        what the caller acts on.
        """
        if self._policy == "off":
            return None
        located = locate(body, document=document)
        owner = located.document.get("fixmedins_code")
        if not isinstance(owner, str) or not owner:
            raise MalformedBodyError(
                "fixmedins_code must be a non-empty string: it names whose key must have signed",
                field="fixmedins_code",
                rule="required",
            )
        return self._check(located, owner)

    def _check(self, located: LocatedBody, owner: str | None) -> str | None:
        signtype, cainfo = located.value("signtype"), located.value("cainfo")
        if signtype != SIGNTYPE:
            if self._policy == "if-present":
                return None
            if signtype:
                raise UnsupportedSigntypeError(
                    f"signtype is {signtype!r}; only {SIGNTYPE!r} is accepted",
                    field="signtype",
                    rule="enum",
                )
            raise MissingSignatureError(
                f"the message is unsigned (signtype empty); policy requires an {SIGNTYPE} "
                "signature in cainfo",
                field="signtype",
                rule="required",
            )
        if not cainfo:
            raise MissingSignatureError(
                f"signtype is {SIGNTYPE!r} but cainfo is empty", field="cainfo", rule="required"
            )
        key_id, signature = _parse_cainfo(cainfo)
        entry = (
            self._keys.resolve(key_id) if owner is None else self._keys.check_owner(key_id, owner)
        )
        canonical = _canonical(located)
        try:
            valid = entry.public_key.verify(signature, canonical, self._user_id)
        except _sm2.SignatureEncodingError as exc:
            raise MalformedSignatureError(
                f"cainfo signature: {exc}", field="cainfo", rule="der-sm2-signature"
            ) from None
        if not valid:
            _log.debug(
                "SM2 signature by key %s does not verify over %d canonical bytes, SM3 %s: %s",
                key_id,
                len(canonical),
                _sm2.sm3(canonical).hex(),
                canonical,
            )
            raise TamperedBodyError(
                f"the SM2 signature in cainfo (key {key_id}) does not match the body; the "
                "body changed after signing or was signed with another key or user id",
                field="cainfo",
                rule="signature-matches-body",
            )
        return key_id


def _parse_cainfo(cainfo: str) -> tuple[str, bytes]:
    key_id, separator, encoded = cainfo.partition(_SEPARATOR)
    if not separator or not _KEY_ID.fullmatch(key_id):
        raise MalformedSignatureError(
            f"cainfo must be '<key id>:<base64 DER signature>' with a key id of "
            f"{KEY_ID_HEX_DIGITS} lowercase hex digits",
            field="cainfo",
            rule="cainfo-format",
        )
    if not _BASE64.fullmatch(encoded) or len(encoded) % 4:
        raise MalformedSignatureError(
            "cainfo signature is not padded standard base64", field="cainfo", rule="base64"
        )
    try:
        signature = base64.b64decode(encoded, validate=True)
    except binascii.Error:
        raise MalformedSignatureError(
            "cainfo signature is not valid base64", field="cainfo", rule="base64"
        ) from None
    # Unused low bits of the last base64 digit would let two strings carry one signature.
    if base64.b64encode(signature).decode() != encoded:
        raise MalformedSignatureError(
            "cainfo signature is not canonical base64", field="cainfo", rule="base64"
        )
    return key_id, signature


def _user_id_bytes(user_id: str) -> bytes:
    raw = user_id.encode()
    if not 0 < len(raw) <= _sm2.MAX_USER_ID_BYTES:
        raise SigningConfigError(
            f"SM2 user id must be 1-{_sm2.MAX_USER_ID_BYTES} bytes, got {len(raw)}",
            field="user_id",
            rule="length",
        )
    return raw

"""Every way a signature, a key or a replay check can fail, as one small tree.

::

    SigningError                          .code  .wording  .field  .rule  .err_msg
    ├── SigningConfigError                a profile, user id, paasid or token that cannot work
    ├── KeyMaterialError                  a key that cannot be loaded or used
    │   ├── KeySourceError                the file or environment variable is missing or empty
    │   ├── MalformedPemError             not PEM, truncated, or the wrong kind of PEM block
    │   ├── WrongCurveError               a well-formed key that is not on the SM2 curve
    │   └── PassphraseError               passphrase missing, wrong, or given for a plain key
    └── RejectedMessageError              a message that must not be accepted
        ├── GatewayAuthError              the x-tif-* headers do not authenticate the caller
        │   ├── MissingHeaderError
        │   │   └── CsbMissingHeaderError  缺少服务网关的请求头 (the CSB gateway's wording)
        │   ├── MalformedHeaderError      e.g. a timestamp that is not a decimal integer
        │   │   └── NonHexHeaderError     x-tif-signature is not 64 lowercase hex digits
        │   ├── UnknownPaasidError        非法用户
        │   ├── GatewaySignatureMismatchError  签名不一致
        │   ├── StaleTimestampError       签名时间戳超时
        │   ├── ReplayedNonceError
        │   ├── InvalidTokenError         a bearer token this gateway did not issue
        │   └── ExpiredTokenError         a bearer token past its expiry
        ├── ReplayedMsgidError            the institution already sent this msgid
        ├── MalformedBodyError            not a JSON object, or no single top-level cainfo
        │   └── EmptyBodyError
        └── MessageSignatureError         the SM2 message signature (cainfo/signtype)
            ├── MissingSignatureError
            ├── UnsupportedSigntypeError
            ├── MalformedSignatureError   wrong length or encoding of cainfo
            ├── UnknownKeyIdError
            ├── WrongKeyError             a known key that may not sign this message
            └── TamperedBodyError         签名不一致

Each class carries a stable ``code`` (what tests and the conformance suite match on) and a
Chinese ``wording`` the mock platform puts in its answer. ``wording_confirmed`` says whether
that wording was seen in a public source (``签名不一致``, ``签名时间戳超时``, ``非法用户``,
``缺少服务网关的请求头``) or is ours. The one source of those four (K, Hunan, thin) shows them
from the CSB ``_api_*`` gateway, in a ``{"code": 401, "message": "…!"}`` body; no source shows
the TIF gateway's refusal wording, so for ``x-tif-*`` refusals the mock reuses them
[inference]. The English message always names the header or field and the rule it broke. No error
ever carries key material or a message body.

Example:
    >>> error = StaleTimestampError("x-tif-timestamp is 900 s away from now; allowed ±300 s",
    ...                             field="x-tif-timestamp", rule="within-window")
    >>> (error.code, error.err_msg)
    ('stale-timestamp', '签名时间戳超时: x-tif-timestamp is 900 s away from now; allowed ±300 s')
"""

from __future__ import annotations

from typing import ClassVar

__all__ = [
    "CsbMissingHeaderError",
    "EmptyBodyError",
    "ExpiredTokenError",
    "GatewayAuthError",
    "GatewaySignatureMismatchError",
    "InvalidTokenError",
    "KeyMaterialError",
    "KeySourceError",
    "MalformedBodyError",
    "MalformedHeaderError",
    "MalformedPemError",
    "MalformedSignatureError",
    "MessageSignatureError",
    "MissingHeaderError",
    "MissingSignatureError",
    "NonHexHeaderError",
    "PassphraseError",
    "RejectedMessageError",
    "ReplayedMsgidError",
    "ReplayedNonceError",
    "SigningConfigError",
    "SigningError",
    "StaleTimestampError",
    "TamperedBodyError",
    "UnknownKeyIdError",
    "UnknownPaasidError",
    "UnsupportedSigntypeError",
    "WrongCurveError",
    "WrongKeyError",
]


class SigningError(Exception):
    """Base of every error raised by :mod:`nhsa.signing`.

    Attributes:
        code: stable machine-readable name of the failure, e.g. ``"tampered-body"``.
        wording: the Chinese text a platform answer carries for this failure.
        wording_confirmed: ``True`` when ``wording`` is the real gateway's, ``False`` when ours.
        field: the header, member or key source at fault (``"x-tif-nonce"``, ``"cainfo"``), if any.
        rule: the rule that was broken (``"required"``, ``"within-window"``, ``"unique"``), if any.

    Example:
        >>> from nhsa.signing import TifVerifier
        >>> try:
        ...     TifVerifier({"paas-1": "secret"}).verify({"x-tif-paasid": "paas-1"})
        ... except SigningError as error:
        ...     print(error.code, error.field, error.rule)
        ...     print(error.err_msg)
        missing-header x-tif-timestamp required
        缺少请求头: header x-tif-timestamp is missing or empty
    """

    code: ClassVar[str] = "signing-error"
    wording: ClassVar[str] = "签名校验失败"
    wording_confirmed: ClassVar[bool] = False

    def __init__(self, message: str, *, field: str | None = None, rule: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.rule = rule

    @property
    def err_msg(self) -> str:
        """The text for a platform answer's ``err_msg``: wording, then the English reason.

        Example:
            >>> UnknownPaasidError("x-tif-paasid 'x' is not registered").err_msg
            "非法用户: x-tif-paasid 'x' is not registered"
        """
        return f"{self.wording}: {self.message}"


class SigningConfigError(SigningError, ValueError):
    """A profile, SM2 user id, paasid, token or key set-up that cannot work."""

    code = "signing-config"
    wording = "签名配置错误"


class KeyMaterialError(SigningError):
    """A key could not be loaded or used; the message names the source, never the key."""

    code = "key-material"
    wording = "密钥错误"


class KeySourceError(KeyMaterialError):
    """The file or environment variable that should hold a key is missing or empty."""

    code = "key-source"
    wording = "密钥不存在"


class MalformedPemError(KeyMaterialError):
    """The data is not a PEM block of the expected kind (or is truncated or corrupt)."""

    code = "malformed-pem"
    wording = "密钥格式错误"


class WrongCurveError(KeyMaterialError):
    """A well-formed key that is not an SM2 key (another curve, RSA, Ed25519, …)."""

    code = "wrong-curve"
    wording = "密钥算法错误"


class PassphraseError(KeyMaterialError):
    """The private key's passphrase is missing, wrong, or given for an unencrypted key."""

    code = "passphrase"
    wording = "密钥口令错误"


class RejectedMessageError(SigningError):
    """A message (request or answer) that must not be accepted."""

    code = "rejected"


class GatewayAuthError(RejectedMessageError):
    """The ``x-tif-*`` gateway headers do not authenticate the caller."""

    code = "gateway-auth"
    wording = "网关认证失败"


class MissingHeaderError(GatewayAuthError):
    """A required ``x-tif-*`` header is absent or empty."""

    code = "missing-header"
    wording = "缺少请求头"


class CsbMissingHeaderError(MissingHeaderError):
    """A required ``_api_*`` header of the CSB gateway is absent or empty."""

    code = "csb-missing-header"
    wording = "缺少服务网关的请求头"
    wording_confirmed = True


class MalformedHeaderError(GatewayAuthError):
    """A header is present but its value breaks the header's format."""

    code = "malformed-header"
    wording = "请求头格式错误"


class NonHexHeaderError(MalformedHeaderError):
    """``x-tif-signature`` is not 64 lowercase hexadecimal digits."""

    code = "non-hex-header"


class UnknownPaasidError(GatewayAuthError):
    """``x-tif-paasid`` names no registered application."""

    code = "unknown-paasid"
    wording = "非法用户"
    wording_confirmed = True


class GatewaySignatureMismatchError(GatewayAuthError):
    """``x-tif-signature`` does not match the timestamp, token and nonce."""

    code = "gateway-signature-mismatch"
    wording = "签名不一致"
    wording_confirmed = True


class StaleTimestampError(GatewayAuthError):
    """``x-tif-timestamp`` lies outside the accepted window around the server's clock."""

    code = "stale-timestamp"
    wording = "签名时间戳超时"
    wording_confirmed = True


class ReplayedNonceError(GatewayAuthError):
    """``x-tif-nonce`` was already used by this caller within the window."""

    code = "replayed-nonce"
    wording = "请求重复"


class InvalidTokenError(GatewayAuthError):
    """A bearer token that is malformed, unknown, or not signed by this gateway."""

    code = "invalid-token"
    wording = "令牌无效"


class ExpiredTokenError(GatewayAuthError):
    """A bearer token past its expiry: ask the token endpoint for a new one."""

    code = "expired-token"
    wording = "令牌已过期"


class ReplayedMsgidError(RejectedMessageError):
    """The institution already sent a message with this ``msgid``."""

    code = "replayed-msgid"
    wording = "报文ID重复"


class MalformedBodyError(RejectedMessageError):
    """The body is not a JSON object with exactly one top-level ``cainfo`` and ``signtype``."""

    code = "malformed-body"
    wording = "报文格式错误"


class EmptyBodyError(MalformedBodyError):
    """The body has no bytes at all (or only whitespace)."""

    code = "empty-body"
    wording = "报文为空"


class MessageSignatureError(RejectedMessageError):
    """The SM2 message signature carried in ``cainfo``/``signtype`` is not acceptable."""

    code = "message-signature"
    wording = "签名不一致"
    wording_confirmed = True


class MissingSignatureError(MessageSignatureError):
    """A signature is required but ``cainfo`` or ``signtype`` is empty."""

    code = "missing-signature"
    wording = "缺少签名"
    wording_confirmed = False


class UnsupportedSigntypeError(MessageSignatureError):
    """``signtype`` names a scheme other than ``SM2``."""

    code = "unsupported-signtype"
    wording = "签名类型错误"
    wording_confirmed = False


class MalformedSignatureError(MessageSignatureError):
    """``cainfo`` is not ``<key id>:<base64 DER signature>`` of a valid length and encoding."""

    code = "malformed-signature"
    wording = "签名格式错误"
    wording_confirmed = False


class UnknownKeyIdError(MessageSignatureError):
    """No key with the key id named in ``cainfo`` is known, even after a refresh."""

    code = "unknown-key-id"
    wording = "签名密钥未登记"
    wording_confirmed = False


class WrongKeyError(MessageSignatureError):
    """A known key signed, but it belongs to someone other than the message's sender."""

    code = "wrong-key"
    wording = "签名密钥与机构不符"
    wording_confirmed = False


class TamperedBodyError(MessageSignatureError):
    """The signature does not verify over these bytes: the body changed after signing."""

    code = "tampered-body"

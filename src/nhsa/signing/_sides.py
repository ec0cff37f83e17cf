"""A profile turned into what each side does per call: the SDK's and the mock platform's.

The SDK serializes a request, :meth:`ClientSigning.seal_request` signs it (when ``sm2`` is on)
and :attr:`ClientSigning.auth` stamps each attempt (when ``tif`` is on); the answer's raw
bytes go to :meth:`ClientSigning.open_response`. The mock hands the headers and raw body it
received to :meth:`PlatformSigning.check_request` and signs its answer with
:meth:`PlatformSigning.seal_response`. Either side refuses to start with a profile it lacks
the keys or credentials for.

Example:
    >>> from nhsa.signing._profile import SigningProfile
    >>> client = ClientSigning(SigningProfile.parse("none"))
    >>> client.auth is None, client.seal_request(b"{}"), client.open_response(b"{}")
    (True, b'{}', None)
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from nhsa.signing._bearer import BearerAuth
from nhsa.signing._canonical import parse_body
from nhsa.signing._families import ClientGateway, client_gateway
from nhsa.signing._gateway import TifAuth, TifVerifier, TokenLookup, new_nonce
from nhsa.signing._keyring import KeyRing
from nhsa.signing._keys import Sm2PrivateKey
from nhsa.signing._message import MessageSigner, MessageVerifier
from nhsa.signing._profile import SigningProfile
from nhsa.signing._replay import Clock, ReplayGuard
from nhsa.signing.errors import MalformedBodyError, SigningConfigError
from nhsa.spec import DialectGateway

__all__ = ["Caller", "ClientSigning", "PlatformSigning"]

_T = TypeVar("_T")


class ClientSigning:
    """The SDK's half: gateway auth for each attempt, request signing, answer verification.

    Args:
        profile: which schemes are on and how answers are checked.
        paasid, token: gateway credentials (required when ``profile.tif``): the TIF paasid
            and token, the CSB access and secret key, or the OAuth2 client id and secret.
        private_key: the institution's key (required when ``profile.sm2``).
        platform_keys: the platform's public key(s) (required unless ``profile.verify`` is off).
        gateway: the dialect's gateway family and parameters; ``None`` is the national TIF.
        gateway_user, gateway_password: the account of a bearer gateway's password grant.
        service_id, clock, nonce: passed to :class:`TifAuth`.

    Example:
        >>> from nhsa.signing._profile import SigningProfile
        >>> ClientSigning(SigningProfile.parse("tif"), paasid="p", token="t").auth
        TifAuth(paasid='p')
        >>> from nhsa.spec import dialect
        >>> jilin = ClientSigning(SigningProfile.parse("tif"), paasid="p", token="t",
        ...                       gateway=dialect("jilin").gateway, gateway_user="u",
        ...                       gateway_password="pw")
        >>> jilin.bearer, jilin.auth
        (BearerAuth(client_id='p'), None)
    """

    def __init__(
        self,
        profile: SigningProfile,
        *,
        paasid: str | None = None,
        token: str | None = None,
        private_key: Sm2PrivateKey | None = None,
        platform_keys: KeyRing | None = None,
        gateway: DialectGateway | None = None,
        gateway_user: str | None = None,
        gateway_password: str | None = None,
        service_id: str | None = None,
        clock: Clock = time.time,
        nonce: Callable[[], str] = new_nonce,
    ) -> None:
        """Prepare the SDK side of ``profile``; a missing piece is a config error."""
        self.profile = profile
        self.gateway: ClientGateway | None = None
        if profile.tif:
            self.gateway = client_gateway(
                gateway,
                paasid=_required(paasid, "paasid", profile),
                token=_required(token, "token", profile),
                user=gateway_user,
                password=gateway_password,
                service_id=service_id,
                clock=clock,
                nonce=nonce,
            )
        self.auth: TifAuth | None = self.gateway if isinstance(self.gateway, TifAuth) else None
        """The TIF gateway as an :class:`httpx.Auth` (``None`` for other families)."""
        self.bearer: BearerAuth | None = (
            self.gateway if isinstance(self.gateway, BearerAuth) else None
        )
        """The bearer gateway, whose token the caller fetches when it is not fresh."""
        self._signer = (
            MessageSigner(_required(private_key, "private_key", profile), user_id=profile.user_id)
            if profile.sm2
            else None
        )
        self._verifier = (
            MessageVerifier(
                _required(platform_keys, "platform_keys", profile),
                policy=profile.policy,
                user_id=profile.user_id,
            )
            if profile.policy != "off"
            else None
        )

    def seal_request(self, body: bytes) -> bytes:
        """The serialized request, signed when ``sm2`` is on (unchanged otherwise)."""
        return self._signer.sign(body) if self._signer else body

    def gateway_headers(self, infno: str) -> dict[str, str]:
        """Fresh gateway headers for one attempt of ``infno`` (none without a gateway)."""
        return self.gateway.headers(infno) if self.gateway is not None else {}

    def open_response(self, body: bytes) -> str | None:
        """The platform key id that signed the answer; ``None`` when accepted unsigned."""
        return self._verifier.verify(body) if self._verifier else None


@dataclass(frozen=True, slots=True)
class Caller:
    """Who sent an accepted request.

    Attributes:
        paasid: the gateway application (``None`` when the profile has no ``tif``).
        key_id: the institution key that signed (``None`` when unsigned and allowed).
        fixmedins_code, msgid: read from the body when the msgid was checked for replay.
    """

    paasid: str | None
    key_id: str | None
    fixmedins_code: str | None = None
    msgid: str | None = None


class PlatformSigning:
    """The mock platform's half: gateway check, request verification, replay guard, answer signing.

    Args:
        profile: which schemes are demanded and how request signatures are checked.
        paas_tokens: paasid → token (required when ``profile.tif``).
        institution_keys: each institution's public key, owned by its ``fixmedins_code``
            (required unless ``profile.verify`` is off).
        private_key: the platform's key for signing answers (required when ``profile.sm2``).
        guard: shared replay guard (nonces and msgids); a fresh one when omitted.
        check_msgid: reject a msgid the same institution already sent within the window.

    Example:
        >>> from nhsa.signing._profile import SigningProfile
        >>> platform = PlatformSigning(SigningProfile.parse("none"))
        >>> platform.check_request({}, b'{"fixmedins_code":"H53010100001","msgid":"m1"}').msgid
        'm1'
    """

    def __init__(
        self,
        profile: SigningProfile,
        *,
        paas_tokens: Mapping[str, str] | TokenLookup | None = None,
        institution_keys: KeyRing | None = None,
        private_key: Sm2PrivateKey | None = None,
        guard: ReplayGuard | None = None,
        check_msgid: bool = True,
    ) -> None:
        """Prepare the platform side of ``profile``; a missing piece is a config error."""
        self.profile = profile
        self.guard = guard if guard is not None else ReplayGuard()
        self._check_msgid = check_msgid
        self._gateway: TifVerifier | None = None
        if profile.tif:
            if paas_tokens is None:
                raise _missing("paas_tokens", profile)
            self._gateway = TifVerifier(paas_tokens, guard=self.guard)
        self._verifier = (
            MessageVerifier(
                _required(institution_keys, "institution_keys", profile),
                policy=profile.policy,
                user_id=profile.user_id,
            )
            if profile.policy != "off"
            else None
        )
        self._signer = (
            MessageSigner(_required(private_key, "private_key", profile), user_id=profile.user_id)
            if profile.sm2
            else None
        )

    def check_request(self, headers: Mapping[str, str], body: bytes) -> Caller:
        """Authenticate one request; a named :class:`RejectedMessageError` subclass otherwise.

        Order: gateway headers, then the message signature (bound to the body's
        ``fixmedins_code``), then the msgid — so only authenticated requests use up a msgid.
        """
        paasid = self._gateway.verify(headers) if self._gateway else None
        if self._verifier is None and not self._check_msgid:
            return Caller(paasid, None)
        # One parse serves the signature check and the replay check.
        document = parse_body(body)
        key_id = self._verifier.verify_request(body, document=document) if self._verifier else None
        if not self._check_msgid:
            return Caller(paasid, key_id)
        fixmedins_code, msgid = _sender_and_msgid(document)
        self.guard.claim_msgid(fixmedins_code, msgid)
        return Caller(paasid, key_id, fixmedins_code, msgid)

    def seal_response(self, body: bytes) -> bytes:
        """The serialized answer, signed when ``sm2`` is on (unchanged otherwise)."""
        return self._signer.sign(body) if self._signer else body


def _required(value: _T | None, name: str, profile: SigningProfile) -> _T:
    if value is None:
        raise _missing(name, profile)
    return value


def _missing(name: str, profile: SigningProfile) -> SigningConfigError:
    return SigningConfigError(
        f"signing profile {profile} (verify={profile.policy}) needs {name}",
        field=name,
        rule="required-by-profile",
    )


def _sender_and_msgid(document: Any) -> tuple[str, str]:
    found: list[str] = []
    for name in ("fixmedins_code", "msgid"):
        value = document.get(name) if isinstance(document, dict) else None
        if not isinstance(value, str) or not value:
            raise MalformedBodyError(
                f"{name} must be a non-empty string (it keys the replay check)",
                field=name,
                rule="required",
            )
        found.append(value)
    return found[0], found[1]

"""Signed messages: gateway headers, SM2 message signatures, keys, replay protection.

Two schemes, switched on by a :class:`SigningProfile` (``"none"``, ``"tif"``, ``"sm2"``,
``"tif+sm2"``):

- ``tif`` — the gateway: by default the headers ``x-tif-paasid/-timestamp/-nonce/-signature``
  (the SDK's :class:`TifAuth`, an :class:`httpx.Auth`, fresh on every attempt, and the
  platform's :class:`TifVerifier`); in a province dialect, that dialect's gateway family
  (CSB ``_api_*`` headers: :class:`CsbAuth`/:class:`CsbVerifier`; an OAuth2 bearer token:
  :class:`BearerAuth`/:class:`BearerIssuer`), chosen by :func:`client_gateway` and
  :func:`platform_gateway`;
- ``sm2`` — an SM2-over-SM3 signature of the exact bytes sent, in ``cainfo``/``signtype``:
  :class:`MessageSigner` and :class:`MessageVerifier` (format in
  ``interface_specs/v1/signing.md``), keys in :class:`Sm2PrivateKey`/:class:`Sm2PublicKey`,
  trusted keys by id in a :class:`KeyRing`.

:class:`ClientSigning` and :class:`PlatformSigning` assemble both for the SDK and the mock;
:class:`ReplayGuard` rejects stale timestamps and reused nonces and msgids. Every failure is
a named class in :mod:`nhsa.signing.errors`.

Example:
    >>> from nhsa import signing
    >>> key = signing.Sm2PrivateKey.generate()
    >>> ring = signing.KeyRing([signing.KeyEntry(key.public_key, "H53010100001")])
    >>> profile = signing.SigningProfile.parse("sm2")
    >>> client = signing.ClientSigning(profile, private_key=key, platform_keys=ring)
    >>> platform = signing.PlatformSigning(profile, institution_keys=ring, private_key=key)
    >>> body = b'{"msgid":"m1","fixmedins_code":"H53010100001","cainfo":"","signtype":null}'
    >>> platform.check_request({}, client.seal_request(body)).key_id == key.key_id
    True
"""

from __future__ import annotations

from nhsa.signing import errors
from nhsa.signing._bearer import BearerAuth, BearerIssuer, basic_credentials
from nhsa.signing._csb import CsbAuth, CsbParameters, CsbVerifier, csb_signature
from nhsa.signing._families import (
    ClientGateway,
    GatewayVerifier,
    client_gateway,
    csb_parameters,
    platform_gateway,
)
from nhsa.signing._gateway import TifAuth, TifVerifier, TokenLookup, new_nonce, tif_signature
from nhsa.signing._keyring import KeyEntry, KeyRing, RefreshHook
from nhsa.signing._keys import Sm2PrivateKey, Sm2PublicKey, key_id_of
from nhsa.signing._message import SIGNTYPE, MessageSigner, MessageVerifier, canonical_bytes
from nhsa.signing._profile import DEFAULT_USER_ID, SigningProfile, VerifyPolicy
from nhsa.signing._replay import Clock, ReplayGuard
from nhsa.signing._sides import Caller, ClientSigning, PlatformSigning

__all__ = [
    "DEFAULT_USER_ID",
    "SIGNTYPE",
    "BearerAuth",
    "BearerIssuer",
    "Caller",
    "ClientGateway",
    "ClientSigning",
    "Clock",
    "CsbAuth",
    "CsbParameters",
    "CsbVerifier",
    "GatewayVerifier",
    "KeyEntry",
    "KeyRing",
    "MessageSigner",
    "MessageVerifier",
    "PlatformSigning",
    "RefreshHook",
    "ReplayGuard",
    "SigningProfile",
    "Sm2PrivateKey",
    "Sm2PublicKey",
    "TifAuth",
    "TifVerifier",
    "TokenLookup",
    "VerifyPolicy",
    "basic_credentials",
    "canonical_bytes",
    "client_gateway",
    "csb_parameters",
    "csb_signature",
    "errors",
    "key_id_of",
    "new_nonce",
    "platform_gateway",
    "tif_signature",
]

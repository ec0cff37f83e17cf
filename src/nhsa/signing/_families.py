"""Gateway families: the client's headers and the platform's check, chosen by a dialect.

=======  ===================================  ===========================================
family   the client sends                     the gateway checks
=======  ===================================  ===========================================
tif      ``x-tif-*`` (:class:`TifAuth`)        SHA-256 signature, ±window, nonce replay
csb      ``_api_*`` (:class:`CsbAuth`)          Base64 HMAC-SHA1, ``_api_name``, ±window
bearer   ``Authorization: Bearer`` from an      the token's HMAC and expiry
         OAuth2 password grant
         (:class:`BearerAuth`)
none     nothing                              nothing
=======  ===================================  ===========================================

A signing profile's ``tif`` switches the gateway on; the dialect says which family it is (the
national one is ``tif``). Credentials are the same two fields whatever the family: ``paasid``
(the TIF paasid, the CSB access key, the OAuth2 client id) and ``token`` (its secret).

Example:
    >>> from nhsa.spec import dialect
    >>> auth = client_gateway(dialect("hunan").gateway, paasid="ak", token="secret")
    >>> sorted(auth.headers("1101"))[:2]
    ['_api_access_key', '_api_name']
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Literal, Protocol

from nhsa.signing._bearer import BearerAuth, BearerIssuer
from nhsa.signing._csb import CsbAuth, CsbParameters, CsbVerifier
from nhsa.signing._gateway import TifAuth, TifVerifier, TokenLookup, new_nonce
from nhsa.signing._replay import Clock, ReplayGuard
from nhsa.signing.errors import SigningConfigError
from nhsa.spec import DialectGateway

__all__ = [
    "ClientGateway",
    "GatewayVerifier",
    "client_gateway",
    "csb_parameters",
    "platform_gateway",
]

ClientGateway = TifAuth | CsbAuth | BearerAuth
"""What the SDK stamps each attempt with."""


class GatewayVerifier(Protocol):
    """The platform side of a family: who a request claims to be, and whether it is."""

    @property
    def family(self) -> str:
        """``tif``, ``csb`` or ``bearer``."""
        ...

    def app_id(self, headers: Mapping[str, str]) -> str | None:
        """The application the headers claim (before they are verified)."""
        ...

    def verify(self, headers: Mapping[str, str], *, infno: str | None) -> str:
        """The authenticated application; a named gateway error otherwise."""
        ...


def csb_parameters(gateway: DialectGateway) -> CsbParameters:
    """The CSB parameters a dialect's gateway states.

    Example:
        >>> from nhsa.spec import dialect
        >>> csb_parameters(dialect("jiangsu").gateway).timestamp
        's'
    """
    unit: Literal["s", "ms"] = "ms" if gateway.text("timestamp", "ms") == "ms" else "s"
    return CsbParameters(
        api_name=gateway.text("api_name", "infno"),
        api_version=gateway.text("api_version", "1.0.0"),
        timestamp=unit,
        window_seconds=float(gateway.value("window_seconds", 300) or 300),
    )


def client_gateway(
    gateway: DialectGateway | None,
    *,
    paasid: str | None,
    token: str | None,
    user: str | None = None,
    password: str | None = None,
    service_id: str | None = None,
    clock: Clock = time.time,
    nonce: Callable[[], str] = new_nonce,
) -> ClientGateway:
    """The SDK's gateway auth of ``gateway`` (``None``: the national TIF gateway)."""
    family = gateway.family if gateway is not None else "tif"
    if family == "none":
        raise SigningConfigError(
            "this dialect has no gateway (its platform takes requests without gateway "
            "headers): use a signing profile without tif",
            field="profile",
            rule="dialect-has-no-gateway",
        )
    if not paasid or not token:
        missing = "paasid" if not paasid else "token"
        raise SigningConfigError(
            f"a {family} gateway needs {missing}", field=missing, rule="required-by-profile"
        )
    if family == "csb":
        assert gateway is not None
        return CsbAuth(paasid, token, csb_parameters(gateway), clock=clock)
    if family == "bearer":
        assert gateway is not None
        return BearerAuth(
            paasid,
            token,
            user or "",
            password or "",
            gateway.text("token_path", "/auth/oauth/token"),
            clock=clock,
        )
    return TifAuth(paasid, token, service_id=service_id, clock=clock, nonce=nonce)


def platform_gateway(
    gateway: DialectGateway | None, tokens: TokenLookup, guard: ReplayGuard
) -> GatewayVerifier | None:
    """The mock gateway's check for ``gateway`` (``None`` for a dialect without one)."""
    family = gateway.family if gateway is not None else "tif"
    if family == "none":
        return None
    if family == "csb":
        assert gateway is not None
        return CsbVerifier(tokens, csb_parameters(gateway), clock=guard.clock)
    if family == "bearer":
        return BearerIssuer(tokens, clock=guard.clock)
    return TifVerifier(tokens, guard=guard)

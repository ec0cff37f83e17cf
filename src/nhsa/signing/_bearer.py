"""The bearer-token gateway (Jilin): an OAuth2 password grant, then ``Authorization: Bearer``.

The SDK asks ``POST {platform}{token_path}`` with ``Authorization: Basic
base64(client_id:client_secret)`` and the form ``username, password, scope, grant_type`` for an
``access_token`` (source D, ``HandlerServiceImpl.getToken``), keeps it until shortly before it
expires, and sends it on every call. The mock's tokens are stateless — the client id, the expiry
and an HMAC-SHA256 under the client's secret — so every worker process can check any of them.

Example:
    >>> issuer = BearerIssuer({"cid": "secret"}.get, clock=lambda: 1_700_000_000.0)
    >>> token = issuer.issue("cid", "secret")["access_token"]
    >>> issuer.verify({"authorization": f"Bearer {token}"}, infno=None)
    'cid'
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import time
from collections.abc import Mapping
from typing import Any, Final

import httpx
import orjson

from nhsa.signing._gateway import TokenLookup
from nhsa.signing._replay import Clock
from nhsa.signing.errors import (
    ExpiredTokenError,
    InvalidTokenError,
    MalformedHeaderError,
    MissingHeaderError,
    SigningConfigError,
    UnknownPaasidError,
)

__all__ = ["AUTHORIZATION", "BearerAuth", "BearerIssuer", "basic_credentials"]

AUTHORIZATION: Final = "authorization"
TOKEN_SECONDS: Final = 3600
"""How long the mock's tokens live [inference: D caches them for a configured time]."""
_MARGIN_SECONDS: Final = 60.0
_SCOPE: Final = "all"


def basic_credentials(header: str | None) -> tuple[str, str] | None:
    """``(client_id, secret)`` of an ``Authorization: Basic …`` header, or ``None``.

    Example:
        >>> basic_credentials("Basic " + base64.b64encode(b"cid:s:1").decode())
        ('cid', 's:1')
    """
    scheme, _, value = (header or "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        text = base64.b64decode(value.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    client_id, colon, secret = text.partition(":")
    return (client_id, secret) if colon and client_id else None


def _mac(secret: str, client_id: str, expires: int) -> str:
    return hmac.new(secret.encode(), f"{client_id}.{expires}".encode(), hashlib.sha256).hexdigest()


class BearerIssuer:
    """The mock gateway's token endpoint and its check of ``Authorization: Bearer``.

    Args:
        secrets: client id → client secret (the registered paasid → token).
        clock: the gateway's clock.
    """

    family: Final = "bearer"

    def __init__(self, secrets: TokenLookup, *, clock: Clock = time.time) -> None:
        """Issue and check tokens for the clients ``secrets`` knows."""
        self._lookup = secrets
        self._clock = clock

    def issue(self, client_id: str, secret: str) -> dict[str, Any]:
        """A token answer for a client whose credentials are right; ``UnknownPaasidError``
        (非法用户) otherwise. The user's password of the grant is not checked here."""
        known = self._lookup(client_id)
        if known is None or not hmac.compare_digest(known, secret):
            raise UnknownPaasidError(
                f"client {client_id!r}: unknown client or wrong client secret",
                field=AUTHORIZATION,
                rule="registered-client",
            )
        expires = int(self._clock()) + TOKEN_SECONDS
        encoded = base64.urlsafe_b64encode(client_id.encode()).decode().rstrip("=")
        token = f"{encoded}.{expires}.{_mac(known, client_id, expires)}"
        return {
            "access_token": token,
            "token_type": "bearer",
            "expires_in": TOKEN_SECONDS,
            "scope": _SCOPE,
        }

    def app_id(self, headers: Mapping[str, str]) -> str | None:
        """The client id a bearer token names (before it is verified)."""
        parsed = _token_parts(_bearer(headers))
        return parsed[0] if parsed else None

    def verify(self, headers: Mapping[str, str], *, infno: str | None) -> str:
        """The client id of a valid, unexpired token; a named gateway error otherwise."""
        del infno  # the token covers every transaction
        token = _bearer(headers)
        if token is None:
            raise MissingHeaderError(
                "header Authorization: Bearer <access_token> is missing; ask the token "
                "endpoint first",
                field=AUTHORIZATION,
                rule="required",
            )
        parsed = _token_parts(token)
        if parsed is None:
            raise MalformedHeaderError(
                "the bearer token is not one this gateway issued (client.expiry.mac)",
                field=AUTHORIZATION,
                rule="token-format",
            )
        client_id, expires, mac = parsed
        secret = self._lookup(client_id)
        if secret is None:
            raise UnknownPaasidError(
                f"the token's client {client_id!r} is not registered",
                field=AUTHORIZATION,
                rule="registered-client",
            )
        if not hmac.compare_digest(_mac(secret, client_id, expires), mac):
            raise InvalidTokenError(
                "the bearer token's signature does not verify",
                field=AUTHORIZATION,
                rule="issued-by-gateway",
            )
        if expires <= self._clock():
            raise ExpiredTokenError(
                "the bearer token has expired; ask the token endpoint for a new one",
                field=AUTHORIZATION,
                rule="unexpired",
            )
        return client_id


def _bearer(headers: Mapping[str, str]) -> str | None:
    value = {k.lower(): v for k, v in headers.items()}.get(AUTHORIZATION, "")
    scheme, _, token = value.partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


def _token_parts(token: str | None) -> tuple[str, int, str] | None:
    if not token or token.count(".") != 2:
        return None
    encoded, expires, mac = token.split(".")
    try:
        client_id = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    if not expires.isdigit() or not client_id:
        return None
    return client_id, int(expires), mac


class BearerAuth:
    """The SDK's side: asks for a token when it has none (or it is about to expire).

    Args:
        client_id, secret: the OAuth2 client (the registered paasid and token).
        username, password: the account of the password grant.
        token_path: where the token endpoint is, under the platform's base URL.
        clock: the client's clock.

    Example:
        >>> auth = BearerAuth("cid", "s", "user", "pw", "/auth/oauth/token", clock=lambda: 0.0)
        >>> auth.fresh(), auth.token_request(httpx.URL("http://gw.invalid")).url.path
        (False, '/auth/oauth/token')
        >>> auth.accept(httpx.Response(200, json={"access_token": "t1", "expires_in": 3600}))
        >>> auth.fresh(), auth.headers()
        (True, {'authorization': 'Bearer t1'})
    """

    def __init__(
        self,
        client_id: str,
        secret: str,
        username: str,
        password: str,
        token_path: str,
        *,
        clock: Clock = time.time,
    ) -> None:
        """Prepare the grant; nothing is sent until :meth:`token_request` is."""
        for name, value in (("paasid", client_id), ("token", secret)):
            if not value:
                raise SigningConfigError(
                    f"a bearer gateway needs the OAuth2 client's {name}",
                    field=name,
                    rule="required",
                )
        for name, value in (("gateway_user", username), ("gateway_password", password)):
            if not value:
                raise SigningConfigError(
                    f"a bearer gateway's password grant needs {name}", field=name, rule="required"
                )
        self.client_id = client_id
        self._secret = secret
        self._username = username
        self._password = password
        self.token_path = token_path
        self._clock = clock
        self._token: str | None = None
        self._expires_at = 0.0

    def fresh(self) -> bool:
        """Whether a token is held that will not expire within a minute."""
        return self._token is not None and self._clock() < self._expires_at - _MARGIN_SECONDS

    def token_request(self, base: httpx.URL) -> httpx.Request:
        """The OAuth2 password-grant request to the token endpoint under ``base``."""
        basic = base64.b64encode(f"{self.client_id}:{self._secret}".encode()).decode()
        url = base.copy_with(path=base.path.rstrip("/") + self.token_path)
        return httpx.Request(
            "POST",
            url,
            headers={"authorization": f"Basic {basic}"},
            data={
                "username": self._username,
                "password": self._password,
                "scope": _SCOPE,
                "grant_type": "password",
            },
        )

    def accept(self, reply: httpx.Response) -> None:
        """Keep the token of a successful answer; ``InvalidTokenError`` naming what was wrong."""
        try:
            answer = orjson.loads(reply.content) if reply.status_code == 200 else None
        except orjson.JSONDecodeError:
            answer = None
        token = answer.get("access_token") if isinstance(answer, dict) else None
        if not isinstance(token, str) or not token:
            shown = reply.content[:200].decode("utf-8", "replace")
            raise InvalidTokenError(
                f"the token endpoint answered HTTP {reply.status_code} without an "
                f"access_token: {shown}",
                field="access_token",
                rule="token-answer",
            )
        lifetime = answer.get("expires_in") if isinstance(answer, dict) else None
        seconds = float(lifetime) if isinstance(lifetime, int | float) else float(TOKEN_SECONDS)
        self._token = token
        self._expires_at = self._clock() + seconds

    def forget(self) -> None:
        """Drop the token (the gateway refused it): the next call asks for a new one."""
        self._token = None

    def headers(self, infno: str | None = None) -> dict[str, str]:
        """``Authorization: Bearer <token>`` (empty when no token is held), for any ``infno``."""
        del infno  # one token covers every transaction
        return {AUTHORIZATION: f"Bearer {self._token}"} if self._token else {}

    def __repr__(self) -> str:
        return f"BearerAuth(client_id={self.client_id!r})"

"""The TIF gateway headers of reference §2.3: ``x-tif-paasid/-timestamp/-nonce/-signature``.

``x-tif-signature`` is the lowercase hex SHA-256 of ``timestamp + token + nonce + timestamp``
(UTF-8 string concatenation, timestamp in Unix seconds) — confirmed by three independent
codebases. The SDK side is an :class:`httpx.Auth`, so every attempt, retries included, gets a
fresh timestamp and nonce; the platform side is :class:`TifVerifier`.

Example:
    >>> tif_signature("1700000000", "token", "nonce")
    'ba864fe8ccab46b8d039e89c91916b5c1701c7a4fdf5bdab69da607e34568e9f'
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
from collections.abc import Callable, Generator, Mapping
from typing import Final

import httpx

from nhsa.signing._replay import Clock, ReplayGuard
from nhsa.signing.errors import (
    GatewaySignatureMismatchError,
    MalformedHeaderError,
    MissingHeaderError,
    NonHexHeaderError,
    SigningConfigError,
    UnknownPaasidError,
)

__all__ = [
    "NONCE_HEADER",
    "PAASID_HEADER",
    "SERVICE_ID_HEADER",
    "SIGNATURE_HEADER",
    "TIMESTAMP_HEADER",
    "TifAuth",
    "TifVerifier",
    "TokenLookup",
    "new_nonce",
    "tif_signature",
]

PAASID_HEADER: Final = "x-tif-paasid"
TIMESTAMP_HEADER: Final = "x-tif-timestamp"
NONCE_HEADER: Final = "x-tif-nonce"
SIGNATURE_HEADER: Final = "x-tif-signature"
SERVICE_ID_HEADER: Final = "x-tif-serviceid"
_REQUIRED: Final = (PAASID_HEADER, TIMESTAMP_HEADER, NONCE_HEADER, SIGNATURE_HEADER)

_SECONDS = re.compile(r"[0-9]{1,12}")
_MILLISECONDS_DIGITS: Final = 13
_SIGNATURE = re.compile(r"[0-9a-f]{64}")
_NONCE = re.compile(r"[\x21-\x7e]{1,128}")

TokenLookup = Callable[[str], str | None]
"""paasid → token, or ``None`` when the paasid is not registered."""


def tif_signature(timestamp: str, token: str, nonce: str) -> str:
    """``sha256(timestamp + token + nonce + timestamp)`` as lowercase hex.

    Example:
        >>> len(tif_signature("1700000000", "t", "n"))
        64
    """
    return hashlib.sha256(f"{timestamp}{token}{nonce}{timestamp}".encode()).hexdigest()


def new_nonce() -> str:
    """32 random hex digits from the OS CSPRNG.

    Example:
        >>> len(new_nonce()), new_nonce() != new_nonce()
        (32, True)
    """
    return secrets.token_hex(16)


class TifAuth(httpx.Auth):
    """Adds the ``x-tif-*`` headers to each request attempt.

    Args:
        paasid: the application id the province issued.
        token: the paasid's secret token (never logged or shown).
        service_id: sent as ``x-tif-serviceId`` when the deployment uses one.
        clock: time source; its value is truncated to whole seconds.
        nonce: nonce source, called once per attempt.

    Example:
        >>> auth = TifAuth("paas-1", "secret", clock=lambda: 1_700_000_000.9, nonce=lambda: "n1")
        >>> request = next(auth.auth_flow(httpx.Request("POST", "https://gw.invalid/")))
        >>> request.headers["x-tif-timestamp"], request.headers["x-tif-nonce"]
        ('1700000000', 'n1')
        >>> "secret" in repr(auth)
        False
    """

    def __init__(
        self,
        paasid: str,
        token: str,
        *,
        service_id: str | None = None,
        clock: Clock = time.time,
        nonce: Callable[[], str] = new_nonce,
    ) -> None:
        """Authenticate as ``paasid`` with ``token``."""
        if not paasid:
            raise SigningConfigError("paasid must not be empty", field="paasid", rule="required")
        if not token:
            raise SigningConfigError("token must not be empty", field="token", rule="required")
        self.paasid = paasid
        self._token = token
        self._service_id = service_id
        self._clock = clock
        self._nonce = nonce

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        """Stamp ``request`` with a fresh timestamp, nonce and signature, then send it."""
        request.headers.update(self.headers())
        yield request

    def headers(self, infno: str | None = None) -> dict[str, str]:
        """A fresh set of gateway headers (for transports that are not httpx); the same for
        every ``infno``.

        Example:
            >>> sorted(TifAuth("p", "t").headers())
            ['x-tif-nonce', 'x-tif-paasid', 'x-tif-signature', 'x-tif-timestamp']
        """
        del infno  # the headers sign no part of the message
        timestamp = str(int(self._clock()))
        nonce = self._nonce()
        headers = {
            PAASID_HEADER: self.paasid,
            TIMESTAMP_HEADER: timestamp,
            NONCE_HEADER: nonce,
            SIGNATURE_HEADER: tif_signature(timestamp, self._token, nonce),
        }
        if self._service_id:
            headers[SERVICE_ID_HEADER] = self._service_id
        return headers

    def __repr__(self) -> str:
        return f"TifAuth(paasid={self.paasid!r})"


class TifVerifier:
    """Checks the ``x-tif-*`` headers of an incoming request (the mock platform's gateway).

    Args:
        tokens: paasid → token, as a mapping or a lookup function.
        guard: the replay guard holding the clock, the ±window and the seen nonces.

    Example:
        >>> guard = ReplayGuard(clock=lambda: 1_700_000_000.0)
        >>> auth = TifAuth("paas-1", "secret", clock=guard.clock)
        >>> TifVerifier({"paas-1": "secret"}, guard=guard).verify(auth.headers())
        'paas-1'
    """

    family: Final = "tif"

    def __init__(
        self, tokens: Mapping[str, str] | TokenLookup, *, guard: ReplayGuard | None = None
    ) -> None:
        """Verify against ``tokens``, remembering nonces in ``guard``."""
        self._lookup: TokenLookup = tokens.get if isinstance(tokens, Mapping) else tokens
        self.guard = guard if guard is not None else ReplayGuard()

    def app_id(self, headers: Mapping[str, str]) -> str | None:
        """The paasid a request claims (before it is verified)."""
        return {k.lower(): v for k, v in headers.items()}.get(PAASID_HEADER) or None

    def verify(self, headers: Mapping[str, str], *, infno: str | None = None) -> str:
        """The authenticated paasid; a named :class:`GatewayAuthError` subclass otherwise.

        Header names are matched case-insensitively (``x-tif-paasId`` is seen in the wild).
        Checks run cheapest first, and a nonce is remembered only once the signature is
        right, so unauthenticated traffic cannot fill the guard. The headers cover every
        transaction alike, so ``infno`` is not looked at.
        """
        del infno
        values = {name.lower(): value for name, value in headers.items()}
        for name in _REQUIRED:
            if not values.get(name, "").strip():
                raise MissingHeaderError(
                    f"header {name} is missing or empty", field=name, rule="required"
                )
        paasid, timestamp = values[PAASID_HEADER], values[TIMESTAMP_HEADER]
        nonce, signature = values[NONCE_HEADER], values[SIGNATURE_HEADER]
        seconds = _parse_timestamp(timestamp)
        if not _NONCE.fullmatch(nonce):
            raise MalformedHeaderError(
                f"{NONCE_HEADER} must be 1-128 printable ASCII characters without spaces",
                field=NONCE_HEADER,
                rule="printable-ascii",
            )
        if not _SIGNATURE.fullmatch(signature):
            raise NonHexHeaderError(
                f"{SIGNATURE_HEADER} must be 64 lowercase hex digits (SHA-256), "
                f"got {len(signature)} characters",
                field=SIGNATURE_HEADER,
                rule="lowercase-hex-64",
            )
        token = self._lookup(paasid)
        if token is None:
            raise UnknownPaasidError(
                f"{PAASID_HEADER} {paasid!r} is not a registered application",
                field=PAASID_HEADER,
                rule="registered",
            )
        self.guard.check_timestamp(seconds)
        expected = tif_signature(timestamp, token, nonce)
        if not hmac.compare_digest(expected, signature):
            raise GatewaySignatureMismatchError(
                f"{SIGNATURE_HEADER} does not equal sha256(timestamp + token + nonce + "
                f"timestamp) for paasid {paasid!r}",
                field=SIGNATURE_HEADER,
                rule="sha256-of-timestamp-token-nonce-timestamp",
            )
        self.guard.claim_nonce(paasid, nonce, seconds)
        return paasid


def _parse_timestamp(value: str) -> int:
    if _SECONDS.fullmatch(value):
        return int(value)
    hint = (
        "; it looks like milliseconds"
        if value.isdigit() and len(value) == _MILLISECONDS_DIGITS
        else ""
    )
    raise MalformedHeaderError(
        f"{TIMESTAMP_HEADER} must be Unix time in whole seconds (decimal digits){hint}",
        field=TIMESTAMP_HEADER,
        rule="decimal-seconds",
    )

"""The CSB gateway headers (Alibaba CSB, Hunan and Jiangsu): ``_api_name/-version/-access_key/
-timestamp/-signature``.

``_api_signature`` is the Base64 of HMAC-SHA1, keyed with the secret, over the four other
parameters sorted by name and joined as ``name=value`` with ``&`` (no trailing ``&``); the body
is not signed. ``_api_name`` is the transaction's infno (Hunan) or one configured service name
for every transaction (Jiangsu); the timestamp is milliseconds (Hunan) or seconds (Jiangsu).
Confirmed by two codebases (F, K); see ``interface_specs/v1/dialects/hunan.json``.

Example:
    >>> csb_signature("secret", {"_api_access_key": "ak", "_api_name": "1101",
    ...                          "_api_timestamp": "1700000000000", "_api_version": "1.0.0"})
    'jUFrkMrGZfRnvuGVDwMJpqLaHoA='
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final, Literal

from nhsa.signing._gateway import TokenLookup
from nhsa.signing._replay import Clock
from nhsa.signing.errors import (
    CsbMissingHeaderError,
    GatewaySignatureMismatchError,
    MalformedHeaderError,
    SigningConfigError,
    StaleTimestampError,
    UnknownPaasidError,
)

__all__ = [
    "ACCESS_KEY_HEADER",
    "API_NAME_HEADER",
    "CsbAuth",
    "CsbParameters",
    "CsbVerifier",
    "csb_signature",
]

API_NAME_HEADER: Final = "_api_name"
API_VERSION_HEADER: Final = "_api_version"
ACCESS_KEY_HEADER: Final = "_api_access_key"
TIMESTAMP_HEADER: Final = "_api_timestamp"
SIGNATURE_HEADER: Final = "_api_signature"
_SIGNED: Final = (ACCESS_KEY_HEADER, API_NAME_HEADER, TIMESTAMP_HEADER, API_VERSION_HEADER)
_DIGITS: Final = {"s": re.compile(r"[0-9]{1,12}"), "ms": re.compile(r"[0-9]{13}")}
_BASE64: Final = re.compile(r"[A-Za-z0-9+/]{27}=")
INFNO: Final = "infno"


def csb_signature(secret: str, parameters: Mapping[str, str]) -> str:
    """Base64 HMAC-SHA1 of the sorted ``name=value`` pairs joined with ``&``.

    Example:
        >>> len(csb_signature("s", {"_api_name": "x"}))
        28
    """
    text = "&".join(f"{name}={parameters[name]}" for name in sorted(parameters))
    digest = hmac.new(secret.encode(), text.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


@dataclass(frozen=True, slots=True)
class CsbParameters:
    """How one deployment uses CSB (from its dialect profile).

    Attributes:
        api_name: ``infno`` (each transaction under its own name) or the one service name.
        api_version: the ``_api_version`` sent.
        timestamp: ``s`` or ``ms``.
        window_seconds: how far a timestamp may be from the gateway's clock.

    Example:
        >>> CsbParameters("infno").name_for("2207"), CsbParameters("svc").name_for("2207")
        ('2207', 'svc')
    """

    api_name: str
    api_version: str = "1.0.0"
    timestamp: Literal["s", "ms"] = "ms"
    window_seconds: float = 300.0

    def name_for(self, infno: str) -> str:
        """The ``_api_name`` of a call to ``infno``."""
        return infno if self.api_name == INFNO else self.api_name


class CsbAuth:
    """The SDK's ``_api_*`` headers for each attempt.

    Example:
        >>> auth = CsbAuth("ak", "secret", CsbParameters("infno"), clock=lambda: 1_700_000_000.5)
        >>> headers = auth.headers("1101")
        >>> headers["_api_name"], headers["_api_timestamp"]
        ('1101', '1700000000500')
        >>> "secret" in repr(auth)
        False
    """

    def __init__(
        self, access_key: str, secret: str, parameters: CsbParameters, *, clock: Clock = time.time
    ) -> None:
        """Authenticate as ``access_key`` with ``secret``."""
        if not access_key:
            raise SigningConfigError(
                "the CSB access key (paasid) must not be empty", field="paasid", rule="required"
            )
        if not secret:
            raise SigningConfigError(
                "the CSB secret key (token) must not be empty", field="token", rule="required"
            )
        self.access_key = access_key
        self._secret = secret
        self.parameters = parameters
        self._clock = clock

    def headers(self, infno: str) -> dict[str, str]:
        """A fresh set of headers for a call to ``infno``."""
        now = self._clock()
        stamp = str(int(now * 1000)) if self.parameters.timestamp == "ms" else str(int(now))
        signed = {
            ACCESS_KEY_HEADER: self.access_key,
            API_NAME_HEADER: self.parameters.name_for(infno),
            TIMESTAMP_HEADER: stamp,
            API_VERSION_HEADER: self.parameters.api_version,
        }
        return {**signed, SIGNATURE_HEADER: csb_signature(self._secret, signed)}

    def __repr__(self) -> str:
        return f"CsbAuth(access_key={self.access_key!r})"


class CsbVerifier:
    """The mock gateway's check of the ``_api_*`` headers.

    Example:
        >>> params = CsbParameters("infno")
        >>> auth = CsbAuth("ak", "secret", params, clock=lambda: 1_700_000_000.0)
        >>> verifier = CsbVerifier({"ak": "secret"}.get, params, clock=lambda: 1_700_000_010.0)
        >>> verifier.verify(auth.headers("9001"), infno="9001")
        'ak'
    """

    family: Final = "csb"

    def __init__(
        self, secrets: TokenLookup, parameters: CsbParameters, *, clock: Clock = time.time
    ) -> None:
        """Check against ``secrets`` (access key → secret) under ``parameters``."""
        self._lookup = secrets
        self.parameters = parameters
        self._clock = clock

    def app_id(self, headers: Mapping[str, str]) -> str | None:
        """The access key a request claims (before it is verified)."""
        return {k.lower(): v for k, v in headers.items()}.get(ACCESS_KEY_HEADER) or None

    def verify(self, headers: Mapping[str, str], *, infno: str | None) -> str:
        """The authenticated access key; a named gateway error otherwise (cheapest first)."""
        values = {name.lower(): value for name, value in headers.items()}
        for name in (*_SIGNED, SIGNATURE_HEADER):
            if not values.get(name, "").strip():
                raise CsbMissingHeaderError(
                    f"header {name} is missing or empty", field=name, rule="required"
                )
        stamp = values[TIMESTAMP_HEADER]
        unit = self.parameters.timestamp
        if not _DIGITS[unit].fullmatch(stamp):
            wanted = "13-digit milliseconds" if unit == "ms" else "whole seconds"
            raise MalformedHeaderError(
                f"{TIMESTAMP_HEADER} must be Unix time in {wanted}, got {len(stamp)} characters",
                field=TIMESTAMP_HEADER,
                rule=f"decimal-{unit}",
            )
        expected_name = self.parameters.name_for(infno or "")
        if infno is not None and values[API_NAME_HEADER] != expected_name:
            meaning = (
                "the infno of the body" if self.parameters.api_name == INFNO else "the service"
            )
            raise MalformedHeaderError(
                f"{API_NAME_HEADER} {values[API_NAME_HEADER]!r} is not {expected_name!r} "
                f"({meaning})",
                field=API_NAME_HEADER,
                rule="api-name",
            )
        if not _BASE64.fullmatch(values[SIGNATURE_HEADER]):
            raise MalformedHeaderError(
                f"{SIGNATURE_HEADER} must be the Base64 of a 20-byte HMAC-SHA1",
                field=SIGNATURE_HEADER,
                rule="base64-hmac-sha1",
            )
        access_key = values[ACCESS_KEY_HEADER]
        secret = self._lookup(access_key)
        if secret is None:
            raise UnknownPaasidError(
                f"{ACCESS_KEY_HEADER} {access_key!r} is not a registered application",
                field=ACCESS_KEY_HEADER,
                rule="registered",
            )
        seconds = int(stamp) / 1000 if unit == "ms" else int(stamp)
        skew = seconds - self._clock()
        if abs(skew) > self.parameters.window_seconds:
            raise StaleTimestampError(
                f"{TIMESTAMP_HEADER} is {abs(skew):.0f} s away from the gateway's clock; "
                f"allowed ±{self.parameters.window_seconds:.0f} s",
                field=TIMESTAMP_HEADER,
                rule="within-window",
            )
        expected = csb_signature(secret, {name: values[name] for name in _SIGNED})
        if not hmac.compare_digest(expected, values[SIGNATURE_HEADER]):
            raise GatewaySignatureMismatchError(
                f"{SIGNATURE_HEADER} is not Base64(HMAC-SHA1(secret, sorted _api_* parameters)) "
                f"for access key {access_key!r}",
                field=SIGNATURE_HEADER,
                rule="hmac-sha1-of-sorted-parameters",
            )
        return access_key

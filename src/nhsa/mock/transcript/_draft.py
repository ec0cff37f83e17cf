"""One transcript record, filled in step by step as the request moves through the pipeline.

The record's shape is fixed (it is what the conformance suite judges a HIS by) and versioned:
``conformance/transcript-record.schema.json`` describes every member, and tests keep this module,
that schema and the suite's typed reader (``nhsa.conformance.TranscriptRecord``) equal::

    seq, tenant, received_at, answered_at, route, path, headers, infno, msgid, opter_type, opter,
    sign_no, insuplc_admdvs, request, request_sha256, gateway, signature, validation, infcode,
    err_msg, response, fault, delivered, state_changed, effects, error_id, schema_version,
    dialect

``seq`` is given by the store when the record is appended. ``error_id`` names the entry of
``interface_specs/v1/errors.json`` a refusal matches, or is ``None`` (a success, or a refusal
the catalogue has no entry for). Records written before :data:`SCHEMA_VERSION` existed lack it
and ``error_id``; the schema says how they are read. ``dialect`` (version 1.1) names the
province dialect the institution speaks and whether the request was in it: ``request`` is
always as received and ``response`` as sent, both in that dialect. A request whose sender
cannot be told (no readable ``fixmedins_code``) is recorded under the tenant ``"-"``.

Example:
    >>> from datetime import datetime
    >>> from nhsa.envelope import CHINA_TIME
    >>> when = datetime(2026, 11, 23, 10, 15, 30, 120000, tzinfo=CHINA_TIME)
    >>> draft = TranscriptDraft.start(received_at=when, route="single-entry",
    ...     path="/fsi/api/rsfComIfsService/callService", headers={}, body=b"{}")
    >>> draft.read_envelope({"infno": "9001", "fixmedins_code": "H53010100001"})
    >>> record = draft.finish(answered_at=when)
    >>> record["schema_version"], record["tenant"], record["infno"], record["received_at"]
    ('1.1', 'H53010100001', '9001', '2026-11-23T10:15:30.120+08:00')
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final, Literal

from nhsa.envelope import CHINA_TIME

__all__ = [
    "RECORDED_HEADERS",
    "SCHEMA_VERSION",
    "UNATTRIBUTED",
    "Route",
    "TranscriptDraft",
    "iso_millis",
]

SCHEMA_VERSION: Final = "1.1"
"""The ``schema_version`` every record carries (``conformance/transcript-record.schema.json``):
major.minor, a minor version only adds optional members."""

UNATTRIBUTED: Final = "-"
"""Tenant of a request whose sender cannot be told from the body."""

RECORDED_HEADERS: Final = (
    "x-tif-paasid",
    "x-tif-timestamp",
    "x-tif-nonce",
    "x-tif-signature",
    "x-mock-fault",
    "content-type",
    "_api_name",
    "_api_version",
    "_api_access_key",
    "_api_timestamp",
    "_api_signature",
)
"""Request headers kept in the record (others are not evidence of anything)."""

Route = Literal["single-entry", "per-transaction"]

_ENVELOPE_FIELDS: Final = ("infno", "msgid", "opter_type", "opter", "sign_no", "insuplc_admdvs")
_MAX_CODE_LENGTH: Final = 30


def iso_millis(when: datetime) -> str:
    """ISO 8601 in China time with milliseconds, e.g. ``2026-11-23T10:15:30.120+08:00``."""
    return when.astimezone(CHINA_TIME).isoformat(timespec="milliseconds")


@dataclass
class TranscriptDraft:
    """The record of one request, before the store numbers it.

    Create it with :meth:`start`; each pipeline step fills its part; :meth:`finish` returns
    the record as plain JSON-ready data (Decimals allowed: the store encodes them exactly).
    """

    received_at: datetime
    route: Route
    path: str
    headers: dict[str, str | None]
    request_sha256: str
    tenant: str = UNATTRIBUTED
    request: Any = None
    envelope: dict[str, Any] = field(default_factory=dict)
    gateway: dict[str, Any] = field(default_factory=dict)
    signature: dict[str, Any] = field(default_factory=dict)
    validation: list[dict[str, str]] = field(default_factory=list)
    infcode: int | None = None
    err_msg: str | None = None
    response: Any = None
    fault: dict[str, Any] | None = None
    delivered: bool = True
    state_changed: bool = False
    effects: dict[str, str] = field(default_factory=dict)
    error_id: str | None = None
    dialect: dict[str, Any] | None = None

    @classmethod
    def start(
        cls,
        *,
        received_at: datetime,
        route: Route,
        path: str,
        headers: Mapping[str, str],
        body: bytes,
    ) -> TranscriptDraft:
        """A draft for a request that just arrived."""
        lowered = {name.lower(): value for name, value in headers.items()}
        return cls(
            received_at=received_at,
            route=route,
            path=path,
            headers={name: lowered.get(name) for name in RECORDED_HEADERS},
            request_sha256=hashlib.sha256(body).hexdigest(),
            gateway={"scheme": "none", "ok": True, "error": None},
            signature={"present": False, "ok": None, "key_id": None, "error": None},
        )

    def read_envelope(self, document: object) -> None:
        """Keep the parsed body and pick the envelope fields the record shows on their own."""
        self.request = document
        if not isinstance(document, Mapping):
            return
        for name in _ENVELOPE_FIELDS:
            value = document.get(name)
            self.envelope[name] = value if isinstance(value, str) else None
        code = document.get("fixmedins_code")
        if isinstance(code, str) and 0 < len(code) <= _MAX_CODE_LENGTH:
            self.tenant = code

    def finish(self, *, answered_at: datetime) -> dict[str, Any]:
        """The complete record (without ``seq``)."""
        return {
            "tenant": self.tenant,
            "received_at": iso_millis(self.received_at),
            "answered_at": iso_millis(answered_at),
            "route": self.route,
            "path": self.path,
            "headers": self.headers,
            **{name: self.envelope.get(name) for name in _ENVELOPE_FIELDS},
            "request": self.request,
            "request_sha256": self.request_sha256,
            "gateway": self.gateway,
            "signature": self.signature,
            "validation": self.validation,
            "infcode": self.infcode,
            "err_msg": self.err_msg,
            "response": self.response,
            "fault": self.fault,
            "delivered": self.delivered,
            "state_changed": self.state_changed,
            "effects": self.effects,
            "error_id": self.error_id,
            "schema_version": SCHEMA_VERSION,  # members added later come last
            "dialect": self.dialect,
        }

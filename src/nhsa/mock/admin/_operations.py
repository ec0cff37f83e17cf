"""The admin API as data: one :class:`Operation` per route, from which both the Starlette routes
and the OpenAPI document are built — so no route can exist undescribed.

Example:
    >>> paths = {op.path for op in OPERATIONS}
    >>> "/tenants/{code}/faults" in paths and "/openapi.json" in paths
    True
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

from nhsa.mock.admin._models import (
    DowntimeWindow,
    EcTokenRequest,
    FilingRequest,
    FixturesRequest,
    InstitutionRegistration,
    RecognitionRequest,
)
from nhsa.mock.admin._service import AdminError, AdminService
from nhsa.mock.faults import FaultSpec

__all__ = ["OPERATIONS", "AdminRequest", "Operation", "Query"]

Handler = Callable[["AdminRequest"], object]


@dataclass(frozen=True)
class QueryParam:
    """A query parameter an operation reads."""

    name: str
    kind: Literal["integer", "boolean", "date", "string"]
    description: str
    required: bool = False


class Query:
    """Typed access to a request's query string; bad values are :class:`AdminError`.

    Example:
        >>> Query({"since": "5"}).integer("since", 0)
        5
    """

    def __init__(self, values: Mapping[str, str]) -> None:
        """Read ``values`` (the query string's name → value)."""
        self._values = values

    def integer(self, name: str, default: int) -> int:
        """An integer parameter."""
        raw = self._values.get(name)
        if raw is None:
            return default
        if not raw.lstrip("-").isdigit():
            raise AdminError(400, "invalid", name, "integer", f"{name}={raw!r} is not an integer")
        return int(raw)

    def boolean(self, name: str, default: bool) -> bool:
        """A boolean parameter: true/false, 1/0, yes/no."""
        raw = self._values.get(name)
        if raw is None:
            return default
        lowered = raw.lower()
        if lowered in ("1", "true", "yes"):
            return True
        if lowered in ("0", "false", "no"):
            return False
        raise AdminError(400, "invalid", name, "boolean", f"{name}={raw!r}: use true or false")

    def text(self, name: str) -> str:
        """A required text parameter."""
        raw = self._values.get(name)
        if not raw:
            raise AdminError(400, "invalid", name, "required", f"{name} is required")
        return raw

    def day(self, name: str) -> date:
        """A required ``yyyy-MM-dd`` parameter."""
        raw = self._values.get(name)
        if raw is None:
            raise AdminError(400, "invalid", name, "required", f"{name} (yyyy-MM-dd) is required")
        try:
            return date.fromisoformat(raw)
        except ValueError:
            raise AdminError(
                400, "invalid", name, "date", f"{name}={raw!r} is not yyyy-MM-dd"
            ) from None


@dataclass(frozen=True)
class AdminRequest:
    """What an operation's handler gets: the service, path parameters, query and body."""

    admin: AdminService
    path: Mapping[str, str]
    query: Query
    body: object

    @property
    def code(self) -> str:
        """The ``{code}`` path parameter: the tenant (institution) addressed."""
        return self.path["code"]


@dataclass(frozen=True)
class Operation:
    """One admin route: what it does, what it takes, and who may call it."""

    method: Literal["GET", "POST", "PUT", "DELETE"]
    path: str
    operation_id: str
    summary: str
    handler: Handler
    body: type[Any] | None = None
    query: tuple[QueryParam, ...] = ()
    public: bool = False
    produces: Literal["json", "jsonl", "openapi"] = "json"
    status: int = 200
    tag: str = "admin"
    prefix: Literal["/admin", "/public"] = "/admin"

    @property
    def url(self) -> str:
        """The full path of the route on the server."""
        return self.prefix + self.path


_SINCE = QueryParam("since", "integer", "only records with seq greater than this")
_MASK = QueryParam("mask", "boolean", "mask personal data (default: false for the API)")
_PAST = QueryParam("include_past", "boolean", "list windows that already ended too")


OPERATIONS: tuple[Operation, ...] = (
    Operation(
        "GET",
        "/health",
        "health",
        "Liveness and identity of the platform",
        lambda r: r.admin.health(),
        public=True,
        tag="public",
    ),
    Operation(
        "GET",
        "/openapi.json",
        "openapi",
        "This document (OpenAPI 3.1)",
        lambda _: None,
        public=True,
        produces="openapi",
        tag="public",
    ),
    Operation(
        "GET",
        "/platform-key",
        "platform_key",
        "The platform's SM2 public key, to verify signed answers",
        lambda r: r.admin.platform_public_key(),
        public=True,
        tag="public",
    ),
    Operation(
        "GET",
        "/institutions",
        "list_institutions",
        "Institutions registered through the API or listed in the fixtures",
        lambda r: r.admin.institutions(),
        tag="institutions",
    ),
    Operation(
        "POST",
        "/institutions",
        "register_institution",
        "Register an institution: area, tier, signing profile, paasid/token, public key",
        lambda r: r.admin.register_institution(r.body),
        body=InstitutionRegistration,
        status=201,
        tag="institutions",
    ),
    Operation(
        "GET",
        "/institutions/{code}",
        "get_institution",
        "One institution",
        lambda r: r.admin.institution(r.code),
        tag="institutions",
    ),
    Operation(
        "GET",
        "/tenants",
        "list_tenants",
        "Tenants with registered data or recorded state",
        lambda r: r.admin.tenants(),
        tag="tenants",
    ),
    Operation(
        "GET",
        "/tenants/{code}/state",
        "tenant_state",
        "Summary of a tenant's state: visits, ledger, messages, transcript, faults",
        lambda r: r.admin.tenant_state(r.code),
        tag="tenants",
    ),
    Operation(
        "GET",
        "/tenants/{code}/settlements",
        "tenant_settlements",
        "The tenant's settlement ledger (reversal rows included)",
        lambda r: r.admin.settlements(r.code),
        tag="tenants",
    ),
    Operation(
        "POST",
        "/tenants/{code}/reset",
        "reset_tenant",
        "Delete a tenant's state, transcript and faults (its registration stays)",
        lambda r: r.admin.reset_tenant(r.code),
        tag="tenants",
    ),
    Operation(
        "PUT",
        "/tenants/{code}/fixtures",
        "load_fixtures",
        "Give a tenant its own fixture folder (server-side path)",
        lambda r: r.admin.load_fixtures(r.code, r.body),
        body=FixturesRequest,
        tag="tenants",
    ),
    Operation(
        "DELETE",
        "/tenants/{code}/fixtures",
        "default_fixtures",
        "Return a tenant to the server's fixture set",
        lambda r: r.admin.use_default_fixtures(r.code),
        tag="tenants",
    ),
    Operation(
        "GET",
        "/tenants/{code}/faults",
        "list_faults",
        "The tenant's armed faults",
        lambda r: r.admin.faults(r.code),
        tag="faults",
    ),
    Operation(
        "POST",
        "/tenants/{code}/faults",
        "arm_fault",
        "Arm a fault: kind, scope (infno, psn_no, area), trigger (times, probability, seed)",
        lambda r: r.admin.arm_fault(r.code, r.body, "admin"),
        body=FaultSpec,
        status=201,
        tag="faults",
    ),
    Operation(
        "DELETE",
        "/tenants/{code}/faults",
        "clear_faults",
        "Disarm every fault",
        lambda r: r.admin.clear_faults(r.code),
        tag="faults",
    ),
    Operation(
        "DELETE",
        "/tenants/{code}/faults/{fault_id}",
        "clear_fault",
        "Disarm one fault",
        lambda r: r.admin.clear_faults(r.code, r.path["fault_id"]),
        tag="faults",
    ),
    Operation(
        "GET",
        "/tenants/{code}/transcript",
        "transcript",
        "Transcript records after a sequence number (JSON list; each record follows "
        "conformance/transcript-record.schema.json)",
        lambda r: r.admin.transcript(
            r.code, r.query.integer("since", 0), mask=r.query.boolean("mask", False)
        ),
        query=(_SINCE, _MASK),
        tag="transcript",
    ),
    Operation(
        "GET",
        "/tenants/{code}/transcript.jsonl",
        "transcript_jsonl",
        "Transcript records after a sequence number (JSON Lines; each line follows "
        "conformance/transcript-record.schema.json)",
        lambda r: r.admin.transcript(
            r.code, r.query.integer("since", 0), mask=r.query.boolean("mask", False)
        ),
        query=(_SINCE, _MASK),
        produces="jsonl",
        tag="transcript",
    ),
    Operation(
        "PUT",
        "/tenants/{code}/persons/{psn_no}/filing",
        "set_filing",
        "Set a person's filing record (备案) for this tenant",
        lambda r: r.admin.set_filing(r.code, r.path["psn_no"], r.body),
        body=FilingRequest,
        tag="public services",
    ),
    Operation(
        "DELETE",
        "/tenants/{code}/persons/{psn_no}/filing",
        "clear_filing",
        "Drop the tenant's filing override (the fixtures' filing applies again)",
        lambda r: r.admin.clear_filing(r.code, r.path["psn_no"]),
        tag="public services",
    ),
    Operation(
        "POST",
        "/tenants/{code}/ectokens",
        "issue_ec_token",
        "Issue a test e-voucher token (ecToken) that 1101 accepts until it expires",
        lambda r: r.admin.issue_ec_token(r.code, r.body),
        body=EcTokenRequest,
        status=201,
        tag="public services",
    ),
    Operation(
        "GET",
        "/downtime",
        "public_notices",
        "Public notice board (停机公告) of an institution: current and future windows",
        lambda r: r.admin.notices(r.query.text("fixmedins_code")),
        query=(QueryParam("fixmedins_code", "string", "the institution asking", required=True),),
        public=True,
        tag="public",
        prefix="/public",
    ),
    Operation(
        "GET",
        "/ping",
        "ping",
        "An empty answer (liveness; the benchmark's baseline)",
        lambda _: {},
        public=True,
        tag="public",
        prefix="/public",
    ),
    Operation(
        "GET",
        "/tenants/{code}/downtime",
        "list_downtime",
        "The tenant's downtime windows (停机)",
        lambda r: r.admin.notices(r.code, include_past=r.query.boolean("include_past", True)),
        query=(_PAST,),
        tag="public services",
    ),
    Operation(
        "POST",
        "/tenants/{code}/downtime",
        "schedule_downtime",
        "Schedule an insured-area downtime window (停机)",
        lambda r: r.admin.schedule_downtime(r.code, r.body),
        body=DowntimeWindow,
        status=201,
        tag="public services",
    ),
    Operation(
        "DELETE",
        "/tenants/{code}/downtime/{window_id}",
        "cancel_downtime",
        "Cancel a downtime window",
        lambda r: r.admin.cancel_downtime(r.code, r.path["window_id"]),
        tag="public services",
    ),
    Operation(
        "GET",
        "/tenants/{code}/notices",
        "notices",
        "The notice board (停机公告): current and future windows",
        lambda r: r.admin.notices(r.code, include_past=r.query.boolean("include_past", False)),
        query=(_PAST,),
        tag="public services",
    ),
    Operation(
        "GET",
        "/tenants/{code}/statistics",
        "statistics",
        "Visits, medical costs, fund payments and fund share for a date range",
        lambda r: r.admin.statistics(r.code, r.query.day("from"), r.query.day("to")),
        query=(
            QueryParam("from", "date", "first day (yyyy-MM-dd)", required=True),
            QueryParam("to", "date", "last day (yyyy-MM-dd)", required=True),
        ),
        tag="public services",
    ),
    Operation(
        "GET",
        "/tenants/{code}/persons/{psn_no}/recognitions",
        "list_recognitions",
        "A person's recognised chronic diseases (门慢/门特 待遇认定), cancelled ones included",
        lambda r: r.admin.recognitions(r.code, r.path["psn_no"]),
        tag="public services",
    ),
    Operation(
        "POST",
        "/tenants/{code}/persons/{psn_no}/recognitions",
        "recognise",
        "Record the insured place's recognition of a person's chronic disease (门慢/门特)",
        lambda r: r.admin.recognise(r.code, r.path["psn_no"], r.body),
        body=RecognitionRequest,
        status=201,
        tag="public services",
    ),
    Operation(
        "DELETE",
        "/tenants/{code}/persons/{psn_no}/recognitions/{trt_dcla_detl_sn}",
        "withdraw_recognition",
        "Withdraw a recognition: med_type 14 visits may no longer name its disease",
        lambda r: r.admin.withdraw_recognition(
            r.code, r.path["psn_no"], r.path["trt_dcla_detl_sn"]
        ),
        tag="public services",
    ),
)
"""Every admin route, relative to ``/admin``."""

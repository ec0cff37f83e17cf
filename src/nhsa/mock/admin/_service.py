"""The admin operations, once: the HTTP admin API and ``MockPlatform``'s methods both call these.

Every operation returns plain JSON data (Decimal amounts allowed) and refuses bad input with
an :class:`AdminError` that names the field and the rule, and carries the HTTP status the
admin API answers with.

Example:
    >>> from nhsa.mock.store import SqliteStore
    >>> from nhsa.mock.fixtures import bundled_fixtures
    >>> from nhsa.mock.engine import Engine
    >>> from nhsa.mock.app import PlatformCore
    >>> store = SqliteStore(":memory:")
    >>> engine = Engine(store, bundled_fixtures())
    >>> admin = AdminService(PlatformCore(store, engine, bundled_fixtures()))
    >>> admin.arm_fault("H53010100001", {"kind": "reset", "infno": "2207"})["id"]
    'f-1'
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import asdict
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from pydantic import ValidationError

from nhsa import __version__
from nhsa.mock.admin._models import (
    DowntimeWindow,
    EcTokenRequest,
    FilingRequest,
    FixturesRequest,
    InstitutionRegistration,
    RecognitionRequest,
)
from nhsa.mock.app import PlatformCore
from nhsa.mock.engine import Figures, PlatformServices, ServiceError
from nhsa.mock.faults import FaultSpecError, Origin, parse_fault_spec
from nhsa.mock.fixtures import FixtureError
from nhsa.mock.store import (
    Downtime,
    Message,
    Recognition,
    RegisteredInstitution,
    Settlement,
    Visit,
)
from nhsa.mock.transcript import masked
from nhsa.signing import Sm2PublicKey
from nhsa.signing.errors import SigningError

__all__ = ["AdminError", "AdminService"]


class AdminError(Exception):
    """An admin request that cannot be carried out.

    Attributes:
        status: the HTTP status of the admin API's answer (400, 404, 409).
        code: a stable name (``invalid``, ``unknown-tenant``, ``unknown-fault``, …).
        field: the field at fault.
        rule: the rule it breaks.

    Example:
        >>> error = AdminError(404, "unknown-tenant", "code", "registered", "no such tenant")
        >>> error.as_json()["error"]["rule"], error.status
        ('registered', 404)
    """

    def __init__(self, status: int, code: str, field: str, rule: str, message: str) -> None:
        super().__init__(f"{field}: [{rule}] {message}")
        self.status = status
        self.code = code
        self.field = field
        self.rule = rule
        self.message = message

    def as_json(self) -> dict[str, Any]:
        """The admin API's error body."""
        return {
            "error": {
                "code": self.code,
                "field": self.field,
                "rule": self.rule,
                "message": self.message,
            }
        }


def _invalid(field: str, rule: str, message: str) -> AdminError:
    return AdminError(400, "invalid", field, rule, message)


def parse_body(model: type[Any], data: object) -> Any:
    """Validate a request body with a pydantic model, or :class:`AdminError` naming the field.

    Example:
        >>> try:
        ...     parse_body(EcTokenRequest, {"ttl_seconds": 0})
        ... except AdminError as error:
        ...     print(error.field, error.rule)
        psn_no missing
    """
    if isinstance(data, model):
        return data
    if not isinstance(data, Mapping):
        raise _invalid("body", "type", "the body must be a JSON object")
    try:
        return model.model_validate(dict(data))
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        field = ".".join(str(part) for part in first["loc"]) or "body"
        raise _invalid(field, str(first["type"]), str(first["msg"])) from None


class AdminService:
    """Admin operations over one running platform (see the module docstring).

    Args:
        core: the platform's shared parts.
    """

    def __init__(self, core: PlatformCore) -> None:
        """Operate on ``core``."""
        self.core = core
        self.services = PlatformServices(core.engine)

    # -- health ---------------------------------------------------------------------------

    def health(self) -> dict[str, Any]:
        """Liveness and identity of the platform (no secrets)."""
        core = self.core
        with core.store.snapshot() as tx:
            tx.find(RegisteredInstitution)  # proves the database answers
        return {
            "status": "ok",
            "version": __version__,
            "time": core.clock().isoformat(timespec="milliseconds"),
            "default_profile": str(core.default_profile),
            "platform_key_id": core.platform_key.key_id,
            "fault_header": core.options.allow_fault_header,
            "worker": os.getpid(),  # which server process answered (several share PostgreSQL)
        }

    def platform_public_key(self) -> dict[str, str]:
        """The platform's SM2 public key (PEM) and key id, for verifying answers."""
        key = self.core.platform_key.public_key
        return {"key_id": key.key_id, "public_key_pem": key.to_pem().decode()}

    # -- institutions ---------------------------------------------------------------------

    def register_institution(self, body: object) -> dict[str, Any]:
        """Register (or re-register) an institution with its credentials and key."""
        request: InstitutionRegistration = parse_body(InstitutionRegistration, body)
        key_id = request.key_id
        if request.public_key_pem:
            try:
                key_id = Sm2PublicKey.from_pem(request.public_key_pem).key_id
            except SigningError as error:
                raise _invalid(
                    "public_key_pem", error.rule or "sm2-public-key", str(error)
                ) from None
            if request.key_id not in (None, key_id):
                raise _invalid(
                    "key_id", "matches-key", f"{request.key_id} is not the id of the key ({key_id})"
                )
        record = RegisteredInstitution(
            request.fixmedins_code,
            request.fixmedins_name,
            request.mdtrtarea_admvs,
            request.level,
            tuple(request.networked),
            key_id,
            request.public_key_pem,
            request.paasid,
            request.token,
            request.profile,
            request.dialect,
        )
        try:
            self.core.directory.check(record)
        except SigningError as error:
            field = "profile" if error.field in (None, "profile") else error.field
            raise _invalid(field, error.rule or "usable", str(error)) from None
        except ValueError as error:
            field, _, message = str(error).partition(": ")
            raise _invalid(field, "usable", message) from None
        try:
            stored = self.services.register_institution(
                record.fixmedins_code,
                record.fixmedins_name,
                record.mdtrtarea_admvs,
                record.level,
                record.networked,
                key_id=record.key_id,
                public_key_pem=record.public_key_pem,
                paasid=record.paasid,
                paas_token=record.paas_token,
                signing_profile=record.signing_profile,
                dialect=record.dialect,
            )
        except ServiceError as error:
            raise _invalid(error.field, "valid", error.rule) from None
        self.core.directory.remember(stored)
        return self.institution(stored.fixmedins_code)

    def institution(self, code: str) -> dict[str, Any]:
        """One registered institution (fixtures or admin), without its token."""
        tenant = self.core.directory.get(code)
        if tenant is None:
            raise AdminError(
                404,
                "unknown-tenant",
                "code",
                "registered",
                f"{code} is neither registered nor in the fixtures",
            )
        registration = self.core.directory.registration(code)
        return {
            "fixmedins_code": tenant.code,
            "fixmedins_name": tenant.name,
            "mdtrtarea_admvs": tenant.area,
            "level": tenant.level,
            "networked": list(registration.networked) if registration else None,
            "profile": str(tenant.profile),
            "dialect": tenant.dialect.name,
            "paasid": tenant.paasid,
            "key_id": tenant.key_id,
            "source": tenant.source,
        }

    def institutions(self) -> list[dict[str, Any]]:
        """Every institution registered through the admin API or listed in the fixtures."""
        codes = set(self.core.directory.registered_codes())
        codes.update(i.fixmedins_code for i in self.core.fixtures.institutions)
        return [self.institution(code) for code in sorted(codes)]

    # -- tenants --------------------------------------------------------------------------

    def tenants(self) -> list[dict[str, Any]]:
        """Every tenant with a registration or any recorded state, with its armed faults."""
        with self.core.store.snapshot() as tx:
            codes = tx.tenants()
        return [{"tenant": code, "faults": len(self.core.faults.faults(code))} for code in codes]

    def tenant_state(self, code: str) -> dict[str, Any]:
        """A summary of a tenant's state: visits by status, ledger rows, messages, transcript."""
        with self.core.store.snapshot() as tx:
            visits = tx.find(Visit, tenant=code)
            rows = tx.find(Settlement, tenant=code)
            messages = len(tx.find(Message, tenant=code))
            transcript = tx.transcript(code)
        by_status: dict[str, int] = {}
        for visit in visits:
            by_status[visit.status] = by_status.get(visit.status, 0) + 1
        live = [row for row in rows if row.is_live]
        return {
            "tenant": code,
            "visits": by_status,
            "settlements": {
                "rows": len(rows),
                "live": len(live),
                "reversal_rows": sum(1 for row in rows if row.refd_setl_flag == "1"),
            },
            "messages": messages,
            "transcript": {
                "records": len(transcript),
                "last_seq": transcript[-1]["seq"] if transcript else 0,
            },
            "faults": [fault.describe() for fault in self.core.faults.faults(code)],
        }

    def settlements(self, code: str) -> list[dict[str, Any]]:
        """The tenant's settlement ledger, one row per settlement or reversal row."""
        with self.core.store.snapshot() as tx:
            rows = tx.find(Settlement, tenant=code)
        return [
            {
                "setl_id": row.setl_id,
                "mdtrt_id": row.mdtrt_id,
                "psn_no": row.psn_no,
                "msgid": row.msgid,
                "infno": row.infno,
                "setl_time": row.setl_time.isoformat(),
                "setl_date": row.setl_date.isoformat(),
                "insutype": row.insutype,
                "insuplc_admdvs": row.insuplc_admdvs,
                "clr_type": row.clr_type,
                "clr_optins": row.clr_optins,
                "medfee_sumamt": row.medfee_sumamt,
                "fund_pay_sumamt": row.fund_pay_sumamt,
                "acct_pay": row.acct_pay,
                "psn_cash_pay": row.psn_cash_pay,
                "refd_setl_flag": row.refd_setl_flag,
                "status": row.status,
                "reverses": row.reverses,
                "reversed_by": row.reversed_by,
                "live": row.is_live,
            }
            for row in rows
        ]

    def reset_tenant(self, code: str) -> dict[str, Any]:
        """Delete a tenant's state, transcript and faults (its registration stays)."""
        deleted = self.services.reset_tenant(code, keep_registration=True)
        faults = self.core.faults.clear(code)
        return {"tenant": code, "deleted": deleted, "faults_cleared": faults}

    # -- fixtures -------------------------------------------------------------------------

    def load_fixtures(self, code: str, body: object) -> dict[str, Any]:
        """Give a tenant its own fixture folder (validated before it is used)."""
        request: FixturesRequest = parse_body(FixturesRequest, body)
        try:
            fixtures = self.services.load_fixtures(code, request.dir)
        except FixtureError as error:
            raise _invalid("dir", "valid-fixtures", str(error)) from None
        except OSError as error:
            raise _invalid("dir", "readable", f"{request.dir}: {error.strerror}") from None
        self.core.directory.forget_fixture_entry(code)
        return {
            "tenant": code,
            "dir": str(fixtures.source) if fixtures.source else request.dir,
            "institutions": len(fixtures.institutions),
            "persons": len(fixtures.persons),
        }

    def use_default_fixtures(self, code: str) -> dict[str, Any]:
        """Return a tenant to the server's fixture set."""
        self.services.use_default_fixtures(code)
        self.core.directory.forget_fixture_entry(code)
        return {"tenant": code, "dir": None}

    # -- faults ---------------------------------------------------------------------------

    def arm_fault(self, code: str, body: object, origin: Origin = "python") -> dict[str, Any]:
        """Arm a fault for a tenant (see :mod:`nhsa.mock.faults`)."""
        try:
            spec = parse_fault_spec(dict(body) if isinstance(body, Mapping) else body)
        except FaultSpecError as error:
            raise _invalid(error.field or "kind", error.rule, error.message) from None
        return self.core.faults.arm(code, spec, origin).describe()

    def faults(self, code: str) -> list[dict[str, Any]]:
        """The tenant's armed faults."""
        return [fault.describe() for fault in self.core.faults.faults(code)]

    def clear_faults(self, code: str, fault_id: str | None = None) -> dict[str, Any]:
        """Disarm one fault or all of them."""
        removed = self.core.faults.clear(code, fault_id)
        if fault_id is not None and removed == 0:
            raise AdminError(
                404, "unknown-fault", "fault_id", "armed", f"{fault_id} is not armed for {code}"
            )
        return {"tenant": code, "cleared": removed}

    # -- transcript -----------------------------------------------------------------------

    def transcript(self, code: str, since: int = 0, *, mask: bool = False) -> list[dict[str, Any]]:
        """The tenant's records after ``since`` (unmasked unless asked: the lab's archive)."""
        if since < 0:
            raise _invalid("since", "minimum", "since is a sequence number, 0 or more")
        found = self.core.store.transcript(code, since)
        return [masked(record) for record in found] if mask else found

    # -- filings, e-voucher tokens --------------------------------------------------------

    def set_filing(self, code: str, psn_no: str, body: object) -> dict[str, Any]:
        """Set a person's filing record for this tenant (``kind: none`` = unfiled)."""
        request: FilingRequest = parse_body(FilingRequest, body)
        kind = None if request.kind == "none" else request.kind
        try:
            filing = self.services.set_filing(
                code,
                psn_no,
                kind,
                area=request.area,
                begndate=request.begndate,
                enddate=request.enddate,
            )
        except ServiceError as error:
            raise _invalid(error.field, "valid", error.rule) from None
        return {"tenant": code, "psn_no": psn_no, "filing": filing.to_json() if filing else None}

    def clear_filing(self, code: str, psn_no: str) -> dict[str, Any]:
        """Drop the tenant's filing override: the fixtures' filing applies again."""
        return {
            "tenant": code,
            "psn_no": psn_no,
            "cleared": self.services.clear_filing(code, psn_no),
        }

    def issue_ec_token(self, code: str, body: object) -> dict[str, Any]:
        """Issue a test e-voucher token for 1101 with certificate type 01."""
        request: EcTokenRequest = parse_body(EcTokenRequest, body)
        try:
            token = self.services.issue_ec_token(
                code, request.psn_no, valid_for=timedelta(seconds=request.ttl_seconds)
            )
        except ServiceError as error:
            raise _invalid(error.field, "valid", error.rule) from None
        return {
            "tenant": code,
            "psn_no": token.psn_no,
            "ec_token": token.token,
            "expires_at": token.expires_at.isoformat(),
        }

    # -- chronic-disease recognitions (门慢/门特 待遇认定) ---------------------------------

    def recognitions(self, code: str, psn_no: str) -> list[dict[str, Any]]:
        """A person's recognitions for this tenant, cancelled ones included."""
        try:
            rows = self.services.recognitions(code, psn_no)
        except ServiceError as error:
            raise _invalid(error.field, "valid", error.rule) from None
        return [_recognition(row) for row in rows]

    def recognise(self, code: str, psn_no: str, body: object) -> dict[str, Any]:
        """Record the insured place's recognition of a person's chronic disease."""
        request: RecognitionRequest = parse_body(RecognitionRequest, body)
        try:
            row = self.services.recognise(
                code,
                psn_no,
                request.opsp_dise_code,
                begndate=request.begndate,
                enddate=request.enddate,
                insutype=request.insutype,
            )
        except ServiceError as error:
            raise _invalid(error.field, "valid", error.rule) from None
        return _recognition(row)

    def withdraw_recognition(self, code: str, psn_no: str, serial: str) -> dict[str, Any]:
        """Withdraw a recognition: a chronic visit may no longer name its disease."""
        try:
            row = self.services.withdraw_recognition(code, psn_no, serial)
        except ServiceError as error:
            raise AdminError(
                404, "unknown-recognition", error.field, "recognised", error.rule
            ) from None
        return _recognition(row)

    # -- downtime and the notice board ----------------------------------------------------

    def schedule_downtime(self, code: str, body: object) -> dict[str, Any]:
        """Schedule an insured-area downtime window (停机) for a tenant."""
        request: DowntimeWindow = parse_body(DowntimeWindow, body)
        try:
            window = self.services.schedule_downtime(
                code, request.admdvs, request.start, request.end, reason=request.reason
            )
        except ServiceError as error:
            raise _invalid(error.field, "valid", error.rule) from None
        return _window(window)

    def cancel_downtime(self, code: str, window_id: str) -> dict[str, Any]:
        """Remove a downtime window."""
        if not self.services.cancel_downtime(code, window_id):
            raise AdminError(
                404, "unknown-window", "window_id", "scheduled", f"{window_id} is not scheduled"
            )
        return {"tenant": code, "window_id": window_id, "cancelled": True}

    def notices(self, code: str, *, include_past: bool = False) -> list[dict[str, Any]]:
        """The tenant's notice board (停机公告): current and future windows."""
        return [_window(w) for w in self.services.notices(code, include_past=include_past)]

    # -- statistics -----------------------------------------------------------------------

    def statistics(self, code: str, begndate: date, enddate: date) -> dict[str, Any]:
        """Visits, medical costs, fund payments and fund share for a date range."""
        try:
            stats = self.services.statistics(code, begndate, enddate)
        except ServiceError as error:
            raise _invalid(error.field, "valid", error.rule) from None
        return {
            "tenant": stats.tenant,
            "begndate": stats.begndate.isoformat(),
            "enddate": stats.enddate.isoformat(),
            "total": _figures(stats.total),
            "by_locality": {name: _figures(f) for name, f in stats.by_locality.items()},
        }


def _figures(figures: Figures) -> dict[str, Any]:
    data: dict[str, Any] = asdict(figures)
    share: Decimal | None = figures.fund_share
    data["fund_share"] = share
    return data


def _recognition(row: Recognition) -> dict[str, Any]:
    return {
        "tenant": row.tenant,
        "psn_no": row.psn_no,
        "trt_dcla_detl_sn": row.trt_dcla_detl_sn,
        "insutype": row.insutype,
        "opsp_dise_code": row.opsp_dise_code,
        "opsp_dise_name": row.opsp_dise_name,
        "insu_optins": row.insu_optins,
        "begndate": row.begndate.isoformat(),
        "enddate": row.enddate.isoformat() if row.enddate else None,
        "source": row.source,
        "status": row.status,
    }


def _window(window: Downtime) -> dict[str, Any]:
    return {
        "tenant": window.tenant,
        "window_id": window.window_id,
        "admdvs": window.admdvs,
        "start": window.start.isoformat(),
        "end": window.end.isoformat(),
        "reason": window.reason,
    }

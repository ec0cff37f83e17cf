"""The platform's public services, data side: what the admin API and in-process users call.

Each method is one state change in its own store transaction, keyed by tenant: register an
institution and its key; give a tenant its own fixture folder; set a person's filing record
(备案); issue test e-voucher tokens with an expiry; schedule insured-place downtime windows
(停机) and read the notice board (停机公告); statistics of the ledger for a date range; the
insured place's recognition of a person's chronic disease (门慢/门特 待遇认定): list, recognise,
withdraw.
Bad arguments raise :class:`ServiceError` naming the field and the rule.

Example::

    services = PlatformServices(engine)
    services.register_institution("H53010199001", "实验室测试医院", "530100", "3", ["outpatient"])
    token = services.issue_ec_token("H53010199001", "P53010000000001", valid_for=timedelta(hours=1))
    services.schedule_downtime("H53010199001", "440300", start, end, reason="系统升级")
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from nhsa.mock.engine._accounts import FILING_KINDS, FilingOnRecord
from nhsa.mock.engine._chronic import INSURED_PLACE, disease_name, recognitions
from nhsa.mock.engine._context import format_id
from nhsa.mock.engine._engine import FIXTURES_DIR, Engine
from nhsa.mock.engine._ledger import ledger
from nhsa.mock.fixtures import FixtureSet, InsuredPerson, Service
from nhsa.mock.settlement import Locality, locality_of
from nhsa.mock.store import (
    ACTIVE,
    CANCELLED,
    Downtime,
    EcToken,
    FilingOverride,
    Recognition,
    RegisteredInstitution,
    Settlement,
    TenantSetting,
)

_CODE = re.compile(r"^H[0-9]{11}$")
_AREA = re.compile(r"^[0-9]{6}$")
_LEVELS = ("1", "2", "3")
_RATIO = Decimal("0.0001")


class ServiceError(ValueError):
    """A public-service request the platform refuses; names the field and the rule.

    Example:
        >>> str(ServiceError("admdvs", "must be 6 digits"))
        'admdvs: must be 6 digits'
    """

    def __init__(self, field: str, rule: str) -> None:
        self.field = field
        self.rule = rule
        super().__init__(f"{field}: {rule}")


@dataclass(frozen=True)
class Figures:
    """Ledger totals of one slice: net settlements (reversals subtract), visits, amounts.

    Example:
        >>> Figures(medfee_sumamt=Decimal("80.00"), fund_pay_sumamt=Decimal("56.00")).fund_share
        Decimal('0.7000')
    """

    settlements: int = 0
    visits: int = 0
    medfee_sumamt: Decimal = Decimal("0.00")
    fund_pay_sumamt: Decimal = Decimal("0.00")
    acct_pay: Decimal = Decimal("0.00")
    psn_cash_pay: Decimal = Decimal("0.00")

    @property
    def fund_share(self) -> Decimal | None:
        """Fund payments as a share of medical costs (4 places), ``None`` without costs."""
        if not self.medfee_sumamt:
            return None
        return (self.fund_pay_sumamt / self.medfee_sumamt).quantize(_RATIO)

    @classmethod
    def of(cls, rows: Sequence[Settlement]) -> Figures:
        """The figures of ledger rows: a reversal row cancels its settlement."""
        per_visit: dict[str, int] = {}
        for row in rows:
            step = -1 if row.refd_setl_flag == "1" else 1
            per_visit[row.mdtrt_id] = per_visit.get(row.mdtrt_id, 0) + step
        zero = Decimal("0.00")
        return cls(
            settlements=sum(per_visit.values()),
            visits=sum(1 for count in per_visit.values() if count > 0),
            medfee_sumamt=sum((r.medfee_sumamt for r in rows), zero),
            fund_pay_sumamt=sum((r.fund_pay_sumamt for r in rows), zero),
            acct_pay=sum((r.acct_pay for r in rows), zero),
            psn_cash_pay=sum((r.psn_cash_pay for r in rows), zero),
        )


@dataclass(frozen=True)
class Statistics:
    """The public statistics of the ledger for a date range (reversals netted out), of one
    tenant or (``tenant`` None) of every institution.

    ``by_locality`` splits the total by where patients are insured: ``local``,
    ``in_province`` (省内异地) and ``cross_province`` (跨省异地).
    """

    tenant: str | None
    begndate: date
    enddate: date
    total: Figures
    by_locality: dict[str, Figures] = field(default_factory=dict)


class PlatformServices:
    """The public services of one engine (see the module docstring)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    # -- institutions and fixtures -----------------------------------------------------------

    def register_institution(
        self,
        fixmedins_code: str,
        fixmedins_name: str,
        mdtrtarea_admvs: str,
        level: str,
        networked: Iterable[str],
        *,
        key_id: str | None = None,
        public_key_pem: str | None = None,
        paasid: str | None = None,
        paas_token: str | None = None,
        signing_profile: str | None = None,
        dialect: str | None = None,
    ) -> RegisteredInstitution:
        """Register (or re-register) an institution: a tenant the platform answers."""
        if not _CODE.fullmatch(fixmedins_code):
            raise ServiceError("fixmedins_code", f"{fixmedins_code!r} must be H + 11 digits")
        if not fixmedins_name or len(fixmedins_name) > 200:
            raise ServiceError("fixmedins_name", "must be 1 to 200 characters")
        _area("mdtrtarea_admvs", mdtrtarea_admvs)
        if level not in _LEVELS:
            raise ServiceError("level", f"{level!r} must be 1, 2 or 3 (hospital tier)")
        services = tuple(networked)
        known = [service.value for service in Service]
        unknown = [s for s in services if s not in known]
        if unknown:
            raise ServiceError("networked", f"{unknown} not in {known}")
        record = RegisteredInstitution(
            fixmedins_code,
            fixmedins_name,
            mdtrtarea_admvs,
            level,
            services,
            key_id,
            public_key_pem,
            paasid,
            paas_token,
            signing_profile,
            dialect,
        )
        with self.engine.store.transaction() as tx:
            tx.put(record)
        return record

    def registered_institutions(self) -> list[RegisteredInstitution]:
        """Institutions registered through this service (bundled ones are in the fixtures)."""
        with self.engine.store.snapshot() as tx:
            return tx.find(RegisteredInstitution)

    def load_fixtures(self, tenant: str, directory: Path | str) -> FixtureSet:
        """Give a tenant its own fixture folder (validated now; ``FixtureError`` if broken)."""
        path = str(Path(directory).resolve())
        self.engine.forget(path)
        fixtures = self.engine.load(path)
        with self.engine.store.transaction() as tx:
            tx.put(TenantSetting(tenant, FIXTURES_DIR, path))
        return fixtures

    def use_default_fixtures(self, tenant: str) -> None:
        """Return a tenant to the engine's default fixture set."""
        with self.engine.store.transaction() as tx:
            tx.delete(TenantSetting, tenant, FIXTURES_DIR)

    def reset_tenant(self, tenant: str, *, keep_registration: bool = True) -> dict[str, int]:
        """Delete a tenant's state (transcript included); rows deleted per table."""
        with self.engine.store.transaction() as tx:
            return tx.reset_tenant(tenant, keep_registration=keep_registration)

    # -- filings and e-voucher tokens -------------------------------------------------------

    def set_filing(
        self,
        tenant: str,
        psn_no: str,
        kind: str | None,
        *,
        area: str | None = None,
        begndate: date | None = None,
        enddate: date | None = None,
    ) -> FilingOnRecord | None:
        """Set a person's filing for this tenant; ``kind`` None records "no filing".

        Kinds: retiree, long_term_resident, resident_worker, referral, or emergency
        (急诊 without a filing). ``area`` is the filed treatment area.
        """
        self._person(tenant, psn_no)
        filing = None
        if kind is not None:
            if kind not in FILING_KINDS:
                raise ServiceError("kind", f"{kind!r} must be one of {', '.join(FILING_KINDS)}")
            if area is None or begndate is None:
                raise ServiceError("area", "a filing needs its treatment area and begndate")
            _area("area", area)
            if enddate is not None and enddate < begndate:
                raise ServiceError("enddate", f"{enddate} is before begndate {begndate}")
            filing = FilingOnRecord(kind, area, begndate, enddate)
        with self.engine.store.transaction() as tx:
            tx.put(
                FilingOverride(
                    tenant, psn_no, filing.to_json() if filing else None, self.engine.now()
                )
            )
        return filing

    def clear_filing(self, tenant: str, psn_no: str) -> bool:
        """Drop the tenant's override: the fixture's filing applies again."""
        with self.engine.store.transaction() as tx:
            return tx.delete(FilingOverride, tenant, psn_no)

    def issue_ec_token(
        self,
        tenant: str,
        psn_no: str,
        *,
        valid_for: timedelta = timedelta(hours=24),
        token: str | None = None,
    ) -> EcToken:
        """Issue an e-voucher token 1101 accepts (certificate type 01) until it expires."""
        self._person(tenant, psn_no)
        if valid_for <= timedelta(0):
            raise ServiceError("valid_for", f"{valid_for} must be positive")
        value = token or f"ECT{secrets.token_hex(16).upper()}"
        if not 1 <= len(value) <= 50:
            raise ServiceError("token", "must be 1 to 50 characters (mdtrt_cert_no)")
        now = self.engine.now()
        record = EcToken(tenant, value, psn_no, now, now + valid_for)
        with self.engine.store.transaction() as tx:
            tx.put(record)
        return record

    # -- downtime and the notice board ------------------------------------------------------

    def schedule_downtime(
        self, tenant: str, admdvs: str, start: datetime, end: datetime, *, reason: str = "系统维护"
    ) -> Downtime:
        """Schedule a window in which calls for insured areas inside ``admdvs`` are refused."""
        _area("admdvs", admdvs)
        if start.tzinfo is None or end.tzinfo is None:
            raise ServiceError("start", "start and end need a time zone (China time, +08:00)")
        if end <= start:
            raise ServiceError("end", f"{end.isoformat()} must be after start {start.isoformat()}")
        with self.engine.store.transaction() as tx:
            window = Downtime(
                tenant,
                format_id("window_id", tx.next_id()),
                admdvs,
                start,
                end,
                reason,
                self.engine.now(),
            )
            tx.put(window)
        return window

    def cancel_downtime(self, tenant: str, window_id: str) -> bool:
        """Remove a window; whether it existed."""
        with self.engine.store.transaction() as tx:
            return tx.delete(Downtime, tenant, window_id)

    def notices(self, tenant: str, *, include_past: bool = False) -> list[Downtime]:
        """The notice board (停机公告): current and future windows by start time."""
        now = self.engine.now()
        with self.engine.store.snapshot() as tx:
            windows = tx.find(Downtime, tenant=tenant)
        kept = [w for w in windows if include_past or w.end > now]
        return sorted(kept, key=lambda window: (window.start, window.window_id))

    # -- statistics -------------------------------------------------------------------------

    def statistics(self, tenant: str | None, begndate: date, enddate: date) -> Statistics:
        """Visits, medical costs, fund payments and fund share from the ledger.

        ``tenant`` None covers every institution (what the authority publishes).
        """
        if enddate < begndate:
            raise ServiceError("enddate", f"{enddate} is before begndate {begndate}")
        with self.engine.store.snapshot() as tx:
            tenants = [tenant] if tenant is not None else tx.tenants()
            rows = [row for code in tenants for row in ledger(tx, code, begndate, enddate)]
        slices: dict[str, list[Settlement]] = {place.value: [] for place in Locality}
        for row in rows:
            # clr_optins is the treatment place's area the row was settled at
            slices[locality_of(row.insuplc_admdvs, row.clr_optins).value].append(row)
        return Statistics(
            tenant,
            begndate,
            enddate,
            Figures.of(rows),
            {name: Figures.of(part) for name, part in slices.items()},
        )

    # -- chronic-disease recognitions (门慢/门特 待遇认定) ---------------------------------

    def recognitions(self, tenant: str, psn_no: str) -> list[Recognition]:
        """The person's recognitions for this tenant (fixtures overlaid by what changed)."""
        person = self._person(tenant, psn_no)
        with self.engine.store.snapshot() as tx:
            return recognitions(tx, tenant, person)

    def recognise(
        self,
        tenant: str,
        psn_no: str,
        opsp_dise_code: str,
        *,
        begndate: date,
        enddate: date | None = None,
        insutype: str | None = None,
    ) -> Recognition:
        """Record the insured place's recognition of a person's chronic disease.

        ``insutype`` defaults to the person's only (or first) insurance row; the recognising
        place is that row's insured area.
        """
        person = self._person(tenant, psn_no)
        name = disease_name(opsp_dise_code)
        if name is None:
            raise ServiceError(
                "opsp_dise_code", f"{opsp_dise_code!r} is not in codes/opsp_dise_code.json"
            )
        record = person.record(insutype) if insutype else person.insurance[0]
        if record is None:
            held = ", ".join(r.insutype for r in person.insurance)
            raise ServiceError("insutype", f"{insutype!r} is not one of the person's ({held})")
        if enddate is not None and enddate < begndate:
            raise ServiceError("enddate", f"{enddate} is before begndate {begndate}")
        with self.engine.store.transaction() as tx:
            row = Recognition(
                tenant=tenant,
                trt_dcla_detl_sn=format_id("trt_dcla_detl_sn", tx.next_id()),
                psn_no=psn_no,
                insutype=record.insutype,
                opsp_dise_code=opsp_dise_code,
                opsp_dise_name=name,
                insu_optins=record.insuplc_admdvs,
                begndate=begndate,
                enddate=enddate,
                source=INSURED_PLACE,
                status=ACTIVE,
                recorded_at=self.engine.now(),
            )
            tx.put(row)
        return row

    def withdraw_recognition(
        self, tenant: str, psn_no: str, trt_dcla_detl_sn: str, *, memo: str = "参保地撤销认定"
    ) -> Recognition:
        """Withdraw a recognition (any source, fixtures' included): it no longer applies."""
        person = self._person(tenant, psn_no)
        with self.engine.store.transaction() as tx:
            rows = recognitions(tx, tenant, person)
            row = next((r for r in rows if r.trt_dcla_detl_sn == trt_dcla_detl_sn), None)
            if row is None:
                raise ServiceError(
                    "trt_dcla_detl_sn", f"{trt_dcla_detl_sn!r} is no recognition of {psn_no}"
                )
            withdrawn = replace(row, status=CANCELLED, cancelled_at=self.engine.now(), memo=memo)
            tx.put(withdrawn)
        return withdrawn

    def _person(self, tenant: str, psn_no: str) -> InsuredPerson:
        with self.engine.store.snapshot() as tx:
            fixtures = self.engine.fixtures_for(tx, tenant)
        person = fixtures.person(psn_no)
        if person is None:
            raise ServiceError(
                "psn_no", f"{psn_no!r} is not a person of tenant {tenant}'s fixtures"
            )
        return person


def _area(name: str, value: str) -> None:
    if not _AREA.fullmatch(value):
        raise ServiceError(name, f"{value!r} must be a 6-digit area code (医保区划)")

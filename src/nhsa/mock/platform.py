"""``MockPlatform``: the whole mock national platform in-process, and the assembly the CLI serves.

:func:`assemble` builds one platform — store, engine, core, admin service, ASGI app — from a
database path, a fixture set and options; ``nhsa mock serve`` serves that app with uvicorn and
:class:`MockPlatform` serves it to httpx without sockets:

- ``.transport`` is a **sync** ``httpx.BaseTransport`` (the app runs on an event loop in a
  background thread, through an anyio blocking portal); ``.async_transport`` runs it in the
  caller's loop. Both turn withheld answers into what a socket would raise — a hang or a
  commit-then-drop into ``httpx.ReadTimeout`` *at once* (no sleeping through the timeout), a
  reset into ``httpx.ReadError``.
- the admin operations are Python methods: :meth:`~MockPlatform.enroll` /
  :meth:`~MockPlatform.register_institution`, :meth:`~MockPlatform.arm_fault`,
  :meth:`~MockPlatform.transcript`, :meth:`~MockPlatform.reset`, … (the same
  :class:`~nhsa.mock.admin.AdminService` the HTTP admin API calls).
- :meth:`~MockPlatform.serve` also serves the very same platform on a real port.

Example:
    >>> import httpx
    >>> with MockPlatform() as mock:
    ...     client = httpx.Client(transport=mock.transport, base_url=mock.base_url)
    ...     client.get("/admin/health").json()["status"]
    'ok'
"""

from __future__ import annotations

import secrets
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager, ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from anyio.from_thread import BlockingPortal, start_blocking_portal
from starlette.applications import Starlette

from nhsa._postgres import is_postgres_url
from nhsa.envelope import Clock, china_now
from nhsa.mock.admin import AdminService, admin_routes, public_routes
from nhsa.mock.app import (
    AsyncInProcessTransport,
    BackgroundServer,
    InProcessTransport,
    PlatformCore,
    ServerOptions,
    build_app,
)
from nhsa.mock.engine import Engine, EngineOptions
from nhsa.mock.fixtures import FixtureSet, bundled_fixtures, load_fixtures
from nhsa.mock.store import PostgresStore, SqliteStore, Synchronous, open_store
from nhsa.signing import (
    ClientSigning,
    KeyEntry,
    KeyRing,
    SigningProfile,
    Sm2PrivateKey,
    Sm2PublicKey,
)
from nhsa.spec import dialect as spec_dialect

__all__ = ["DEFAULT_BASE_URL", "Enrollment", "MockPlatform", "Platform", "assemble"]

DEFAULT_BASE_URL = "http://nhsa-mock.invalid"
PLATFORM_KEY_OWNER = "NHSA"
"""Owner name of the platform's key in a client's key ring."""


@dataclass(frozen=True)
class Platform:
    """One assembled mock platform: its parts and its ASGI app."""

    store: SqliteStore | PostgresStore
    engine: Engine
    core: PlatformCore
    admin: AdminService
    app: Starlette

    def close(self) -> None:
        """Close the database (after the COMMIT in flight, if one is)."""
        self.core.commits.close()
        self.store.close()


def assemble(
    db: str | Path,
    *,
    fixtures: FixtureSet | str | Path | None = None,
    options: ServerOptions | None = None,
    clock: Clock = china_now,
    platform_key: Sm2PrivateKey | None = None,
    synchronous: Synchronous = "normal",
    engine_options: EngineOptions | None = None,
) -> Platform:
    """Build a platform over the database file ``db`` (created if missing) or PostgreSQL URL.

    Raises ``StoreError`` for an unusable database and ``FixtureError`` for a broken fixture
    folder; both name the file and the rule.

    Example:
        >>> platform = assemble(":memory:")
        >>> platform.core.directory.get("H53010100001").area
        '530100'
        >>> platform.close()
    """
    fixture_set = (
        fixtures
        if isinstance(fixtures, FixtureSet)
        else load_fixtures(fixtures)
        if fixtures is not None
        else bundled_fixtures()
    )
    store = open_store(db, synchronous=synchronous)
    engine = Engine(store, fixture_set, clock=clock, options=engine_options)
    core = PlatformCore(
        store, engine, fixture_set, options=options, clock=clock, platform_key=platform_key
    )
    admin = AdminService(core)
    app = build_app(core, admin_routes(admin, core.options.admin_token), public_routes(admin))
    return Platform(store, engine, core, admin, app)


@dataclass(frozen=True)
class Enrollment:
    """An institution registered for a test, with everything its HIS needs to talk to the mock.

    Attributes:
        fixmedins_code: the institution.
        profile: the signing profile the platform demands of it.
        paasid, token: its gateway credentials (``tif``).
        private_key: its SM2 key (``sm2``).
        platform_key: the platform's public key, to verify answers.
        dialect: the province dialect the platform speaks with it.
        gateway_user, gateway_password: an account for a bearer gateway's password grant
            (the mock does not check it), when the dialect's gateway is one.

    Example:
        >>> with MockPlatform(profile="tif+sm2") as mock:
        ...     enrollment = mock.enroll("H53010100001")
        ...     signing = enrollment.client_signing()
        >>> signing.auth is not None
        True
    """

    fixmedins_code: str
    profile: SigningProfile
    paasid: str | None
    token: str | None
    private_key: Sm2PrivateKey | None
    platform_key: Sm2PublicKey
    dialect: str = "national"
    gateway_user: str | None = None
    gateway_password: str | None = field(default=None, repr=False)

    def client_signing(self, **options: Any) -> ClientSigning:
        """The SDK-side signing for this institution (``options`` go to ClientSigning)."""
        return ClientSigning(
            self.profile,
            paasid=self.paasid,
            token=self.token,
            private_key=self.private_key,
            platform_keys=KeyRing([KeyEntry(self.platform_key, PLATFORM_KEY_OWNER)]),
            gateway=spec_dialect(self.dialect).gateway,
            gateway_user=self.gateway_user,
            gateway_password=self.gateway_password,
            **options,
        )


class MockPlatform(AbstractContextManager["MockPlatform"]):
    """The mock national platform, in-process (see the module docstring).

    Args:
        db: database file; a temporary one (deleted on close) when omitted.
        fixtures: a fixture set or folder; the bundled set when omitted.
        profile: signing profile of institutions registered without one (``none``, ``tif``,
            ``sm2``, ``tif+sm2``).
        dialect: the province dialect of institutions registered without one (national,
            guangdong, guangzhou, hunan, jiangsu, jilin, sichuan): the platform then expects
            requests in that dialect and answers like that province.
        clock: the platform's time (China time); inject one to test time-dependent rules.
        platform_key: the platform's SM2 key; a fresh one when omitted.
        allow_fault_header: honour ``x-mock-fault`` (on by default in-process: it is for tests).
        admin_token: bearer token of the HTTP admin API; a random one when omitted.
        synchronous: SQLite durability, ``normal`` or ``full``.
        engine_options: province-dependent switches (sign-in enforcement, …).
        base_url: the base URL clients use with the in-process transports.
    """

    def __init__(
        self,
        *,
        db: str | Path | None = None,
        fixtures: FixtureSet | str | Path | None = None,
        profile: str = "none",
        dialect: str = "national",
        clock: Clock = china_now,
        platform_key: Sm2PrivateKey | None = None,
        allow_fault_header: bool = True,
        admin_token: str | None = None,
        synchronous: Synchronous = "normal",
        engine_options: EngineOptions | None = None,
        base_url: str = DEFAULT_BASE_URL,
    ) -> None:
        """Assemble the platform now; transports work once it is entered (or started)."""
        self._temporary = None if db is not None else Path(tempfile.mkdtemp(prefix="nhsa-mock-"))
        path = db if db is not None else self._temporary / "mock.db"  # type: ignore[operator]
        # A postgresql:// URL is no file: db_path stays None for it, as for ":memory:".
        self.admin_token = admin_token or secrets.token_urlsafe(24)
        options = ServerOptions(
            default_profile=profile,
            default_dialect=dialect,
            allow_fault_header=allow_fault_header,
            admin_token=self.admin_token,
        )
        try:
            self._platform = assemble(
                path,
                fixtures=fixtures,
                options=options,
                clock=clock,
                platform_key=platform_key,
                synchronous=synchronous,
                engine_options=engine_options,
            )
        except BaseException:
            self._remove_temporary()
            raise
        self.base_url = base_url
        self.db_path = (
            Path(path) if str(path) != ":memory:" and not is_postgres_url(str(path)) else None
        )
        self._stack: ExitStack | None = None
        self._portal: BlockingPortal | None = None

    # -- life cycle -----------------------------------------------------------------------

    def start(self) -> MockPlatform:
        """Start the background event loop the sync transport uses (``__enter__`` does it)."""
        if self._stack is None:
            stack = ExitStack()
            self._portal = stack.enter_context(start_blocking_portal())
            self._stack = stack
        return self

    def close(self) -> None:
        """Stop the event loop, close the database, delete a temporary database."""
        if self._stack is not None:
            self._stack.close()
            self._stack = None
            self._portal = None
        self._platform.close()
        self._remove_temporary()

    def __enter__(self) -> MockPlatform:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _remove_temporary(self) -> None:
        if self._temporary is not None:
            shutil.rmtree(self._temporary, ignore_errors=True)
            self._temporary = None

    # -- the ways in ----------------------------------------------------------------------

    @property
    def app(self) -> Starlette:
        """The ASGI app (business endpoints, ``/admin``, ``/public``)."""
        return self._platform.app

    @property
    def transport(self) -> InProcessTransport:
        """A sync httpx transport into the platform (no sockets)."""
        if self._portal is None:
            raise RuntimeError(
                "MockPlatform is not started: use 'with MockPlatform() as mock:' (or .start())"
            )
        return InProcessTransport(self.app, self._portal)

    @property
    def async_transport(self) -> AsyncInProcessTransport:
        """An async httpx transport into the platform, run in the caller's event loop."""
        return AsyncInProcessTransport(self.app)

    @contextmanager
    def serve(self, host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
        """Serve this platform with uvicorn on a real port; yields its base URL.

        Example::

            with MockPlatform() as mock, mock.serve() as url:
                httpx.get(url + "/public/ping")
        """
        with BackgroundServer(self.app, host, port) as server:
            yield server.url

    # -- parts ----------------------------------------------------------------------------

    @property
    def core(self) -> PlatformCore:
        """Store, engine, directory, faults, keys and clock."""
        return self._platform.core

    @property
    def admin(self) -> AdminService:
        """The admin operations (what the HTTP admin API calls)."""
        return self._platform.admin

    @property
    def store(self) -> SqliteStore | PostgresStore:
        """The database."""
        return self._platform.store

    @property
    def engine(self) -> Engine:
        """The business rules."""
        return self._platform.engine

    @property
    def platform_public_key(self) -> Sm2PublicKey:
        """The key the platform signs its answers with."""
        return self.core.platform_key.public_key

    # -- institutions ---------------------------------------------------------------------

    def register_institution(self, **fields: Any) -> dict[str, Any]:
        """Register an institution (fields as the admin API's ``InstitutionRegistration``)."""
        return self.admin.register_institution(fields)

    def enroll(
        self,
        fixmedins_code: str,
        *,
        profile: str | None = None,
        fixmedins_name: str | None = None,
        mdtrtarea_admvs: str | None = None,
        level: str | None = None,
        networked: tuple[str, ...] | None = None,
        dialect: str | None = None,
    ) -> Enrollment:
        """Register an institution with fresh credentials for ``profile`` and return them.

        Name, area, tier and services default to the fixtures' entry for the code; the
        dialect to the platform's.
        """
        chosen = SigningProfile.parse(profile) if profile else self.core.default_profile
        spoken = spec_dialect(dialect) if dialect else self.core.default_dialect
        known = self.core.fixtures.institution(fixmedins_code)
        key = Sm2PrivateKey.generate() if chosen.policy != "off" or chosen.sm2 else None
        paasid = f"paas-{fixmedins_code.lower()}-{secrets.token_hex(3)}" if chosen.tif else None
        token = secrets.token_urlsafe(24) if chosen.tif else None
        self.register_institution(
            fixmedins_code=fixmedins_code,
            fixmedins_name=fixmedins_name or (known.fixmedins_name if known else fixmedins_code),
            mdtrtarea_admvs=mdtrtarea_admvs or (known.mdtrtarea_admvs if known else "530100"),
            level=level or (known.level if known else "3"),
            networked=networked
            or (tuple(sorted(s.value for s in known.networked)) if known else ("outpatient",)),
            profile=str(chosen),
            paasid=paasid,
            token=token,
            public_key_pem=key.public_key.to_pem().decode() if key else None,
            dialect=spoken.name,
        )
        bearer = chosen.tif and spoken.gateway.family == "bearer"
        return Enrollment(
            fixmedins_code,
            chosen,
            paasid,
            token,
            key,
            self.platform_public_key,
            dialect=spoken.name,
            gateway_user=fixmedins_code if bearer else None,
            gateway_password=secrets.token_urlsafe(12) if bearer else None,
        )

    # -- faults ---------------------------------------------------------------------------

    def arm_fault(self, tenant: str, kind: str, **params: Any) -> dict[str, Any]:
        """Arm a fault for ``tenant``: ``arm_fault(code, "commit-then-drop", infno="2207")``."""
        return self.admin.arm_fault(tenant, {"kind": kind, **params}, "python")

    def faults(self, tenant: str) -> list[dict[str, Any]]:
        """The tenant's armed faults."""
        return self.admin.faults(tenant)

    def clear_faults(self, tenant: str, fault_id: str | None = None) -> int:
        """Disarm one fault or all; how many were removed."""
        return int(self.admin.clear_faults(tenant, fault_id)["cleared"])

    # -- state and transcript -------------------------------------------------------------

    def transcript(
        self, tenant: str, since: int = 0, *, mask: bool = False
    ) -> list[dict[str, Any]]:
        """The tenant's transcript records after ``since``, as the store wrote them (each
        follows ``conformance/transcript-record.schema.json``; ``mask`` hides personal data)."""
        return self.admin.transcript(tenant, since, mask=mask)

    def state(self, tenant: str) -> dict[str, Any]:
        """A summary of the tenant's state."""
        return self.admin.tenant_state(tenant)

    def settlements(self, tenant: str) -> list[dict[str, Any]]:
        """The tenant's settlement ledger."""
        return self.admin.settlements(tenant)

    def reset(self, tenant: str) -> dict[str, Any]:
        """Delete the tenant's state, transcript and faults (registration kept)."""
        return self.admin.reset_tenant(tenant)

    # -- public services ------------------------------------------------------------------

    def load_fixtures(self, tenant: str, directory: str | Path) -> dict[str, Any]:
        """Give a tenant its own fixture folder."""
        return self.admin.load_fixtures(tenant, {"dir": str(directory)})

    def set_filing(self, tenant: str, psn_no: str, kind: str, **fields: Any) -> dict[str, Any]:
        """Set a person's filing record (``kind`` ``none`` for unfiled)."""
        return self.admin.set_filing(tenant, psn_no, {"kind": kind, **fields})

    def issue_ec_token(self, tenant: str, psn_no: str, *, ttl_seconds: int = 3600) -> str:
        """Issue a test e-voucher token and return it."""
        issued = self.admin.issue_ec_token(tenant, {"psn_no": psn_no, "ttl_seconds": ttl_seconds})
        return str(issued["ec_token"])

    def schedule_downtime(
        self,
        tenant: str,
        admdvs: str,
        start: datetime,
        end: datetime | timedelta,
        *,
        reason: str = "系统升级维护",
    ) -> dict[str, Any]:
        """Schedule an insured-area downtime window (``end`` may be a duration)."""
        finish = start + end if isinstance(end, timedelta) else end
        window: Mapping[str, Any] = {
            "admdvs": admdvs,
            "start": start,
            "end": finish,
            "reason": reason,
        }
        return self.admin.schedule_downtime(tenant, window)

    def notices(self, tenant: str) -> list[dict[str, Any]]:
        """The tenant's notice board: current and future downtime windows."""
        return self.admin.notices(tenant)

    def statistics(self, tenant: str, begndate: date, enddate: date) -> dict[str, Any]:
        """Ledger statistics for a date range."""
        return self.admin.statistics(tenant, begndate, enddate)

    def recognitions(self, tenant: str, psn_no: str) -> list[dict[str, Any]]:
        """A person's recognised chronic diseases (门慢/门特 待遇认定), cancelled ones included."""
        return self.admin.recognitions(tenant, psn_no)

    def recognise(
        self,
        tenant: str,
        psn_no: str,
        opsp_dise_code: str,
        *,
        begndate: date,
        enddate: date | None = None,
        insutype: str | None = None,
    ) -> dict[str, Any]:
        """Record the insured place's recognition of a person's chronic disease; returns it
        with its ``trt_dcla_detl_sn``."""
        body: dict[str, Any] = {"opsp_dise_code": opsp_dise_code, "begndate": begndate}
        if enddate is not None:
            body["enddate"] = enddate
        if insutype is not None:
            body["insutype"] = insutype
        return self.admin.recognise(tenant, psn_no, body)

    def withdraw_recognition(
        self, tenant: str, psn_no: str, trt_dcla_detl_sn: str
    ) -> dict[str, Any]:
        """Withdraw a recognition: med_type 14 visits may no longer name its disease."""
        return self.admin.withdraw_recognition(tenant, psn_no, trt_dcla_detl_sn)

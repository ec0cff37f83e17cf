"""Who may call: registered institutions, their gateway credentials, keys and signing profile.

An institution is registered when the admin API registered it (kept in the store), or when
the fixtures serving it list it; an admin registration of the same code wins. Each carries
its signing profile (``none``, ``tif``, ``sm2``, ``tif+sm2``; the server's default when not
set), the province dialect the platform speaks with it (the server's default when not set),
its gateway ``paasid``/token and its SM2 public key. The directory keeps all of it in memory
— the hot path reads no database — and is told of every registration, so it never goes stale.

Example:
    >>> from nhsa.mock.store import SqliteStore
    >>> from nhsa.signing import SigningProfile
    >>> directory = TenantDirectory(SqliteStore(":memory:"), SigningProfile.parse("none"),
    ...                             fallback=lambda code: None, default_dialect=dialect())
    >>> directory.get("H53010100001") is None
    True
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from nhsa.mock.fixtures import DesignatedInstitution
from nhsa.mock.store import RegisteredInstitution, Store
from nhsa.signing import KeyRing, SigningProfile, Sm2PublicKey
from nhsa.spec import Dialect, DialectError, dialect

__all__ = ["Tenant", "TenantDirectory"]

Fallback = Callable[[str], DesignatedInstitution | None]
"""code → the institution as the fixtures serving that tenant list it, or ``None``."""


@dataclass(frozen=True, slots=True)
class Tenant:
    """A registered institution as the server sees it (the token stays in the directory).

    Example::

        tenant = core.directory.get(envelope["fixmedins_code"])
        verifier = core.verifier_for(tenant.profile)     # None when the profile has no sm2
    """

    code: str
    name: str
    area: str
    level: str
    profile: SigningProfile
    paasid: str | None
    key_id: str | None
    source: Literal["fixtures", "admin"]
    dialect: Dialect


class TenantDirectory:
    """Registered institutions by code and by paasid, with their tokens and public keys.

    Args:
        store: where admin registrations are kept (read at start, and by :meth:`reload`).
        default_profile: the profile of an institution registered without one.
        fallback: finds an institution the fixtures list (asked once per code, then cached).
        default_dialect: the dialect of an institution registered without one.
    """

    def __init__(
        self,
        store: Store,
        default_profile: SigningProfile,
        fallback: Fallback,
        *,
        default_dialect: Dialect,
    ) -> None:
        """Load every admin registration from ``store``."""
        self._default_profile = default_profile
        self._default_dialect = default_dialect
        self._fallback = fallback
        self._lock = threading.Lock()
        self.keys = KeyRing()
        self._admin: dict[str, RegisteredInstitution] = {}
        self._tenants: dict[str, Tenant] = {}
        self._by_paasid: dict[str, str] = {}
        self._tokens: dict[str, str] = {}
        self.reload(store)

    def reload(self, store: Store) -> None:
        """Read every admin registration from ``store`` afresh (another worker changed one)."""
        with store.snapshot() as tx:
            registered = tx.find(RegisteredInstitution)
        with self._lock:
            for record in self._admin.values():
                if record.key_id:
                    self.keys.remove(record.key_id)
            self._admin.clear()
            self._tenants.clear()
            self._by_paasid.clear()
            self._tokens.clear()
        for record in registered:
            self.remember(record)

    @property
    def default_profile(self) -> SigningProfile:
        """The profile of institutions registered without one."""
        return self._default_profile

    @property
    def default_dialect(self) -> Dialect:
        """The dialect of institutions registered without one."""
        return self._default_dialect

    def dialect_of(self, record: RegisteredInstitution) -> Dialect:
        """The dialect a registration names (the default when it names none)."""
        return dialect(record.dialect) if record.dialect else self._default_dialect

    def check(self, record: RegisteredInstitution) -> None:
        """Refuse a registration that cannot work, before anything is stored.

        Raises ``ValueError`` (or a :class:`~nhsa.signing.errors.KeyMaterialError`, also a
        signing error) naming the field: a bad key, a key id that is not the key's, an unknown
        profile, a profile lacking its credentials, a paasid owned by another institution.
        """
        profile = (
            SigningProfile.parse(record.signing_profile)
            if record.signing_profile
            else self._default_profile
        )
        try:
            spoken = self.dialect_of(record)
        except DialectError as error:
            raise ValueError(f"dialect: {error.message}") from None
        if profile.tif and spoken.gateway.family == "none":
            raise ValueError(
                f"profile: the {spoken.name} dialect has no gateway, so profile {profile} "
                "cannot demand one; register without tif"
            )
        if record.public_key_pem:
            key = Sm2PublicKey.from_pem(record.public_key_pem, source="public_key_pem")
            if record.key_id not in (None, key.key_id):
                raise ValueError(
                    f"key_id: {record.key_id!r} is not the id of public_key_pem ({key.key_id}); "
                    "leave key_id out and the platform computes it"
                )
        if profile.tif and not (record.paasid and record.paas_token):
            raise ValueError(f"paasid: profile {profile} needs a paasid and its token")
        if profile.policy != "off" and not record.public_key_pem:
            raise ValueError(f"public_key_pem: profile {profile} needs the institution's key")
        owner = self._by_paasid.get(record.paasid or "")
        if owner not in (None, record.fixmedins_code):
            raise ValueError(
                f"paasid: {record.paasid!r} already belongs to {owner}; each institution needs "
                "its own gateway application"
            )

    def remember(self, record: RegisteredInstitution) -> Tenant:
        """Take an admin registration (already stored) into the directory."""
        tenant = Tenant(
            code=record.fixmedins_code,
            name=record.fixmedins_name,
            area=record.mdtrtarea_admvs,
            level=record.level,
            profile=(
                SigningProfile.parse(record.signing_profile)
                if record.signing_profile
                else self._default_profile
            ),
            paasid=record.paasid,
            key_id=record.key_id,
            source="admin",
            dialect=self.dialect_of(record),
        )
        key = Sm2PublicKey.from_pem(record.public_key_pem) if record.public_key_pem else None
        with self._lock:
            previous = self._admin.get(record.fixmedins_code)
            if previous is not None and previous.paasid:
                self._by_paasid.pop(previous.paasid, None)
                self._tokens.pop(previous.paasid, None)
            if previous is not None and previous.key_id:
                self.keys.remove(previous.key_id)
            self._admin[record.fixmedins_code] = record
            self._tenants[record.fixmedins_code] = tenant
            if record.paasid and record.paas_token:
                self._by_paasid[record.paasid] = record.fixmedins_code
                self._tokens[record.paasid] = record.paas_token
        if key is not None:
            self.keys.add(key, record.fixmedins_code)
        return tenant

    def forget_fixture_entry(self, code: str) -> None:
        """Look ``code`` up in its fixtures again next time (after its fixtures changed)."""
        with self._lock:
            if code not in self._admin:
                self._tenants.pop(code, None)

    def get(self, code: str) -> Tenant | None:
        """The registered institution with this code, or ``None``."""
        tenant = self._tenants.get(code)
        if tenant is not None:
            return tenant
        institution = self._fallback(code)
        if institution is None:
            return None
        tenant = Tenant(
            code=institution.fixmedins_code,
            name=institution.fixmedins_name,
            area=institution.mdtrtarea_admvs,
            level=institution.level,
            profile=self._default_profile,
            paasid=None,
            key_id=None,
            source="fixtures",
            dialect=self._default_dialect,
        )
        with self._lock:
            return self._tenants.setdefault(code, tenant)

    def by_paasid(self, paasid: str) -> Tenant | None:
        """The institution that owns this gateway application, or ``None``."""
        code = self._by_paasid.get(paasid)
        return self._tenants.get(code) if code else None

    def token(self, paasid: str) -> str | None:
        """The gateway token of ``paasid`` (a :data:`~nhsa.signing.TokenLookup`)."""
        return self._tokens.get(paasid)

    def registration(self, code: str) -> RegisteredInstitution | None:
        """The admin registration of ``code`` (``None`` for fixture-only institutions)."""
        return self._admin.get(code)

    def registered_codes(self) -> list[str]:
        """Codes registered through the admin API."""
        return sorted(self._admin)

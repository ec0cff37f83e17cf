"""The parts of one running mock platform that the app, the admin API and ``MockPlatform`` share.

Example:
    >>> from nhsa.mock.store import SqliteStore
    >>> from nhsa.mock.fixtures import bundled_fixtures
    >>> core = PlatformCore(SqliteStore(":memory:"), engine=None, fixtures=bundled_fixtures())
    >>> core.directory.get("H53010100001").profile.tif
    False
"""

from __future__ import annotations

from typing import Any

from nhsa.envelope import Clock, china_now
from nhsa.mock.app._answers import RefMsgIds
from nhsa.mock.app._options import ServerOptions
from nhsa.mock.app._tenants import TenantDirectory
from nhsa.mock.faults import FaultBoard
from nhsa.mock.fixtures import DesignatedInstitution, FixtureSet
from nhsa.mock.store import Store, committer
from nhsa.signing import (
    GatewayVerifier,
    MessageSigner,
    MessageVerifier,
    ReplayGuard,
    SigningProfile,
    Sm2PrivateKey,
    VerifyPolicy,
    platform_gateway,
)
from nhsa.signing.errors import SigningConfigError
from nhsa.spec import Dialect, dialect

__all__ = ["PlatformCore"]


class PlatformCore:
    """Store, engine, registered institutions, faults, keys and clock of one mock platform.

    Args:
        store: the durable state.
        engine: the business rules (``nhsa.mock.engine.Engine``).
        fixtures: the fixture set the engine serves (its institutions are registered).
        options: server settings.
        clock: the platform's time (China time); every timestamp and freshness check uses it.
        platform_key: the key the platform signs answers with (a fresh one when omitted).
    """

    def __init__(
        self,
        store: Store,
        engine: Any,
        fixtures: FixtureSet,
        *,
        options: ServerOptions | None = None,
        clock: Clock = china_now,
        platform_key: Sm2PrivateKey | None = None,
    ) -> None:
        """Assemble the platform's shared parts."""
        self.options = options or ServerOptions()
        self.store = store
        self.commits = committer(store, group=self.options.group_commit)
        self.engine = engine
        self.fixtures = fixtures
        self.clock = clock
        self.default_profile = SigningProfile.parse(self.options.default_profile)
        self.default_dialect = dialect(self.options.default_dialect)
        if self.default_profile.tif and self.default_dialect.gateway.family == "none":
            raise SigningConfigError(
                f"the {self.default_dialect.name} dialect has no gateway, so the default "
                f"profile {self.default_profile} cannot demand one",
                field="profile",
                rule="dialect-has-no-gateway",
            )
        self.directory = TenantDirectory(
            store,
            self.default_profile,
            self._fixture_institution,
            default_dialect=self.default_dialect,
        )
        # Several workers over one PostgreSQL store share the replay memory and the faults;
        # one process keeps both in memory (nhsa.mock.store._shared says why, item by item).
        self.shared = getattr(store, "shared", None)
        self._generation = self.shared.generation() if self.shared is not None else 0
        self.faults = FaultBoard(ledger=self.shared)
        self.guard = ReplayGuard(
            self.options.timestamp_window_seconds,
            clock=lambda: self.clock().timestamp(),
            shared=self.shared,
        )
        self._gateways: dict[str, GatewayVerifier | None] = {}
        self.platform_key = platform_key or Sm2PrivateKey.generate()
        self.refmsgids = RefMsgIds()
        self._signers: dict[str, MessageSigner] = {}
        self._verifiers: dict[tuple[VerifyPolicy, str], MessageVerifier] = {}

    def sync_shared_state(self) -> None:
        """Catch up with what other workers changed (registrations, faults); one read when
        the store is shared, nothing otherwise. Called before each request."""
        if self.shared is None:
            return
        generation = self.shared.generation()
        if generation != self._generation:
            self._generation = generation
            self.directory.reload(self.store)
            self.faults.refresh()

    def _fixture_institution(self, code: str) -> DesignatedInstitution | None:
        if self.engine is None:
            return self.fixtures.institution(code)
        # The engine's view counts an institution registered in the store by any route (the
        # engine's public services write there without telling the directory) as well as the
        # tenant's own fixtures, so the gateway admits exactly whom the engine would serve.
        with self.store.snapshot() as tx:
            return self.engine.institution(tx, code)  # type: ignore[no-any-return]

    def gateway_for(self, spoken: Dialect) -> GatewayVerifier | None:
        """The gateway check of ``spoken``'s family (``None``: the dialect has no gateway)."""
        if spoken.name not in self._gateways:
            self._gateways[spoken.name] = platform_gateway(
                spoken.gateway, self.directory.token, self.guard
            )
        return self._gateways[spoken.name]

    def signer_for(self, profile: SigningProfile) -> MessageSigner | None:
        """The platform's answer signer for institutions of ``profile`` (``None``: unsigned)."""
        if not profile.sm2:
            return None
        signer = self._signers.get(profile.user_id)
        if signer is None:
            signer = MessageSigner(self.platform_key, user_id=profile.user_id)
            self._signers[profile.user_id] = signer
        return signer

    def any_signer(self, profile: SigningProfile) -> MessageSigner:
        """A signer even for unsigned profiles (the ``bad-signature`` fault needs one)."""
        return self.signer_for(profile) or MessageSigner(self.platform_key)

    def verifier_for(self, profile: SigningProfile) -> MessageVerifier | None:
        """The request-signature verifier for ``profile`` (``None``: signatures not checked)."""
        if profile.policy == "off":
            return None
        key = (profile.policy, profile.user_id)
        verifier = self._verifiers.get(key)
        if verifier is None:
            verifier = MessageVerifier(
                self.directory.keys, policy=profile.policy, user_id=profile.user_id
            )
            self._verifiers[key] = verifier
        return verifier

"""Everything a client needs to know that is not per call: who we are, where the platform is,
how we sign, how long we wait, how hard we retry, where the journal lives.

Example:
    >>> config = ClientConfig("H53010100001", "昆明市测试第一人民医院", "530100",
    ...                       journal_path=":memory:")
    >>> (config.sender.recer_sys_code, config.timeouts.read)
    ('YBXT', 30.0)

    In a province dialect, the envelope values and the route follow the province:

    >>> jilin = ClientConfig("H22010100001", "长春市测试医院", "220100", journal_path=":memory:",
    ...                      dialect="jilin")
    >>> (jilin.sender.recer_sys_code, jilin.url_path("2207"))
    ('sys01', '/mbs/fmi/fsi/api/callFsiService/callService')
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import httpx

from nhsa._postgres import is_postgres_url, masked
from nhsa.client._breaker import BreakerPolicy
from nhsa.client._classify import AnswerPatterns
from nhsa.client._retry import RetryPolicy
from nhsa.client.errors import ClientConfigError
from nhsa.envelope import Sender
from nhsa.signing import ClientSigning, KeyRing, SigningProfile, Sm2PrivateKey
from nhsa.signing.errors import SigningError
from nhsa.spec import Dialect, DialectError, contract, dialect

Route = Literal["single-entry", "per-transaction"]
SINGLE_ENTRY_PATH = "/fsi/api/rsfComIfsService/callService"
"""The single-entry URL path (reference §2.1): every transaction, infno in the body."""
SIGN_IN = "9001"


@dataclass(frozen=True)
class Timeouts:
    """Seconds to wait at each stage of one HTTP attempt.

    ``connect`` and ``pool`` failing means the request never left (retried); ``read`` and
    ``write`` failing means it may have arrived (never resent blindly), so ``read`` should
    comfortably exceed the platform's slowest normal answer.

    Example:
        >>> Timeouts(read=10).as_httpx()
        Timeout(connect=5.0, read=10, write=10.0, pool=5.0)
    """

    connect: float = 5.0
    read: float = 30.0
    write: float = 10.0
    pool: float = 5.0

    def as_httpx(self) -> httpx.Timeout:
        """The same values as an :class:`httpx.Timeout`."""
        return httpx.Timeout(connect=self.connect, read=self.read, write=self.write, pool=self.pool)


@dataclass(frozen=True)
class ClientConfig:
    """Configuration of :class:`~nhsa.client.Client` and :class:`~nhsa.client.AsyncClient`.

    Args:
        fixmedins_code: the institution's 12-character code (定点医药机构编号).
        fixmedins_name: its name.
        mdtrtarea_admvs: its own area code (就医地医保区划, 6 digits).
        journal_path: the journal file (SQLite, on a local disk: a network filesystem is
            refused); the msgid counter lives in it too. Every process of one HIS on one
            machine shares it: a visit is charged only through the journal that registered
            it. ``":memory:"`` only for throw-away use: nothing survives a crash.
        journal_url: instead of ``journal_path``, a ``postgresql://user:password@host/db`` URL:
            the journal and the msgid counter live in PostgreSQL, shared by every window and
            kiosk of the institution on any machine (the visit guard and the msgid sequence
            hold across machines). Needs the ``postgresql`` extra.
        base_url: the platform (or the mock: ``nhsa mock serve`` listens on port 8700).
        route: ``single-entry`` (one URL, infno in the body) or ``per-transaction`` paths;
            ``None`` takes the dialect's usual one (national: the single entry).
        dialect: the province dialect to send in (``interface_specs/v1/dialects``: national,
            guangdong, guangzhou, hunan, jiangsu, jilin, sichuan), or a loaded
            :class:`~nhsa.spec.Dialect`. Requests are checked against the national contract,
            then spelt the province's way; its answers are read back into the national shape.
        recer_sys_code, infver: envelope fields the province dictates (``None``: the dialect's
            value, else the national ``YBXT`` and ``V1.0``).
        fixmedins_soft_fcty: the HIS vendor's full name, sent in every envelope when given
            (Jiangsu requires it).
        recer_admdvs: the receiver's area, sent in every envelope when given (Guangdong's
            profile fills it with ``mdtrtarea_admvs`` when not).
        profile: signing profile — ``none``, ``tif``, ``sm2`` or ``tif+sm2``; ``tif`` is the
            dialect's gateway (TIF ``x-tif-*``, CSB ``_api_*`` or a bearer token).
        paasid, token: gateway credentials (``tif``): the TIF paasid and token, the CSB access
            and secret key, or the OAuth2 client id and secret.
        gateway_user, gateway_password: the account of a bearer gateway's password grant
            (Jilin).
        private_key: the institution's SM2 key (``sm2``).
        platform_keys: the platform's public keys, to verify answers.
        timeouts, retry, breaker, patterns: see their classes.
        terminal_ip, terminal_mac: sent with sign-in (9001).
        outpatient_clr_type: clearing category reconciliation files an outpatient settlement
            under when its answer did not name one (the national code is 11).
        fee_lines_per_upload: fee lines per 2204 call; a bill with more lines is uploaded in
            several calls under one charge batch (the spec's 40,000-character input limit
            fits roughly 60–90 lines).
        msgid_state_path: the msgid counter file when it should not live in the journal. A
            counter serves one journal of the institution: a counter that already serves
            another journal is refused when the client starts (two journals cannot guard one
            visit together; share one journal instead).

    Exactly one of ``journal_path`` and ``journal_url`` is given.

    Example:
        >>> ClientConfig("H53010100001", "医院", "5301", journal_path=":memory:")
        Traceback (most recent call last):
        ...
        nhsa.client.errors.ClientConfigError: mdtrtarea_admvs: '5301' must be 6 digits
    """

    fixmedins_code: str
    fixmedins_name: str
    mdtrtarea_admvs: str
    journal_path: str | Path | None = None
    base_url: str = "http://127.0.0.1:8700"
    route: Route | None = None
    recer_sys_code: str | None = None
    infver: str | None = None
    profile: str | SigningProfile = "none"
    paasid: str | None = None
    token: str | None = field(default=None, repr=False)
    private_key: Sm2PrivateKey | None = field(default=None, repr=False)
    platform_keys: KeyRing | None = field(default=None, repr=False)
    timeouts: Timeouts = field(default_factory=Timeouts)
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    breaker: BreakerPolicy = field(default_factory=BreakerPolicy)
    patterns: AnswerPatterns = field(default_factory=AnswerPatterns)
    terminal_ip: str = "127.0.0.1"
    terminal_mac: str | None = None
    outpatient_clr_type: str = "11"
    fee_lines_per_upload: int = 50
    msgid_state_path: str | Path | None = None
    journal_url: str | None = field(default=None, repr=False)
    dialect: str | Dialect = "national"
    fixmedins_soft_fcty: str | None = None
    recer_admdvs: str | None = None
    gateway_user: str | None = None
    gateway_password: str | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if not re.fullmatch(r"[A-Z0-9]{12}", self.fixmedins_code):
            raise ClientConfigError(
                f"fixmedins_code: {self.fixmedins_code!r} must be 12 upper-case letters or digits"
            )
        if not self.fixmedins_name.strip():
            raise ClientConfigError("fixmedins_name: required")
        if not re.fullmatch(r"[0-9]{6}", self.mdtrtarea_admvs):
            raise ClientConfigError(f"mdtrtarea_admvs: {self.mdtrtarea_admvs!r} must be 6 digits")
        if (self.journal_path is None or not str(self.journal_path)) == (self.journal_url is None):
            raise ClientConfigError(
                "journal_path or journal_url: exactly one is required (the journal is how "
                "nothing is lost)"
            )
        if self.journal_url is not None and not is_postgres_url(self.journal_url):
            raise ClientConfigError(
                f"journal_url: {masked(self.journal_url)!r} must start with postgresql:// "
                "(a SQLite journal is given as journal_path)"
            )
        try:
            url = httpx.URL(self.base_url)
        except httpx.InvalidURL as error:
            raise ClientConfigError(f"base_url: {error}") from None
        if url.scheme not in ("http", "https") or not url.host:
            raise ClientConfigError(f"base_url: {self.base_url!r} must be an http(s) URL")
        if self.route not in (None, "single-entry", "per-transaction"):
            raise ClientConfigError(f"route: {self.route!r} is not single-entry|per-transaction")
        if self.fee_lines_per_upload < 1:
            raise ClientConfigError("fee_lines_per_upload must be at least 1")
        chosen = self.province  # an unknown dialect fails here
        self.url_path(SIGN_IN)  # so does a route the dialect does not have
        for member in chosen.envelope_members("*", "request"):
            if member.required and member.fill == "config" and not getattr(self, member.member):
                raise ClientConfigError(
                    f"{member.member}: the {chosen.name} dialect requires it in every envelope "
                    f"({member.evidence}); give ClientConfig({member.member}=…)"
                )
        self.signing()  # a profile without its keys or credentials fails here, not mid-visit

    @property
    def journal_target(self) -> str | Path:
        """Where the journal lives: ``journal_url`` or ``journal_path``."""
        target = self.journal_url or self.journal_path
        assert target is not None, "__post_init__ demands one of them"
        return target

    @property
    def province(self) -> Dialect:
        """The dialect this client sends in (``dialect`` loaded)."""
        try:
            return dialect(self.dialect)
        except DialectError as error:
            raise ClientConfigError(f"dialect: {error.message}") from None

    @property
    def sender(self) -> Sender:
        """The envelope's sender fields: this institution, its area, recer_sys_code, infver,
        and the members this client adds to every envelope."""
        chosen = self.province
        members = tuple(
            (name, value)
            for name, value in (
                ("fixmedins_soft_fcty", self.fixmedins_soft_fcty),
                ("recer_admdvs", self.recer_admdvs),
            )
            if value
        )
        return Sender(
            self.fixmedins_code,
            self.fixmedins_name,
            self.mdtrtarea_admvs,
            recer_sys_code=self.recer_sys_code or _constant(chosen, "recer_sys_code") or "YBXT",
            infver=self.infver or _constant(chosen, "infver") or "V1.0",
            members=members,
        )

    def url_path(self, infno: str) -> str:
        """The path ``infno`` is posted to under ``base_url``, in this dialect's routes."""
        chosen = self.province
        route = self.route or chosen.routes.default
        fact = (
            chosen.routes.single_entry if route == "single-entry" else chosen.routes.per_transaction
        )
        if fact is None:
            raise ClientConfigError(
                f"route: the {chosen.name} dialect has no {route} URL (it takes "
                f"{chosen.routes.default}); leave route out or choose that one"
            )
        template = str(fact.value)
        if template == "contract":
            return contract().transaction(infno).path
        return template.replace("{infno}", infno)

    @property
    def signing_profile(self) -> SigningProfile:
        """``profile`` as a :class:`~nhsa.signing.SigningProfile`."""
        if isinstance(self.profile, SigningProfile):
            return self.profile
        try:
            return SigningProfile.parse(self.profile)
        except SigningError as error:
            raise ClientConfigError(f"profile: {error}") from None

    def signing(self) -> ClientSigning:
        """The SDK half of the signing profile (gateway auth, request sealing, verification)."""
        try:
            return ClientSigning(
                self.signing_profile,
                paasid=self.paasid,
                token=self.token,
                private_key=self.private_key,
                platform_keys=self.platform_keys,
                gateway=self.province.gateway,
                gateway_user=self.gateway_user,
                gateway_password=self.gateway_password,
            )
        except SigningError as error:
            raise ClientConfigError(f"signing profile {self.profile}: {error}") from None


def _constant(chosen: Dialect, member: str) -> str | None:
    """The value a dialect sends for an envelope member in every transaction, if any."""
    for rule in chosen.envelope_members("*", "request"):
        if rule.member == member and rule.send and isinstance(rule.fill, tuple):
            kind, value = rule.fill
            if kind == "constant":
                return value
    return None

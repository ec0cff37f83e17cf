"""A drill's institutions on a mock platform, through the admin API only — the same calls for
``nhsa mock serve`` over a socket and for ``MockPlatform`` in this process.

Example::

    admin = Admin(server.url, admin_token=server.admin_token)
    site = admin.register("H53010100001", "tif+sm2")
    config = site.config(server.url, folder / "journal.sqlite3")
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from nhsa.client import ClientConfig, RetryPolicy, Timeouts
from nhsa.conformance import RemoteMock
from nhsa.conformance._mock_handle import InstitutionRegistration
from nhsa.mock.faults import FaultSpec
from nhsa.signing import (
    ClientSigning,
    KeyEntry,
    KeyRing,
    SigningProfile,
    Sm2PrivateKey,
    Sm2PublicKey,
)

__all__ = ["AREA", "HOSPITAL", "Admin", "Institution"]

AREA = "530100"
"""Kunming: the fixtures' catalogue, policies and local patients belong here."""
HOSPITAL = "昆明市测试第一人民医院"
PROFILES = ("none", "tif", "sm2", "tif+sm2")

_NO_WAIT = RetryPolicy(max_attempts=4, backoff_initial=0, backoff_max=0, resolution_deadline=0)


@dataclass(frozen=True)
class Institution:
    """An institution registered for a drill, with what its HIS needs to talk to the mock."""

    code: str
    profile: str
    paasid: str | None
    token: str | None
    private_key: Sm2PrivateKey | None
    platform_key: Sm2PublicKey

    def signing(self) -> ClientSigning:
        """The SDK-side signing (gateway headers, request seal, answer check)."""
        return ClientSigning(
            SigningProfile.parse(self.profile),
            paasid=self.paasid,
            token=self.token,
            private_key=self.private_key,
            platform_keys=KeyRing([KeyEntry(self.platform_key, "NHSA")]),
        )

    def config(self, base_url: str, journal: Path, *, read_timeout: float = 30.0) -> ClientConfig:
        """The SDK's configuration: this institution, its journal (msgid counter inside),
        retries without waiting (a drill sleeps through nothing)."""
        return ClientConfig(
            self.code,
            HOSPITAL,
            AREA,
            journal_path=journal,
            base_url=base_url,
            profile=self.profile,
            paasid=self.paasid,
            token=self.token,
            private_key=self.private_key,
            platform_keys=KeyRing([KeyEntry(self.platform_key, "NHSA")]),
            retry=_NO_WAIT,
            timeouts=Timeouts(read=read_timeout),
        )

    def to_json(self) -> str:
        """For a child process of the same drill (never written to a file)."""
        key = self.private_key.to_pem().decode() if self.private_key is not None else None
        return json.dumps(
            {
                "code": self.code,
                "profile": self.profile,
                "paasid": self.paasid,
                "token": self.token,
                "private_key": key,
                "platform_key": self.platform_key.to_pem().decode(),
            }
        )

    @classmethod
    def from_json(cls, text: str) -> Institution:
        """The institution :meth:`to_json` described."""
        data = json.loads(text)
        key = data["private_key"]
        return cls(
            data["code"],
            data["profile"],
            data["paasid"],
            data["token"],
            Sm2PrivateKey.from_pem(key.encode()) if key else None,
            Sm2PublicKey.from_pem(data["platform_key"].encode()),
        )


class Admin(RemoteMock):
    """The mock's admin API — the conformance suite's own client of it
    (:class:`nhsa.conformance.RemoteMock`), over a socket or ``MockPlatform``'s in-process
    transport — with what a drill needs besides: enrolling with fresh credentials, faults by
    kind, the settlement ledger row by row."""

    def register(self, code: str, profile: str) -> Institution:
        """Register ``code`` (a Kunming hospital) for ``profile`` with fresh credentials."""
        chosen = SigningProfile.parse(profile)
        key = Sm2PrivateKey.generate()
        paasid = f"paas-{code.lower()}-{secrets.token_hex(3)}" if chosen.tif else None
        token = secrets.token_urlsafe(24) if chosen.tif else None
        registration = InstitutionRegistration(
            code, HOSPITAL, AREA, "3", ("outpatient", "cross_province_outpatient"), str(chosen),
            paasid=paasid, token=token, public_key_pem=key.public_key.to_pem().decode(),
        )  # fmt: skip
        self.register_institution(registration)
        platform_key = Sm2PublicKey.from_pem(str(self.platform_public_key_pem()).encode())
        return Institution(code, str(chosen), paasid, token, key, platform_key)

    def arm(self, code: str, kind: str, **params: Any) -> None:
        """Arm one of the mock's faults (validated by its own model) for ``code``."""
        self.arm_fault(code, FaultSpec.model_validate({"kind": kind, **params}))

    def settlements(self, code: str) -> list[dict[str, Any]]:
        """The tenant's settlement ledger, amounts as exact decimals."""
        rows: list[dict[str, Any]] = self._request("GET", f"/admin/tenants/{code}/settlements")
        money = ("medfee_sumamt", "fund_pay_sumamt", "acct_pay", "psn_cash_pay")
        return [row | {name: Decimal(str(row[name])) for name in money} for row in rows]

"""A drill's institutions on a mock platform, through the admin API only — the same calls for
``nhsa mock serve`` over a socket and for ``MockPlatform`` in this process.

Example::

    admin = Admin(server.admin())
    site = admin.register("H53010100001", "tif+sm2")
    config = site.config(server.url, folder / "journal.sqlite3")
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, replace
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx

from nhsa.client import ClientConfig, Timeouts
from nhsa.client._retry import RetryPolicy
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


class Admin:
    """The mock's admin API (an httpx client rooted at ``/admin`` with the token set)."""

    def __init__(self, client: httpx.Client) -> None:
        """Drive the platform through ``client``."""
        self.client = client

    def call(self, method: str, path: str, **options: Any) -> Any:
        """One admin call; its JSON answer (an HTTP error raises)."""
        answer = self.client.request(method, path, **options)
        answer.raise_for_status()
        return answer.json()

    def register(self, code: str, profile: str) -> Institution:
        """Register ``code`` (a Kunming hospital) for ``profile`` with fresh credentials."""
        chosen = SigningProfile.parse(profile)
        key = Sm2PrivateKey.generate()
        paasid = f"paas-{code.lower()}-{secrets.token_hex(3)}" if chosen.tif else None
        token = secrets.token_urlsafe(24) if chosen.tif else None
        self.call(
            "POST",
            "/institutions",
            json={
                "fixmedins_code": code,
                "fixmedins_name": HOSPITAL,
                "mdtrtarea_admvs": AREA,
                "level": "3",
                "networked": ["outpatient", "cross_province_outpatient"],
                "profile": str(chosen),
                "paasid": paasid,
                "token": token,
                "public_key_pem": key.public_key.to_pem().decode(),
            },
        )
        platform_key = self.call("GET", "/platform-key")["public_key_pem"]
        return Institution(
            code, str(chosen), paasid, token, key, Sm2PublicKey.from_pem(platform_key.encode())
        )

    def arm_fault(self, code: str, kind: str, **params: Any) -> None:
        """Arm one of the mock's faults for ``code``."""
        self.call("POST", f"/tenants/{code}/faults", json={"kind": kind, **params})

    def clear_faults(self, code: str) -> None:
        """Disarm every fault of ``code``."""
        self.call("DELETE", f"/tenants/{code}/faults")

    def settlements(self, code: str) -> list[dict[str, Any]]:
        """The tenant's settlement ledger, amounts as exact decimals."""
        rows: list[dict[str, Any]] = self.call("GET", f"/tenants/{code}/settlements")
        money = ("medfee_sumamt", "fund_pay_sumamt", "acct_pay", "psn_cash_pay")
        return [row | {name: Decimal(str(row[name])) for name in money} for row in rows]

    def transcript(self, code: str, since: int = 0) -> list[dict[str, Any]]:
        """The tenant's transcript records after ``since``."""
        records: list[dict[str, Any]] = self.call(
            "GET", f"/tenants/{code}/transcript", params={"since": since}
        )
        return records


def with_timeout(config: ClientConfig, read: float) -> ClientConfig:
    """``config`` with another read timeout."""
    return replace(config, timeouts=Timeouts(read=read))

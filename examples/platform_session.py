"""What every example needs: a platform, an institution of its own there, and an SDK client.

The platform is the mock in this process (``MockPlatform``, nothing to start), or a running
``nhsa mock serve`` (``--url``, with its admin token). Either way each run registers a *fresh*
institution through the platform's admin API — the same calls a lab or a CI job makes — with
gateway credentials and an SM2 key of its own (profile ``tif+sm2``), so runs never share a
ledger, a msgid sequence or a fault: an example run on a server that has seen a hundred runs
behaves as on a new one.

An example fails loudly: when its own check fails (the day does not balance, the answer that
should have been lost was not) or the platform cannot be used (unreachable, a refused admin
token), it prints one line saying so and exits 1. Faults it armed are disarmed on the way out.

    python examples/window_visit.py                      # the mock in this process
    export NHSA_MOCK_ADMIN_TOKEN=<a secret of 16+ characters>
    nhsa mock serve --port 8700 &                        # takes the token from the variable
    python examples/window_visit.py --url http://127.0.0.1:8700
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import secrets
import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from nhsa.client import Client, ClientConfig, Mode, NhsaClientError
from nhsa.signing import KeyEntry, KeyRing, Sm2PrivateKey, Sm2PublicKey

AREA = "530100"
"""Kunming: where the fixtures' catalogue, policies and patient P53010000000001 belong."""
HOSPITAL_NAME = "昆明市测试第一人民医院"
ADMIN_TOKEN_ENV = "NHSA_MOCK_ADMIN_TOKEN"
PROFILE = "tif+sm2"
_CODE_ATTEMPTS = 5


class ExampleError(Exception):
    """An example's own check failed, or it could not talk to the platform: one line."""


@dataclass(frozen=True)
class Institution:
    """An institution registered for one run, with everything its HIS needs to sign in."""

    code: str
    paasid: str
    token: str
    private_key: Sm2PrivateKey
    platform_key: Sm2PublicKey

    def config(self, base_url: str, journal: Path) -> ClientConfig:
        """The SDK's configuration for this institution on the platform at ``base_url``."""
        return ClientConfig(
            self.code,
            HOSPITAL_NAME,
            AREA,
            journal_path=journal,
            base_url=base_url,
            profile=PROFILE,
            paasid=self.paasid,
            token=self.token,
            private_key=self.private_key,
            platform_keys=KeyRing([KeyEntry(self.platform_key, "NHSA")]),
        )

    def to_json(self) -> str:
        """For a child process of the same run (never written to a file)."""
        return json.dumps(
            {
                "code": self.code,
                "paasid": self.paasid,
                "token": self.token,
                "private_key": self.private_key.to_pem().decode(),
                "platform_key": self.platform_key.to_pem().decode(),
            }
        )

    @classmethod
    def from_json(cls, text: str) -> Institution:
        """The institution :meth:`to_json` described."""
        data = json.loads(text)
        return cls(
            data["code"],
            data["paasid"],
            data["token"],
            Sm2PrivateKey.from_pem(data["private_key"].encode()),
            Sm2PublicKey.from_pem(data["platform_key"].encode()),
        )


class Platform:
    """The platform an example talks to: its URL, an in-process transport or none, admin API."""

    def __init__(
        self, base_url: str, admin: httpx.Client, transport: httpx.BaseTransport | None
    ) -> None:
        """Use ``admin`` (an httpx client rooted at ``/admin``, token set) to drive it."""
        self.base_url = base_url
        self.transport = transport
        self._admin = admin

    def enroll(self) -> Institution:
        """Register a fresh institution of Kunming (三级, outpatient and inpatient care) for
        ``tif+sm2``; its credentials."""
        code = self._free_code()
        key = Sm2PrivateKey.generate()
        paasid, token = f"paas-{code.lower()}", secrets.token_urlsafe(24)
        self.admin(
            "POST",
            "/institutions",
            json={
                "fixmedins_code": code,
                "fixmedins_name": HOSPITAL_NAME,
                "mdtrtarea_admvs": AREA,
                "level": "3",
                "networked": ["outpatient", "inpatient", "cross_province_outpatient"],
                "profile": PROFILE,
                "paasid": paasid,
                "token": token,
                "public_key_pem": key.public_key.to_pem().decode(),
            },
        )
        platform_key = self.admin("GET", "/platform-key")["public_key_pem"]
        return Institution(code, paasid, token, key, Sm2PublicKey.from_pem(platform_key.encode()))

    def arm_fault(self, code: str, kind: str, **params: Any) -> None:
        """Arm a fault for the institution ``code`` (``POST /admin/tenants/{code}/faults``)."""
        self.admin("POST", f"/tenants/{code}/faults", json={"kind": kind, **params})

    def clear_faults(self, code: str) -> None:
        """Disarm every fault of ``code``."""
        self.admin("DELETE", f"/tenants/{code}/faults")

    def transcript(self, code: str, since: int = 0) -> list[dict[str, Any]]:
        """The records of ``code`` with ``seq`` greater than ``since`` (``seq`` is global)."""
        records: list[dict[str, Any]] = self.admin(
            "GET", f"/tenants/{code}/transcript", params={"since": since}
        )
        return records

    def admin(self, method: str, path: str, **options: Any) -> Any:
        """One admin API call; its JSON answer. A refusal is an :class:`ExampleError`."""
        where = f"{self.base_url}/admin{path}"
        try:
            answer = self._admin.request(method, path, **options)
        except httpx.HTTPError as exc:
            raise ExampleError(f"cannot reach {where}: {exc}") from None
        if answer.status_code == 401:
            raise ExampleError(
                f"{where} refused the admin token (HTTP 401): pass the one nhsa mock serve "
                f"was started with (--admin-token or ${ADMIN_TOKEN_ENV})"
            )
        if answer.status_code == 404 and method == "GET" and path.startswith("/institutions/"):
            return None
        if answer.is_error:
            raise ExampleError(
                f"{method} {where} answered HTTP {answer.status_code}: {answer.text}"
            )
        return answer.json()

    def _free_code(self) -> str:
        for _ in range(_CODE_ATTEMPTS):
            code = f"H{AREA}{secrets.randbelow(10**5):05d}"
            if self.admin("GET", f"/institutions/{code}") is None:
                return code
        raise ExampleError(f"no free institution code of area {AREA} after {_CODE_ATTEMPTS} tries")


@contextlib.contextmanager
def open_platform(
    url: str | None, admin_token: str | None, *, serve: bool = False
) -> Iterator[Platform]:
    """The server at ``url``, or the mock in this process (on a loopback port if ``serve``)."""
    if url:
        if not admin_token:
            raise ExampleError(
                f"--url needs that server's admin token (--admin-token or ${ADMIN_TOKEN_ENV}): "
                "each run registers an institution of its own"
            )
        with httpx.Client(
            base_url=url.rstrip("/") + "/admin",
            headers={"authorization": f"Bearer {admin_token}"},
            timeout=10,
        ) as admin:
            yield Platform(url.rstrip("/"), admin, None)
        return
    from nhsa.mock import MockPlatform  # noqa: PLC0415 - the mock is an extra: nhsa-kit[mock]

    with contextlib.ExitStack() as stack:
        mock = stack.enter_context(MockPlatform(profile=PROFILE))
        served = stack.enter_context(mock.serve()) if serve else None
        admin = stack.enter_context(
            httpx.Client(
                transport=mock.transport,
                base_url=mock.base_url + "/admin",
                headers={"authorization": f"Bearer {mock.admin_token}"},
            )
        )
        yield Platform(served or mock.base_url, admin, None if served else mock.transport)


@contextlib.contextmanager
def client_for(
    platform: Platform, institution: Institution, mode: Mode, journal: Path
) -> Iterator[Client]:
    """An SDK client of ``institution`` at the counter ``mode``, journaling into ``journal``."""
    config = institution.config(platform.base_url, journal)
    with Client(config, mode, transport=platform.transport) as client:
        yield client


@contextlib.contextmanager
def enrolled_client(platform: Platform, mode: Mode) -> Iterator[tuple[Institution, Client]]:
    """A fresh institution on ``platform`` and its client at ``mode``, with a throw-away journal."""
    institution = platform.enroll()
    with (
        tempfile.TemporaryDirectory(prefix="nhsa-example-") as folder,
        client_for(platform, institution, mode, Path(folder) / "journal.sqlite3") as client,
    ):
        yield institution, client


def run_example(
    description: str | None,
    body: Callable[[argparse.Namespace, Platform], None],
    argv: Sequence[str] | None,
    *,
    configure: Callable[[argparse.ArgumentParser], None] | None = None,
    serve: bool = False,
) -> int:
    """Parse ``--url``/``--admin-token`` (and what ``configure`` adds), run ``body``; exit code.

    0 when ``body`` returns; 1, with one line on stderr, when it or the platform raised
    :class:`ExampleError` or an SDK error.
    """
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument(
        "--url", help="a running `nhsa mock serve` (default: a mock in this process)"
    )
    parser.add_argument(
        "--admin-token",
        default=os.environ.get(ADMIN_TOKEN_ENV),
        help=f"the server's admin token (default: ${ADMIN_TOKEN_ENV})",
    )
    if configure is not None:
        configure(parser)
    args = parser.parse_args(argv)
    try:
        with open_platform(args.url, args.admin_token, serve=serve) as platform:
            body(args, platform)
    except (ExampleError, NhsaClientError) as failed:
        print(f"error: {failed}", file=sys.stderr)
        return 1
    return 0

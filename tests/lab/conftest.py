"""A lab server (the mock platform with the console) on a real port, and a lab's browser-less
client: it signs in, submits the forms with their CSRF tokens and follows a run to its end."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from nhsa.conformance import bundled_stages_dir
from nhsa.lab import lab_server_app
from nhsa.mock import MockPlatform
from nhsa.mock.app import BackgroundServer
from nhsa.signing import Sm2PrivateKey
from tests.postgres import BACKENDS, fresh_schema

ADMIN_TOKEN = "console-tests-admin-token-0123"
LAB_SCENARIOS = len(list((bundled_stages_dir() / "lab").glob("*.yaml")))
"""How many scenarios the bundled lab stage runs (each on an institution of its own)."""
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')
_RUN = re.compile(r"/console/runs/([0-9T]+-[0-9a-f]+)$")


@dataclass
class LabServer:
    """A running lab server: its URL, platform and the console's signing key."""

    url: str
    platform: MockPlatform
    key: Sm2PrivateKey

    def client(self) -> LabClient:
        return LabClient(httpx.Client(base_url=self.url, follow_redirects=True, timeout=60))


class LabClient:
    """One lab's session, driven over HTTP as a browser would (forms, cookies, redirects)."""

    def __init__(self, http: httpx.Client) -> None:
        self.http = http
        self.page = ""

    def get(self, path: str) -> httpx.Response:
        response = self.http.get(path)
        self.page = response.text
        return response

    def csrf(self) -> str:
        found = _CSRF.search(self.page)
        assert found is not None, "the page has no form with a CSRF token"
        return found.group(1)

    def sign_in(self, lab: str, token: str) -> httpx.Response:
        self.get("/console/login")
        response = self.http.post(
            "/console/login", data={"csrf": self.csrf(), "lab": lab, "token": token}
        )
        self.page = response.text
        return response

    def post(self, path: str, data: dict[str, object]) -> httpx.Response:
        response = self.http.post(path, data={"csrf": self.csrf(), **data})  # type: ignore[arg-type]
        self.page = response.text
        return response

    def start_run(
        self, stages: list[str], driver: str = "sdk", step_timeout: str = "10", dialect: str = ""
    ) -> str:
        self.get("/console/")
        form = {"stages": stages, "driver": driver, "step_timeout": step_timeout}
        response = self.post("/console/runs", form | ({"dialect": dialect} if dialect else {}))
        found = _RUN.search(response.url.path)
        assert found is not None, f"no run page: {response.status_code} {response.url}"
        return found.group(1)

    def follow(self, run_id: str) -> list[dict[str, object]]:
        """Every event of the run's stream, until its end (the stream closes then)."""
        events: list[dict[str, object]] = []
        with self.http.stream("GET", f"/console/runs/{run_id}/events") as stream:
            for line in stream.iter_lines():
                if line.startswith("data: "):
                    events.append(orjson.loads(line[len("data: ") :]))
        return events


def serve(platform: MockPlatform) -> Iterator[LabServer]:
    """Serve the console; the app is built once the port is known (a HIS is told the URL)."""
    key = Sm2PrivateKey.generate()
    built: list[Any] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await built[0](scope, receive, send)

    server = BackgroundServer(app)
    built.append(
        lab_server_app(platform, admin_token=ADMIN_TOKEN, key=key, platform_url=server.url)
    )
    with server:
        yield LabServer(server.url, platform, key)


@pytest.fixture
def lab_server(tmp_path: Path) -> Iterator[LabServer]:
    with MockPlatform(db=tmp_path / "lab.db", admin_token=ADMIN_TOKEN) as platform:
        yield from serve(platform)


@pytest.fixture(params=BACKENDS)
def lab_server_on_either(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[LabServer]:
    """The lab server over SQLite, then over PostgreSQL (a schema of its own)."""
    if request.param == "sqlite":
        with MockPlatform(db=tmp_path / "lab.db", admin_token=ADMIN_TOKEN) as platform:
            yield from serve(platform)
        return
    with fresh_schema() as url, MockPlatform(db=url, admin_token=ADMIN_TOKEN) as platform:
        yield from serve(platform)

"""The console's pages, one small class per part: signing in, runs, institutions and visits.

Each handler gets the request and, past the checks of :class:`~nhsa.lab._console.Console`,
the session (and the form, for those that change state). :func:`console_routes` is the URL map;
:func:`lab_server_app` mounts it beside the platform.

Example::

    app = lab_server_app(platform, admin_token=token, key=key, platform_url=url)
"""

from __future__ import annotations

import json
import logging
import secrets
import time
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any, Final
from urllib.parse import quote

import anyio
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response, StreamingResponse
from starlette.routing import BaseRoute, Mount, Route

from nhsa.conformance import STAGES
from nhsa.lab import _auth as auth
from nhsa.lab._compare import IGNORED
from nhsa.lab._console import CONSOLE_PATH, HEADERS, Console, Form, redirect
from nhsa.lab._export import VisitNotFoundError, encode_export, export_visit
from nhsa.lab._runs import REPORT_NAMES, RunRefusedError, RunSettings, dialect_choices
from nhsa.lab._visit import ROLES, visit_ids, visit_records, visit_verdict
from nhsa.mock import MockPlatform
from nhsa.mock.admin import AdminError
from nhsa.mock.faults import FaultKind
from nhsa.signing import Sm2PrivateKey

__all__ = ["console_routes", "lab_server_app"]

STREAM_SECONDS: Final = 3600.0
"""How long one event stream may stay open (the page reconnects from where it was)."""
_POLL_SECONDS: Final = 0.25
_STATIC: Final = {"console.js": "text/javascript", "console.css": "text/css"}
_FAULT_TEXT: Final = ("kind", "psn_no", "area", "mode", "err_msg")
_FAULT_NUMBERS: Final = ("times", "ms", "status")
_LOG = logging.getLogger(__name__)


class _SignIn:
    """The sign-in form (double-submit CSRF) and signing out."""

    def __init__(self, console: Console) -> None:
        self.console = console

    async def form(self, _request: Request) -> Response:
        """The sign-in form."""
        return self._form("", 200)

    def _form(self, error: str, status: int, lab: str = "") -> Response:
        token = secrets.token_urlsafe(24)
        response = self.console.page(
            "login.html.j2", None, status, csrf=token, error=error, lab=lab
        )
        response.set_cookie(
            auth.LOGIN_COOKIE, token, max_age=600, path=CONSOLE_PATH, httponly=True,
            samesite="strict",
        )  # fmt: skip
        return response

    async def submit(self, request: Request) -> Response:
        """Check the form's token, the lab's name and its token; open a session."""
        form = await Form.read(request)
        lab, token = form.one("lab"), form.one("token")
        cookie = request.cookies.get(auth.LOGIN_COOKIE, "")
        if not cookie or not auth.same_secret(form.one("csrf"), cookie):
            return self._form("The sign-in form expired: send it again.", 400, lab)
        if problem := auth.lab_name_problem(lab):
            return self._form(f"Lab name: {problem}.", 400)
        if not auth.accepts(self.console.admin_token, lab, token):
            return self._form(
                "Wrong token: give the mock's admin token or your lab's own token "
                "(the server's operator prints it with: nhsa lab token LAB).",
                401,
                lab,
            )
        session = self.console.sessions.open(lab)
        response = redirect("/")
        response.set_cookie(
            auth.SESSION_COOKIE, session.id, path=CONSOLE_PATH, httponly=True,
            samesite="strict", max_age=int(auth.SESSION_SECONDS),
        )  # fmt: skip
        response.delete_cookie(auth.LOGIN_COOKIE, path=CONSOLE_PATH)
        return response

    async def sign_out(self, _request: Request, session: auth.Session, _form: Form) -> Response:
        """Close the session."""
        self.console.sessions.close(session.id)
        response = redirect("/login")
        response.delete_cookie(auth.SESSION_COOKIE, path=CONSOLE_PATH)
        return response


class _Runs:
    """Starting runs, following them live, reading and downloading what they left."""

    def __init__(self, console: Console) -> None:
        self.console = console

    def _home(
        self,
        session: auth.Session,
        status: int = 200,
        error: str = "",
        typed: Mapping[str, Any] | None = None,
    ) -> Response:
        console = self.console
        form = {"stages": ["lab"], "driver": "sdk", "step_timeout": "30", "dialect": ""}
        return console.page(
            "home.html.j2", session, status,
            stages=STAGES, dialects=dialect_choices(), error=error, form=form | dict(typed or {}),
            live=console.board.live_runs(session.lab),
            runs=console.books.runs(session.lab),
            institutions=list(reversed(console.books.institutions(session.lab))),
        )  # fmt: skip

    async def home(self, _request: Request, session: auth.Session) -> Response:
        """The start form, this lab's runs and institutions."""
        return self._home(session)

    async def start(self, _request: Request, session: auth.Session, form: Form) -> Response:
        """Start a run; a refusal is shown on the form, with what was typed."""
        stages, driver = form.all("stages"), form.one("driver")
        timeout, dialect = form.one("step_timeout") or "30", form.one("dialect")
        try:
            settings = RunSettings.parse(
                stages=stages, driver=driver, step_timeout=timeout, dialect=dialect or None
            )
            live = await anyio.to_thread.run_sync(self.console.board.start, session.lab, settings)
        except RunRefusedError as exc:
            typed = {
                "stages": stages,
                "driver": driver,
                "step_timeout": timeout,
                "dialect": dialect,
            }
            return self._home(session, 400, str(exc), typed)
        return redirect(f"/runs/{quote(live.run_id)}")

    async def run(self, request: Request, session: auth.Session) -> Response:
        """A finished run from the database, else a run of this server still in memory."""
        console, run_id = self.console, request.path_params["run_id"]
        stored = console.books.run(session.lab, run_id)
        if stored is not None:
            found = console.books.report(session.lab, run_id, "report.json")
            report = json.loads(found.content) if found is not None else {}
            return console.page(
                "run.html.j2", session, live=None, run=stored, report=report,
                evidence=_evidence(report), files=REPORT_NAMES, key_id=console.key.key_id,
            )  # fmt: skip
        live = console.board.live(session.lab, run_id)
        if live is None:
            return console.not_found(session, f"No run {run_id} of lab {session.lab}.")
        return console.page(
            "run.html.j2", session, live=live, run=None, report={}, evidence={},
            files=REPORT_NAMES, key_id=console.key.key_id,
        )  # fmt: skip

    async def events(self, request: Request, session: auth.Session) -> Response:
        """The live run's events as server-sent events, resuming after ``Last-Event-ID``."""
        live = self.console.board.live(session.lab, request.path_params["run_id"])
        if live is None:
            return self.console.not_found(session, "No such live run.")
        try:
            first = max(int(request.headers.get("last-event-id", "-1")) + 1, 0)
        except ValueError:
            first = 0

        async def stream() -> AsyncIterator[str]:
            index, deadline = first, time.monotonic() + STREAM_SECONDS
            while time.monotonic() < deadline:
                fresh = live.events_after(index)
                for event in fresh:
                    data = json.dumps(event, ensure_ascii=False)
                    yield f"id: {index}\nevent: {event['type']}\ndata: {data}\n\n"
                    index += 1
                if live.state != "running" and not live.events_after(index):
                    return
                if not fresh:
                    yield ": waiting\n\n"
                await anyio.sleep(_POLL_SECONDS)

        return StreamingResponse(stream(), media_type="text/event-stream", headers=HEADERS)

    async def file(self, request: Request, session: auth.Session) -> Response:
        """One report file of a finished run, as a download."""
        run_id, name = request.path_params["run_id"], request.path_params["name"]
        books = self.console.books
        found = books.report(session.lab, run_id, name) if name in REPORT_NAMES else None
        if found is None:
            return self.console.not_found(session, f"No file {name} of run {run_id}.")
        return _download(found.content, found.media_type, f"{run_id}-{name}")

    async def public_key(self, _request: Request, _session: auth.Session) -> Response:
        """The console's public key, to verify report signatures with."""
        pem = self.console.key.public_key.to_pem()
        return _download(pem, "application/x-pem-file", "console.sm2.pub.pem")


class _Institutions:
    """An institution's transcript, ledger, public services and faults; one visit; its export."""

    def __init__(self, console: Console) -> None:
        self.console = console

    async def show(self, request: Request, session: auth.Session) -> Response:
        """The institution page."""
        return await self._page(request, session, "", 200)

    async def _page(
        self, request: Request, session: auth.Session, error: str, status: int
    ) -> Response:
        code = request.path_params["code"]
        view = await anyio.to_thread.run_sync(self.console.books.institution, code)
        visits = [
            (mdtrt_id, visit_verdict(p.record for p in visit_records(view.records, mdtrt_id)
                                     if p.role == "visit"))
            for mdtrt_id in visit_ids(view.records)
        ]  # fmt: skip
        return self.console.page(
            "institution.html.j2", session, status, view=view, visits=visits, error=error,
            kinds=[kind.value for kind in FaultKind],
        )  # fmt: skip

    async def arm(self, request: Request, session: auth.Session, form: Form) -> Response:
        """Arm the fault the form describes (the mock's fault vocabulary)."""
        code = request.path_params["code"]
        try:
            self.console.platform.admin.arm_fault(code, _fault_body(form), "admin")
        except (AdminError, ValueError) as exc:
            return await self._page(request, session, f"The fault was not armed: {exc}", 400)
        return redirect(f"/institutions/{quote(code)}#faults")

    async def clear(self, request: Request, session: auth.Session, form: Form) -> Response:
        """Clear one fault (``fault_id``) or all of them."""
        code = request.path_params["code"]
        try:
            self.console.platform.admin.clear_faults(code, form.one("fault_id") or None)
        except AdminError as exc:
            return await self._page(request, session, f"Nothing was cleared: {exc}", 400)
        return redirect(f"/institutions/{quote(code)}#faults")

    async def visit(self, request: Request, session: auth.Session) -> Response:
        """Every message of one visit in order, request and answer side by side."""
        code, mdtrt_id = request.path_params["code"], request.path_params["mdtrt_id"]
        view = await anyio.to_thread.run_sync(self.console.books.institution, code)
        parts = visit_records(view.records, mdtrt_id)
        if not parts:
            return self.console.not_found(session, f"{code} has no visit {mdtrt_id}.")
        verdict = visit_verdict(p.record for p in parts if p.role == "visit")
        return self.console.page(
            "visit.html.j2", session, code=code, mdtrt_id=mdtrt_id, parts=parts, roles=ROLES,
            verdict=verdict, ignored=IGNORED,
        )  # fmt: skip

    async def export(self, request: Request, session: auth.Session) -> Response:
        """The visit as one file, for ``nhsa mock replay``."""
        code, mdtrt_id = request.path_params["code"], request.path_params["mdtrt_id"]
        platform = self.console.platform
        try:
            document = await anyio.to_thread.run_sync(
                lambda: export_visit(platform, code, mdtrt_id, exported_by=session.lab)
            )
        except VisitNotFoundError as exc:
            return self.console.not_found(session, str(exc))
        return _download(
            encode_export(document), "application/json", f"visit-{code}-{mdtrt_id}.json"
        )


def _download(content: bytes, media_type: str, filename: str) -> Response:
    disposition = {"content-disposition": f'attachment; filename="{filename}"'}
    return Response(content, media_type=media_type, headers=HEADERS | disposition)


def _evidence(report: Mapping[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """Requirement id → each check run that verifies it, with its message and evidence."""
    found: dict[str, list[dict[str, Any]]] = {}
    for stage in report.get("stages", []):
        for scenario in stage["scenarios"]:
            for check in scenario["checks"]:
                for requirement in check["verifies"]:
                    found.setdefault(requirement, []).append(
                        {"scenario": scenario["id"], "check": check["name"],
                         "result": check["result"], "message": check["message"],
                         "evidence": check["evidence"]}
                    )  # fmt: skip
    return found


def _fault_body(form: Form) -> dict[str, Any]:
    """The arm form as the admin API's fault body (empty fields left out).

    Example:
        >>> _fault_body(Form({"kind": ["reset"], "infno": ["2207, 2206"], "times": ["2"]}))
        {'kind': 'reset', 'times': 2, 'infno': ['2207', '2206']}
    """
    body: dict[str, Any] = {name: form.one(name) for name in _FAULT_TEXT if form.one(name)}
    for name in _FAULT_NUMBERS:
        text = form.one(name)
        if text:
            try:
                body[name] = int(text)
            except ValueError:
                raise ValueError(f"{name}: {text!r} is not a whole number") from None
    if infno := form.one("infno"):
        body["infno"] = [part.strip() for part in infno.split(",") if part.strip()]
    if form.one("after_commit"):
        body["after_commit"] = True
    return body


async def _static(request: Request) -> Response:
    name = request.path_params["name"]
    if name not in _STATIC:
        return Response("not found", 404, headers=HEADERS)
    folder = Path(__file__).parent / "static"
    headers = HEADERS | {"cache-control": "max-age=300"}
    return Response((folder / name).read_bytes(), media_type=_STATIC[name], headers=headers)


def console_routes(console: Console) -> list[BaseRoute]:
    """The console's URL map (mounted at ``/console``)."""
    sign_in, runs, places = _SignIn(console), _Runs(console), _Institutions(console)
    visit = "/institutions/{code}/visits/{mdtrt_id}"
    return [
        Route("/login", sign_in.form, methods=["GET"]),
        Route("/login", sign_in.submit, methods=["POST"]),
        Route("/logout", console.checked(sign_in.sign_out), methods=["POST"]),
        Route("/", console.signed_in(runs.home), methods=["GET"]),
        Route("/runs", console.checked(runs.start), methods=["POST"]),
        Route("/runs/{run_id}", console.signed_in(runs.run), methods=["GET"]),
        Route("/runs/{run_id}/events", console.signed_in(runs.events), methods=["GET"]),
        Route("/runs/{run_id}/files/{name}", console.signed_in(runs.file), methods=["GET"]),
        Route("/console.sm2.pub.pem", console.signed_in(runs.public_key), methods=["GET"]),
        Route("/institutions/{code}", console.owned(places.show), methods=["GET"]),
        Route("/institutions/{code}/faults", console.owned_form(places.arm), methods=["POST"]),
        Route(
            "/institutions/{code}/faults/clear", console.owned_form(places.clear), methods=["POST"]
        ),
        Route(visit, console.owned(places.visit), methods=["GET"]),
        Route(f"{visit}/export", console.owned(places.export), methods=["GET"]),
        Route("/static/{name}", _static, methods=["GET"]),
    ]


def lab_server_app(
    platform: MockPlatform, *, admin_token: str, key: Sm2PrivateKey, platform_url: str
) -> Starlette:
    """The platform's app with the console mounted at ``/console`` (what ``nhsa lab serve``
    serves): one port, one database, the platform's paths unchanged."""
    console = Console(platform, admin_token=admin_token, key=key, platform_url=platform_url)
    pages = Starlette(routes=console_routes(console), exception_handlers={Exception: _broken})
    return Starlette(routes=[Mount(CONSOLE_PATH, app=pages), Mount("/", app=platform.app)])


async def _broken(request: Request, exc: Exception) -> Response:
    """Whatever went wrong, a page that says so (the log has the details), never a traceback."""
    _LOG.error("console page %s failed: %s: %s", request.url.path, type(exc).__name__, exc)
    return HTMLResponse(
        "<!DOCTYPE html><title>Console error</title><h1>Something went wrong</h1>"
        f"<p>The console could not show this page ({type(exc).__name__}); the server's log "
        "says what happened.</p>",
        500,
        headers=HEADERS,
    )

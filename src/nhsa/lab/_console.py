"""The console's core: sessions, CSRF, ownership checks and templates; the pages are in ``_pages``.

Every page under ``/console`` but the sign-in form needs a session (:mod:`nhsa.lab._auth`);
every page about an institution or a run checks that it is the session's lab's and answers 404
otherwise — exactly as for one that does not exist, so one lab cannot even learn that another's
institution is there. Forms that change state (start a run, arm or clear a fault, sign out)
carry the session's CSRF token. Nothing is loaded from anywhere but this server (the
Content-Security-Policy says so); the live run page follows its run with an ``EventSource``.

Forms are read as ``application/x-www-form-urlencoded`` with the standard library: the console
has no file upload, so it needs no multipart parser.

Example::

    console = Console(platform, admin_token=token, key=key, platform_url=url)
    endpoint = console.owned(institution_page)    # session + ownership, else login / 404
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final
from urllib.parse import parse_qs

import jinja2
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from nhsa import spec
from nhsa.conformance.reports import jsonable
from nhsa.lab import _auth as auth
from nhsa.lab._records import LabBooks
from nhsa.lab._runs import RunBoard
from nhsa.mock import MockPlatform
from nhsa.redaction import redact
from nhsa.signing import Sm2PrivateKey

__all__ = ["CONSOLE_PATH", "HEADERS", "Console", "Form", "pretty", "redirect", "transaction_title"]

CONSOLE_PATH: Final = "/console"
MAX_FORM_BYTES: Final = 64 * 1024
HEADERS: Final = {
    "content-security-policy": "default-src 'self'; script-src 'self'; style-src 'self'; "
    "img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'",
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "cache-control": "no-store",
}
"""Sent with every console response."""
_FOLDER: Final = Path(__file__).parent


@dataclass(frozen=True)
class Form:
    """A submitted form (``application/x-www-form-urlencoded``).

    Example:
        >>> form = Form({"stages": ["lab", "city"], "driver": [" sdk "]})
        >>> form.one("driver"), form.all("stages"), form.one("missing")
        ('sdk', ['lab', 'city'], '')
    """

    values: Mapping[str, list[str]]

    @classmethod
    async def read(cls, request: Request) -> Form:
        """The request's form (empty when the body is larger than any console form)."""
        body = await request.body()
        if len(body) > MAX_FORM_BYTES:
            return cls({})
        return cls(parse_qs(body.decode("utf-8", errors="replace"), keep_blank_values=True))

    def one(self, name: str) -> str:
        """The field's first value, stripped (``""`` when absent)."""
        return (self.values.get(name) or [""])[0].strip()

    def all(self, name: str) -> list[str]:
        """Every value of the field."""
        return list(self.values.get(name, []))


Page = Callable[[Request, auth.Session], Awaitable[Response]]
FormPage = Callable[[Request, auth.Session, Form], Awaitable[Response]]
Endpoint = Callable[[Request], Awaitable[Response]]


class Console:
    """One console: the platform, its books and runs, the sessions, the templates.

    Args:
        platform: the mock platform this server serves (and the runs drive).
        admin_token: the mock's admin token (signs labs in; derives lab tokens).
        key: the console's SM2 key, which signs every run's ``report.json``.
        platform_url: where a HIS in another process reaches the platform.
    """

    def __init__(
        self, platform: MockPlatform, *, admin_token: str, key: Sm2PrivateKey, platform_url: str
    ) -> None:
        """Assemble the console; nothing runs until a lab starts a run."""
        self.platform = platform
        self.admin_token = admin_token
        self.key = key
        self.books = LabBooks(platform)
        self.board = RunBoard(platform, self.books, key, platform_url=platform_url)
        self.sessions = auth.Sessions()
        self.templates = jinja2.Environment(
            loader=jinja2.FileSystemLoader(_FOLDER / "templates"),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.templates.filters["pretty"] = pretty
        self.templates.filters["title"] = transaction_title

    def page(
        self, name: str, session: auth.Session | None, status: int = 200, **values: Any
    ) -> HTMLResponse:
        """A rendered template."""
        html = self.templates.get_template(name).render(
            session=session, base=CONSOLE_PATH, **values
        )
        return HTMLResponse(html, status, headers=HEADERS)

    def not_found(self, session: auth.Session | None, what: str) -> HTMLResponse:
        """404 with what was not found (or not this lab's)."""
        return self.page("error.html.j2", session, 404, title="Not found", message=what)

    def signed_in(self, handler: Page) -> Endpoint:
        """An endpoint that needs a session (without one: the sign-in form)."""

        async def guarded(request: Request) -> Response:
            session = self.sessions.get(request.cookies.get(auth.SESSION_COOKIE))
            if session is None:
                return redirect("/login")
            return await handler(request, session)

        return guarded

    def checked(self, handler: FormPage) -> Endpoint:
        """A state-changing form: it needs a session and that session's CSRF token."""

        async def page(request: Request, session: auth.Session) -> Response:
            form = await Form.read(request)
            if not auth.same_secret(form.one("csrf"), session.csrf):
                return self.page(
                    "error.html.j2", session, 403, title="Form expired",
                    message="This form did not come from your session (CSRF check failed): "
                    "reload the page and send it again.",
                )  # fmt: skip
            return await handler(request, session, form)

        return self.signed_in(page)

    def owned(self, handler: Page) -> Endpoint:
        """A page about ``{code}``: only for the lab whose institution it is."""

        async def page(request: Request, session: auth.Session) -> Response:
            code = request.path_params["code"]
            if not self.books.owns(session.lab, code):
                return self.not_found(
                    session, f"{code} is not one of lab {session.lab}'s institutions."
                )
            return await handler(request, session)

        return self.signed_in(page)

    def owned_form(self, handler: FormPage) -> Endpoint:
        """A state-changing form about ``{code}``: the lab's institution, and its CSRF token."""

        async def page(request: Request, session: auth.Session, form: Form) -> Response:
            code = request.path_params["code"]
            if not self.books.owns(session.lab, code):
                return self.not_found(
                    session, f"{code} is not one of lab {session.lab}'s institutions."
                )
            return await handler(request, session, form)

        return self.checked(page)


def redirect(path: str) -> RedirectResponse:
    """303 to a console path.

    Example:
        >>> redirect("/").headers["location"]
        '/console/'
    """
    return RedirectResponse(f"{CONSOLE_PATH}{path}", 303, headers=HEADERS)


def pretty(value: Any) -> str:
    """JSON for reading: personal data masked, indented.

    Example:
        >>> print(pretty({"psn_name": "张三", "infcode": 0}))
        {
          "psn_name": "***",
          "infcode": 0
        }
    """
    return json.dumps(redact(jsonable(value)), ensure_ascii=False, indent=2)


def transaction_title(infno: str | None) -> str:
    """``2207 门诊结算``, from the contract.

    Example:
        >>> transaction_title("9001")
        '9001 签到'
    """
    if infno is None:
        return "(no infno)"
    try:
        return f"{infno} {spec.contract().transaction(infno).title_zh}"
    except KeyError:
        return infno

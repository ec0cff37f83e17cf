"""The ASGI endpoint of the business paths: read the body, run the pipeline, deliver.

Delivery is where faults touch the connection: a withheld answer hangs or resets through the
:class:`~nhsa.mock.faults.ConnectionControl` of the server in use, a latency fault waits
before sending. The pipeline's checks and business work run on the event loop; on SQLite the
requests that arrive while a COMMIT is written share the next one (``GroupCommit``), and each
answer waits for the COMMIT that covers it.

Example::

    Route("/fsi/api/rsfComIfsService/callService", BusinessEndpoint(pipeline, clock, ...))
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

from nhsa.envelope import Clock, dumps
from nhsa.mock.app import _wording as wording
from nhsa.mock.app._answers import JSON_TYPE, Reply, answer_envelope, seal
from nhsa.mock.app._core import PlatformCore
from nhsa.mock.app._pipeline import Incoming, Pipeline
from nhsa.mock.faults import control_of
from nhsa.mock.transcript import Route
from nhsa.signing import BearerIssuer, basic_credentials
from nhsa.signing.errors import GatewayAuthError

__all__ = ["BusinessEndpoint", "TokenEndpoint", "send_reply"]

_TOKEN_BODY_LIMIT = 8192


async def send_reply(send: Any, reply: Reply) -> None:
    """Send ``reply`` as a complete HTTP answer."""
    headers = [
        (b"content-type", reply.content_type.encode("latin-1")),
        (b"content-length", str(len(reply.body)).encode("latin-1")),
    ]
    headers.extend(
        (name.encode("latin-1"), value.encode("latin-1")) for name, value in reply.headers
    )
    await send({"type": "http.response.start", "status": reply.status, "headers": headers})
    await send({"type": "http.response.body", "body": reply.body, "more_body": False})


class BusinessEndpoint:
    """One business path (the single entry, or one transaction's own path).

    Args:
        pipeline: the request pipeline.
        clock: the platform's clock (stamps ``received_at``).
        route: ``single-entry`` or ``per-transaction``.
        path_infno: the infno a per-transaction path serves.
        max_body_bytes: body size limit (reading stops just past it).
        max_hang_seconds: how long a withheld answer holds the connection.
    """

    def __init__(
        self,
        pipeline: Pipeline,
        clock: Clock,
        *,
        route: Route,
        path_infno: str | None,
        max_body_bytes: int,
        max_hang_seconds: float,
    ) -> None:
        """Serve one business path."""
        self._pipeline = pipeline
        self._clock = clock
        self._route: Route = route
        self._path_infno = path_infno
        self._limit = max_body_bytes
        self._hang_limit = max_hang_seconds

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        """Handle one request (an ASGI app)."""
        received_at = self._clock()
        if scope["method"] != "POST":
            await send_reply(send, _method_not_allowed(scope["method"], received_at))
            return
        headers = {
            name.decode("latin-1").lower(): value.decode("latin-1")
            for name, value in scope["headers"]
        }
        body, size = await self._read_body(receive, headers.get("content-length"))
        incoming = Incoming(
            route=self._route,
            path=scope["path"],
            path_infno=self._path_infno or scope.get("path_params", {}).get("infno"),
            headers=headers,
            body=body,
            received_at=received_at,
            size=size,
        )
        delivery = await self._pipeline.process(incoming)
        control = control_of(scope, send)
        if delivery.withhold == "hang":
            await control.hang(receive, self._hang_limit)
        elif delivery.withhold == "reset":
            await control.reset()
        elif delivery.reply is not None:
            if delivery.delay > 0:
                await control.delay(delivery.delay)
            await send_reply(send, delivery.reply)

    async def _read_body(self, receive: Any, declared: str | None) -> tuple[bytes, int]:
        """The body, read no further than one byte past the limit, and its size."""
        size = int(declared) if declared is not None and declared.isdigit() else 0
        if size > self._limit:
            return b"", size
        chunks: list[bytes] = []
        read = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunk = message.get("body", b"")
            chunks.append(chunk)
            read += len(chunk)
            if read > self._limit or not message.get("more_body", False):
                break
        return b"".join(chunks), max(size, read)


def _method_not_allowed(method: str, when: Any) -> Reply:
    envelope = answer_envelope(
        infcode=-1,
        err_msg=wording.method_not_allowed(method),
        output=None,
        inf_refmsgid="",
        received_at=when,
        responded_at=when,
    )
    return Reply(405, seal(envelope, None), headers=(("allow", "POST"),))


class TokenEndpoint:
    """A bearer gateway's OAuth2 token endpoint (Jilin: ``POST /auth/oauth/token``).

    ``Authorization: Basic base64(client_id:client_secret)`` must name a registered gateway
    application (its paasid and token); the form must be a password grant with a username and
    a password, which the mock does not check (the platform's account store is not public).
    Errors are RFC 6749 bodies (``{"error": …, "error_description": …}``) [inference: the
    province's own error body is not public]; nothing is recorded in any transcript, as no
    institution is known yet.
    """

    def __init__(self, core: PlatformCore) -> None:
        """Issue tokens checked against ``core``'s registered gateway applications."""
        self._issuer = BearerIssuer(core.directory.token, clock=core.guard.clock)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        """Answer one token request (an ASGI app)."""
        headers = {
            name.decode("latin-1").lower(): value.decode("latin-1")
            for name, value in scope["headers"]
        }
        body = b""
        while len(body) <= _TOKEN_BODY_LIMIT:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body", False):
                break
        await send_reply(send, self._answer(headers.get("authorization"), body))

    def _answer(self, authorization: str | None, body: bytes) -> Reply:
        form = {key: values[0] for key, values in parse_qs(body.decode("utf-8", "replace")).items()}
        client = basic_credentials(authorization)
        if client is None:
            return _oauth_error(
                401, "invalid_client", "Authorization: Basic base64(client_id:secret) is missing"
            )
        if form.get("grant_type") != "password":
            return _oauth_error(
                400, "unsupported_grant_type", "grant_type: this gateway takes password"
            )
        missing = [name for name in ("username", "password") if not form.get(name)]
        if missing:
            return _oauth_error(400, "invalid_request", f"{', '.join(missing)}: required")
        try:
            token = self._issuer.issue(*client)
        except GatewayAuthError as error:
            return _oauth_error(401, "invalid_client", error.err_msg)
        return Reply(200, dumps(token), content_type=JSON_TYPE)


def _oauth_error(status: int, error: str, description: str) -> Reply:
    body = dumps({"error": error, "error_description": description})
    return Reply(status, body, content_type=JSON_TYPE)

"""The mock platform's HTTP skin: a Starlette ASGI app over the engine, and ways to serve it.

- :class:`PlatformCore` — store, engine, registered institutions, faults, keys and clock;
- :func:`build_app` — the ASGI app: the single entry ``POST
  /fsi/api/rsfComIfsService/callService``, one path per transaction (from the contract), the
  admin and public routes it is given; the request pipeline is in ``_pipeline``;
- :class:`InProcessTransport` / :class:`AsyncInProcessTransport` — httpx transports that run
  the app without sockets, faults included;
- :class:`BackgroundServer`, :func:`bind_socket`, :func:`build_server` — uvicorn, with a
  protocol whose resets are real TCP resets.

``nhsa.mock.platform`` assembles these with the admin API; most users want
``nhsa.mock.MockPlatform`` or ``nhsa mock serve``.

Example:
    >>> from nhsa.mock.store import SqliteStore
    >>> from nhsa.mock.fixtures import bundled_fixtures
    >>> core = PlatformCore(SqliteStore(":memory:"), None, bundled_fixtures())
    >>> build_app(core, [], []).__class__.__name__
    'Starlette'
"""

from nhsa.mock.app._answers import RefMsgIds, Reply, answer_envelope, millis_text
from nhsa.mock.app._core import PlatformCore
from nhsa.mock.app._inprocess import AsyncInProcessTransport, InProcessTransport
from nhsa.mock.app._options import MAX_BODY_BYTES, ServerOptions
from nhsa.mock.app._pipeline import Delivery, Incoming, Pipeline
from nhsa.mock.app._routes import SINGLE_ENTRY, build_app, business_paths
from nhsa.mock.app._server import BackgroundServer, ServeError, bind_socket, build_server
from nhsa.mock.app._tenants import Tenant, TenantDirectory

__all__ = [
    "MAX_BODY_BYTES",
    "SINGLE_ENTRY",
    "AsyncInProcessTransport",
    "BackgroundServer",
    "Delivery",
    "InProcessTransport",
    "Incoming",
    "Pipeline",
    "PlatformCore",
    "RefMsgIds",
    "Reply",
    "ServeError",
    "ServerOptions",
    "Tenant",
    "TenantDirectory",
    "answer_envelope",
    "bind_socket",
    "build_app",
    "build_server",
    "business_paths",
    "millis_text",
]

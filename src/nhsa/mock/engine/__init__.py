"""The mock platform's engine: one handler per infno, business rules over a store, no HTTP.

The server opens a store transaction, calls :meth:`Engine.handle` (or its two halves,
:meth:`Engine.admit` and :meth:`Engine.process`) with a :class:`Call`, writes its transcript
record in the same transaction, commits, and only then sends the :class:`Answer` (whose
``file``, for 9102, is the raw body to send instead of an envelope, and whose ``warn_msg``
goes into the envelope's ``warn_msg``). A business refusal is an answer (infcode -1, err_msg in
Chinese then English saying what is wrong and what to do), never an exception, and never leaves
a partial change. The engine serves only what the server's checks admitted: registered
institutions and contract-valid envelopes (see ``_engine``'s docstring).

Simulated: 9001, 9002, 1101, 2001, 2201, 2202, 2203, 2203A, 2204, 2205, 2206, 2207, 2208, the
inpatient stay (2401, 2404, 2301, 2302, 2303, 2304, 2305, 2402, 2405: ``_stays`` draws its state
machine), 2601, 3201, 3202, 5203, 9101, 9102; chronic-disease registration 2503, 2504 and its
query 5301, with the med_type 14 rule (``_chronic``). :class:`PlatformServices` holds the public
services (institutions, fixtures per tenant, filings, e-voucher tokens, downtime windows and
notices, statistics, chronic-disease recognitions).

Example:
    >>> from nhsa.mock.fixtures import bundled_fixtures
    >>> from nhsa.mock.store import SqliteStore
    >>> from nhsa.envelope import CHINA_TIME
    >>> from datetime import datetime
    >>> store = SqliteStore(":memory:")
    >>> engine = Engine(store, bundled_fixtures())
    >>> envelope = {"infno": "9001", "msgid": "H53010100001202611230900000001",
    ...             "mdtrtarea_admvs": "530100", "fixmedins_code": "H53010100001",
    ...             "input": {"signIn": {"opter_no": "K01", "ip": "10.0.0.8"}}}
    >>> call = Call("H53010100001", "9001", envelope["msgid"], envelope,
    ...             datetime(2026, 11, 23, 9, 0, tzinfo=CHINA_TIME))
    >>> with store.transaction() as tx:
    ...     answer = engine.handle(call, tx)
    >>> answer.infcode, answer.output["signinoutb"]["sign_time"]
    (0, '2026-11-23 09:00:00')
"""

from nhsa.mock.engine._accounts import FILING_KINDS, FilingOnRecord
from nhsa.mock.engine._engine import HANDLERS, Engine
from nhsa.mock.engine._errors import BusinessError, UnknownTenantError
from nhsa.mock.engine._services import Figures, PlatformServices, ServiceError, Statistics
from nhsa.mock.engine._types import Answer, Call, EngineOptions

__all__ = [
    "FILING_KINDS",
    "HANDLERS",
    "Answer",
    "BusinessError",
    "Call",
    "Engine",
    "EngineOptions",
    "Figures",
    "FilingOnRecord",
    "PlatformServices",
    "ServiceError",
    "Statistics",
    "UnknownTenantError",
]

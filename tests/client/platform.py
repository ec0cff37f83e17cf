"""A platform for the SDK's tests: the mock's real engine and store behind an httpx handler.

:class:`EnginePlatform` answers requests the way the mock server does — gateway and message
signatures checked when a profile asks for them, the engine run inside one store transaction
per request, the answer signed — with no HTTP server in between, so the tests can script exact
fault timing around it (:class:`Script`): a fault can strike *before* the engine sees a request
(it was never sent) or *after* the engine committed (the answer was lost).

It records every request it was handed (``seen``) and every request the engine processed
(``processed``), which is what the tests assert on.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace
from typing import Any, ClassVar

import httpx
import orjson

from nhsa.envelope import CHINA_TIME, dumps
from nhsa.mock.engine import Call, Engine, EngineOptions, PlatformServices
from nhsa.mock.fixtures import bundled_fixtures
from nhsa.mock.platform import MockPlatform
from nhsa.mock.store import ACTIVE, Settlement, SqliteStore
from nhsa.signing import KeyEntry, KeyRing, PlatformSigning, SigningProfile, Sm2PrivateKey
from nhsa.signing.errors import RejectedMessageError

TENANT = "H53010100001"
TENANT_NAME = "昆明市测试第一人民医院"
AREA = "530100"
PAASID, TOKEN = "paas-test", "token-test"

Fault = Callable[[httpx.Request], httpx.Response]


@dataclass
class Rule:
    """Strike ``action`` on the ``nth`` request (1-based) of ``infno`` (``None``: any)."""

    infno: str | None
    nth: int
    action: str


@dataclass
class Script:
    """Faults by infno and occurrence. Actions:

    ``connect-error`` / ``connect-timeout`` — raised before the engine sees the request;
    ``drop`` — the engine commits, then the client gets ``ReadTimeout`` (commit-then-drop);
    ``reset`` — the engine commits, then ``RemoteProtocolError`` (reset after sending);
    ``read-error`` — the engine commits, then ``ReadError``;
    ``http-502`` / ``http-503`` — a gateway error, the engine never sees it;
    ``http-502-after`` — the engine commits, the gateway answers 502 anyway;
    ``garble`` — the engine commits, the body is cut short;
    ``bad-signature`` — the engine commits, the answer's signature is broken;
    ``busy`` — HTTP 429, the engine never sees it;
    ``busy-envelope`` — infcode -1 "系统繁忙，请稍后重试", the engine never sees it;
    ``sign-in-expired`` — infcode -1 "签到已失效…", the engine never sees it;
    ``tamper-amount`` — the engine commits, and the answer moves 1.00 from the account to cash
    (re-signed, so only the amounts check can tell).
    """

    rules: list[Rule] = field(default_factory=list)
    counts: dict[str | None, int] = field(default_factory=dict)

    def on(self, infno: str | None, action: str, nth: int = 1) -> Script:
        """Add a rule; returns the script for chaining."""
        self.rules.append(Rule(infno, nth, action))
        return self

    def action_for(self, infno: str) -> str | None:
        for key in (infno, None):
            self.counts[key] = self.counts.get(key, 0) + 1
        for rule in self.rules:
            if rule.infno in (None, infno) and self.counts[rule.infno] == rule.nth:
                return rule.action
        return None


class EnginePlatform:
    """The mock engine behind a sync httpx handler (see the module docstring)."""

    def __init__(
        self,
        db: Path | str = ":memory:",
        *,
        profile: str = "none",
        institution_key: Sm2PrivateKey | None = None,
        enforce_sign_in: bool = True,
    ) -> None:
        self.store = SqliteStore(db)
        self.engine = Engine(
            self.store, bundled_fixtures(), options=EngineOptions(enforce_sign_in=enforce_sign_in)
        )
        self.script = Script()
        self.seen: list[dict[str, Any]] = []
        self.processed: list[dict[str, Any]] = []
        self.profile = SigningProfile.parse(profile)
        self.platform_key = Sm2PrivateKey.generate()
        self.institution_key = institution_key or Sm2PrivateKey.generate()
        self._serial = itertools.count(1)
        self.signing = PlatformSigning(
            self.profile,
            paas_tokens={PAASID: TOKEN},
            institution_keys=KeyRing([KeyEntry(self.institution_key.public_key, TENANT)]),
            private_key=self.platform_key,
        )

    # -- what a client needs ------------------------------------------------------------------

    def client_settings(self) -> dict[str, Any]:
        """ClientConfig keyword arguments for this platform's signing profile."""
        return {
            "profile": str(self.profile),
            "paasid": PAASID,
            "token": TOKEN,
            "private_key": self.institution_key,
            "platform_keys": KeyRing([KeyEntry(self.platform_key.public_key, "NHSA")]),
        }

    def transport(self) -> httpx.MockTransport:
        """An httpx transport (sync and async) that calls :meth:`handle`."""
        return httpx.MockTransport(self.handle)

    def sync_transport(self) -> httpx.MockTransport:
        return self.transport()

    def async_transport(self) -> httpx.MockTransport:
        return self.transport()

    def arm(self, infno: str, action: str) -> None:
        """Strike ``action`` on the next request of ``infno``."""
        self.script.on(infno, action, nth=self.script.counts.get(infno, 0) + 1)

    def schedule_downtime(self, admdvs: str, start: datetime, end: datetime) -> None:
        PlatformServices(self.engine).schedule_downtime(TENANT, admdvs, start, end)

    # -- queries the tests make -----------------------------------------------------------------

    def infnos(self) -> list[str]:
        """infno of every request handed over, in order (faulted ones included)."""
        return [r["infno"] for r in self.seen]

    def processed_infnos(self) -> list[str]:
        """infno of every request the engine processed, in order."""
        return [r["infno"] for r in self.processed]

    def requests_of(self, infno: str) -> list[dict[str, Any]]:
        """Every request of ``infno`` handed over."""
        return [r for r in self.seen if r["infno"] == infno]

    def settlements(self) -> list[Any]:
        """Every active ledger row of the tenant."""
        with self.store.transaction() as tx:
            rows = tx.between(
                Settlement,
                "setl_date",
                datetime(2000, 1, 1).date(),
                datetime(2100, 1, 1).date(),
                tenant=TENANT,
            )
        return [row for row in rows if row.status == ACTIVE]

    # -- the handler ----------------------------------------------------------------------------

    def handle(self, request: httpx.Request) -> httpx.Response:
        if request.method == "GET":
            return httpx.Response(404)
        body = request.content
        document = orjson.loads(body)
        self.seen.append(document)
        action = self.script.action_for(document["infno"])
        if action in ("connect-error", "connect-timeout"):
            error = httpx.ConnectError if action == "connect-error" else httpx.ConnectTimeout
            raise error("scripted: connection refused", request=request)
        if action in ("http-502", "http-503"):
            return httpx.Response(int(action[-3:]), text="Bad Gateway")
        if action == "busy":
            return httpx.Response(429, headers={"retry-after": "0"}, text="Too Many Requests")
        if action == "busy-envelope":
            return self._answer({"infcode": -1, "err_msg": "系统繁忙，请稍后重试"})
        if action == "sign-in-expired":
            return self._answer({"infcode": -1, "err_msg": "签到已失效，请重新调用【9001】签到"})
        try:
            self.signing.check_request(request.headers, body)
        except RejectedMessageError as error:
            return self._answer({"infcode": -1, "err_msg": error.err_msg})
        response = self._process(document)
        if action == "drop":
            raise httpx.ReadTimeout("scripted: answer withheld after commit", request=request)
        if action == "reset":
            raise httpx.RemoteProtocolError("scripted: reset after commit", request=request)
        if action == "read-error":
            raise httpx.ReadError("scripted: read error after commit", request=request)
        if action == "http-502-after":
            return httpx.Response(502, text="Bad Gateway")
        if action == "garble":
            return httpx.Response(200, content=response.content[: len(response.content) // 2])
        if action == "tamper-amount":
            return self._tampered(response)
        if action == "bad-signature":
            content = response.content.replace(b'"infcode":0', b'"infcode": 0', 1)
            return httpx.Response(200, content=content, headers=response.headers)
        return response

    def _process(self, document: dict[str, Any]) -> httpx.Response:
        self.processed.append(document)
        now = datetime.now(CHINA_TIME)
        call = Call(document["fixmedins_code"], document["infno"], document["msgid"], document, now)
        with self.store.transaction() as tx:
            answer = self.engine.handle(call, tx)
        if answer.file is not None and answer.infcode == 0:
            return httpx.Response(
                200, content=answer.file, headers={"content-type": "application/octet-stream"}
            )
        return self._answer(
            {
                "infcode": answer.infcode,
                "err_msg": answer.err_msg,
                "warn_msg": answer.warn_msg,
                "output": answer.output if answer.infcode == 0 else None,
            }
        )

    def _tampered(self, response: httpx.Response) -> httpx.Response:
        envelope = orjson.loads(response.content)
        setlinfo = envelope["output"]["setlinfo"]
        setlinfo["acct_pay"] = round(setlinfo["acct_pay"] - 1, 2)
        setlinfo["psn_cash_pay"] = round(setlinfo["psn_cash_pay"] + 1, 2)
        return self._answer(envelope)

    def _answer(self, fields: dict[str, Any]) -> httpx.Response:
        stamp = datetime.now(CHINA_TIME)
        envelope = {
            "infcode": fields["infcode"],
            "inf_refmsgid": f"{AREA}{stamp:%Y%m%d%H%M%S}{next(self._serial):010d}",
            "refmsg_time": f"{stamp:%Y%m%d%H%M%S%f}"[:17],
            "respond_time": f"{stamp:%Y%m%d%H%M%S%f}"[:17],
            "err_msg": fields.get("err_msg"),
            "warn_msg": fields.get("warn_msg"),
            "cainfo": "",
            "signtype": "",
            "output": fields.get("output"),
        }
        body = self.signing.seal_response(dumps(envelope))
        return httpx.Response(200, content=body, headers={"content-type": "application/json"})


class MockView:
    """The in-process :class:`~nhsa.mock.MockPlatform` (server, faults, transcript) behind the
    same small interface as :class:`EnginePlatform`, read through its transcript."""

    FAULTS: ClassVar[dict[str, tuple[str, dict[str, Any]]]] = {
        "drop": ("commit-then-drop", {}),
        "reset": ("commit-then-drop", {"mode": "reset"}),
        "garble": ("garbled-body", {}),
        "empty": ("empty-body", {}),
        "bad-signature": ("bad-signature", {}),
        "http-502-after": ("http-error", {"status": 502, "after_commit": True}),
        "http-503": ("http-error", {"status": 503}),
        "hang": ("hang", {}),
    }

    def __init__(self, mock: MockPlatform, profile: str) -> None:
        self.mock = mock
        self.enrollment = mock.enroll(TENANT, profile=profile)

    def client_settings(self) -> dict[str, Any]:
        enrollment = self.enrollment
        return {
            "base_url": self.mock.base_url,
            "profile": str(enrollment.profile),
            "paasid": enrollment.paasid,
            "token": enrollment.token,
            "private_key": enrollment.private_key,
            "platform_keys": KeyRing([KeyEntry(enrollment.platform_key, "NHSA")]),
        }

    def sync_transport(self) -> httpx.BaseTransport:
        return self.mock.transport

    def async_transport(self) -> httpx.AsyncBaseTransport:
        return self.mock.async_transport

    def arm(self, infno: str, action: str) -> None:
        kind, params = self.FAULTS[action]
        self.mock.arm_fault(TENANT, kind, infno=infno, **params)

    def schedule_downtime(self, admdvs: str, start: datetime, end: datetime) -> None:
        self.mock.schedule_downtime(TENANT, admdvs, start, end)

    @property
    def records(self) -> list[dict[str, Any]]:
        return self.mock.transcript(TENANT)

    @property
    def seen(self) -> list[dict[str, Any]]:
        return [r["request"] for r in self.records if r.get("request")]

    def infnos(self) -> list[str]:
        return [r["infno"] for r in self.records]

    def requests_of(self, infno: str) -> list[dict[str, Any]]:
        return [r["request"] for r in self.records if r["infno"] == infno]

    def settlements(self) -> list[Any]:
        return [
            SimpleNamespace(setl_id=row["setl_id"], medfee_sumamt=Decimal(row["medfee_sumamt"]))
            for row in self.mock.settlements(TENANT)
            if row["status"] == "active"
        ]

"""The ``http`` driver: a foreign HIS driven through the HTTP driver API.

A HIS in any language implements ``conformance/driver-api.yaml`` — ``GET /health`` and one
``POST /<action>`` per action, JSON mirroring :mod:`nhsa.conformance._driver`'s types — and
the suite calls it at ``--driver http://HOST:PORT``. Every answer is checked against the
document's schema (``ActionResult``, ``Health``) and then field by field before it is
believed:

- the HIS cannot be reached (refused, timed out, reset) → :class:`DriverUnavailableError`
  naming the URL and the reason;
- it answers something that is not a driver result (not HTTP 200, not JSON, wrong shape, a
  status outside the vocabulary) → :class:`DriverProtocolError` naming the URL and what was
  wrong.

The runner turns both into an ``error`` step (never a verdict on business rules) and goes on
with the next scenario.

Example:
    >>> HttpDriver("http://127.0.0.1:8800/").describe()
    'http://127.0.0.1:8800'
"""

from __future__ import annotations

from typing import Any, Final

import httpx
import orjson

from nhsa._nesting import MAX_DEPTH, deeper_than
from nhsa.conformance._driver import (
    AdmitRequest,
    CancelAdmissionRequest,
    CancelChronicRequest,
    CancelRegistrationRequest,
    CancelStaySettlementRequest,
    ChargeRequest,
    DischargeRequest,
    DriverHealth,
    DriverResult,
    HisConfiguration,
    PartialRefundRequest,
    ReconcileRequest,
    RefundRequest,
    RegisterChronicRequest,
    RegisterRequest,
    SignInRequest,
    StayFeesRequest,
    StaySettlementRequest,
)
from nhsa.conformance._errors import DriverProtocolError, DriverUnavailableError
from nhsa.conformance._mock_handle import MockHandle
from nhsa.conformance.drivers._api import check
from nhsa.conformance.drivers.wire import WireError, from_json, to_json

__all__ = ["HttpDriver", "create_driver"]

_SHOWN: Final = 200
"""Characters of a garbled answer quoted in the error."""
_GRACE: Final = 5.0
"""Seconds the HTTP client waits beyond the step timeout (the runner gives up first)."""


def create_driver(target: str, *, mock: MockHandle, step_timeout: float) -> HttpDriver:
    """``--driver http://HOST:PORT``: the driver API at that URL.

    Example:
        >>> create_driver("http://his:8800", mock=object(), step_timeout=30).timeout  # type: ignore
        35.0
    """
    del mock  # the HIS reaches the platform itself, at the URL ``configure`` gives it
    return HttpDriver(target, timeout=step_timeout + _GRACE)


class HttpDriver:
    """A :class:`~nhsa.conformance.Driver` over a HIS's driver API.

    Args:
        url: the driver API's base URL.
        timeout: seconds to wait for one action's answer.
        transport: an httpx transport (tests mount an app in-process with it).
    """

    def __init__(
        self, url: str, *, timeout: float = 35.0, transport: httpx.BaseTransport | None = None
    ) -> None:
        """Prepare the client; nothing is sent until the first call."""
        self.url = url.rstrip("/")
        self.timeout = timeout
        self._http = httpx.Client(
            base_url=self.url,
            timeout=httpx.Timeout(timeout, connect=5.0),
            transport=transport,
            headers={"accept": "application/json"},
        )

    def describe(self) -> str:
        """The driver API's URL."""
        return self.url

    def health(self) -> DriverHealth:
        """``GET /health``."""
        path = "/health"
        health: DriverHealth = self._read(DriverHealth, self._exchange("GET", path, None), path)
        return health

    def configure(self, config: HisConfiguration) -> DriverResult:
        """``POST /configure``."""
        return self._act("configure", config)

    def sign_in(self, request: SignInRequest) -> DriverResult:
        """``POST /sign_in``."""
        return self._act("sign_in", request)

    def register(self, request: RegisterRequest) -> DriverResult:
        """``POST /register``."""
        return self._act("register", request)

    def cancel_registration(self, request: CancelRegistrationRequest) -> DriverResult:
        """``POST /cancel_registration``."""
        return self._act("cancel_registration", request)

    def charge(self, request: ChargeRequest) -> DriverResult:
        """``POST /charge``."""
        return self._act("charge", request)

    def refund(self, request: RefundRequest) -> DriverResult:
        """``POST /refund``."""
        return self._act("refund", request)

    def partial_refund(self, request: PartialRefundRequest) -> DriverResult:
        """``POST /partial_refund``."""
        return self._act("partial_refund", request)

    def reconcile(self, request: ReconcileRequest) -> DriverResult:
        """``POST /reconcile``."""
        return self._act("reconcile", request)

    def register_chronic(self, request: RegisterChronicRequest) -> DriverResult:
        """``POST /register_chronic``."""
        return self._act("register_chronic", request)

    def cancel_chronic(self, request: CancelChronicRequest) -> DriverResult:
        """``POST /cancel_chronic``."""
        return self._act("cancel_chronic", request)

    def admit(self, request: AdmitRequest) -> DriverResult:
        """``POST /admit``."""
        return self._act("admit", request)

    def upload_stay_fees(self, request: StayFeesRequest) -> DriverResult:
        """``POST /upload_stay_fees``."""
        return self._act("upload_stay_fees", request)

    def settle_midway(self, request: StaySettlementRequest) -> DriverResult:
        """``POST /settle_midway``."""
        return self._act("settle_midway", request)

    def discharge(self, request: DischargeRequest) -> DriverResult:
        """``POST /discharge``."""
        return self._act("discharge", request)

    def settle_stay(self, request: StaySettlementRequest) -> DriverResult:
        """``POST /settle_stay``."""
        return self._act("settle_stay", request)

    def cancel_stay_settlement(self, request: CancelStaySettlementRequest) -> DriverResult:
        """``POST /cancel_stay_settlement``."""
        return self._act("cancel_stay_settlement", request)

    def cancel_admission(self, request: CancelAdmissionRequest) -> DriverResult:
        """``POST /cancel_admission``."""
        return self._act("cancel_admission", request)

    def close(self) -> None:
        """Close the HTTP client."""
        self._http.close()

    def _act(self, action: str, request: object) -> DriverResult:
        path = f"/{action}"
        data = self._exchange("POST", path, to_json(request))
        result: DriverResult = self._read(DriverResult, data, path)
        return result

    def _read(self, kind: type[Any], data: Any, path: str) -> Any:
        component = "Health" if kind is DriverHealth else "ActionResult"
        try:
            check(component, data)
            return from_json(kind, data)
        except WireError as error:
            raise DriverProtocolError(
                f"{self.url}{path} answered JSON that is not a {kind.__name__}: {error}"
            ) from None

    def _exchange(self, method: str, path: str, body: Any) -> Any:
        where = f"{self.url}{path}"
        content = orjson.dumps(body) if body is not None else None
        headers = {"content-type": "application/json"} if content is not None else None
        try:
            response = self._http.request(method, path, content=content, headers=headers)
        except httpx.TimeoutException:
            raise DriverUnavailableError(where, f"no answer within {self.timeout:g} s") from None
        except httpx.HTTPError as error:
            reason = str(error) or type(error).__name__
            raise DriverUnavailableError(where, f"{type(error).__name__}: {reason}") from None
        if response.status_code != httpx.codes.OK:
            raise DriverProtocolError(
                f"{method} {where} answered HTTP {response.status_code}: {_quote(response)}"
            )
        try:
            data = orjson.loads(response.content)
        except orjson.JSONDecodeError:
            raise DriverProtocolError(
                f"{method} {where} answered a body that is not JSON: {_quote(response)}"
            ) from None
        if deeper_than(data):  # the validator behind this recurses: refuse before it runs
            raise DriverProtocolError(
                f"{method} {where} answered JSON nested deeper than {MAX_DEPTH} levels "
                "(rule max-depth): not a driver API answer"
            )
        return data


def _quote(response: httpx.Response) -> str:
    text = response.content[:_SHOWN].decode("utf-8", "replace").strip()
    more = "…" if len(response.content) > _SHOWN else ""
    return repr(text + more) if text else "(empty body)"

"""The two :class:`~nhsa.conformance.MockHandle` adapters: in-process and over the admin API.

Both speak the mock's admin operations (``nhsa.mock.admin``): :class:`InProcessMock` calls
``MockPlatform``'s Python methods, :class:`RemoteMock` the same operations over HTTP
(``/admin/...`` with the bearer token). Faults go to the mock as they are (one vocabulary,
:mod:`nhsa.mock.faults`); what the adapters share — the downtime window a :class:`Downtime`
schedules, and summing the ledger — lives here once.

Example:
    >>> start = datetime(2026, 11, 23, 9, 0, tzinfo=CHINA_TIME)
    >>> downtime_window(Downtime("440300", 30), start)["end"]
    '2026-11-23T09:30:00+08:00'
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Final

import httpx
import orjson

from nhsa.conformance._errors import MockError, MockUnavailableError
from nhsa.conformance._mock_handle import (
    Downtime,
    InstitutionRegistration,
    InstitutionTakenError,
    PlatformTotals,
    fault_body,
)
from nhsa.conformance._money import amount
from nhsa.envelope import CHINA_TIME, REFUND_ROW, counted, counting_model

if TYPE_CHECKING:
    from nhsa.mock.faults import FaultSpec
    from nhsa.mock.platform import MockPlatform

__all__ = ["InProcessMock", "RemoteMock", "downtime_window", "ledger_totals_of"]

_DOWNTIME_REASON: Final = "系统升级维护（一致性测试）"
_ACTIVE: Final = "active"
_TIMEOUT: Final = httpx.Timeout(30.0, connect=5.0)


def downtime_window(downtime: Downtime, now: datetime) -> dict[str, Any]:
    """The admin API's downtime window (停机) for ``downtime``, in force from ``now`` on.

    Example:
        >>> start = datetime(2026, 11, 23, 9, 0, tzinfo=CHINA_TIME)
        >>> downtime_window(Downtime("440300", 30), start)["admdvs"]
        '440300'
    """
    start = now - timedelta(seconds=1)  # already in force for a call made right away
    return {
        "admdvs": downtime.area,
        "start": start.isoformat(),
        "end": (now + timedelta(minutes=downtime.minutes)).isoformat(),
        "reason": _DOWNTIME_REASON,
    }


def ledger_totals_of(
    rows: Sequence[Mapping[str, Any]], begin: date, end: date, refd_setl_flag: str | None = None
) -> PlatformTotals:
    """Sum the ledger rows booked between ``begin`` and ``end`` that 3201 counts when sent
    ``refd_setl_flag`` (the contract's rule, :func:`nhsa.envelope.counting_model`): voided rows
    (a 2601 of the 2207) never; refund rows, negative, and the settlements they refunded as
    the switch says.

    Example:
        >>> rows = [{"setl_id": "S1", "setl_date": "2026-11-23", "status": "active",
        ...          "refd_setl_flag": "0", "reversed_by": "S2", "medfee_sumamt": "25.10",
        ...          "fund_pay_sumamt": "10", "acct_pay": "5"},
        ...         {"setl_id": "S2", "setl_date": "2026-11-23", "status": "active",
        ...          "refd_setl_flag": "1", "reversed_by": None, "medfee_sumamt": "-25.10",
        ...          "fund_pay_sumamt": "-10", "acct_pay": "-5"},
        ...         {"setl_id": "S3", "setl_date": "2026-11-23", "status": "voided",
        ...          "refd_setl_flag": "0", "medfee_sumamt": "9", "fund_pay_sumamt": "0",
        ...          "acct_pay": "0"}]
        >>> day = date(2026, 11, 23)
        >>> [ledger_totals_of(rows, day, day, flag).setl_cnt for flag in (None, "0")]
        [2, 0]
    """
    model = counting_model(refd_setl_flag)
    live = [row for row in rows if row.get("status") == _ACTIVE]
    live_ids = {str(row["setl_id"]) for row in live if row.get("setl_id")}

    def is_refunded(row: Mapping[str, Any]) -> bool:
        return row.get("reversed_by") is not None and str(row.get("reversed_by")) in live_ids

    booked = [
        row
        for row in live
        if begin <= _day(row.get("setl_date")) <= end
        and counted(
            model,
            refund_row=row.get("refd_setl_flag") == REFUND_ROW,
            refunded=is_refunded(row),
        )
    ]

    def total(name: str) -> Decimal:
        return sum((amount(row.get(name)) for row in booked), Decimal("0.00"))

    return PlatformTotals(
        setl_cnt=len(booked),
        medfee_sumamt=total("medfee_sumamt"),
        fund_pay_sumamt=total("fund_pay_sumamt"),
        acct_pay=total("acct_pay"),
    )


def _day(value: object) -> date:
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        raise MockError(f"ledger row with an unreadable setl_date {value!r}") from None


def _registration_body(registration: InstitutionRegistration) -> dict[str, Any]:
    body = {
        "fixmedins_code": registration.fixmedins_code,
        "fixmedins_name": registration.fixmedins_name,
        "mdtrtarea_admvs": registration.mdtrtarea_admvs,
        "level": registration.level,
        "networked": list(registration.networked),
        "profile": registration.profile,
        "paasid": registration.paasid,
        "token": registration.token,
        "public_key_pem": registration.public_key_pem,
        "key_id": registration.key_id,
        "dialect": registration.dialect,
    }
    return {key: value for key, value in body.items() if value is not None}


class InProcessMock:
    """A :class:`~nhsa.conformance.MockHandle` over an in-process ``MockPlatform``.

    The platform stays the caller's (this adapter never closes it). ``platform`` is public so
    the ``sdk`` driver can take ``platform.transport`` and talk to it without sockets; when
    the platform is also served on a port, ``url`` is where (a HIS in another process uses it).

    Example::

        with MockPlatform() as platform:
            mock = InProcessMock(platform)
            result = Runner(driver, mock).run(stages)
    """

    def __init__(self, platform: MockPlatform, *, url: str | None = None) -> None:
        """Adapt ``platform``; ``url`` when it is also served on a port (``platform.serve()``)."""
        self.platform = platform
        self.url = url

    def describe(self) -> str:
        """``in-process MockPlatform`` (and the URL it is served at, if any)."""
        served = f" served at {self.url}" if self.url else ""
        return f"in-process nhsa.mock.MockPlatform{served}"

    def platform_url(self) -> str:
        """The served URL, or the base URL the in-process transports accept."""
        return self.url or self.platform.base_url

    def platform_public_key_pem(self) -> str | None:
        """The platform's signing key (PEM)."""
        return self.platform.platform_public_key.to_pem().decode()

    def now(self) -> datetime:
        """The platform's clock."""
        return self.platform.core.clock().astimezone(CHINA_TIME)

    def register_institution(self, registration: InstitutionRegistration) -> None:
        """Register a fresh institution; InstitutionTakenError when the code is known."""
        admin = self.platform.admin
        if self._known(registration.fixmedins_code):
            raise InstitutionTakenError(f"{registration.fixmedins_code} is already registered")
        self._call(
            "register the institution", admin.register_institution, _registration_body(registration)
        )

    def arm_fault(self, tenant: str, fault: FaultSpec) -> str:
        """Arm a fault for the tenant; its id."""
        armed = self._call("arm a fault", self.platform.admin.arm_fault, tenant, fault, "python")
        return str(armed.get("id", ""))

    def schedule_downtime(self, tenant: str, downtime: Downtime) -> str:
        """Schedule a downtime window for the tenant, from now on; its id."""
        window = self._call(
            "schedule downtime",
            self.platform.admin.schedule_downtime,
            tenant,
            downtime_window(downtime, self.now()),
        )
        return str(window["window_id"])

    def clear_faults(self, tenant: str) -> None:
        """Disarm every fault and cancel every downtime window of the tenant."""
        admin = self.platform.admin
        self._call("clear faults", admin.clear_faults, tenant)
        for window in self._call("list downtime", admin.notices, tenant):
            self._call("cancel downtime", admin.cancel_downtime, tenant, str(window["window_id"]))

    def transcript(self, tenant: str, since_seq: int = 0) -> list[Mapping[str, Any]]:
        """The tenant's records after ``since_seq``."""
        return list(
            self._call("read the transcript", self.platform.admin.transcript, tenant, since_seq)
        )

    def ledger_totals(
        self, tenant: str, begin: date, end: date, refd_setl_flag: str | None = None
    ) -> PlatformTotals:
        """The tenant's ledger totals for the days ``begin``..``end``, counted as 3201 counts
        them when sent ``refd_setl_flag``."""
        rows = self._call("read the ledger", self.platform.admin.settlements, tenant)
        return ledger_totals_of(rows, begin, end, refd_setl_flag)

    def reset_tenant(self, tenant: str) -> None:
        """Forget the tenant's state, transcript and faults."""
        self._call("reset the tenant", self.platform.admin.reset_tenant, tenant)

    def close(self) -> None:
        """Nothing to release: the platform belongs to the caller."""

    def _known(self, code: str) -> bool:
        try:
            self.platform.admin.institution(code)
        except Exception:  # the admin service answers an unknown code with its AdminError
            return False
        return True

    @staticmethod
    def _call(what: str, operation: Any, *args: Any) -> Any:
        try:
            return operation(*args)
        except MockError:
            raise
        except Exception as exc:  # AdminError and friends: name the operation and the reason
            raise MockError(f"in-process mock could not {what}: {exc}") from None


class RemoteMock:
    """A :class:`~nhsa.conformance.MockHandle` over a running mock's admin API.

    Args:
        url: the mock's base URL (``http://127.0.0.1:8700``); business calls go there too.
        admin_token: the admin API's bearer token (``nhsa mock serve`` prints it).
        transport: an httpx transport, for tests.

    Example::

        mock = RemoteMock("http://127.0.0.1:8700", admin_token=os.environ["NHSA_MOCK_ADMIN_TOKEN"])
    """

    def __init__(
        self,
        url: str,
        *,
        admin_token: str | None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        """Prepare a client; nothing is sent until the first call."""
        self.url = url.rstrip("/")
        headers = {"authorization": f"Bearer {admin_token}"} if admin_token else {}
        self._client = httpx.Client(
            base_url=self.url, headers=headers, timeout=_TIMEOUT, transport=transport
        )

    def describe(self) -> str:
        """The mock's URL."""
        return self.url

    def check_admin_token(self) -> None:
        """Refuse now, in one line, an admin token the mock will not take.

        Every scenario registers an institution and arms faults through the admin API: a
        wrong token would otherwise end each of them in the same ``error``.
        """
        if "authorization" not in self._client.headers:
            raise MockError(
                f"--mock {self.url}: the suite drives that server through its admin API; pass "
                "its token with --admin-token or $NHSA_MOCK_ADMIN_TOKEN (the one nhsa mock "
                "serve was given, or printed at start-up)"
            )
        where = f"{self.url}/admin/institutions"
        try:
            answer = self._client.get("/admin/institutions")
        except httpx.HTTPError as exc:
            raise MockUnavailableError(where, f"{type(exc).__name__}: {exc}") from None
        if answer.status_code == 401:
            raise MockError(
                f"--admin-token: the mock at {self.url} refused it (HTTP 401); pass the token "
                "nhsa mock serve was started with (--admin-token or $NHSA_MOCK_ADMIN_TOKEN)"
            )

    def platform_url(self) -> str:
        """The mock's base URL."""
        return self.url

    def platform_public_key_pem(self) -> str | None:
        """``GET /admin/platform-key``."""
        return str(self._get("/admin/platform-key")["public_key_pem"])

    def now(self) -> datetime:
        """``GET /admin/health``'s time."""
        value = self._get("/admin/health").get("time")
        try:
            return datetime.fromisoformat(str(value)).astimezone(CHINA_TIME)
        except ValueError:
            raise MockError(f"{self.url}/admin/health: time {value!r} is not an ISO time") from None

    def register_institution(self, registration: InstitutionRegistration) -> None:
        """``POST /admin/institutions`` after making sure the code is not in use."""
        code = registration.fixmedins_code
        if self._request("GET", f"/admin/institutions/{code}", allow_missing=True) is not None:
            raise InstitutionTakenError(f"{code} is already registered at {self.url}")
        self._request("POST", "/admin/institutions", _registration_body(registration))

    def arm_fault(self, tenant: str, fault: FaultSpec) -> str:
        """``POST /admin/tenants/{code}/faults``."""
        armed = self._request("POST", f"/admin/tenants/{tenant}/faults", fault_body(fault))
        return str(_mapping(armed, "fault").get("id", ""))

    def schedule_downtime(self, tenant: str, downtime: Downtime) -> str:
        """``POST /admin/tenants/{code}/downtime``, in force from the mock's now."""
        window = self._request(
            "POST", f"/admin/tenants/{tenant}/downtime", downtime_window(downtime, self.now())
        )
        return str(_mapping(window, "downtime window")["window_id"])

    def clear_faults(self, tenant: str) -> None:
        """``DELETE`` every fault and every downtime window of the tenant."""
        self._request("DELETE", f"/admin/tenants/{tenant}/faults")
        windows = self._request("GET", f"/admin/tenants/{tenant}/notices")
        for window in windows if isinstance(windows, list) else []:
            self._request("DELETE", f"/admin/tenants/{tenant}/downtime/{window['window_id']}")

    def transcript(self, tenant: str, since_seq: int = 0) -> list[Mapping[str, Any]]:
        """``GET /admin/tenants/{code}/transcript?since=N``."""
        records = self._request("GET", f"/admin/tenants/{tenant}/transcript?since={since_seq}")
        if not isinstance(records, list):
            raise MockError(f"{self.url}: the transcript is not a JSON list")
        return records

    def ledger_totals(
        self, tenant: str, begin: date, end: date, refd_setl_flag: str | None = None
    ) -> PlatformTotals:
        """Sum of ``GET /admin/tenants/{code}/settlements`` for the days, as 3201 counts."""
        rows = self._request("GET", f"/admin/tenants/{tenant}/settlements")
        if not isinstance(rows, list):
            raise MockError(f"{self.url}: the settlement ledger is not a JSON list")
        return ledger_totals_of(rows, begin, end, refd_setl_flag)

    def reset_tenant(self, tenant: str) -> None:
        """``POST /admin/tenants/{code}/reset``."""
        self._request("POST", f"/admin/tenants/{tenant}/reset")

    def close(self) -> None:
        """Close the HTTP client."""
        self._client.close()

    def _get(self, path: str) -> Mapping[str, Any]:
        return _mapping(self._request("GET", path), path)

    def _request(
        self, method: str, path: str, body: object = None, *, allow_missing: bool = False
    ) -> Any:
        where = f"{self.url}{path}"
        try:
            content = orjson.dumps(body) if body is not None else None
            headers = {"content-type": "application/json"} if content is not None else None
            response = self._client.request(method, path, content=content, headers=headers)
        except httpx.TimeoutException:
            raise MockUnavailableError(where, "timed out") from None
        except httpx.HTTPError as exc:
            raise MockUnavailableError(where, f"{type(exc).__name__}: {exc}") from None
        if allow_missing and response.status_code == 404:
            return None
        try:
            data = orjson.loads(response.content)
        except orjson.JSONDecodeError:
            raise MockError(
                f"{method} {where} answered HTTP {response.status_code} with a body that is"
                " not JSON"
            ) from None
        if response.status_code >= 400:
            raise MockError(
                f"{method} {where} answered HTTP {response.status_code}: {_error_text(data)}"
            )
        return data


def _mapping(value: object, what: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise MockError(f"the mock answered a {what} that is not a JSON object")
    return value


def _error_text(data: object) -> str:
    error = data.get("error") if isinstance(data, Mapping) else None
    if isinstance(error, Mapping):
        return f"{error.get('field')}: [{error.get('rule')}] {error.get('message')}"
    return str(data)[:200]

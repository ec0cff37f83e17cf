"""Load at national scale: cashier windows and kiosks of many hospitals, with real signing.

Each Locust user is one hospital's counter — its own institution, registered through the admin
API with fresh SM2 keys and TIF credentials — driving the nhsa-kit SDK through complete
outpatient workflows: a window (opter_type 1, ID card) or a kiosk (opter_type 2, e-voucher)
does 1101 → 2201 → 2203 → 2204 → 2206 → 2207, signed as the profile demands (``tif+sm2`` by
default: TIF headers, SM2 request signatures, answers verified). Every HTTP exchange is reported
to Locust under its infno, so the statistics are p50/p99 per transaction; a call whose answer
is not infcode 0 counts as a failure.

**One national day, compressed.** 130,000 outpatient settlements is the published daily figure.
The day's shape (hourly shares, morning peak) is replayed by :class:`NationalDay`, scaled down
by ``NHSA_DAY_SAMPLE`` (the share of the day's settlements to run) and squeezed into
``NHSA_DAY_SECONDS``: the run stops by itself once the sample has settled or the time is up.

Environment (all optional): ``NHSA_ADMIN_TOKEN`` (the server's ``--admin-token``),
``NHSA_PROFILE`` (``tif+sm2``), ``NHSA_DAY_SAMPLE`` (0.02), ``NHSA_DAY_SECONDS`` (90),
``NHSA_USERS`` (peak concurrent counters, 16).

Run headless against a server (``bench/national_day.py`` does all of it and writes the JSON)::

    nhsa mock serve --db postgresql://… --workers 2 --admin-token T --port 8700 &
    NHSA_ADMIN_TOKEN=T locust -f bench/locustfile.py --headless --host http://127.0.0.1:8700
"""

from __future__ import annotations

import itertools
import os
import random
import secrets
import time
from decimal import Decimal
from typing import Any

import httpx
from locust import LoadTestShape, User, between, events, task

from nhsa.client import (
    Certificate,
    Client,
    ClientConfig,
    Clinic,
    Diagnosis,
    FeeLine,
    KioskMode,
    RetryPolicy,
    WindowMode,
)
from nhsa.signing import KeyEntry, KeyRing, Sm2PrivateKey, Sm2PublicKey

DAILY_SETTLEMENTS = 130_000
"""Outpatient direct settlements of one day, nationally (the published daily figure)."""
HOURLY_SHARE = (  # share of a day's settlements per opening hour, 08:00 to 18:00 [assumed]
    0.13,
    0.16,
    0.14,
    0.11,
    0.06,
    0.07,
    0.10,
    0.09,
    0.08,
    0.06,
)
ADMIN_TOKEN = os.environ.get("NHSA_ADMIN_TOKEN", "")
PROFILE = os.environ.get("NHSA_PROFILE", "tif+sm2")
SAMPLE = float(os.environ.get("NHSA_DAY_SAMPLE", "0.02"))
SECONDS = float(os.environ.get("NHSA_DAY_SECONDS", "90"))
PEAK_USERS = int(os.environ.get("NHSA_USERS", "16"))
TARGET = round(DAILY_SETTLEMENTS * SAMPLE)

PEOPLE = (  # invented people of the bundled fixtures insured in Kunming
    ("530102198503150018", "P53010000000001", "310"),
    ("530103195807020020", "P53010000000002", "310"),
    ("530102197611200137", "P53010000000003", "310"),
    ("530103197204090512", "P53010000000015", "310"),
    ("530111199005080249", "P53010000000004", "390"),
    ("530112196209300461", "P53010000000005", "390"),
)
CLINIC = Clinic("0301", "内科门诊", "D530100000101", "医师丁", "A03")
DIAGNOSES = (Diagnosis("J06.900", "急性上呼吸道感染"),)
FEES = (
    FeeLine("110200001000000", "HIS-ZC-0001", cnt=1, pric=Decimal("25.00")),
    FeeLine("XJ01DCC035A001010100002", "HIS-YP-0002", cnt=2, pric=Decimal("18.50")),
)
NO_RETRY = RetryPolicy(max_attempts=1, backoff_initial=0, backoff_max=0, resolution_deadline=0)
_codes = itertools.count(1)
_settled = 0


class Reporting(httpx.BaseTransport):
    """An httpx transport that reports every exchange to Locust under its infno."""

    def __init__(self, environment: Any) -> None:
        self._inner = httpx.HTTPTransport()
        self._events = environment.events

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        body = request.content
        infno = body.split(b'"infno":"', 1)[1][:4].decode() if b'"infno":"' in body else "?"
        started = time.perf_counter()
        failure: Exception | None = None
        try:
            response = self._inner.handle_request(request)
            content = response.read()
        except httpx.HTTPError as error:
            failure = error
            raise
        finally:
            if failure is not None:
                self._report(infno, started, 0, failure)
        if response.status_code != 200 or b'"infcode":0' not in content:
            failure = RuntimeError(f"HTTP {response.status_code}: {content[:160]!r}")
        self._report(infno, started, len(content), failure)
        return response

    def _report(self, infno: str, started: float, size: int, failure: Exception | None) -> None:
        self._events.request.fire(
            request_type="POST",
            name=infno,
            response_time=(time.perf_counter() - started) * 1000,
            response_length=size,
            exception=failure,
            context={},
        )

    def close(self) -> None:
        self._inner.close()


class Counter(User):
    """One hospital's counter; subclasses choose window or kiosk."""

    abstract = True
    wait_time = between(0.0, 0.05)
    kiosk = False

    def on_start(self) -> None:
        self.code = f"H{os.getpid() % 1000:03d}{next(_codes):08d}"
        admin = httpx.Client(base_url=self.host, headers={"authorization": f"Bearer {ADMIN_TOKEN}"})
        key = Sm2PrivateKey.generate()
        paasid, token = f"paas-{self.code.lower()}", secrets.token_urlsafe(18)
        registered = admin.post(
            "/admin/institutions",
            json={
                "fixmedins_code": self.code,
                "fixmedins_name": f"压测医院{self.code[-4:]}",
                "mdtrtarea_admvs": "530100",
                "level": "3",
                "networked": ["outpatient"],
                "profile": PROFILE,
                "paasid": paasid,
                "token": token,
                "public_key_pem": key.public_key.to_pem().decode(),
            },
        )
        registered.raise_for_status()
        platform = admin.get("/admin/platform-key").json()
        self.admin = admin
        ring = KeyRing([KeyEntry(Sm2PublicKey.from_pem(platform["public_key_pem"]), "NHSA")])
        config = ClientConfig(
            self.code,
            f"压测医院{self.code[-4:]}",
            "530100",
            journal_path=":memory:",  # the load generator's own bookkeeping is not measured
            base_url=self.host,
            profile=PROFILE,
            paasid=paasid,
            token=token,
            private_key=key,
            platform_keys=ring,
            retry=NO_RETRY,
        )
        mode = (
            KioskMode("K01", "SAFE-K01-0001", "K01", "自助机1号")
            if self.kiosk
            else WindowMode("C0001", "收费员甲")
        )
        self.client = Client(config, mode, transport=Reporting(self.environment))
        self.random = random.Random(self.code)

    def on_stop(self) -> None:
        self.client.close()
        self.admin.close()

    def certificate(self, certno: str, psn_no: str) -> Certificate:
        """The patient's certificate for this counter."""
        del psn_no  # a window reads the ID card itself
        return Certificate.id_card(certno)

    @task
    def outpatient_visit(self) -> None:
        """One complete visit: register, then charge (2203 → 2207)."""
        global _settled  # noqa: PLW0603 - one counter per load-generator process
        if _settled >= TARGET:
            self.environment.runner.quit()
            return
        certno, psn_no, insutype = self.random.choice(PEOPLE)
        try:
            visit = self.client.register(
                self.certificate(certno, psn_no),
                insutype=insutype,
                clinic=CLINIC,
            )
            self.client.charge(visit, list(FEES), diagnoses=DIAGNOSES)
        except Exception:  # reported per exchange already; the next visit goes on
            return
        _settled += 1


class Window(Counter):
    """A cashier window: opter_type 1, the patient's ID card."""

    weight = 3


class Kiosk(Counter):
    """A self-service kiosk: opter_type 2, the e-voucher (a token issued for the patient)."""

    weight = 1
    kiosk = True

    def certificate(self, certno: str, psn_no: str) -> Certificate:
        """A fresh e-voucher token for the patient (issued through the admin API)."""
        del certno
        issued = self.admin.post(
            f"/admin/tenants/{self.code}/ectokens", json={"psn_no": psn_no, "ttl_seconds": 600}
        )
        issued.raise_for_status()
        return Certificate.e_voucher(issued.json()["ec_token"])


class NationalDay(LoadTestShape):
    """The day's hourly shape in ``SECONDS`` seconds: counters open as the hour's share rises."""

    def tick(self) -> tuple[int, float] | None:
        elapsed = self.get_run_time()
        if elapsed >= SECONDS or _settled >= TARGET:
            return None
        hour = min(int(elapsed / SECONDS * len(HOURLY_SHARE)), len(HOURLY_SHARE) - 1)
        users = max(2, round(PEAK_USERS * HOURLY_SHARE[hour] / max(HOURLY_SHARE)))
        return users, float(users)


@events.quitting.add_listener
def _summary(environment: Any, **_: Any) -> None:
    del environment
    print(f"settled {_settled} of the {TARGET} targeted")

"""The per-insured-place breaker: downtime answers and the notice board make calls fail fast."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import httpx
import orjson
import pytest

from nhsa.client import (
    BreakerPolicy,
    BusinessError,
    Certificate,
    ClientConfig,
    DowntimeNotice,
    InsuredPlaceOffline,
)
from nhsa.client._breaker import InsuredPlaceBreaker, parse_notice_board
from nhsa.envelope import CHINA_TIME, china_now
from nhsa.mock.engine import PlatformServices
from tests.client.conftest import CLINIC, WINDOW, Twin, card
from tests.client.platform import TENANT, EnginePlatform

MakeTwin = Callable[..., Twin]
ConfigFor = Callable[..., ClientConfig]
SHENZHEN = Certificate.social_security_card("TC4403009", "440300D15600000500000000C1D2E3F4")


def test_repeated_downtime_answers_open_the_breaker_until_the_announced_end(
    platform: EnginePlatform, config_for: ConfigFor, make_twin: MakeTwin
) -> None:
    end = (china_now() + timedelta(hours=3)).replace(microsecond=0)
    PlatformServices(platform.engine).schedule_downtime(
        TENANT, "440300", china_now() - timedelta(minutes=5), end, reason="系统升级"
    )
    twin = make_twin(config_for(breaker=BreakerPolicy(threshold=2)), WINDOW, platform.transport())
    for _ in range(2):
        with pytest.raises(BusinessError, match="停机"):
            twin.register(SHENZHEN, insutype="310", clinic=CLINIC)
    sent = len(platform.requests_of("2201"))

    with pytest.raises(InsuredPlaceOffline) as raised:
        twin.register(SHENZHEN, insutype="310", clinic=CLINIC)

    assert len(platform.requests_of("2201")) == sent  # failed fast: nothing sent
    assert (raised.value.area, raised.value.until) == ("440300", end)
    assert end.strftime("%Y-%m-%d %H:%M") in raised.value.patient_message.zh
    assert "come back after" in str(raised.value)
    # A patient from another insured place is not affected.
    assert twin.register(card(), insutype="310", clinic=CLINIC).insuplc_admdvs == "530100"


def test_the_notice_board_callable_stops_calls_for_a_listed_area(
    platform: EnginePlatform, config_for: ConfigFor, make_twin: MakeTwin
) -> None:
    now = china_now()
    board = [DowntimeNotice("440000", now - timedelta(hours=1), now + timedelta(hours=1), "升级")]
    config = config_for(breaker=BreakerPolicy(notice_board=lambda: board))
    twin = make_twin(config, WINDOW, platform.transport())

    with pytest.raises(InsuredPlaceOffline) as raised:
        twin.register(SHENZHEN, insutype="310", clinic=CLINIC)

    assert raised.value.area == "440300"  # the province-wide notice covers the city
    assert platform.requests_of("2201") == []


def test_a_notice_given_without_an_offset_is_china_time() -> None:
    now = datetime(2026, 11, 23, 9, 0, tzinfo=CHINA_TIME)
    naive = DowntimeNotice("440000", datetime(2026, 11, 23, 8), datetime(2026, 11, 23, 10))
    breaker = InsuredPlaceBreaker(BreakerPolicy(notice_board=lambda: [naive]), clock=lambda: now)
    breaker.load_notices([naive])

    with pytest.raises(InsuredPlaceOffline) as raised:
        breaker.check("440300")

    assert raised.value.until == datetime(2026, 11, 23, 10, tzinfo=CHINA_TIME)


def test_the_notice_board_url_is_read_through_the_transport(
    platform: EnginePlatform, config_for: ConfigFor, make_twin: MakeTwin
) -> None:
    now = china_now()
    reads: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "GET":
            reads.append(str(request.url))
            notices = [
                {
                    "admdvs": "440300",
                    "start": (now - timedelta(hours=1)).isoformat(),
                    "end": (now + timedelta(hours=2)).isoformat(),
                }
            ]
            return httpx.Response(200, content=orjson.dumps({"notices": notices}))
        return platform.handle(request)

    url = "http://platform.test/public/downtime"
    config = config_for(breaker=BreakerPolicy(notice_board=url, notice_refresh=3600))
    twin = make_twin(config, WINDOW, httpx.MockTransport(handler))

    with pytest.raises(InsuredPlaceOffline):
        twin.register(SHENZHEN, insutype="310", clinic=CLINIC)
    twin.register(card(), insutype="310", clinic=CLINIC)

    assert reads == [url]  # read once, then cached for notice_refresh


def test_an_unreadable_notice_board_does_not_stop_work(
    platform: EnginePlatform, config_for: ConfigFor, make_twin: MakeTwin
) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "GET":
            return httpx.Response(200, content=b"<html>maintenance</html>")
        return platform.handle(request)

    config = config_for(breaker=BreakerPolicy(notice_board="http://platform.test/board"))
    twin = make_twin(config, WINDOW, httpx.MockTransport(handler))

    assert twin.register(SHENZHEN, insutype="310", clinic=CLINIC).insuplc_admdvs == "440300"


def test_downtime_answers_outside_the_window_do_not_open_it() -> None:
    moments = iter(
        [datetime(2026, 11, 23, 9, 0, tzinfo=CHINA_TIME) + timedelta(minutes=m) for m in (0, 5)]
    )
    clock_value = [next(moments)]
    breaker = InsuredPlaceBreaker(
        BreakerPolicy(threshold=2, window=60), clock=lambda: clock_value[0]
    )
    breaker.record_downtime("440300", "停机")
    clock_value[0] = next(moments)
    breaker.record_downtime("440300", "停机")
    breaker.check("440300")  # two answers, but five minutes apart


def test_a_normal_answer_closes_the_breaker() -> None:
    moment = datetime(2026, 11, 23, 9, 0, tzinfo=CHINA_TIME)
    breaker = InsuredPlaceBreaker(BreakerPolicy(threshold=1, cooldown=600), clock=lambda: moment)
    breaker.record_downtime("440300", "参保地医保系统停机维护")
    with pytest.raises(InsuredPlaceOffline) as raised:
        breaker.check("440300")
    assert raised.value.until == moment + timedelta(seconds=600)  # no end given: the cooldown
    breaker.record_success("440300")
    breaker.check("440300")


def test_notice_board_formats() -> None:
    listed = parse_notice_board(
        b'[{"area": "440300", "begin": "2026-11-23 12:00:00", "until": "2026-11-23 18:00:00",'
        b' "reason": "upgrade"}, {"area": "", "start": "x"}]'
    )
    assert listed == [
        DowntimeNotice(
            "440300",
            datetime(2026, 11, 23, 12, tzinfo=CHINA_TIME),
            datetime(2026, 11, 23, 18, tzinfo=CHINA_TIME),
            "upgrade",
        )
    ]

"""Per-insured-place breaker: stop piling calls onto an insured place that is down (停机).

Cross-province settlement routes through the patient's insured place (参保地). When that
place's system is down, every call for its patients fails the same way, and a busy window
keeps re-trying. The breaker opens for an area code after ``threshold`` downtime answers
within ``window`` seconds — or as soon as the platform's downtime notice board lists the
area — and then calls for that area fail fast with :class:`InsuredPlaceOffline`, whose message
says when to come back (the end time the platform gave, else ``cooldown`` from now).

The notice board is either a URL (the mock serves one; the SDK reads it at most every
``notice_refresh`` seconds, through the same transport as every other call) or a callable
returning :class:`DowntimeNotice` items, for a province that publishes notices some other way.

Example:
    >>> from datetime import datetime, timedelta
    >>> from nhsa.envelope import CHINA_TIME
    >>> now = datetime(2026, 11, 23, 9, 0, tzinfo=CHINA_TIME)
    >>> breaker = InsuredPlaceBreaker(BreakerPolicy(threshold=2), clock=lambda: now)
    >>> breaker.record_downtime("440300", "参保地医保系统停机维护，至2026-11-23 18:00:00")
    >>> breaker.record_downtime("440300", "参保地医保系统停机维护，至2026-11-23 18:00:00")
    >>> breaker.check("440300")
    Traceback (most recent call last):
    ...
    nhsa.client.errors.InsuredPlaceOffline: insured place 440300 is offline until \
2026-11-23 18:00; come back after that (2 downtime answers)
"""

from __future__ import annotations

import re
import threading
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import orjson

from nhsa.client.errors import ClientConfigError, InsuredPlaceOffline
from nhsa.envelope import CHINA_TIME, Clock, china_now

_UNTIL = re.compile(r"(?:至|到|预计|until)\s*(\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(?::\d{2})?)")
_AREA_KEYS = ("area", "admdvs", "insuplc_admdvs", "admdvs_code")
_START_KEYS = ("start", "begin", "begntime", "start_time", "starts_at")
_END_KEYS = ("end", "until", "endtime", "end_time", "ends_at")


@dataclass(frozen=True, slots=True)
class DowntimeNotice:
    """A scheduled downtime of one insured area; times without an offset are China time.

    Example:
        >>> from datetime import datetime
        >>> guangdong = DowntimeNotice("440000", datetime(2026, 1, 1), datetime(2026, 1, 2))
        >>> (guangdong.covers("440305"), guangdong.covers("530100"), guangdong.end.tzname())
        (True, False, 'CST')
    """

    area: str
    start: datetime
    end: datetime
    note: str = ""

    def __post_init__(self) -> None:
        for name in ("start", "end"):
            moment: datetime = getattr(self, name)
            if moment.tzinfo is None:
                object.__setattr__(self, name, moment.replace(tzinfo=CHINA_TIME))

    def covers(self, area: str) -> bool:
        """Whether the notice's area holds ``area``: a province (``xx0000``) or a city
        (``xxxx00``) covers every area inside it.

        Example:
            >>> from datetime import datetime
            >>> shenzhen = DowntimeNotice("440300", datetime(2026, 1, 1), datetime(2026, 1, 2))
            >>> [shenzhen.covers(area) for area in ("440305", "440300", "440100")]
            [True, True, False]
        """
        if self.area.endswith("0000"):
            return area[:2] == self.area[:2]
        if self.area.endswith("00"):
            return area[:4] == self.area[:4]
        return area == self.area


NoticeSource = str | Callable[[], Iterable[DowntimeNotice]]


@dataclass(frozen=True)
class BreakerPolicy:
    """When an insured place counts as offline.

    Attributes:
        threshold: downtime answers for one area within ``window`` that open the breaker.
        window: seconds over which downtime answers are counted.
        cooldown: how long the breaker stays open when the answer gave no end time.
        notice_board: URL of the platform's downtime notice board, or a callable returning
            notices; ``None`` to rely on answers only.
        notice_refresh: seconds between two reads of the notice board.

    Example:
        A province that announces its downtime some other way, fed to the client as notices;
        nothing is sent for a patient insured there:

        >>> import dataclasses
        >>> from datetime import datetime
        >>> from nhsa.client import Client
        >>> upgrade = [DowntimeNotice("530000", datetime(2026, 1, 1), datetime(2099, 12, 31),
        ...                           "云南省医保系统升级")]
        >>> policy = BreakerPolicy(notice_board=lambda: upgrade)
        >>> with Client(dataclasses.replace(config, breaker=policy), window,
        ...             transport=mock.transport) as counter:
        ...     counter.register(card, insutype="310", clinic=clinic)
        Traceback (most recent call last):
        ...
        nhsa.client.errors.InsuredPlaceOffline: insured place 530100 is offline until \
2099-12-31 00:00; come back after that (downtime notice board: 云南省医保系统升级)
    """

    threshold: int = 3
    window: float = 60.0
    cooldown: float = 300.0
    notice_board: NoticeSource | None = None
    notice_refresh: float = 300.0

    def __post_init__(self) -> None:
        if self.threshold < 1:
            raise ClientConfigError("breaker.threshold must be at least 1")


class InsuredPlaceBreaker:
    """Breaker state for every insured area this client has seen (thread-safe).

    A patient whose insured place is unknown yet (``None``, before 1101) is never stopped.
    """

    def __init__(self, policy: BreakerPolicy, *, clock: Clock = china_now) -> None:
        self.policy = policy
        self._clock = clock
        self._lock = threading.Lock()
        self._answers: dict[str, deque[datetime]] = {}
        self._open_until: dict[str, tuple[datetime, str]] = {}
        self._notices: list[DowntimeNotice] = []
        self._notices_read: datetime | None = None

    def check(self, area: str | None, infno: str | None = None) -> None:
        """Fail fast with :class:`InsuredPlaceOffline` if ``area`` is down now."""
        if not area:
            return
        now = self._clock()
        with self._lock:
            opened = self._open_until.get(area)
            if opened is not None and opened[0] > now:
                raise InsuredPlaceOffline(area, opened[0], reason=opened[1], infno=infno)
            for notice in self._notices:
                if notice.covers(area) and notice.start <= now < notice.end:
                    reason = f"downtime notice board{': ' + notice.note if notice.note else ''}"
                    raise InsuredPlaceOffline(area, notice.end, reason=reason, infno=infno)

    def record_downtime(self, area: str | None, err_msg: str) -> None:
        """Count one downtime answer for ``area``; open the breaker at the threshold."""
        if not area:
            return
        now = self._clock()
        with self._lock:
            seen = self._answers.setdefault(area, deque())
            seen.append(now)
            while seen and (now - seen[0]).total_seconds() > self.policy.window:
                seen.popleft()
            if len(seen) >= self.policy.threshold:
                until = _until(err_msg) or now + timedelta(seconds=self.policy.cooldown)
                self._open_until[area] = (until, f"{len(seen)} downtime answers")

    def record_success(self, area: str | None) -> None:
        """A normal answer for ``area``: it is up again."""
        if not area:
            return
        with self._lock:
            self._answers.pop(area, None)
            self._open_until.pop(area, None)

    def notice_board_due(self) -> bool:
        """Whether the notice board should be read again now."""
        if self.policy.notice_board is None:
            return False
        if self._notices_read is None:
            return True
        elapsed = (self._clock() - self._notices_read).total_seconds()
        return elapsed >= self.policy.notice_refresh

    def load_notices(self, notices: Iterable[DowntimeNotice]) -> None:
        """Replace the known notices with a fresh read of the board."""
        fresh = list(notices)
        with self._lock:
            self._notices = fresh
            self._notices_read = self._clock()

    def mark_notice_board_read(self) -> None:
        """Record a failed read, so the board is not fetched again before ``notice_refresh``."""
        with self._lock:
            self._notices_read = self._clock()


def parse_notice_board(body: bytes) -> list[DowntimeNotice]:
    """Notices from the board's JSON: a list of objects, or ``{"notices": [...]}``.

    Each object names the area (``area``/``admdvs``/``insuplc_admdvs``) and the window
    (``start``/``begin`` … ``end``/``until``); times without an offset are China time.

    Example:
        >>> parse_notice_board(b'[{"area": "440300", "start": "2026-11-23 12:00:00",'
        ...                    b' "end": "2026-11-23 18:00:00"}]')[0].end.hour
        18
    """
    document = orjson.loads(body)
    if isinstance(document, Mapping):
        items: Any = next(
            (document[key] for key in ("notices", "items", "downtime", "data") if key in document),
            [],
        )
    else:
        items = document
    notices: list[DowntimeNotice] = []
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, Mapping):
            continue
        area = _first(item, _AREA_KEYS)
        start, end = _first(item, _START_KEYS), _first(item, _END_KEYS)
        if not (area and start and end):
            continue
        note = str(item.get("note") or item.get("reason") or "")
        notices.append(DowntimeNotice(str(area), _when(str(start)), _when(str(end)), note))
    return notices


def _first(item: Mapping[str, Any], keys: tuple[str, ...]) -> Any:
    return next((item[key] for key in keys if item.get(key)), None)


def _when(text: str) -> datetime:
    moment = datetime.fromisoformat(text.replace(" ", "T", 1) if "T" not in text else text)
    return moment if moment.tzinfo else moment.replace(tzinfo=CHINA_TIME)


def _until(err_msg: str) -> datetime | None:
    match = _UNTIL.search(err_msg or "")
    if match is None:
        return None
    try:
        return _when(match.group(1))
    except ValueError:
        return None

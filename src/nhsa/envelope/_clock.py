"""Platform time: China Standard Time, UTC+8, with no daylight saving since 1991.

A fixed offset (not a tz database) so a HIS server whose system clock is set to UTC still
stamps msgid and inf_time the way the platform expects, on any OS, with no tzdata package.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta, timezone

CHINA_TIME = timezone(timedelta(hours=8), "CST")

Clock = Callable[[], datetime]
"""A source of the current time; injectable so tests control it."""


def china_now() -> datetime:
    """The current time in China Standard Time (aware).

    Example:
        >>> china_now().utcoffset()
        datetime.timedelta(seconds=28800)
    """
    return datetime.now(CHINA_TIME)

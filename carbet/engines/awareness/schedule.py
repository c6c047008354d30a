"""When each message goes out: inside business hours, spread between launch and "send by",
with random spacing, never faster than the throttle allows.

Sending everything at 9:00 sharp makes colleagues warn each other and mail gateways flag the
burst; spreading over the window measures people one by one. The computation works on "open
seconds" (seconds that fall inside the sending window), draws sorted random points there,
pushes them apart to honour the throttle, and maps them back to wall-clock times.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

PARIS = ZoneInfo("Europe/Paris")
MAX_DAYS = 370


@dataclass(frozen=True)
class SendingWindow:
    """Days (0 = Monday) and local hours when messages may leave."""

    weekdays: frozenset[int] = frozenset({0, 1, 2, 3, 4})
    start: time = time(9, 0)
    end: time = time(17, 0)
    closed_days: frozenset[date] = frozenset()
    tz: ZoneInfo = PARIS

    def intervals(self, begin: datetime, finish: datetime) -> list[tuple[datetime, datetime]]:
        """The open intervals between ``begin`` and ``finish`` (aware datetimes)."""
        found: list[tuple[datetime, datetime]] = []
        day = begin.astimezone(self.tz).date()
        last = finish.astimezone(self.tz).date()
        if self.end <= self.start:
            return found
        for _ in range(MAX_DAYS):
            if day > last:
                break
            if day.weekday() in self.weekdays and day not in self.closed_days:
                lo = datetime.combine(day, self.start, self.tz)
                hi = datetime.combine(day, self.end, self.tz)
                lo, hi = max(lo, begin), min(hi, finish)
                if hi > lo:
                    found.append((lo, hi))
            day += timedelta(days=1)
        return found


ALWAYS = SendingWindow(weekdays=frozenset(range(7)), start=time(0, 0), end=time(23, 59, 59))


class ScheduleError(ValueError):
    """No moment of the window lies between launch and "send by"."""


def plan(
    count: int,
    launch: datetime,
    send_by: datetime | None,
    window: SendingWindow,
    per_minute: int = 0,
    rng: random.Random | None = None,
) -> list[datetime]:
    """``count`` sorted send times (aware, UTC-comparable).

    Without ``send_by`` every message is due at the first open moment (then only the throttle
    spaces them). With a throttle, consecutive messages are at least ``60 / per_minute``
    open seconds apart, even if that runs past ``send_by`` (a throttle is a promise to the
    mail server; the page warns when the window is too short).
    """
    if count <= 0:
        return []
    rng = rng or random.Random()  # noqa: S311 — spacing, not secrecy
    horizon = send_by or launch + timedelta(days=MAX_DAYS - 5)
    intervals = window.intervals(launch, horizon)
    if not intervals:
        raise ScheduleError("Aucun créneau d'envoi entre le lancement et la date limite.")
    total = sum((hi - lo).total_seconds() for lo, hi in intervals)
    if send_by is None:
        offsets = [0.0] * count
    else:
        offsets = sorted(rng.uniform(0, total) for _ in range(count))
    gap = 60.0 / per_minute if per_minute > 0 else 0.0
    for i in range(1, count):
        offsets[i] = max(offsets[i], offsets[i - 1] + gap)
    return [_at_offset(intervals, window, offset) for offset in offsets]


def _at_offset(
    intervals: list[tuple[datetime, datetime]], window: SendingWindow, offset: float
) -> datetime:
    remaining = offset
    for lo, hi in intervals:
        length = (hi - lo).total_seconds()
        if remaining < length:
            return lo + timedelta(seconds=remaining)
        remaining -= length
    # Past the last interval (throttle overflow): continue into the following open days.
    lo, hi = intervals[-1]
    more = window.intervals(hi, hi + timedelta(days=MAX_DAYS - 5))
    for lo, hi in more:
        length = (hi - lo).total_seconds()
        if remaining < length:
            return lo + timedelta(seconds=remaining)
        remaining -= length
    return hi


def within(moment: datetime, window: SendingWindow) -> bool:
    local = moment.astimezone(window.tz)
    return (
        local.weekday() in window.weekdays
        and local.date() not in window.closed_days
        and window.start <= local.time() <= window.end
    )

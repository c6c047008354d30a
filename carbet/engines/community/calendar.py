"""Community events (trainings, webinars, exercises, meetings) as an iCalendar feed.

Built with the ``icalendar`` library: one ``VEVENT`` per event with a UID stable for the event
(calendar applications update it in place), DTSTART/DTEND in UTC, LOCATION, URL, DESCRIPTION,
SEQUENCE (raised by the caller at each change), STATUS (CANCELLED for a cancelled event, which
calendars then strike out) and a VALARM display reminder before the start.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from icalendar import Alarm, Calendar, Event


@dataclass(frozen=True)
class EventItem:
    """One event as the calendar shows it. Datetimes must be aware."""

    uid: str  # stable per event, e.g. "event-42@carbet.example"
    title: str
    start: dt.datetime
    end: dt.datetime
    location: str = ""
    url: str = ""
    description: str = ""
    sequence: int = 0  # raised at each change the attendees should see
    cancelled: bool = False
    updated: dt.datetime | None = None  # DTSTAMP / LAST-MODIFIED; the start when None
    reminder: dt.timedelta | None = dt.timedelta(hours=1)  # None: no alarm


def _utc(value: dt.datetime, what: str, uid: str) -> dt.datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{uid}: {what} must be an aware datetime")
    return value.astimezone(dt.UTC)


def _event(item: EventItem) -> Event:
    start, end = _utc(item.start, "start", item.uid), _utc(item.end, "end", item.uid)
    if end < start:
        raise ValueError(f"{item.uid}: the event ends before it starts")
    if item.sequence < 0:
        raise ValueError(f"{item.uid}: sequence must be >= 0")
    stamp = _utc(item.updated, "updated", item.uid) if item.updated else start
    event = Event()
    event.add("uid", item.uid)
    event.add("dtstamp", stamp)
    event.add("last-modified", stamp)
    event.add("summary", item.title)
    event.add("dtstart", start)
    event.add("dtend", end)
    event.add("sequence", item.sequence)
    event.add("status", "CANCELLED" if item.cancelled else "CONFIRMED")
    if item.location:
        event.add("location", item.location)
    if item.url:
        event.add("url", item.url)
    if item.description:
        event.add("description", item.description)
    if item.reminder is not None and not item.cancelled:
        alarm = Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("description", item.title)
        alarm.add("trigger", -abs(item.reminder))
        event.add_component(alarm)
    return event


def build_calendar(
    events: Iterable[EventItem], *, calendar_name: str, prodid: str = "-//Carbet//Communauté//FR"
) -> bytes:
    """An iCalendar (RFC 5545) document of ``events``."""
    calendar = Calendar()
    calendar.add("prodid", prodid)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", calendar_name)
    for item in events:
        calendar.add_component(_event(item))
    ical: bytes = calendar.to_ical()
    return ical

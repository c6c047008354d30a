"""The community events' iCalendar feed, parsed back with the icalendar library."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from icalendar import Calendar

from carbet.engines.community.calendar import EventItem, build_calendar

PARIS = ZoneInfo("Europe/Paris")
WEBINAR = EventItem(
    uid="event-42@carbet.example",
    title="Webinaire : sauvegardes hors ligne",
    start=dt.datetime(2026, 3, 12, 14, 0, tzinfo=PARIS),
    end=dt.datetime(2026, 3, 12, 15, 30, tzinfo=PARIS),
    location="Visioconférence",
    url="https://carbet.example/communaute/evenements/42/",
    description="Pour les directeurs et référents.\nInscription obligatoire ; places : 80.",
    sequence=3,
    updated=dt.datetime(2026, 3, 1, 8, 0, tzinfo=dt.UTC),
)
CANCELLED = EventItem(
    uid="event-43@carbet.example",
    title="Exercice de crise régional",
    start=dt.datetime(2026, 7, 2, 9, 0, tzinfo=PARIS),
    end=dt.datetime(2026, 7, 2, 17, 0, tzinfo=PARIS),
    sequence=1,
    cancelled=True,
)


def events(data: bytes) -> dict[str, object]:
    calendar = Calendar.from_ical(data)
    return {str(e["UID"]): e for e in calendar.walk("VEVENT")}


def test_calendar_parses_back():
    data = build_calendar([WEBINAR, CANCELLED], calendar_name="Carbet — Communauté")
    calendar = Calendar.from_ical(data)
    assert str(calendar["X-WR-CALNAME"]) == "Carbet — Communauté"
    assert str(calendar["VERSION"]) == "2.0" and "Carbet" in str(calendar["PRODID"])
    parsed = events(data)
    webinar = parsed["event-42@carbet.example"]
    start, end = webinar.decoded("DTSTART"), webinar.decoded("DTEND")
    assert start == dt.datetime(
        2026, 3, 12, 13, 0, tzinfo=dt.UTC
    ) and start.utcoffset() == dt.timedelta(0)
    assert end - start == dt.timedelta(minutes=90)
    assert b"DTSTART:20260312T130000Z" in data
    assert str(webinar["SUMMARY"]) == WEBINAR.title
    assert str(webinar["LOCATION"]) == "Visioconférence" and str(webinar["URL"]) == WEBINAR.url
    assert str(webinar["DESCRIPTION"]) == WEBINAR.description
    assert int(webinar["SEQUENCE"]) == 3 and str(webinar["STATUS"]) == "CONFIRMED"
    assert webinar.decoded("DTSTAMP") == WEBINAR.updated
    (alarm,) = webinar.walk("VALARM")
    assert str(alarm["ACTION"]) == "DISPLAY" and alarm.decoded("TRIGGER") == -dt.timedelta(hours=1)


def test_cancelled_event_and_updates_keep_the_uid():
    parsed = events(build_calendar([CANCELLED], calendar_name="c"))
    cancelled = parsed["event-43@carbet.example"]
    assert str(cancelled["STATUS"]) == "CANCELLED" and int(cancelled["SEQUENCE"]) == 1
    assert cancelled.walk("VALARM") == []  # no reminder for what will not happen
    moved = EventItem(**{**WEBINAR.__dict__, "start": WEBINAR.start + dt.timedelta(days=1),
                         "end": WEBINAR.end + dt.timedelta(days=1), "sequence": 4})  # fmt: skip
    again = events(build_calendar([moved], calendar_name="c"))
    assert list(again) == [WEBINAR.uid] and int(again[WEBINAR.uid]["SEQUENCE"]) == 4


def test_no_alarm_when_asked_and_custom_prodid():
    quiet = EventItem(**{**WEBINAR.__dict__, "reminder": None})
    data = build_calendar([quiet], calendar_name="c", prodid="-//CRC//Test//FR")
    assert events(data)[WEBINAR.uid].walk("VALARM") == []
    assert str(Calendar.from_ical(data)["PRODID"]) == "-//CRC//Test//FR"


def test_refuses_naive_and_reversed_times():
    with pytest.raises(ValueError, match="aware"):
        build_calendar([EventItem("u", "t", dt.datetime(2026, 1, 1), dt.datetime(2026, 1, 2))],
                       calendar_name="c")  # fmt: skip
    with pytest.raises(ValueError, match="ends before"):
        build_calendar([EventItem("u", "t", WEBINAR.end, WEBINAR.start)], calendar_name="c")


TEXT = st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=80)


@settings(max_examples=150, deadline=None)
@given(TEXT, TEXT, TEXT, st.integers(min_value=0, max_value=10_000))
def test_any_text_survives_the_round_trip(title, location, description, minutes):
    start = dt.datetime(2026, 5, 1, 8, 0, tzinfo=dt.UTC)
    item = EventItem("u-1@carbet", title, start, start + dt.timedelta(minutes=minutes),
                     location=location, description=description)  # fmt: skip
    event = events(build_calendar([item], calendar_name=title or "c"))["u-1@carbet"]
    assert str(event["SUMMARY"]) == title
    assert str(event.get("LOCATION", "")) == location
    assert str(event.get("DESCRIPTION", "")) == description
    assert event.decoded("DTEND") - event.decoded("DTSTART") == dt.timedelta(minutes=minutes)

"""Times as people write them in a chronogram."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from carbet.engines.exercises.timeexpr import (
    TimeExpressionError,
    format_offset,
    offset_of_clock,
    parse_offset,
)

NINE = dt.time(9, 0)


@pytest.mark.parametrize(
    ("text", "minutes"),
    [
        ("J+0 H+1 M+30", 90),
        ("J+0 H+0 M+0", 0),
        ("J+1 H+2", 1560),
        ("J+2", 2880),
        ("H+1", 60),
        ("M+45", 45),
        ("M+90", 90),
        ("H+1:30", 90),
        ("h+1 m+5", 65),
        ("j + 0  h + 1", 60),
        ("D+1 H+0", 1440),
        ("T+01:30", 90),
        ("T+1:05", 65),
        ("T+90", 90),
        ("t+0", 0),
        ("T+90 min", 90),
        ("T+1h30", 90),
        ("+1h30", 90),
        ("+1h", 60),
        ("+ 2 h 05", 125),
        ("+45min", 45),
        ("+45 mn", 45),
        ("+90", 90),
        ("09:45", 45),
        ("9h45", 45),
        ("9 h 45", 45),
        ("10h", 60),
        ("09:00", 0),
        ("23:59", 899),
        ("J+1 09:45", 1485),
        ("J+1 08:00", 1380),
        ("  T+01:30  ", 90),
        ("Ｔ＋９０", 90),  # full-width characters, as some keyboards type them
    ],
)
def test_time_expressions(text, minutes):
    assert parse_offset(text, start=NINE) == minutes


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "heure absente"),
        ("bientôt", "illisible"),
        ("08:59", "avant l'heure de début"),
        ("25:00", "n'est pas une heure"),
        ("09:75", "n'est pas une heure"),
        ("-5", "avant le début"),
        ("J-1", "avant le début"),
        ("T−10", "avant le début"),
        ("T+1:75", "au-delà de 59"),
        ("J+31", "dépasse 30 jours"),
        ("T+99999", "dépasse 30 jours"),
        ("H+", "illisible"),
        ("=A1+1", "illisible"),
    ],
)
def test_bad_time_expressions(text, message):
    with pytest.raises(TimeExpressionError) as caught:
        parse_offset(text, start=NINE)
    assert message in caught.value.message


def test_clock_time_depends_on_the_start_time():
    assert parse_offset("09:45", start=dt.time(8, 30)) == 75
    assert parse_offset("14:00", start=dt.time(13, 15)) == 45
    assert offset_of_clock(dt.time(10, 0), start=NINE) == 60
    with pytest.raises(TimeExpressionError):
        offset_of_clock(dt.time(8, 0), start=NINE)


@given(st.integers(0, 30 * 24 * 60))
def test_canonical_writing_reads_back(minutes):
    assert parse_offset(format_offset(minutes)) == minutes


@given(st.text(max_size=40))
def test_any_text_is_a_number_or_a_clean_error(text):
    try:
        assert parse_offset(text, start=NINE) >= 0
    except TimeExpressionError as exc:
        assert exc.message

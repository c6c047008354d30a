"""Times in a chronogram, written as people write them, turned into minutes from the start.

Relative forms (from the start of the exercise, « DEBEX »):
``J+0 H+1 M+30``, ``J+1 H+2``, ``H+1``, ``M+45``, ``H+1:30``, ``T+01:30`` (hours:minutes),
``T+90`` (minutes), ``+1h30``, ``+1h``, ``+45min``, ``+90``.
Clock forms (a time of day, counted from the exercise's start time): ``09:45``, ``9h45``,
``10h``, and with a day: ``J+1 09:45``. A clock time before the start time on day J+0 is an
error, not the next day: a chronogram that crosses midnight writes ``J+1``.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata

MAX_MINUTES = 30 * 24 * 60


class TimeExpressionError(ValueError):
    def __init__(self, message: str):
        self.message = message
        super().__init__(message)


_DAY = r"(?:[jd]\s*\+\s*(?P<day>\d{1,3})\s*)?"
_CLOCK = re.compile(_DAY + r"(?P<ch>\d{1,2})\s*[:h]\s*(?P<cm>\d{2})?")
_PARTS = re.compile(
    r"(?:[jd]\s*\+\s*(?P<day>\d{1,3}))?\s*"
    r"(?:h\s*\+\s*(?P<hours>\d{1,4})(?:\s*:\s*(?P<hm>\d{2}))?)?\s*"
    r"(?:m(?:in)?\s*\+\s*(?P<minutes>\d{1,6}))?"
)
_T_FORM = re.compile(
    r"t\s*\+\s*(?:(?P<h>\d{1,4})\s*[:h]\s*(?P<m>\d{2})?|(?P<only>\d{1,6})(?:\s*min)?)"
)
_PLUS_FORM = re.compile(
    r"\+\s*(?:(?P<h>\d{1,4})\s*h\s*(?P<m>\d{1,2})?(?:\s*min)?|(?P<only>\d{1,6})\s*(?:min|mn|m)?)"
)


def _normalize(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).replace("\u2212", "-").replace("\u2013", "-")
    return " ".join(text.lower().split())


def _minutes_of(hours: str | None, minutes: str | None) -> int:
    if minutes is not None and int(minutes) >= 60:
        raise TimeExpressionError(f"« {minutes} » minutes : au-delà de 59, écrivez les heures")
    return int(hours or 0) * 60 + int(minutes or 0)


def _checked(total: int, text: str) -> int:
    if total > MAX_MINUTES:
        raise TimeExpressionError(f"« {text} » dépasse 30 jours après le début")
    return total


def parse_offset(text: str, *, start: dt.time = dt.time(9, 0)) -> int:
    """Minutes from the exercise start for ``text``; ``TimeExpressionError`` if unreadable."""
    shown = " ".join(str(text).split())[:40]
    value = _normalize(str(text))
    if not value:
        raise TimeExpressionError("heure absente")
    if "-" in value:
        raise TimeExpressionError(f"« {shown} » est avant le début de l'exercice")
    match = _T_FORM.fullmatch(value)
    if match:
        if match["only"] is not None:
            return _checked(int(match["only"]), shown)
        return _checked(_minutes_of(match["h"], match["m"]), shown)
    match = _PLUS_FORM.fullmatch(value)
    if match:
        if match["only"] is not None:
            return _checked(int(match["only"]), shown)
        return _checked(_minutes_of(match["h"], match["m"]), shown)
    match = _CLOCK.fullmatch(value)
    if match:
        return _clock(match, start, shown)
    match = _PARTS.fullmatch(value)
    if match and any(match[key] is not None for key in ("day", "hours", "minutes")):
        total = int(match["day"] or 0) * 1440 + _minutes_of(match["hours"], match["hm"])
        return _checked(total + int(match["minutes"] or 0), shown)
    raise TimeExpressionError(
        f"heure « {shown} » illisible (exemples : J+0 H+1 M+30, T+01:30, +1h30, 09:45)"
    )


def _clock(match: re.Match[str], start: dt.time, shown: str) -> int:
    hours, minutes = int(match["ch"]), int(match["cm"] or 0)
    if hours > 23 or minutes > 59:
        raise TimeExpressionError(f"« {shown} » n'est pas une heure de la journée")
    day = int(match["day"] or 0)
    total = day * 1440 + (hours * 60 + minutes) - (start.hour * 60 + start.minute)
    if total < 0:
        raise TimeExpressionError(
            f"« {shown} » est avant l'heure de début de l'exercice ({start.strftime('%H:%M')}) ; "
            "pour le lendemain, écrivez J+1 " + f"{hours:02d}:{minutes:02d}"
        )
    return _checked(total, shown)


def offset_of_clock(value: dt.time, *, start: dt.time, day: int = 0) -> int:
    """Minutes from ``start`` to the clock time ``value`` on day ``day`` (a spreadsheet time)."""
    total = day * 1440 + value.hour * 60 + value.minute - (start.hour * 60 + start.minute)
    if total < 0:
        raise TimeExpressionError(
            f"« {value.strftime('%H:%M')} » est avant l'heure de début de l'exercice "
            f"({start.strftime('%H:%M')})"
        )
    return total


def format_offset(minutes: int) -> str:
    """The canonical writing of an offset: ``J+0 H+1 M+30``."""
    days, rest = divmod(max(0, int(minutes)), 1440)
    hours, mins = divmod(rest, 60)
    return f"J+{days} H+{hours} M+{mins}"

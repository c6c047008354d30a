"""A situation point drafted from what changed since the previous one.

The cell edits the draft before sending it: this module only gathers and orders. What goes
first is what a director needs at the top of a crisis meeting — the situation, the decisions,
the care activities not running normally, the overdue tasks and the declarations still owed —
then what was done. Lines are plain text (the draft is sent by e-mail and printed).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

MAX_LINES = 12  # per section: a situation point is read in five minutes

SECTIONS: tuple[str, ...] = (
    "situation",
    "decisions",
    "care",
    "systems",
    "overdue",
    "obligations",
    "done",
    "facts",
)


@dataclass(frozen=True)
class Line:
    at: dt.datetime | None
    text: str


@dataclass
class SitrepInput:
    """What happened in the period, already worded by the app (labels in the user's language)."""

    title: str
    phase: str
    period_start: dt.datetime | None
    period_end: dt.datetime
    situation: list[Line] = field(default_factory=list)  # situation points and verified facts
    decisions: list[Line] = field(default_factory=list)
    care: list[Line] = field(default_factory=list)  # activities not running normally
    systems: list[Line] = field(default_factory=list)  # asset counts per state
    overdue: list[Line] = field(default_factory=list)  # open tasks past due
    obligations: list[Line] = field(default_factory=list)  # declarations not yet sent
    done: list[Line] = field(default_factory=list)  # tasks done in the period
    facts: list[Line] = field(default_factory=list)  # other log entries of the period


def _format(line: Line, tz: dt.tzinfo | None) -> str:
    if line.at is None:
        return f"- {line.text}"
    at = line.at.astimezone(tz) if tz else line.at
    return f"- {at:%d/%m %H:%M} {line.text}"


def draft(
    data: SitrepInput,
    headings: Mapping[str, str],
    *,
    tz: dt.tzinfo | None = None,
    more: str = "(+{n})",
) -> str:
    """The draft's text. ``headings`` words each section and ``"header"``/``"empty"``;
    ``header`` may use ``{title}``, ``{phase}``, ``{start}`` and ``{end}``."""
    start = data.period_start.astimezone(tz) if data.period_start and tz else data.period_start
    end = data.period_end.astimezone(tz) if tz else data.period_end
    lines = [
        headings["header"].format(
            title=data.title,
            phase=data.phase,
            start=f"{start:%d/%m/%Y %H:%M}" if start else "—",
            end=f"{end:%d/%m/%Y %H:%M}",
        ),
        "",
    ]
    for section in SECTIONS:
        items: Sequence[Line] = getattr(data, section)
        lines.append(headings[section])
        if not items:
            lines.append(f"- {headings['empty']}")
        for item in items[:MAX_LINES]:
            lines.append(_format(item, tz))
        if len(items) > MAX_LINES:
            lines.append(more.format(n=len(items) - MAX_LINES))
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"

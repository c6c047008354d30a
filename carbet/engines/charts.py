"""Charts drawn as SVG strings on the server: bars, stacked bars, lines and heatmap cells.

Pure Python (no Django), so the pages and the PDF reports share exactly the same drawings and
no JavaScript is needed (the pages run under a strict Content-Security-Policy). Every chart is
an ``<svg role="img">`` labelled by its ``<title>`` and ``<desc>``; colours are given as
presentation attributes, never ``style=""`` (which the CSP would block). Every piece of text is
XML-escaped here, so callers may pass untrusted labels (structure names, finding titles).

Accessibility (RGAA 4.1 / WCAG 2.1 AA, see docs/accessibility.md):

- the description always carries the values: when the caller's ``desc`` does not already give
  them, the chart appends a plain-text summary (every bar, every heat-map row, the first, last,
  lowest and highest point of every line);
- colour is never the only cue: lines differ by dash pattern and point marker, heat-map cells
  carry small square marks (one per level) besides their colour and their value;
- text on a coloured cell is black or white, whichever contrasts most (at least 4.5:1);
- the drawing's size is given in ``rem`` (16 px = 1 rem at the default text size; not ``em``,
  which inside the SVG would follow its own fixed ``font-size``): the whole chart, text
  included, grows with the reader's zoom and text size instead of staying at a fixed pixel
  size; pages let a wide chart scroll inside its own box rather than shrinking it.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from xml.sax.saxutils import escape as _xml_escape

FONT = "DejaVu Sans, Noto Sans, Arial, sans-serif"
INK = "#1b1f24"
MUTED = "#4a5562"
GRID = "#d4d9df"
WHITE = "#ffffff"
# Pixels of drawing per rem of the page's text: the SVG's width and height are written in rem.
PX_PER_EM = 16
# Lines are told apart without colour: the n-th series of a chart uses the n-th dash pattern
# and the n-th point marker (cycled).
DASHES = ("", "8 4", "2 3", "10 3 2 3")
MARKERS = ("circle", "square", "triangle", "diamond")
# At most this many markers per line: beyond, every k-th point carries one.
MAX_MARKERS = 16

# Severity colours (same as the stylesheet's --crit/--high/...), dark enough for white text.
SEVERITY_COLOURS = {
    4: "#7d0a0a",
    3: "#c0392b",
    2: "#b36200",
    1: "#36587a",
    0: "#6b7580",
}
# Heatmap levels 0 (nothing) to 4 (worst): background and the text colour readable on it
# (every pair at least 4.5:1; the stylesheet's .heat-0 … .heat-4 use the same colours).
HEAT_LEVELS = (
    ("#eef6f0", INK),
    ("#ffd966", INK),
    ("#f4a259", INK),
    ("#b5441f", WHITE),
    ("#7d0a0a", WHITE),
)


@dataclass(frozen=True)
class Series:
    """One named row of values, drawn in one colour (``None`` marks a missing value)."""

    label: str
    values: Sequence[float | None]
    colour: str


def _xml_allowed(ch: str) -> bool:
    return ch in "\t\n\r" or " " <= ch <= "\ud7ff" or "\ue000" <= ch <= "\ufffd" or ch > "\uffff"


def esc(text: object) -> str:
    """XML-escape any text, quotes included; characters XML forbids are dropped."""
    raw = "".join(ch for ch in str(text) if _xml_allowed(ch))
    return _xml_escape(raw, {'"': "&quot;", "'": "&#x27;"})


def _chart_id(kind: str, title: str, desc: str) -> str:
    digest = hashlib.blake2b(f"{kind}|{title}|{desc}".encode(), digest_size=5).hexdigest()
    return f"chart-{kind}-{digest}"


def _fmt(number: float) -> str:
    """A coordinate with at most one decimal, without a trailing ``.0``."""
    text = f"{number:.1f}"
    return text[:-2] if text.endswith(".0") else text


# The decimal separator of the reader's language ("," in French, "." in English). A context
# variable, so that each request (or job) writes its charts in its own language; the web layer
# sets it from the active language (``carbet.web.middleware``).
DECIMAL_SEPARATOR: ContextVar[str] = ContextVar("chart_decimal_separator", default=",")


def _label(number: float | None) -> str:
    if number is None:
        return "—"
    if float(number).is_integer():
        return f"{int(number)}"
    return f"{number:.1f}".replace(".", DECIMAL_SEPARATOR.get())


def _em(pixels: float) -> str:
    """A length in rem (so that the chart follows the reader's text size), from design pixels."""
    text = f"{pixels / PX_PER_EM:.3f}".rstrip("0").rstrip(".")
    return f"{text}rem"


def _open(kind: str, title: str, desc: str, width: int, height: int) -> tuple[str, list[str]]:
    cid = _chart_id(kind, title, desc)
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart chart-{kind}" role="img"'
        f' width="{_em(width)}" height="{_em(height)}" viewBox="0 0 {width} {height}"'
        f' aria-labelledby="{cid}-t {cid}-d" font-family="{FONT}" font-size="12" fill="{INK}">'
        f'<title id="{cid}-t">{esc(title)}</title><desc id="{cid}-d">{esc(desc)}</desc>'
    )
    return cid, [head]


def _luminance(colour: str) -> float:
    """WCAG relative luminance of ``#rrggbb`` (anything else counts as mid-grey)."""
    match = len(colour) == 7 and colour.startswith("#")
    try:
        channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)] if match else []
    except ValueError:
        channels = []
    if not channels:
        return 0.2

    def linear(value: float) -> float:
        return value / 12.92 if value <= 0.03928 else ((value + 0.055) / 1.055) ** 2.4

    red, green, blue = (linear(c) for c in channels)
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue


def contrast(first: str, second: str) -> float:
    """WCAG contrast ratio of two ``#rrggbb`` colours (1 to 21)."""
    high, low = sorted((_luminance(first), _luminance(second)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def ink_on(background: str) -> str:
    """Black or white text, whichever reads best on ``background``."""
    return INK if contrast(INK, background) >= contrast(WHITE, background) else WHITE


def _numbers(value: float | None) -> set[str]:
    """The ways a value may already be written in a caller's description."""
    if value is None:
        return {"—"}
    number = float(value)
    return {_label(number), f"{number:g}", str(value), f"{number:.1f}", f"{round(number)}"}


def _mentions(desc: str, label: str, value: float | None) -> bool:
    return label in desc and any(text in desc for text in _numbers(value))


def _with_values(desc: str, pairs: Sequence[tuple[str, str]], already: bool) -> str:
    """``desc`` followed by "label : value ; …" unless the caller already wrote the values."""
    if already or not pairs:
        return desc
    listing = " ; ".join(f"{label} : {value}" for label, value in pairs)
    joined = f"{desc.rstrip()} " if desc.strip() else ""
    return f"{joined}{listing}."


def _truncate(text: str, limit: int) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def nice_max(value: float) -> float:
    """A round upper bound for an axis (1, 2, 5 × 10^n) at or above ``value``."""
    if value <= 0:
        return 1.0
    exponent = math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        bound = step * 10**exponent
        if bound >= value:
            return float(bound)
    return float(10 ** (exponent + 1))


def bar_chart(
    title: str,
    desc: str,
    labels: Sequence[str],
    values: Sequence[float],
    *,
    colours: Sequence[str] | None = None,
    width: int = 560,
    unit: str = "",
    label_width: int = 190,
) -> str:
    """Horizontal bars, one per label, each with its value written at its end."""
    row = 26
    height = max(1, len(labels)) * row + 12
    desc = _with_values(
        desc,
        [(str(lb), f"{_label(v)}{unit}") for lb, v in zip(labels, values, strict=True)],
        all(_mentions(desc, str(lb), v) for lb, v in zip(labels, values, strict=True)),
    )
    _cid, out = _open("bar", title, desc, width, height)
    top = max([0.0, *[float(v) for v in values]])
    scale = nice_max(top)
    plot = width - label_width - 60
    for index, (label, value) in enumerate(zip(labels, values, strict=True)):
        y = 6 + index * row
        colour = colours[index] if colours else SEVERITY_COLOURS[3]
        length = 0.0 if not value else max(2.0, plot * float(value) / scale)
        out.append(
            f'<text x="{label_width - 8}" y="{y + 16}" text-anchor="end">'
            f"{esc(_truncate(label, 30))}</text>"
            f'<rect x="{label_width}" y="{y + 3}" width="{_fmt(length)}" height="{row - 8}"'
            f' fill="{esc(colour)}"><title>{esc(label)} : {_label(value)}{esc(unit)}</title></rect>'
            f'<text x="{_fmt(label_width + length + 6)}" y="{y + 16}">'
            f"{_label(value)}{esc(unit)}</text>"
        )
    out.append("</svg>")
    return "".join(out)


def stacked_bar_chart(
    title: str,
    desc: str,
    labels: Sequence[str],
    series: Sequence[Series],
    *,
    width: int = 560,
    label_width: int = 190,
) -> str:
    """Horizontal bars split by series (e.g. open findings by severity), with a legend."""
    row = 26
    legend = 24
    height = legend + max(1, len(labels)) * row + 10
    totals = [sum(float(s.values[i] or 0) for s in series) for i in range(len(labels))]
    desc = _with_values(
        desc,
        [
            (
                str(label),
                ", ".join(f"{s.label} {_label(s.values[i] or 0)}" for s in series)
                + f" (total {_label(totals[i])})",
            )
            for i, label in enumerate(labels)
        ],
        all(_mentions(desc, str(lb), totals[i]) for i, lb in enumerate(labels)),
    )
    _cid, out = _open("stacked", title, desc, width, height)
    _legend(out, series, 0, lines=False)
    scale = nice_max(max([0.0, *totals]))
    plot = width - label_width - 60
    for index, label in enumerate(labels):
        y = legend + 4 + index * row
        out.append(
            f'<text x="{label_width - 8}" y="{y + 16}" text-anchor="end">'
            f"{esc(_truncate(label, 30))}</text>"
        )
        x = float(label_width)
        for s in series:
            value = float(s.values[index] or 0)
            if value <= 0:
                continue
            length = max(2.0, plot * value / scale)
            out.append(
                f'<rect x="{_fmt(x)}" y="{y + 3}" width="{_fmt(length)}" height="{row - 8}"'
                f' fill="{esc(s.colour)}"><title>{esc(label)} — {esc(s.label)} :'
                f" {_label(value)}</title></rect>"
            )
            x += length
        out.append(f'<text x="{_fmt(x + 6)}" y="{y + 16}">{_label(totals[index])}</text>')
    out.append("</svg>")
    return "".join(out)


def _marker(kind: str, x: float, y: float, colour: str, size: float = 4.0) -> str:
    """A point marker (circle, square, triangle, diamond) centred on ``x, y``, white-edged."""
    paint = f'fill="{esc(colour)}" stroke="{WHITE}" stroke-width="1"'
    if kind == "square":
        return (
            f'<rect x="{_fmt(x - size)}" y="{_fmt(y - size)}" width="{_fmt(2 * size)}"'
            f' height="{_fmt(2 * size)}" {paint}/>'
        )
    if kind == "triangle":
        points = f"{_fmt(x)},{_fmt(y - size - 1)} {_fmt(x + size + 1)},{_fmt(y + size)}"
        points += f" {_fmt(x - size - 1)},{_fmt(y + size)}"
        return f'<polygon points="{points}" {paint}/>'
    if kind == "diamond":
        reach = size + 1
        points = f"{_fmt(x)},{_fmt(y - reach)} {_fmt(x + reach)},{_fmt(y)}"
        points += f" {_fmt(x)},{_fmt(y + reach)} {_fmt(x - reach)},{_fmt(y)}"
        return f'<polygon points="{points}" {paint}/>'
    return f'<circle cx="{_fmt(x)}" cy="{_fmt(y)}" r="{_fmt(size)}" {paint}/>'


def _dash(index: int) -> str:
    pattern = DASHES[index % len(DASHES)]
    return f' stroke-dasharray="{pattern}"' if pattern else ""


def _legend(
    out: list[str], series: Sequence[Series], y: float, x: float = 8, *, lines: bool = True
) -> None:
    """One key per series: a line sample with its dash and marker (lines) or a colour square."""
    for index, s in enumerate(series):
        label = f'<text x="{_fmt(x + 31 if lines else x + 17)}" y="{_fmt(y + 15)}">'
        label += f"{esc(_truncate(s.label, 28))}</text>"
        if lines:
            sample = (
                f'<line x1="{_fmt(x)}" y1="{_fmt(y + 11)}" x2="{_fmt(x + 26)}" y2="{_fmt(y + 11)}"'
                f' stroke="{esc(s.colour)}" stroke-width="2.5"{_dash(index)}/>'
                + _marker(MARKERS[index % len(MARKERS)], x + 13, y + 11, s.colour)
            )
        else:
            sample = (
                f'<rect x="{_fmt(x)}" y="{_fmt(y + 5)}" width="12" height="12"'
                f' fill="{esc(s.colour)}"/>'
            )
        out.append(f"<g>{sample}{label}</g>")
        x += (44 if lines else 30) + 7 * min(len(s.label), 28)


def _line_summary(x_labels: Sequence[str], s: Series) -> str:
    known = [(x_labels[i], v) for i, v in enumerate(s.values[: len(x_labels)]) if v is not None]
    if not known:
        return f"{s.label} : —"
    (first_day, first), (last_day, last) = known[0], known[-1]
    values = [v for _day, v in known]
    # Words-free (the engine has no translations): "12 (01/02) → 15 (30/04), min 10, max 18".
    return (
        f"{s.label} : {_label(first)} ({first_day}) → {_label(last)} ({last_day}),"
        f" min {_label(min(values))}, max {_label(max(values))}"
    )


def _line_desc(desc: str, x_labels: Sequence[str], series: Sequence[Series]) -> str:
    """``desc``, plus each line's summary unless it already gives every line's last value."""
    described = all(
        any(
            text in desc
            for text in _numbers(next((v for v in reversed(s.values) if v is not None), None))
        )
        for s in series
    )
    if described or not series:
        return desc
    summary = " ; ".join(_line_summary(x_labels, s) for s in series)
    return f"{desc.rstrip()} {summary}." if desc.strip() else f"{summary}."


def _x_ticks(count: int, max_ticks: int) -> list[int]:
    """The indexes of the labels written under the x axis: evenly spaced, the last one kept."""
    if not count:
        return []
    every = max(1, math.ceil(count / max_ticks))
    ticks = list(range(0, count, every))
    if ticks[-1] != count - 1:
        if count - 1 - ticks[-1] < every / 2 and len(ticks) > 1:
            ticks.pop()  # too close to the last label: they would overlap
        ticks.append(count - 1)
    return ticks


def _line(
    out: list[str],
    index: int,
    s: Series,
    points_at: Sequence[tuple[float, float] | None],
) -> None:
    """One series: its polylines (a gap breaks the line), lone points, and its markers."""
    segments: list[list[str]] = [[]]
    marks: list[str] = []
    every_marker = max(1, math.ceil(len(points_at) / MAX_MARKERS))
    for i, point in enumerate(points_at):
        if point is None:
            if segments[-1]:
                segments.append([])
            continue
        x, y = point
        segments[-1].append(f"{_fmt(x)},{_fmt(y)}")
        if i % every_marker == 0 or i == len(points_at) - 1:
            marks.append(_marker(MARKERS[index % len(MARKERS)], x, y, s.colour, 3.5))
    for points in segments:
        if len(points) == 1:
            x_text, y_text = points[0].split(",")
            out.append(f'<circle cx="{x_text}" cy="{y_text}" r="3" fill="{esc(s.colour)}"/>')
        elif points:
            out.append(
                f'<polyline points="{" ".join(points)}" fill="none"'
                f' stroke="{esc(s.colour)}" stroke-width="2.5" stroke-linejoin="round"'
                f"{_dash(index)}/>"
            )
    if marks:
        out.append(f'<g aria-hidden="true">{"".join(marks)}</g>')


def line_chart(
    title: str,
    desc: str,
    x_labels: Sequence[str],
    series: Sequence[Series],
    *,
    width: int = 560,
    height: int = 220,
    y_max: float | None = None,
    max_x_ticks: int = 6,
) -> str:
    """Lines over time; a ``None`` value breaks the line (a day without a snapshot).

    Each series has its own dash pattern and point marker besides its colour.
    """
    _cid, out = _open("line", title, _line_desc(desc, x_labels, series), width, height)
    legend, left, right, bottom = 24, 44, 14, 26
    plot_w, plot_h = width - left - right, height - legend - bottom - 6
    top_value = max([0.0, *[float(v) for s in series for v in s.values if v is not None]])
    scale = y_max if y_max is not None else nice_max(top_value)
    scale = scale or 1.0
    _legend(out, series, 0)
    base_y = legend + 6 + plot_h
    for step in range(5):
        value = scale * step / 4
        y = base_y - plot_h * step / 4
        out.append(
            f'<line x1="{left}" y1="{_fmt(y)}" x2="{width - right}" y2="{_fmt(y)}"'
            f' stroke="{GRID}" stroke-width="1"/>'
            f'<text x="{left - 6}" y="{_fmt(y + 4)}" text-anchor="end" fill="{MUTED}"'
            f' font-size="11">{_label(round(value, 1))}</text>'
        )
    count = len(x_labels)

    def x_at(i: int) -> float:
        return left + (plot_w * i / (count - 1) if count > 1 else plot_w / 2)

    for i in _x_ticks(count, max_x_ticks):
        anchor = "end" if i == count - 1 and count > 1 else "middle" if i else "start"
        out.append(
            f'<text x="{_fmt(x_at(i))}" y="{height - 8}" text-anchor="{anchor}"'
            f' fill="{MUTED}" font-size="11">{esc(x_labels[i])}</text>'
        )
    for index, s in enumerate(series):
        points_at = [
            None if value is None else (x_at(i), base_y - plot_h * min(float(value), scale) / scale)
            for i, value in enumerate(s.values[:count])
        ]
        _line(out, index, s, points_at)
    out.append("</svg>")
    return "".join(out)


def heat_level(value: float | None, thresholds: Sequence[float]) -> int:
    """0 for nothing, then 1 + the number of thresholds ``value`` reaches (capped at 4)."""
    if not value:
        return 0
    return min(4, 1 + sum(1 for t in thresholds if value >= t))


def heatmap(
    title: str,
    desc: str,
    row_labels: Sequence[str],
    column_labels: Sequence[str],
    values: Sequence[Sequence[float | None]],
    levels: Sequence[Sequence[int]],
    *,
    label_width: int = 200,
    cell_width: int = 78,
) -> str:
    """A grid of coloured cells, each showing its value as text (colour is never the only cue):
    a cell of level n also carries n small squares, like the heat-map tables of the pages."""
    row, head = 24, 40
    width = label_width + cell_width * max(1, len(column_labels)) + 4
    height = head + row * max(1, len(row_labels)) + 4
    desc = _with_values(
        desc,
        [
            (
                str(label),
                ", ".join(
                    f"{column} {_label(values[i][j])}" for j, column in enumerate(column_labels)
                ),
            )
            for i, label in enumerate(row_labels)
        ],
        all(str(label) in desc for label in row_labels),
    )
    _cid, out = _open("heatmap", title, desc, width, height)
    for j, column in enumerate(column_labels):
        x = label_width + j * cell_width + cell_width / 2
        out.append(
            f'<text x="{_fmt(x)}" y="{head - 10}" text-anchor="middle" font-size="11">'
            f"{esc(_truncate(column, 13))}<title>{esc(column)}</title></text>"
        )
    for i, label in enumerate(row_labels):
        y = head + i * row
        out.append(
            f'<text x="{label_width - 8}" y="{y + 16}" text-anchor="end">'
            f"{esc(_truncate(label, 28))}</text>"
        )
        for j, column in enumerate(column_labels):
            value = values[i][j]
            level = max(0, min(4, levels[i][j]))
            background, ink = HEAT_LEVELS[level]
            x = label_width + j * cell_width
            out.append(
                f'<rect x="{x + 1}" y="{y + 1}" width="{cell_width - 2}" height="{row - 2}"'
                f' fill="{background}"><title>{esc(label)} — {esc(column)} :'
                f" {_label(value)}</title></rect>"
                f'<text x="{_fmt(x + cell_width / 2)}" y="{y + 16}" text-anchor="middle"'
                f' fill="{ink}">{_label(value)}</text>'
            )
            if level:
                # Level marks in the cell's corner: n squares for level n, in the text colour.
                squares = "".join(
                    f'<rect x="{x + cell_width - 8 - 6 * k}" y="{y + 4}" width="4" height="4"/>'
                    for k in range(level)
                )
                out.append(f'<g fill="{ink}" aria-hidden="true">{squares}</g>')
    out.append("</svg>")
    return "".join(out)

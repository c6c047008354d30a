"""Charts drawn as SVG strings on the server: bars, stacked bars, lines and heatmap cells.

Pure Python (no Django), so the pages and the PDF reports share exactly the same drawings and
no JavaScript is needed (the pages run under a strict Content-Security-Policy). Every chart is
an ``<svg role="img">`` labelled by its ``<title>`` and ``<desc>``; colours are given as
presentation attributes, never ``style=""`` (which the CSP would block). Every piece of text is
XML-escaped here, so callers may pass untrusted labels (structure names, finding titles).
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass
from xml.sax.saxutils import escape as _xml_escape

FONT = "DejaVu Sans, Noto Sans, Arial, sans-serif"
INK = "#1b1f24"
MUTED = "#4a5562"
GRID = "#d4d9df"

# Severity colours (same as the stylesheet's --crit/--high/...), dark enough for white text.
SEVERITY_COLOURS = {
    4: "#7d0a0a",
    3: "#c0392b",
    2: "#b36200",
    1: "#36587a",
    0: "#6b7580",
}
# Heatmap levels 0 (nothing) to 4 (worst): background and the text colour readable on it.
HEAT_LEVELS = (
    ("#eef6f0", INK),
    ("#fff1c2", INK),
    ("#f7c08a", INK),
    ("#d9603b", "#ffffff"),
    ("#7d0a0a", "#ffffff"),
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


def _label(number: float | None) -> str:
    if number is None:
        return "—"
    if float(number).is_integer():
        return f"{int(number)}"
    return f"{number:.1f}".replace(".", ",")


def _open(kind: str, title: str, desc: str, width: int, height: int) -> tuple[str, list[str]]:
    cid = _chart_id(kind, title, desc)
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart chart-{kind}" role="img"'
        f' width="{width}" height="{height}" viewBox="0 0 {width} {height}"'
        f' aria-labelledby="{cid}-t {cid}-d" font-family="{FONT}" font-size="12" fill="{INK}">'
        f'<title id="{cid}-t">{esc(title)}</title><desc id="{cid}-d">{esc(desc)}</desc>'
    )
    return cid, [head]


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
    _cid, out = _open("stacked", title, desc, width, height)
    _legend(out, series, 0)
    totals = [sum(float(s.values[i] or 0) for s in series) for i in range(len(labels))]
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


def _legend(out: list[str], series: Sequence[Series], y: float, x: float = 8) -> None:
    for s in series:
        out.append(
            f'<rect x="{_fmt(x)}" y="{_fmt(y + 5)}" width="12" height="12" fill="{esc(s.colour)}"/>'
            f'<text x="{_fmt(x + 17)}" y="{_fmt(y + 15)}">{esc(_truncate(s.label, 28))}</text>'
        )
        x += 30 + 7 * min(len(s.label), 28)


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
    """Lines over time; a ``None`` value breaks the line (a day without a snapshot)."""
    _cid, out = _open("line", title, desc, width, height)
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

    if count:
        every = max(1, math.ceil(count / max_x_ticks))
        ticks = list(range(0, count, every))
        if ticks[-1] != count - 1:
            if count - 1 - ticks[-1] < every / 2 and len(ticks) > 1:
                ticks.pop()  # too close to the last label: they would overlap
            ticks.append(count - 1)
        for i in ticks:
            anchor = "end" if i == count - 1 and count > 1 else "middle" if i else "start"
            out.append(
                f'<text x="{_fmt(x_at(i))}" y="{height - 8}" text-anchor="{anchor}"'
                f' fill="{MUTED}" font-size="11">{esc(x_labels[i])}</text>'
            )
    for s in series:
        segments: list[list[str]] = [[]]
        for i, value in enumerate(s.values[:count]):
            if value is None:
                if segments[-1]:
                    segments.append([])
                continue
            y = base_y - plot_h * min(float(value), scale) / scale
            segments[-1].append(f"{_fmt(x_at(i))},{_fmt(y)}")
        for points in segments:
            if len(points) == 1:
                x, y = points[0].split(",")
                out.append(f'<circle cx="{x}" cy="{y}" r="3" fill="{esc(s.colour)}"/>')
            elif points:
                out.append(
                    f'<polyline points="{" ".join(points)}" fill="none"'
                    f' stroke="{esc(s.colour)}" stroke-width="2.5" stroke-linejoin="round"/>'
                )
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
    """A grid of coloured cells, each showing its value as text (colour is never the only cue)."""
    row, head = 24, 40
    width = label_width + cell_width * max(1, len(column_labels)) + 4
    height = head + row * max(1, len(row_labels)) + 4
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
            background, ink = HEAT_LEVELS[max(0, min(4, levels[i][j]))]
            x = label_width + j * cell_width
            out.append(
                f'<rect x="{x + 1}" y="{y + 1}" width="{cell_width - 2}" height="{row - 2}"'
                f' fill="{background}"><title>{esc(label)} — {esc(column)} :'
                f" {_label(value)}</title></rect>"
                f'<text x="{_fmt(x + cell_width / 2)}" y="{y + 16}" text-anchor="middle"'
                f' fill="{ink}">{_label(value)}</text>'
            )
    out.append("</svg>")
    return "".join(out)

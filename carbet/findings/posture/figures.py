"""The dashboards' charts, built from selector results with ``carbet.engines.charts``.

The SVG engine escapes every text it writes, so its output is marked safe for templates. The
same functions feed the pages and the PDF reports.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from django.utils.formats import date_format
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from carbet.engines import charts
from carbet.engines.posture import PostureCounts
from carbet.findings.choices import Severity
from carbet.findings.posture.peers import GroupFigures
from carbet.findings.posture.selectors import SourceCell, TrendData, source_labels

ACCENT = "#0b5d6b"


def _safe(svg: str) -> SafeString:
    return mark_safe(svg)  # noqa: S308 — every text was escaped by carbet.engines.charts


def _day(day: date) -> str:
    return date_format(day, "d/m")


def _range_text(values: Sequence[int | None]) -> str:
    known = [v for v in values if v is not None]
    if not known:
        return _("aucune donnée")
    return _("de %(first)s à %(last)s (plus bas %(low)s, plus haut %(high)s)") % {
        "first": known[0],
        "last": known[-1],
        "low": min(known),
        "high": max(known),
    }


def severity_bars(counts: PostureCounts, *, title: str | None = None) -> SafeString:
    """Open findings by severity, worst first."""
    labels = [
        str(Severity.CRITICAL.label),
        str(Severity.HIGH.label),
        str(Severity.MEDIUM.label),
        str(Severity.LOW.label),
    ]
    values = [counts.open_critical, counts.open_high, counts.open_medium, counts.open_low]
    desc = ", ".join(f"{label} : {value}" for label, value in zip(labels, values, strict=True))
    return _safe(
        charts.bar_chart(
            title or _("Vulnérabilités ouvertes par gravité"),
            desc,
            labels,
            values,
            colours=[charts.SEVERITY_COLOURS[s] for s in (4, 3, 2, 1)],
            width=460,
            label_width=110,
        )
    )


def region_trend(trend: TrendData, *, title: str | None = None) -> SafeString | None:
    """Open critical, open high and overdue findings per day, from the snapshots."""
    if not any(v is not None for v in trend.open_critical):
        return None
    series = [
        charts.Series(_("Critiques ouvertes"), trend.open_critical, charts.SEVERITY_COLOURS[4]),
        charts.Series(_("Élevées ouvertes"), trend.open_high, charts.SEVERITY_COLOURS[3]),
        charts.Series(_("En retard"), trend.overdue, charts.SEVERITY_COLOURS[2]),
    ]
    desc = _("Critiques ouvertes %(c)s ; élevées ouvertes %(h)s ; en retard %(o)s.") % {
        "c": _range_text(trend.open_critical),
        "h": _range_text(trend.open_high),
        "o": _range_text(trend.overdue),
    }
    return _safe(
        charts.line_chart(
            title or _("Évolution sur 90 jours"),
            desc,
            [_day(d) for d in trend.days],
            series,
            width=900,
            height=260,
        )
    )


def score_trend(days: list[date], scores: list[int | None]) -> SafeString | None:
    """One structure's posture score over time (0–100)."""
    if not any(v is not None for v in scores):
        return None
    return _safe(
        charts.line_chart(
            _("Évolution du score de posture"),
            _("Score sur 100 : %(range)s.") % {"range": _range_text(scores)},
            [_day(d) for d in days],
            [charts.Series(_("Score de posture"), scores, ACCENT)],
            y_max=100,
            width=520,
            height=200,
        )
    )


def source_heatmap(cells: dict[str, SourceCell]) -> SafeString | None:
    """One structure's open findings by source (rows) and severity (columns)."""
    sources = [(key, str(label)) for key, label in source_labels().items() if key in cells]
    if not sources:
        return None
    severities = (Severity.CRITICAL, Severity.HIGH, Severity.MEDIUM, Severity.LOW)
    levels_of = {Severity.CRITICAL: 4, Severity.HIGH: 3, Severity.MEDIUM: 2, Severity.LOW: 1}
    values, levels = [], []
    for key, _label in sources:
        counts = [cells[key].by_severity.get(s, 0) for s in severities]
        values.append(counts)
        levels.append([levels_of[s] if n else 0 for s, n in zip(severities, counts, strict=True)])
    desc = "; ".join(
        f"{label} : "
        + ", ".join(f"{n} {str(s.label).lower()}" for s, n in zip(severities, row, strict=True))
        for (_key, label), row in zip(sources, values, strict=True)
    )
    return _safe(
        charts.heatmap(
            _("Vulnérabilités ouvertes par origine et par gravité"),
            desc,
            [label for _key, label in sources],
            [str(s.label) for s in severities],
            values,
            levels,
            label_width=190,
            cell_width=80,
        )
    )


def group_bars(groups: list[GroupFigures], *, title: str) -> SafeString | None:
    """One bar per group: the share of structures without an open critical weakness.

    Only the groups whose share is published (``disclosure.protect_share``) are drawn; banded
    figures have no single value to draw, they stay in the table.
    """
    shown = [g for g in groups if g.share_without_critical is not None]
    if not shown:
        return None
    values = [float(g.share_without_critical or 0) for g in shown]
    return _safe(
        charts.bar_chart(
            title,
            "; ".join(f"{g.label} : {g.share_without_critical} %" for g in shown),
            [g.label for g in shown],
            values,
            colours=[ACCENT] * len(shown),
            unit=" %",
            width=600,
            label_width=230,
        )
    )

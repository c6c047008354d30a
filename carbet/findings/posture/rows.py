"""HTML rows of the centre dashboard's two big tables, built in Python.

With 200 structures, the posture table and the heatmap hold ~2,000 cells; through the template
engine (a lookup, a filter or a translation per cell) they cost more than every query of the
page together. Here each row is one ``format_html`` call with translations fetched once per
page. Everything interpolated is escaped by ``format_html``; the templates keep the tables'
headers and captions.
"""

from __future__ import annotations

from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from carbet.findings.posture.selectors import PostureRow


def _trend_html(trend: str | None, words: dict[str, str]) -> SafeString:
    arrows = {"up": ("trend-up", "↑"), "down": ("trend-down", "↓"), "flat": ("trend-flat", "→")}
    css, arrow = arrows.get(trend or "", ("trend-flat", "—"))
    return format_html(
        '<span class="{}" title="{}">{}<span class="visually-hidden"> {}</span></span>',
        css,
        words[trend or "none"],
        arrow,
        words[trend or "none"],
    )


def posture_rows_html(rows: list[PostureRow]) -> SafeString:
    """The ``<tr>`` of the posture table (structure, category, counts, score, trend)."""
    words = {
        "up": _("en progrès"),
        "down": _("en recul"),
        "flat": _("stable"),
        "none": _("pas encore de comparaison"),
    }
    no_fix = _("aucune correction")
    link = reverse("findings:structure_dashboard", args=[0]).replace("/0/", "/{}/")
    parts = []
    for row in rows:
        c = row.counts
        critical = (
            format_html('<span class="badge danger">{}</span>', c.open_critical)
            if c.open_critical
            else "0"
        )
        overdue = format_html('<span class="badge warn">{}</span>', c.overdue) if c.overdue else "0"
        sla = (
            f"{c.sla_compliance} %"
            if c.sla_compliance is not None
            else format_html('<span class="help">{}</span>', no_fix)
        )
        before = (
            format_html(' <span class="help">({})</span>', row.score_before)
            if row.score_before is not None
            else ""
        )
        parts.append(
            format_html(
                '<tr><th scope="row"><a href="{}">{}</a></th><td>{}</td><td>{}</td>'
                '<td class="num">{}</td><td class="num">{}</td><td class="num">{}</td>'
                '<td class="num">{}</td><td class="num"><strong>{}</strong></td><td>{}{}</td></tr>',
                link.format(row.structure.pk),
                row.structure.name,
                row.category_label,
                row.structure.departement,
                critical,
                c.open_high,
                overdue,
                sla,
                row.score,
                _trend_html(row.trend, words),
                before,
            )
        )
    return mark_safe("".join(parts))  # noqa: S308 — every part comes from format_html


def heatmap_rows_html(rows: list[PostureRow], sources: list[tuple[str, str]]) -> SafeString:
    """The ``<tr>`` of the heatmap: critical/high count per source, coloured by worst severity,
    with the severity also written for screen readers (colour is never the only cue)."""
    words = {1: _("faible"), 2: _("moyenne"), 3: _("élevée"), 4: _("critique")}
    hidden = _("(au plus %(word)s, %(n)s ouvertes)")
    parts = []
    for row in rows:
        cells = []
        for key, _label in sources:
            cell = row.by_source.get(key)
            if cell is None or not cell.level:
                cells.append('<td class="heat-0">0</td>')
                continue
            cells.append(
                format_html(
                    '<td class="heat-{}">{}<span class="visually-hidden"> {}</span></td>',
                    cell.level,
                    cell.critical_high,
                    hidden % {"word": words[cell.level], "n": cell.open},
                )
            )
        parts.append(
            format_html('<tr><th scope="row">{}</th>', row.structure.name)
            + mark_safe("".join(cells))  # noqa: S308 — constant or format_html cells
            + mark_safe("</tr>")
        )
    return mark_safe("".join(parts))  # noqa: S308 — every part comes from format_html

"""PDF reports rendered with WeasyPrint from HTML templates and the dashboards' SVG charts.

* A structure's report: a two-page summary for the director (where we stand, the five
  priorities, what the centre does, the coming deadlines) followed by a detailed annex (every
  open finding with its remedy, the action plan). ``part="summary"`` gives the two pages alone.
* The regional report for the ARS: aggregates by category and département only, built from
  ``peers.regional_view`` (bands, secret small counts, ``carbet.engines.disclosure``).

Generation is synchronous (one structure takes well under a second) and every download is
written to the audit trail as ``report.download``.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _

from carbet.accounts.roles import Perm
from carbet.audit import services as audit
from carbet.core.models import Structure
from carbet.core.pdf import css_text, html_to_pdf, page_count
from carbet.core.tenancy import Actor, can
from carbet.findings.models import Finding
from carbet.findings.posture import figures, peers, structure
from carbet.findings.posture.selectors import OPEN, source_labels

ANNEX_MAX_FINDINGS = 300
ANNEX_MAX_ACTIONS = 200
PARTS = ("full", "summary")
# The director's summary promises two pages: if a structure's figures (charts, peers, long
# titles) would spill onto a third, the layout is tightened step by step until they fit.
SUMMARY_PAGES = 2
COMPACT_LEVELS = (0, 1, 2, 3)
STRUCTURE_TEMPLATE = "findings/posture/reports/structure.html"


def _fitted_html(context: dict[str, Any]) -> str:
    """The structure report's HTML at the first compact level whose summary fits its pages."""
    summary = {**context, "part": "summary"}
    level = COMPACT_LEVELS[0]
    for level in COMPACT_LEVELS:
        if page_count(render_to_string(STRUCTURE_TEMPLATE, {**summary, "compact": level})) <= (
            SUMMARY_PAGES
        ):
            break
    return render_to_string(STRUCTURE_TEMPLATE, {**context, "compact": level})


def may_download_regional(actor: Actor) -> bool:
    return can(actor, Perm.REGION_AGGREGATES) or can(actor, Perm.REGION_VIEW)


def structure_report_context(
    actor: Actor, target: Structure, *, today: date, part: str = "full"
) -> dict[str, Any]:
    """What the structure report shows, read with ``actor``'s rights."""
    data = structure.structure_dashboard(actor, target, today=today)
    verdict, verdict_class = structure.score_verdict(data.score)
    context: dict[str, Any] = {
        "data": data,
        "structure": target,
        "today": today,
        "part": part,
        "region_name": settings.CARBET_REGION_NAME,
        "footer_label": css_text(f"{target.name} · {settings.CARBET_REGION_NAME}"),
        "campaigns": sorted({a.campaign.title for a in data.actions if a.campaign}),
        "verdict": verdict,
        "verdict_class": verdict_class,
        "summary": structure.summary_sentence(data),
        "score_rules": structure.score_explanation(),
        "severity_chart": figures.severity_bars(data.counts),
        "score_chart": figures.score_trend(data.trend_days, data.trend_scores),
        "source_chart": figures.source_heatmap(data.by_source),
    }
    if part == "full":
        findings = (
            Finding.objects.visible_to(actor, Perm.FINDINGS_DETAIL)
            .filter(structure=target, status__in=OPEN)
            .select_related("asset")
            .order_by("-severity", "sla_due", "id")
        )
        total = findings.count()
        rows = list(findings[:ANNEX_MAX_FINDINGS])
        labels = source_labels()
        for finding in rows:
            finding.source_label = labels.get(finding.source, finding.source)
        actions = structure.open_actions(actor, target, limit=ANNEX_MAX_ACTIONS)
        context.update(
            annex_findings=rows,
            annex_total=total,
            annex_more=max(0, total - len(rows)),
            annex_actions=actions,
        )
    return context


def structure_report_pdf(
    actor: Actor,
    target: Structure,
    *,
    today: date | None = None,
    part: str = "full",
    ip: str | None = None,
) -> bytes:
    """The structure's PDF (``part`` is ``"full"`` or ``"summary"``); audited."""
    if not can(actor, Perm.REPORT_VIEW, target) or not can(actor, Perm.FINDINGS_DETAIL, target):
        raise PermissionDenied(_("Vous n'avez pas le droit de télécharger ce rapport."))
    if part not in PARTS:
        raise ValueError(part)
    today = today or timezone.localdate()
    html = _fitted_html(structure_report_context(actor, target, today=today, part=part))
    pdf = html_to_pdf(html)
    audit.record(
        actor,
        "report.download",
        target,
        structure=target,
        changes={"report": "structure", "part": part, "day": today.isoformat()},
        ip=ip,
    )
    return pdf


def regional_report_context(*, today: date) -> dict[str, Any]:
    view = peers.regional_view(today=today)
    return {
        "view": view,
        "today": today,
        "region_name": settings.CARBET_REGION_NAME,
        "footer_label": css_text(settings.CARBET_REGION_NAME),
        "trend_chart": figures.region_trend(view.trend) if view.trend else None,
        "category_chart": figures.group_bars(
            view.by_category,
            title=_("Part des structures sans vulnérabilité critique ouverte, par catégorie"),
        ),
        "departement_chart": figures.group_bars(
            view.by_departement,
            title=_("Part des structures sans vulnérabilité critique ouverte, par département"),
        ),
    }


def regional_report_pdf(actor: Actor, *, today: date | None = None, ip: str | None = None) -> bytes:
    """The regional PDF (aggregates only); audited."""
    if not may_download_regional(actor):
        raise PermissionDenied(_("Vous n'avez pas le droit de télécharger ce rapport."))
    today = today or timezone.localdate()
    html = render_to_string(
        "findings/posture/reports/regional.html", regional_report_context(today=today)
    )
    pdf = html_to_pdf(html)
    audit.record(
        actor,
        "report.download",
        changes={"report": "regional", "day": today.isoformat()},
        ip=ip,
    )
    return pdf

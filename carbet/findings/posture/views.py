"""Dashboard, report and export pages: parse, authorise, call the dashboards services, render.

``dashboard`` adapts to its viewer: centre staff get the region, a person covering one
structure gets that structure's page, someone covering several gets their structures' table,
and the ARS is sent to the aggregates (it never sees a structure's detail).
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache

from carbet.accounts.roles import Perm
from carbet.audit.services import client_ip
from carbet.core import access
from carbet.core.exports import CONTENT_TYPES
from carbet.core.models import Structure
from carbet.core.tenancy import can, grants
from carbet.engines.posture import sla_compliance
from carbet.findings.posture import exports, figures, peers, reports, selectors, structure
from carbet.findings.posture import rows as rows_html
from carbet.findings.posture.selectors import PostureRow

SORTS = {
    "score": lambda r: (r.score, r.structure.name),
    "critiques": lambda r: (-r.counts.open_critical, -r.counts.open_high, r.structure.name),
    "retard": lambda r: (-r.counts.overdue, r.structure.name),
    "conformite": lambda r: (
        r.counts.sla_compliance if r.counts.sla_compliance is not None else 101,
        r.structure.name,
    ),
    "nom": lambda r: (r.structure.name.lower(), r.structure.pk),
}


SORT_CHOICES = [
    ("score", _("score, le plus bas d'abord")),
    ("critiques", _("vulnérabilités critiques")),
    ("retard", _("retards")),
    ("conformite", _("délais tenus, le plus bas d'abord")),
    ("nom", _("nom")),
]


def _sorted(request, rows: list[PostureRow]) -> tuple[list[PostureRow], str]:
    sort = request.GET.get("tri", "score")
    if sort not in SORTS:
        sort = "score"
    return sorted(rows, key=SORTS[sort]), sort


def _totals(rows: list[PostureRow]) -> dict:
    n = len(rows)
    return {
        "structures": n,
        "open_critical": sum(r.counts.open_critical for r in rows),
        "open_high": sum(r.counts.open_high for r in rows),
        "overdue": sum(r.counts.overdue for r in rows),
        "sla": sla_compliance(
            sum(r.counts.closed_in_sla for r in rows), sum(r.counts.closed_late for r in rows)
        ),
        "avg_score": round(sum(r.score for r in rows) / n) if n else None,
    }


def _campaign_link(item: selectors.Recurring) -> str | None:
    query = {"title": item.title[:200]}
    query["match_cve" if item.kind == "cve" else "match_rule"] = item.key
    return structure.optional_url("findings:campaign_create", query=urlencode(query))


@login_required
def dashboard(request):
    user = request.user
    today = timezone.localdate()
    if _is_centre_staff(user):
        return _centre(request, today)
    if can(user, Perm.FINDINGS_DETAIL):
        mine = list(Structure.objects.visible_to(user, Perm.FINDINGS_DETAIL).only("pk")[:2])
        if len(mine) == 1:
            return _structure_page(request, mine[0].pk, today)
        return _my_structures(request, today)
    if can(user, Perm.REGION_AGGREGATES):
        return redirect("findings:ars_dashboard")
    raise PermissionDenied


def _is_centre_staff(user) -> bool:
    return can(user, Perm.REGION_VIEW) and grants(user, Perm.FINDINGS_DETAIL).everything


@login_required
def centre_dashboard(request):
    """The region's dashboard, for centre staff only (``dashboard`` shows it to them too)."""
    if not _is_centre_staff(request.user):
        raise PermissionDenied
    return _centre(request, timezone.localdate())


def _centre(request, today):
    user = request.user
    rows, sort = _sorted(request, selectors.posture_rows(user, today=today))
    sources = selectors.sources_in(rows)
    recurring = selectors.region_recurring(today=today)
    trend = selectors.trend_data(user, today=today)
    return render(
        request,
        "findings/posture/centre.html",
        {
            "rows": rows,
            "sort": sort,
            "sort_choices": SORT_CHOICES,
            "totals": _totals(rows),
            "sources": sources,
            "heat_html": rows_html.heatmap_rows_html(rows, sources),
            "rows_html": rows_html.posture_rows_html(rows),
            "recurring": [(item, _campaign_link(item)) for item in recurring],
            "trend_chart": figures.region_trend(trend),
            "trend_table": [
                row
                for row in zip(
                    trend.days, trend.open_critical, trend.open_high, trend.overdue, strict=True
                )
                if row[1] is not None
            ],
            "can_export": exports.may_export_posture(user),
            "can_regional_report": reports.may_download_regional(user),
            "score_rules": structure.score_explanation(),
            "today": today,
        },
    )


def _my_structures(request, today):
    user = request.user
    rows, sort = _sorted(
        request,
        selectors.posture_rows(
            user,
            today=today,
            structure_ids=Structure.objects.visible_to(user, Perm.FINDINGS_DETAIL).values_list(
                "pk", flat=True
            ),
        ),
    )
    return render(
        request,
        "findings/posture/my_structures.html",
        {
            "rows": rows,
            "rows_html": rows_html.posture_rows_html(rows),
            "sort": sort,
            "sort_choices": SORT_CHOICES,
            "totals": _totals(rows),
            "today": today,
            "score_rules": structure.score_explanation(),
        },
    )


def _structure_page(request, pk: int, today):
    user = request.user
    target = access.structure_for(user, pk, see=Perm.FINDINGS_DETAIL)
    data = structure.structure_dashboard(user, target, today=today)
    verdict, verdict_class = structure.score_verdict(data.score)
    return render(
        request,
        "findings/posture/structure.html",
        {
            "structure": target,
            "data": data,
            "verdict": verdict,
            "verdict_class": verdict_class,
            "summary": structure.summary_sentence(data),
            "score_rules": structure.score_explanation(),
            "severity_chart": figures.severity_bars(data.counts),
            "score_chart": figures.score_trend(data.trend_days, data.trend_scores),
            "source_chart": figures.source_heatmap(data.by_source),
            "can_report": can(user, Perm.REPORT_VIEW, target),
            "findings_url": structure.optional_url("findings:list"),
            "actions_url": structure.optional_url("findings:actions"),
            "min_group": peers.MIN_GROUP,
            "today": today,
        },
    )


@login_required
def structure_dashboard(request, pk: int):
    """One structure's dashboard (404 if the viewer cannot see its findings)."""
    return _structure_page(request, pk, timezone.localdate())


@login_required
def ars_dashboard(request):
    """Regional aggregates by category and département (ARS and centre staff)."""
    if not can(request.user, Perm.REGION_AGGREGATES):
        raise PermissionDenied
    today = timezone.localdate()
    context = reports.regional_report_context(today=today)
    context["can_regional_report"] = reports.may_download_regional(request.user)
    return render(request, "findings/posture/ars.html", context)


@login_required
@never_cache
def posture_export(request):
    """The posture table as CSV/XLSX (centre staff); ``?format=xlsx`` for Excel."""
    if not exports.may_export_posture(request.user):
        raise PermissionDenied
    fmt = request.GET.get("format", "csv")
    if fmt not in exports.FORMATS:
        raise Http404
    today = timezone.localdate()
    data = exports.export_posture(request.user, fmt, today=today, ip=client_ip(request))
    response = HttpResponse(data, content_type=CONTENT_TYPES[fmt])
    response["Content-Disposition"] = f'attachment; filename="posture-{today:%Y%m%d}.{fmt}"'
    return response


def _pdf_response(data: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@login_required
@never_cache
def structure_report(request, pk: int):
    """The structure's PDF report; ``?partie=synthese`` for the two-page summary alone."""
    user = request.user
    target = access.structure_for(user, pk, Perm.FINDINGS_DETAIL, see=Perm.REPORT_VIEW)
    part = "summary" if request.GET.get("partie") == "synthese" else "full"
    today = timezone.localdate()
    data = reports.structure_report_pdf(user, target, today=today, part=part, ip=client_ip(request))
    name = slugify(target.name)[:60] or str(target.pk)
    suffix = "synthese" if part == "summary" else "rapport"
    return _pdf_response(data, f"{suffix}-{name}-{today:%Y%m%d}.pdf")


@login_required
@never_cache
def regional_report(request):
    """The regional PDF: aggregates only (ARS and centre staff)."""
    if not reports.may_download_regional(request.user):
        raise PermissionDenied
    today = timezone.localdate()
    data = reports.regional_report_pdf(request.user, today=today, ip=client_ip(request))
    return _pdf_response(data, f"indicateurs-regionaux-{today:%Y%m%d}.pdf")

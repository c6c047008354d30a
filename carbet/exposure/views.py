"""Pages of the exposure service: the region overview, a structure's exposure, a scan, a diff.

Thin: find the rows through ``visible_to`` (another structure's scan is a 404), check the
permission (EXPOSURE_VIEW to look, EXPOSURE_RUN to launch), call a service, render.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from carbet.accounts.roles import Perm
from carbet.audit.services import client_ip
from carbet.core import access
from carbet.core.mandates import MandateRefused
from carbet.core.tenancy import can
from carbet.exposure import selectors, services
from carbet.exposure.models import RegionalScan, Scan, ScanObservation, ScanTarget
from carbet.exposure.service import ExposurePerm
from carbet.jobs.models import Job


def _scan(request, pk: int) -> Scan:
    return get_object_or_404(
        Scan.objects.visible_to(request.user, ExposurePerm.VIEW).select_related(
            "structure__organisation", "profile", "job", "previous"
        ),
        pk=pk,
    )


@login_required
@require_GET
def overview(request):
    """Centre staff: the region; structure people: the structures they follow."""
    access.require(request.user, ExposurePerm.VIEW)
    rows = selectors.region_rows(request.user)
    if len(rows) == 1 and not can(request.user, Perm.REGION_VIEW):
        return redirect("exposure:structure", rows[0].structure.pk)
    regional = None
    can_regional = can(request.user, ExposurePerm.RUN) and can(request.user, Perm.REGION_VIEW)
    if can_regional:
        regional = RegionalScan.objects.select_related("job").first()
    return render(
        request,
        "exposure/overview.html",
        {
            "rows": rows,
            "headers": selectors.category_headers(),
            "can_regional": can_regional,
            "can_manage": can(request.user, ExposurePerm.MANAGE),
            "regional": regional,
            "regional_progress": services.regional_progress(regional) if regional else None,
            "with_critical": sum(1 for r in rows if r.scan and r.scan.critical_count),
            "never_scanned": sum(1 for r in rows if r.scan is None),
        },
    )


@login_required
@require_GET
def structure(request, pk: int):
    item = access.structure_for(request.user, pk, see=ExposurePerm.VIEW)
    page = selectors.structure_page(request.user, item)
    return render(
        request,
        "exposure/structure.html",
        {
            "page": page,
            "structure": item,
            "can_run": can(request.user, ExposurePerm.RUN, item),
            "can_manage": can(request.user, ExposurePerm.MANAGE, item),
            "refused": selectors.refused_summary(page.latest) if page.latest else "",
        },
    )


@login_required
@require_POST
def launch(request, pk: int):
    item = access.structure_for(request.user, pk, see=ExposurePerm.VIEW)
    access.require(request.user, ExposurePerm.RUN, item)
    try:
        scan = services.request_structure_scan(item, request.user, ip=client_ip(request))
    except (services.NothingToScan, MandateRefused) as exc:
        messages.error(request, str(exc))
        return redirect("exposure:structure", item.pk)
    if scan.refused:
        messages.warning(
            request,
            _(
                "Analyse lancée sur %(n)d cible(s). %(m)d actif(s) ne sont pas analysés faute de "
                "mandat qui les couvre : voir le détail de l'analyse."
            )
            % {"n": scan.targets_total, "m": len(scan.refused)},
        )
    else:
        messages.success(
            request,
            _("Analyse lancée sur %(n)d cible(s). Vous pouvez suivre son avancement ici.")
            % {"n": scan.targets_total},
        )
    return redirect("exposure:structure", item.pk)


@login_required
@require_POST
def launch_regional(request):
    access.require(request.user, ExposurePerm.RUN)
    access.require(request.user, Perm.REGION_VIEW)
    services.request_regional_scan(request.user, ip=client_ip(request))
    messages.success(
        request,
        _(
            "Analyse régionale lancée : une analyse par structure couverte par un mandat, "
            "réparties entre les processus de travail."
        ),
    )
    return redirect("exposure:overview")


@login_required
@require_GET
def scan_detail(request, pk: int):
    scan = _scan(request, pk)
    targets = list(
        ScanTarget.objects.visible_to(request.user, ExposurePerm.VIEW)
        .filter(scan=scan)
        .prefetch_related("observations")
    )
    gauges, overall = selectors.gauges(scan)
    job = Job.objects.visible_to(request.user).filter(pk=scan.job_id).first()
    return render(
        request,
        "exposure/scan.html",
        {
            "scan": scan,
            "structure": scan.structure,
            "targets": targets,
            "gauges": gauges,
            "overall": overall,
            "priorities": selectors.priorities(request.user, scan),
            "services": selectors.services_table(targets),
            "job": job,
        },
    )


@never_cache
@login_required
@require_GET
def scan_progress(request, pk: int):
    """The htmx fragment polled while a scan runs; once finished, the page reloads itself."""
    scan = _scan(request, pk)
    if scan.is_finished and request.headers.get("HX-Request"):
        response = HttpResponse(status=204)
        response["HX-Refresh"] = "true"
        return response
    job = Job.objects.visible_to(request.user).filter(pk=scan.job_id).first()
    return render(request, "exposure/_progress.html", {"scan": scan, "job": job})


@login_required
@require_GET
def scan_diff(request, pk: int):
    scan = _scan(request, pk)
    new = set(scan.diff.get("new", []))
    new_rows = (
        ScanObservation.objects.visible_to(request.user, ExposurePerm.VIEW)
        .filter(scan=scan, fingerprint__in=new)
        .select_related("target")
    )
    return render(
        request,
        "exposure/diff.html",
        {
            "scan": scan,
            "structure": scan.structure,
            "new": list(new_rows),
            "gone": scan.diff.get("gone", []),
            "services_new": scan.diff.get("services_new", []),
            "services_gone": scan.diff.get("services_gone", []),
            "first": scan.diff.get("first", False),
        },
    )

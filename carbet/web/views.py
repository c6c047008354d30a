"""Home, health, the regional aggregates page and the accessibility statement."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache

from carbet import __version__
from carbet.accounts.roles import Perm
from carbet.core.tenancy import can
from carbet.web import landing, services, statement


@login_required
def home(request):
    """Each role lands on its security view (``carbet.web.landing``)."""
    target = landing.landing_url(request.user)
    if target is None:
        return render(request, "web/no_access.html")
    return redirect(target)


@never_cache
def health(request):
    """Liveness and readiness: the database answers and the task backend is configured."""
    checks = {"database": "ok"}
    status = 200
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception:  # the reason goes to the logs, not to anonymous callers
        checks["database"] = "error"
        status = 503
    from django.conf import settings

    checks["tasks"] = settings.TASKS["default"]["BACKEND"].rsplit(".", 1)[-1]
    return JsonResponse(
        {"status": "ok" if status == 200 else "error", "version": __version__, **checks},
        status=status,
    )


@login_required
def aggregates(request):
    if not can(request.user, Perm.REGION_AGGREGATES):
        raise PermissionDenied
    return render(
        request,
        "web/aggregates.html",
        {
            "by_category": services.by_category(),
            "by_departement": services.by_departement(),
            "sectors": services.sector_totals(),
            "min_group": services.MIN_GROUP_SIZE,
        },
    )


def accessibility(request):
    """The accessibility statement, public like the RGAA requires (no login: anyone who cannot
    use the service must be able to read it and to find how to report a problem)."""
    from django.conf import settings

    document = statement.load()
    return render(
        request,
        "web/accessibility.html",
        {
            "statement": document,
            "contact": getattr(settings, "CARBET_ACCESSIBILITY_CONTACT", ""),
        },
    )

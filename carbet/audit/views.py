"""The audit trail pages: browse and filter entries, and the integrity badge for admins."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from carbet.accounts.roles import Perm
from carbet.audit import services
from carbet.audit.forms import AuditFilterForm
from carbet.audit.models import AuditEntry
from carbet.audit.presentation import describe_changes
from carbet.core.tenancy import can

PAGE_SIZE = 50
INTEGRITY_CACHE_KEY = "carbet:audit:integrity"
INTEGRITY_CACHE_SECONDS = 60


@login_required
@require_GET
def entry_list(request):
    user = request.user
    if not can(user, Perm.AUDIT_VIEW_STRUCTURE):
        raise PermissionDenied
    # Admins see the whole trail (AUDIT_VIEW_ALL: "everything"); directors only the entries
    # about the structures they direct.
    entries = AuditEntry.objects.visible_to(user, Perm.AUDIT_VIEW_STRUCTURE)
    form = AuditFilterForm(request.GET or None, user=user, entries=entries)
    if form.is_valid():
        entries = form.apply(entries)
    page = Paginator(entries.select_related("structure").order_by("-sequence"), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    rows = [(entry, describe_changes(entry.changes)) for entry in page]
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "audit/list.html",
        {
            "form": form,
            "page": page,
            "rows": rows,
            "query": query.urlencode(),
            "show_integrity": can(user, Perm.AUDIT_VIEW_ALL),
        },
    )


@never_cache
@login_required
@require_GET
def integrity(request):
    """The integrity badge, loaded after the page (walking the chain takes a moment)."""
    if not can(request.user, Perm.AUDIT_VIEW_ALL):
        raise PermissionDenied
    summary = cache.get(INTEGRITY_CACHE_KEY)
    if summary is None or request.GET.get("refresh"):
        report = services.verify()
        summary = {
            "ok": report.ok,
            "checked": report.checked,
            "problems": [(p.sequence, p.problem) for p in report.problems[:20]],
            "problem_count": len(report.problems),
        }
        cache.set(INTEGRITY_CACHE_KEY, summary, INTEGRITY_CACHE_SECONDS)
    return render(request, "audit/_integrity.html", {"summary": summary})

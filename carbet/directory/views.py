"""Directory pages: a structure's audits, one audit's results, connections, uploads, exceptions,
and the regional view. Thin: rights and rules live in ``carbet.directory.services``."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from carbet.accounts.roles import Perm
from carbet.audit.services import client_ip
from carbet.core import uploads
from carbet.core.access import owned_for, structure_for
from carbet.core.forms import apply_errors
from carbet.core.mandates import MandateRefused
from carbet.core.models import Structure
from carbet.core.tenancy import can
from carbet.directory import selectors, services
from carbet.directory.forms import ConnectionForm, ExceptionForm, UploadForm
from carbet.directory.models import (
    AuditOrigin,
    AuditStatus,
    DirectoryAudit,
    DirectoryConnection,
    RuleException,
)
from carbet.directory.service import DirectoryPerm

OBJECTS_PER_PAGE = 100


def _rights(user, structure: Structure) -> dict[str, bool]:
    return {
        "run": can(user, DirectoryPerm.RUN, structure),
        "upload": can(user, DirectoryPerm.UPLOAD, structure),
        "connections": can(user, DirectoryPerm.CONNECTION, structure),
        "exceptions": can(user, DirectoryPerm.EXCEPTION, structure),
    }


@login_required
def index(request):
    """Centre staff land on the region; structure people on their structures' last audits."""
    if can(request.user, Perm.REGION_VIEW) or can(request.user, Perm.REGION_AGGREGATES):
        if not can(request.user, DirectoryPerm.VIEW) or can(request.user, Perm.REGION_VIEW):
            return redirect("directory:region")
    structures = Structure.objects.visible_to(request.user, DirectoryPerm.VIEW).order_by("name")
    if not structures.exists() and not can(request.user, DirectoryPerm.VIEW):
        raise PermissionDenied
    rows = selectors.latest_by_structure(structures)
    return render(request, "directory/index.html", {"rows": rows})


@login_required
def region(request):
    if not (can(request.user, Perm.REGION_VIEW) or can(request.user, Perm.REGION_AGGREGATES)):
        raise PermissionDenied
    named = can(request.user, Perm.REGION_VIEW) and can(request.user, DirectoryPerm.VIEW)
    structures = Structure.objects.visible_to(request.user, DirectoryPerm.VIEW).order_by("name")
    rows = selectors.latest_by_structure(structures) if named else []
    # The ARS sees the distribution only: counts, never names.
    distribution = selectors.level_distribution()
    return render(
        request,
        "directory/region.html",
        {"rows": rows, "named": named, "distribution": distribution},
    )


@login_required
def structure_page(request, pk: int):
    structure = structure_for(request.user, pk, DirectoryPerm.VIEW)
    audits = list(
        DirectoryAudit.objects.visible_to(request.user, DirectoryPerm.VIEW)
        .filter(structure=structure)
        .defer("snapshot", "result")[:50]
    )
    latest = next((a for a in audits if a.status == AuditStatus.DONE), None)
    rights = _rights(request.user, structure)
    connections = (
        DirectoryConnection.objects.visible_to(request.user, DirectoryPerm.VIEW)
        .filter(structure=structure)
        .select_related("asset")
    )
    exceptions = RuleException.objects.visible_to(request.user, DirectoryPerm.VIEW).filter(
        structure=structure, revoked=False
    )
    return render(
        request,
        "directory/structure.html",
        {
            "structure": structure,
            "audits": audits,
            "latest": latest,
            "trend": selectors.trend_chart(audits),
            "rights": rights,
            "connections": connections,
            "exceptions": exceptions,
            "mandate": selectors.mandate_state(structure),
        },
    )


@login_required
def audit_detail(request, pk: int):
    audit_row = owned_for(request.user, DirectoryAudit, pk, DirectoryPerm.VIEW)
    page = selectors.audit_page(audit_row)
    return render(
        request,
        "directory/audit.html",
        {
            "audit": audit_row,
            "structure": audit_row.structure,
            "page": page,
            "rights": _rights(request.user, audit_row.structure),
        },
    )


@login_required
def audit_status(request, pk: int):
    """htmx fragment polled while an audit runs."""
    audit_row = owned_for(request.user, DirectoryAudit, pk, DirectoryPerm.VIEW)
    response = render(request, "directory/_status.html", {"audit": audit_row})
    if audit_row.status in (AuditStatus.DONE, AuditStatus.FAILED) and request.htmx:
        response["HX-Refresh"] = "true"
    return response


@login_required
def rule_objects(request, pk: int, rule: str):
    audit_row = owned_for(request.user, DirectoryAudit, pk, DirectoryPerm.VIEW)
    item = next((f for f in audit_row.result.get("findings", []) if f["rule"] == rule), None)
    if item is None:
        raise Http404
    paginator = Paginator(item["objects"], OBJECTS_PER_PAGE)
    page = paginator.get_page(request.GET.get("page"))
    return render(
        request,
        "directory/rule_objects.html",
        {"audit": audit_row, "structure": audit_row.structure, "item": item, "page": page},
    )


@login_required
def connection_add(request, pk: int):
    structure = structure_for(request.user, pk, DirectoryPerm.CONNECTION)
    return _connection_form(request, structure, None)


@login_required
def connection_edit(request, pk: int):
    connection = owned_for(request.user, DirectoryConnection, pk, DirectoryPerm.CONNECTION)
    return _connection_form(request, connection.structure, connection)


def _connection_form(request, structure, connection):
    form = ConnectionForm(request.POST or None, structure=structure, connection=connection)
    if request.method == "POST" and form.is_valid():
        try:
            services.save_connection(
                request.user,
                structure,
                form.connection_data(),
                connection=connection,
                ip=client_ip(request),
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("La connexion à l'annuaire est enregistrée."))
            return redirect("directory:structure", structure.pk)
    return render(
        request,
        "directory/connection_form.html",
        {"form": form, "structure": structure, "connection": connection},
    )


@login_required
@require_POST
def connection_delete(request, pk: int):
    connection = owned_for(request.user, DirectoryConnection, pk, DirectoryPerm.CONNECTION)
    structure = connection.structure
    services.delete_connection(request.user, connection, ip=client_ip(request))
    messages.success(request, _("La connexion est supprimée."))
    return redirect("directory:structure", structure.pk)


@login_required
@require_POST
def connection_run(request, pk: int):
    connection = owned_for(request.user, DirectoryConnection, pk, DirectoryPerm.RUN)
    try:
        audit_row = services.request_online_audit(request.user, connection, ip=client_ip(request))
    except (MandateRefused, ValidationError) as exc:
        messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
        return redirect("directory:structure", connection.structure_id)
    messages.success(request, _("L'audit est lancé : la page se met à jour toute seule."))
    return redirect("directory:audit", audit_row.pk)


@login_required
def upload(request, pk: int):
    structure = structure_for(request.user, pk, DirectoryPerm.UPLOAD)
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        pingcastle = form.cleaned_data["kind"] == AuditOrigin.PINGCASTLE
        expected = uploads.Kind.PINGCASTLE if pingcastle else uploads.Kind.AD_SNAPSHOT
        try:
            loaded = uploads.load(
                form.cleaned_data["file"],
                {expected},
                max_bytes=services.MAX_UPLOAD_BYTES,
                size_message=_("Le fichier dépasse 200 Mo."),
            )
            audit_row = services.upload(
                request.user,
                structure,
                loaded.data,
                filename=loaded.original_name,
                kind=form.cleaned_data["kind"],
                passphrase=form.cleaned_data.get("passphrase") or "",
                ip=client_ip(request),
            )
        except MandateRefused as exc:
            form.add_error(None, str(exc))
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Le fichier est reçu et analysé."))
            return redirect("directory:audit", audit_row.pk)
    return render(request, "directory/upload.html", {"form": form, "structure": structure})


@login_required
@require_POST
def reanalyse(request, pk: int):
    audit_row = owned_for(request.user, DirectoryAudit, pk, DirectoryPerm.RUN)
    try:
        new = services.reanalyse(request.user, audit_row, ip=client_ip(request))
    except (MandateRefused, ValidationError) as exc:
        messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
        return redirect("directory:audit", audit_row.pk)
    messages.success(request, _("Nouvelle analyse lancée avec les règles actuelles."))
    return redirect("directory:audit", new.pk)


@login_required
def exception_add(request, pk: int):
    audit_row = owned_for(request.user, DirectoryAudit, pk, DirectoryPerm.EXCEPTION)
    rules = [
        (f["rule"], f"{f['rule']} — {f['title']}") for f in audit_row.result.get("findings", [])
    ]
    initial = {"rule": request.GET.get("rule", ""), "object_name": request.GET.get("objet", "*")}
    form = ExceptionForm(request.POST or None, rules=rules, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.add_exception(
                request.user,
                audit_row.structure,
                ip=client_ip(request),
                **form.cleaned_data,
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(
                request,
                _("Exception enregistrée : elle comptera à la prochaine analyse."),
            )
            return redirect("directory:audit", audit_row.pk)
    return render(
        request,
        "directory/exception_form.html",
        {"form": form, "audit": audit_row, "structure": audit_row.structure},
    )


@login_required
@require_POST
def exception_revoke(request, pk: int):
    row = owned_for(request.user, RuleException, pk, DirectoryPerm.EXCEPTION)
    services.revoke_exception(request.user, row, ip=client_ip(request))
    messages.success(request, _("L'exception est levée."))
    return redirect(reverse("directory:structure", args=[row.structure_id]) + "#exceptions")

"""Imports (uploaded, then run as a background job) and exports (CSV or XLSX)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from carbet.accounts.roles import Perm
from carbet.audit.services import client_ip
from carbet.core import exports, imports, selectors
from carbet.core.access import structure_for
from carbet.core.forms import ImportForm, RegionFilterForm, apply_errors
from carbet.core.models import Ght, Organisation, Structure
from carbet.core.tenancy import can


@login_required
def import_upload(request):
    """Upload a CSV/XLSX of structures or assets; the import runs as a background job."""
    if not can(request.user, Perm.IMPORT_RUN):
        raise PermissionDenied
    form = ImportForm(request.POST or None, request.FILES or None, max_bytes=imports.MAX_BYTES)
    if request.method == "POST" and form.is_valid():
        try:
            job = imports.submit_import(
                request.user,
                form.cleaned_data["kind"],
                form.cleaned_data["file"],
                dry_run=form.cleaned_data["dry_run"],
                ip=client_ip(request),
            )
        except ValidationError as exc:  # not a table at all: said at once, nothing stored
            apply_errors(form, exc)
        else:
            return redirect("jobs:detail", job.pk)
    return render(
        request,
        "core/import.html",
        {
            "form": form,
            "structure_columns": imports.STRUCTURE_SCHEMA.columns,
            "asset_columns": imports.ASSET_SCHEMA.columns,
            "max_rows": imports.MAX_ROWS,
        },
    )


def _format(request) -> str:
    return "xlsx" if request.GET.get("format") == "xlsx" else "csv"


def _file_response(data: bytes, fmt: str, stem: str) -> HttpResponse:
    response = HttpResponse(data, content_type=exports.CONTENT_TYPES[fmt])
    filename = f"{stem}-{timezone.localdate():%Y%m%d}.{fmt}"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@login_required
def export_structures(request):
    """The visible structures (with the region table's filters) as CSV or XLSX."""
    user = request.user
    if not can(user, Perm.EXPORT_RUN):
        raise PermissionDenied
    form = RegionFilterForm(
        request.GET,
        ghts=Ght.objects.visible_to(user, Perm.EXPORT_RUN),
        organisations=Organisation.objects.visible_to(user, Perm.EXPORT_RUN),
        departements=selectors.departements_of(Structure.objects.visible_to(user, Perm.EXPORT_RUN)),
    )
    rows = selectors.region_structures(user, form.filters(), Perm.EXPORT_RUN)
    fmt = _format(request)
    data = exports.export_structures(user, rows, fmt, ip=client_ip(request))
    return _file_response(data, fmt, str(_("structures")))


@login_required
def export_assets(request, pk: int):
    structure = structure_for(request.user, pk, Perm.EXPORT_RUN)
    fmt = _format(request)
    data = exports.export_assets(request.user, structure, fmt, ip=client_ip(request))
    return _file_response(data, fmt, f"{_('actifs')}-{structure.finess_et}")

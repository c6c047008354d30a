"""Mandates: record a signed mandate, download its document, revoke it."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from carbet.accounts.roles import Perm
from carbet.audit import services as audit
from carbet.audit.services import client_ip
from carbet.core import services, uploads
from carbet.core.access import owned_for, structure_for
from carbet.core.forms import MandateForm, RevokeMandateForm, apply_errors
from carbet.core.models import Asset, Mandate, MandateStatus


def _to_mandates(structure):
    return redirect(f"{reverse('core:structure', args=[structure.pk])}#mandates")


@login_required
def mandate_add(request, pk: int):
    structure = structure_for(request.user, pk, Perm.MANDATE_EDIT)
    assets = Asset.objects.visible_to(request.user, Perm.ASSET_VIEW).filter(structure=structure)
    form = MandateForm(
        request.POST or None, request.FILES or None, structure=structure, assets=assets
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.record_mandate(
                request.user,
                form.build_mandate(),
                form.cleaned_data["document"],
                form.chosen_assets(),
                ip=client_ip(request),
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Le mandat signé est enregistré."))
            return _to_mandates(structure)
    return render(request, "core/mandate_form.html", {"form": form, "structure": structure})


@login_required
def mandate_document(request, pk: int):
    """Stream the signed document to those who may see the structure's mandates."""
    mandate = owned_for(request.user, Mandate, pk, Perm.MANDATE_VIEW)
    if not mandate.document:
        raise Http404
    try:
        handle = uploads.open_upload(mandate.document.name)
    except (FileNotFoundError, ValueError) as exc:
        raise Http404 from exc
    audit.record(
        request.user,
        "mandate.download",
        mandate,
        changes={"document_sha256": mandate.document_sha256},
        ip=client_ip(request),
    )
    filename = mandate.document_name or mandate.document.name.rsplit("/", 1)[-1]
    return FileResponse(handle, as_attachment=True, filename=filename)


@login_required
def mandate_revoke(request, pk: int):
    mandate = owned_for(request.user, Mandate, pk, Perm.MANDATE_REVOKE)
    if mandate.status == MandateStatus.REVOKED:
        messages.info(request, _("Ce mandat est déjà révoqué."))
        return _to_mandates(mandate.structure)
    form = RevokeMandateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.revoke_mandate(
                request.user, mandate, form.cleaned_data["reason"], ip=client_ip(request)
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Le mandat est révoqué."))
            return _to_mandates(mandate.structure)
    return render(
        request,
        "core/mandate_revoke.html",
        {"form": form, "mandate": mandate, "structure": mandate.structure},
    )

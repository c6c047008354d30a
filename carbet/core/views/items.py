"""Contacts and assets of a structure: add, edit, delete, and validate an asset."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from carbet.accounts.roles import Perm
from carbet.audit.services import client_ip
from carbet.core import services
from carbet.core.access import owned_for, structure_for
from carbet.core.forms import AssetForm, ContactForm, apply_errors
from carbet.core.models import Asset, Contact


def _back(structure, anchor: str):
    return redirect(f"{reverse('core:structure', args=[structure.pk])}#{anchor}")


# --- Contacts --------------------------------------------------------------------------------


def _contact_form(request, structure, contact: Contact | None):
    form = ContactForm(request.POST or None, instance=contact)
    if contact is None:
        form.instance.structure = structure
    if request.method == "POST" and form.is_valid():
        try:
            services.save_contact(request.user, form.instance, ip=client_ip(request))
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Le contact est enregistré."))
            return _back(structure, "contacts")
    return render(
        request,
        "core/contact_form.html",
        {"form": form, "structure": structure, "contact": contact},
    )


@login_required
def contact_add(request, pk: int):
    structure = structure_for(request.user, pk, Perm.CONTACT_EDIT)
    return _contact_form(request, structure, None)


@login_required
def contact_edit(request, pk: int):
    contact = owned_for(request.user, Contact, pk, Perm.CONTACT_EDIT)
    return _contact_form(request, contact.structure, contact)


@login_required
def contact_delete(request, pk: int):
    contact = owned_for(request.user, Contact, pk, Perm.CONTACT_EDIT)
    return _confirm_delete(
        request, contact, services.delete_contact, _("Le contact est supprimé."), "contacts"
    )


# --- Assets ----------------------------------------------------------------------------------


def _asset_form(request, structure, asset: Asset | None):
    form = AssetForm(request.POST or None, instance=asset, structure=structure)
    if request.method == "POST" and form.is_valid():
        try:
            services.save_asset(request.user, form.instance, ip=client_ip(request))
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("L'actif est enregistré."))
            return _back(structure, "assets")
    return render(
        request, "core/asset_form.html", {"form": form, "structure": structure, "asset": asset}
    )


@login_required
def asset_add(request, pk: int):
    structure = structure_for(request.user, pk, Perm.ASSET_EDIT)
    return _asset_form(request, structure, None)


@login_required
def asset_edit(request, pk: int):
    asset = owned_for(request.user, Asset, pk, Perm.ASSET_EDIT)
    return _asset_form(request, asset.structure, asset)


@login_required
def asset_delete(request, pk: int):
    asset = owned_for(request.user, Asset, pk, Perm.ASSET_EDIT)
    return _confirm_delete(
        request, asset, services.delete_asset, _("L'actif est supprimé."), "assets"
    )


@login_required
@require_POST
def asset_validate(request, pk: int):
    asset = owned_for(request.user, Asset, pk, Perm.ASSET_VALIDATE)
    services.validate_asset(request.user, asset, ip=client_ip(request))
    messages.success(request, _("L'actif « %(value)s » est validé.") % {"value": asset.value})
    return _back(asset.structure, "assets")


def _confirm_delete(request, obj, delete, done_message: str, anchor: str):
    """Ask for confirmation (GET), then delete through the service (POST)."""
    if request.method == "POST":
        delete(request.user, obj, ip=client_ip(request))
        messages.success(request, done_message)
        return _back(obj.structure, anchor)
    return render(
        request,
        "core/confirm_delete.html",
        {"structure": obj.structure, "object": obj, "anchor": anchor},
    )

"""The region table, a user's structures, and the structure, organisation and GHT pages."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from carbet.accounts.roles import Perm
from carbet.audit.services import client_ip
from carbet.core import selectors, services
from carbet.core.access import structure_for
from carbet.core.forms import OrganisationForm, RegionFilterForm, StructureForm, apply_errors
from carbet.core.models import Ght, Organisation, Structure
from carbet.core.tenancy import can

PAGE_SIZE = 50


def _table_page(request: Any, perm: Perm, *, full: bool) -> dict[str, Any]:
    """Filter form, current page and counts of the structures table, for ``perm``."""
    user = request.user
    visible = Structure.objects.visible_to(user, perm)
    form = RegionFilterForm(
        request.GET,
        ghts=Ght.objects.visible_to(user, perm),
        organisations=Organisation.objects.visible_to(user, perm).only("pk", "name"),
        departements=selectors.departements_of(visible) if full else [],
        full=full,
    )
    filters = form.filters()
    rows = selectors.region_structures(user, filters, perm)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    show_risk = selectors.attach_risk(user, list(page.object_list))
    query = request.GET.copy()
    query.pop("page", None)
    return {
        "form": form,
        "page": page,
        "matching": page.paginator.count,
        "total": visible.count(),
        "query": query.urlencode(),
        "full": full,
        "show_mandates": can(user, Perm.MANDATE_VIEW),
        "can_export": can(user, Perm.EXPORT_RUN),
        "show_risk": show_risk,
    }


def _render_table(request: Any, template: str, context: dict[str, Any]):
    htmx = getattr(request, "htmx", None)
    if htmx and not htmx.history_restore_request:
        return render(request, "core/_structures_table.html", context)
    return render(request, template, context)


@login_required
def region(request):
    """Every structure of the region with its key figures (centre staff)."""
    if not can(request.user, Perm.REGION_VIEW):
        raise PermissionDenied
    context = _table_page(request, Perm.REGION_VIEW, full=True)
    context.update(
        can_create=can(request.user, Perm.STRUCTURE_EDIT),
        can_import=can(request.user, Perm.IMPORT_RUN),
    )
    return _render_table(request, "core/region.html", context)


@login_required
def my_structures(request):
    """The structures the user's memberships cover."""
    if not can(request.user, Perm.STRUCTURE_VIEW):
        raise PermissionDenied
    context = _table_page(request, Perm.STRUCTURE_VIEW, full=False)
    return _render_table(request, "core/my_structures.html", context)


@login_required
def structure(request, pk: int):
    item = structure_for(request.user, pk)
    page = selectors.structure_page(request.user, item)
    return render(request, "core/structure.html", {"structure": item, "page": page})


def _save_form(request: Any, form: Any, save: Any) -> bool:
    """Run ``save(instance)`` on a valid form; True on success, errors on the form otherwise."""
    if not form.is_valid():
        return False
    try:
        save(form.instance)
    except ValidationError as exc:
        apply_errors(form, exc)
        return False
    return True


@login_required
def structure_edit(request, pk: int | None = None):
    """Create (no ``pk``) or edit a structure: centre staff only."""
    if not can(request.user, Perm.STRUCTURE_EDIT):
        raise PermissionDenied
    item = structure_for(request.user, pk, Perm.STRUCTURE_EDIT) if pk else None
    form = StructureForm(request.POST or None, instance=item)
    form.fields["organisation"].queryset = Organisation.objects.visible_to(
        request.user, Perm.STRUCTURE_EDIT
    )
    if request.method == "POST" and _save_form(
        request,
        form,
        lambda s: services.save_structure(request.user, s, ip=client_ip(request)),
    ):
        messages.success(request, _("La structure est enregistrée."))
        return redirect("core:structure", pk=form.instance.pk)
    return render(request, "core/structure_form.html", {"form": form, "structure": item})


@login_required
def organisation(request, pk: int):
    """An organisation (entité juridique) and those of its structures the viewer may see."""
    item = get_object_or_404(
        Organisation.objects.visible_to(request.user).select_related("ght"), pk=pk
    )
    structures = selectors.annotate_registry(
        Structure.objects.visible_to(request.user).filter(organisation=item)
    ).order_by("name")
    return render(
        request,
        "core/organisation.html",
        {
            "organisation": item,
            "structures": structures,
            "can_edit": can(request.user, Perm.STRUCTURE_EDIT),
            "show_mandates": can(request.user, Perm.MANDATE_VIEW),
        },
    )


@login_required
def organisation_edit(request, pk: int | None = None):
    if not can(request.user, Perm.STRUCTURE_EDIT):
        raise PermissionDenied
    item = (
        get_object_or_404(Organisation.objects.visible_to(request.user, Perm.STRUCTURE_EDIT), pk=pk)
        if pk
        else None
    )
    form = OrganisationForm(request.POST or None, instance=item)
    form.fields["ght"].queryset = Ght.objects.visible_to(request.user, Perm.STRUCTURE_EDIT)
    if request.method == "POST" and _save_form(
        request,
        form,
        lambda o: services.save_organisation(request.user, o, ip=client_ip(request)),
    ):
        messages.success(request, _("L'organisation est enregistrée."))
        return redirect("core:organisation", pk=form.instance.pk)
    return render(request, "core/organisation_form.html", {"form": form, "organisation": item})


@login_required
def ght(request, pk: int):
    """A GHT and those of its structures the viewer may see."""
    item = get_object_or_404(Ght.objects.visible_to(request.user), pk=pk)
    structures = selectors.annotate_registry(
        Structure.objects.visible_to(request.user).filter(organisation__ght=item)
    ).order_by("organisation__name", "name")
    return render(
        request,
        "core/ght.html",
        {
            "ght": item,
            "structures": structures,
            "show_mandates": can(request.user, Perm.MANDATE_VIEW),
        },
    )

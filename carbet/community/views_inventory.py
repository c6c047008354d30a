"""Pages of the software inventory (mounted at /communaute/): a structure's products, detected
and declared, with the forms to declare its business applications; the centre's regional view
of who runs what, and the drill-down to the structures running one product.

Rows are reached through ``carbet.core.access`` (``visible_to``): another structure's page or
line is a 404; the regional pages need ``CommunityPerm.REGION`` (403 for structures).
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from carbet.accounts.roles import Perm
from carbet.audit.services import client_ip
from carbet.community import selectors_alerts
from carbet.community import selectors_inventory as selectors
from carbet.community import services_inventory as services
from carbet.community.choices import LineOrigin
from carbet.community.forms_inventory import DeclaredLineForm, RegionFilterForm
from carbet.community.models import SoftwareLine
from carbet.community.service import CommunityPerm
from carbet.core import access
from carbet.core.exports import CONTENT_TYPES
from carbet.core.forms import apply_errors
from carbet.core.tenancy import can

T = "community/inventory/"


def _declared_line(request: HttpRequest, pk: int) -> SoftwareLine:
    """A declared line the user may change: another structure's is a 404, a detected line too
    (it follows the scans and has no form)."""
    declared = SoftwareLine.objects.visible_to(request.user, CommunityPerm.INVENTORY).filter(
        origin=LineOrigin.DECLARED
    )
    return access.owned_for(
        request.user, declared, pk, CommunityPerm.INVENTORY, see=CommunityPerm.INVENTORY
    )


def _csv(data: bytes, name: str) -> HttpResponse:
    response = HttpResponse(data, content_type=CONTENT_TYPES["csv"])
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@login_required
def inventory(request: HttpRequest, structure_id: int) -> HttpResponse:
    """A structure's software: what Carbet saw, what the structure declared, and the form."""
    structure = access.structure_for(
        request.user, structure_id, CommunityPerm.INVENTORY, see=CommunityPerm.INVENTORY
    )
    form = DeclaredLineForm()
    if request.method == "POST":
        form = DeclaredLineForm(request.POST)
        if form.is_valid():
            try:
                line = services.create_line(
                    request.user, structure, form.values(), ip=client_ip(request)
                )
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, _("« %(line)s » ajouté à l'inventaire.") % {"line": line})
                return redirect("community:inventory", structure.pk)
    return render(
        request,
        T + "structure.html",
        {
            "structure": structure,
            "page": selectors.structure_inventory(request.user, structure),
            "form": form,
            "can_export": can(request.user, Perm.EXPORT_RUN, structure),
            "can_region": can(request.user, CommunityPerm.REGION),
            # The matched alerts of the structure (community/inventory/_alerts.html).
            "show_alerts": True,
            "alerts": selectors_alerts.structure_alerts(request.user, structure),
        },
    )


@login_required
def line_edit(request: HttpRequest, pk: int) -> HttpResponse:
    line = _declared_line(request, pk)
    form = DeclaredLineForm(line=line)
    if request.method == "POST":
        form = DeclaredLineForm(request.POST)
        if form.is_valid():
            try:
                services.update_line(request.user, line, form.values(), ip=client_ip(request))
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, _("« %(line)s » mis à jour.") % {"line": line})
                return redirect("community:inventory", line.structure_id)
    return render(
        request, T + "line_edit.html", {"line": line, "structure": line.structure, "form": form}
    )


@login_required
@require_POST
def line_delete(request: HttpRequest, pk: int) -> HttpResponse:
    line = _declared_line(request, pk)
    structure_id, label = line.structure_id, str(line)
    services.delete_line(request.user, line, ip=client_ip(request))
    messages.success(request, _("« %(line)s » retiré de l'inventaire.") % {"line": label})
    return redirect("community:inventory", structure_id)


@login_required
def inventory_export(request: HttpRequest, structure_id: int) -> HttpResponse:
    structure = access.structure_for(
        request.user, structure_id, CommunityPerm.INVENTORY, see=CommunityPerm.INVENTORY
    )
    data = services.export_structure(request.user, structure, ip=client_ip(request))
    today = timezone.localdate()
    return _csv(data, f"inventaire-{structure.finess_et or structure.pk}-{today:%Y%m%d}.csv")


def _region_filters(request: HttpRequest) -> RegionFilterForm:
    return RegionFilterForm(request.GET, departements=selectors.departements(request.user))


@login_required
def region(request: HttpRequest) -> HttpResponse:
    """Who runs what in the region, for the centre only."""
    access.require(request.user, CommunityPerm.REGION)
    form = _region_filters(request)
    filters = form.filters()
    return render(
        request,
        T + "region.html",
        {
            "form": form,
            "filters": filters,
            "page": selectors.region_products(request.user, filters),
            "limit": selectors.REGION_LIMIT,
            "query": request.GET.urlencode(),
            "can_export": can(request.user, Perm.EXPORT_RUN),
        },
    )


@login_required
def region_product(request: HttpRequest) -> HttpResponse:
    """The structures running one product (``?vendor=…&product=…``, the normalised names)."""
    access.require(request.user, CommunityPerm.REGION)
    form = _region_filters(request)
    filters = form.filters()
    vendor = request.GET.get("vendor", "")[:200]
    product = request.GET.get("product", "")[:200]
    lines = list(selectors.product_lines(request.user, vendor, product, filters)[:2000])
    return render(
        request,
        T + "region_product.html",
        {
            "vendor": vendor,
            "product": product,
            "lines": lines,
            "structures": len({line.structure_id for line in lines}),
            "filters": filters,
            "back": request.GET.urlencode(),
        },
    )


@login_required
def region_export(request: HttpRequest) -> HttpResponse:
    access.require(request.user, CommunityPerm.REGION)
    filters = _region_filters(request).filters()
    data = services.export_region(request.user, filters, ip=client_ip(request))
    return _csv(data, f"inventaire-regional-{timezone.localdate():%Y%m%d}.csv")

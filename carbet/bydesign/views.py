"""Pages of the digital services (mounted at /services-numeriques/): a structure's services,
one service's measures and cyber index, the forms to describe and update them."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from carbet.audit.services import client_ip
from carbet.bydesign import selectors, services
from carbet.bydesign.forms import ServiceForm, StatusForm
from carbet.bydesign.models import DigitalService
from carbet.bydesign.service import BydesignPerm
from carbet.core import access
from carbet.core.forms import apply_errors
from carbet.core.models import Structure
from carbet.core.tenancy import can

T = "bydesign/"


def service_for(request: HttpRequest, pk: int, perm=BydesignPerm.VIEW) -> DigitalService:
    # owned_for scopes the lookup with visible_to and joins structure__organisation__ght.
    return access.owned_for(request.user, DigitalService, pk, perm, see=BydesignPerm.VIEW)


def _fresh(request: HttpRequest, row: DigitalService) -> DigitalService:
    """A second copy of a service already checked by ``service_for`` (the form mutates its
    instance while validating), read again through the same visibility rule."""
    return DigitalService.objects.visible_to(request.user, BydesignPerm.VIEW).get(pk=row.pk)


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """The structures the user may see, with their services' figures."""
    access.require(request.user, BydesignPerm.VIEW)
    today = timezone.localdate()
    structures = Structure.objects.visible_to(request.user, BydesignPerm.VIEW).order_by("name")
    rows = (
        DigitalService.objects.visible_to(request.user, BydesignPerm.VIEW)
        .select_related("structure")
        .order_by("structure__name", "name")[:500]
    )
    return render(
        request,
        T + "home.html",
        {
            "structures": structures[:200],
            "rows": [{"service": s, "decision": selectors.decision_state(s, today)} for s in rows],
            "can_region": can(request.user, BydesignPerm.REGION),
        },
    )


@login_required
def structure(request: HttpRequest, structure_id: int) -> HttpResponse:
    target = access.structure_for(request.user, structure_id, see=BydesignPerm.VIEW)
    can_edit = can(request.user, BydesignPerm.EDIT, target)
    form = ServiceForm() if can_edit else None
    if request.method == "POST":
        access.require(request.user, BydesignPerm.EDIT, target)
        form = ServiceForm(request.POST)
        if form.is_valid():
            try:
                created = services.create_service(
                    request.user, target, form.values(), ip=client_ip(request)
                )
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, _("Service « %(name)s » décrit.") % {"name": created})
                return redirect("bydesign:service", created.pk)
    return render(
        request,
        T + "structure.html",
        {
            "structure": target,
            "rows": selectors.structure_services(target, timezone.localdate()),
            "form": form,
            "can_edit": can_edit,
        },
    )


@login_required
@require_POST
def recompute(request: HttpRequest, structure_id: int) -> HttpResponse:
    target = access.structure_for(
        request.user, structure_id, BydesignPerm.EDIT, see=BydesignPerm.VIEW
    )
    report = services.recompute_structure(request.user, target)
    messages.success(
        request,
        _("États vérifiés par Carbet recalculés pour %(n)d service(s).") % {"n": report.services},
    )
    return redirect("bydesign:structure", target.pk)


@login_required
def service(request: HttpRequest, pk: int) -> HttpResponse:
    row = service_for(request, pk)
    page = selectors.service_page(row, timezone.localdate())
    return render(
        request,
        T + "service.html",
        {
            "page": page,
            "service": row,
            "structure": row.structure,
            "can_edit": can(request.user, BydesignPerm.EDIT, row.structure),
            "can_decide": can(request.user, BydesignPerm.DECIDE, row.structure),
            "can_vendor": can(request.user, BydesignPerm.VENDOR, row.structure),
            "status_form": StatusForm(),
        },
    )


@login_required
def service_edit(request: HttpRequest, pk: int) -> HttpResponse:
    row = service_for(request, pk, BydesignPerm.EDIT)
    form = ServiceForm(instance=row)
    if request.method == "POST":
        form = ServiceForm(request.POST, instance=_fresh(request, row))
        if form.is_valid():
            try:
                services.update_service(request.user, row, form.values(), ip=client_ip(request))
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, _("Description enregistrée."))
                return redirect("bydesign:service", row.pk)
    return render(
        request, T + "service_edit.html", {"service": row, "structure": row.structure, "form": form}
    )


@login_required
@require_POST
def service_delete(request: HttpRequest, pk: int) -> HttpResponse:
    row = service_for(request, pk, BydesignPerm.EDIT)
    structure_id = row.structure_id
    services.delete_service(request.user, row, ip=client_ip(request))
    messages.success(request, _("Service supprimé."))
    return redirect("bydesign:structure", structure_id)


@login_required
def measure(request: HttpRequest, pk: int, code: str) -> HttpResponse:
    row = service_for(request, pk, BydesignPerm.EDIT)
    page = selectors.service_page(row, timezone.localdate())
    item = next((r for r in page.rows if r.code == code), None)
    if item is None:
        raise Http404
    initial = {"status": item.state.status if item.state else "not_done"}
    if item.state:
        initial.update(reason=item.state.reason, evidence=item.state.evidence)
    form = StatusForm(initial=initial)
    if request.method == "POST":
        form = StatusForm(request.POST)
        if form.is_valid():
            try:
                services.set_status(
                    request.user,
                    row,
                    code,
                    form.cleaned_data["status"],
                    reason=form.cleaned_data["reason"],
                    evidence=form.cleaned_data["evidence"],
                    ip=client_ip(request),
                )
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, _("État de la mesure enregistré."))
                return redirect(reverse("bydesign:service", args=[row.pk]) + f"#m-{code}")
    return render(
        request,
        T + "measure.html",
        {"service": row, "structure": row.structure, "item": item, "form": form},
    )

"""The medico-social track pages: a structure's path, the region's progress, pushing a step."""

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
from carbet.bydesign import selectors_track, services_track, track_texts
from carbet.bydesign.forms import MarkForm, PushForm
from carbet.bydesign.service import BydesignPerm
from carbet.core import access
from carbet.core.choices import MEDICO_SOCIAL_CATEGORIES, Category
from carbet.core.forms import apply_errors
from carbet.core.models import Structure
from carbet.core.tenancy import can
from carbet.engines.bydesign.track import ESSENTIALS

T = "bydesign/"


@login_required
def track(request: HttpRequest, structure_id: int) -> HttpResponse:
    target = access.structure_for(request.user, structure_id, see=BydesignPerm.VIEW)
    can_edit = can(request.user, BydesignPerm.EDIT, target)
    form = None
    if request.method == "POST":
        access.require(request.user, BydesignPerm.EDIT, target)
        form = MarkForm(request.POST)
        if form.is_valid():
            try:
                services_track.mark(
                    request.user,
                    target,
                    form.cleaned_data["code"],
                    form.cleaned_data["status"],
                    form.cleaned_data["note"],
                    ip=client_ip(request),
                )
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, _("Étape enregistrée."))
                return redirect("bydesign:track", target.pk)
    state = services_track.status_of(target)
    context = selectors_track.structure_track(target, state)
    context.update(
        structure=target,
        can_edit=can_edit,
        form=form,
        medico_social=target.category in MEDICO_SOCIAL_CATEGORIES,
        status_choices=MarkForm.base_fields["status"].choices,
    )
    return render(request, T + "track.html", context)


def _push_form(data=None) -> PushForm:
    form = PushForm(data)
    form.fields["code"].choices = [
        (code, track_texts.ESSENTIALS[code]["title"]) for code in ESSENTIALS
    ]
    form.fields["categories"].choices = [
        (c.value, c.label) for c in Category if c in MEDICO_SOCIAL_CATEGORIES
    ]
    return form


@login_required
def region(request: HttpRequest) -> HttpResponse:
    """Exact figures and the structures' list for the centre; protected aggregates for the ARS."""
    access.require(request.user, Perm.REGION_AGGREGATES)
    detail = can(request.user, BydesignPerm.REGION)
    today = timezone.localdate()
    context = {
        "figures": selectors_track.regional_progress(detail, today),
        "detail": detail,
        "form": _push_form() if detail else None,
        "rows": selectors_track.structure_rows(services_track.medico_social()) if detail else [],
    }
    return render(request, T + "region.html", context)


@login_required
@require_POST
def push(request: HttpRequest) -> HttpResponse:
    access.require_centre(request.user, BydesignPerm.REGION)
    form = _push_form(request.POST)
    if form.is_valid():
        structures = Structure.objects.visible_to(request.user, BydesignPerm.REGION).filter(
            category__in=form.cleaned_data["categories"]
        )
        if form.cleaned_data["departement"]:
            structures = structures.filter(departement=form.cleaned_data["departement"])
        try:
            count = services_track.push(
                request.user,
                form.cleaned_data["code"],
                structures,
                form.cleaned_data["message"],
                ip=client_ip(request),
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Étape poussée à %(n)d structure(s).") % {"n": count})
            return redirect("bydesign:region")
    context = {
        "figures": selectors_track.regional_progress(True, timezone.localdate()),
        "detail": True,
        "form": form,
        "rows": selectors_track.structure_rows(services_track.medico_social()),
    }
    return render(request, T + "region.html", context, status=422)

"""Scan profiles and weekly schedules (EXPOSURE_MANAGE: the centre's staff), audited."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from carbet.accounts.roles import Perm
from carbet.audit.services import client_ip
from carbet.core import access
from carbet.core.tenancy import can
from carbet.exposure import services_schedule as schedules
from carbet.exposure.forms import WEEKDAYS, ProfileForm, ScheduleForm, format_ports
from carbet.exposure.models import ScanProfile, ScanSchedule
from carbet.exposure.service import ExposurePerm


@login_required
def profiles(request):
    access.require(request.user, ExposurePerm.MANAGE)
    rows = [(p, format_ports(p.ports)) for p in ScanProfile.objects.all()]
    return render(request, "exposure/profiles.html", {"rows": rows})


@login_required
@require_http_methods(["GET", "POST"])
def profile_edit(request, pk: int | None = None):
    access.require(request.user, ExposurePerm.MANAGE)
    profile = get_object_or_404(ScanProfile, pk=pk) if pk else ScanProfile()
    before = schedules.profile_state(profile) if pk else None
    form = ProfileForm(request.POST or None, instance=profile)
    if request.method == "POST" and form.is_valid():
        schedules.save_profile(request.user, form.save(commit=False), before, client_ip(request))
        messages.success(request, _("Profil « %(name)s » enregistré.") % {"name": profile.name})
        return redirect("exposure:profiles")
    return render(request, "exposure/profile_form.html", {"form": form, "profile": profile})


@login_required
def schedule_list(request):
    access.require(request.user, ExposurePerm.MANAGE)
    rows = (
        ScanSchedule.objects.visible_to(request.user, ExposurePerm.MANAGE)
        .select_related("structure", "profile")
        .order_by("weekday", "hour", "structure__name")
    )
    return render(
        request,
        "exposure/schedules.html",
        {
            "rows": rows,
            "weekdays": dict(WEEKDAYS),
            "can_spread": can(request.user, Perm.REGION_VIEW),
        },
    )


@login_required
@require_POST
def schedule_spread(request):
    access.require(request.user, ExposurePerm.MANAGE)
    if not can(request.user, Perm.REGION_VIEW):
        raise PermissionDenied
    created = schedules.ensure_schedules(request.user)
    messages.success(
        request,
        _("%(n)d structure(s) ont reçu un créneau hebdomadaire.") % {"n": created},
    )
    return redirect("exposure:schedules")


@login_required
@require_http_methods(["GET", "POST"])
def schedule_edit(request, pk: int):
    schedule = get_object_or_404(
        ScanSchedule.objects.visible_to(request.user, ExposurePerm.MANAGE).select_related(
            "structure"
        ),
        pk=pk,
    )
    access.require(request.user, ExposurePerm.MANAGE, schedule.structure)
    before = schedules.schedule_state(schedule)
    form = ScheduleForm(request.POST or None, instance=schedule)
    if request.method == "POST" and form.is_valid():
        schedules.save_schedule(request.user, form.save(commit=False), before, client_ip(request))
        messages.success(request, _("Calendrier enregistré."))
        return redirect("exposure:schedules")
    return render(request, "exposure/schedule_form.html", {"form": form, "schedule": schedule})

"""The backup register pages: the structure's critical systems, one system with its restore
tests, and the forms to keep them up to date ("une sauvegarde assurée")."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from carbet.accounts.roles import Perm
from carbet.audit.services import client_ip
from carbet.core import access
from carbet.core.forms import apply_errors
from carbet.core.tenancy import can
from carbet.roadmap import services_backups
from carbet.roadmap.forms import BackupSystemForm, RestoreTestForm
from carbet.roadmap.models import BackupSystem
from carbet.roadmap.service import RoadmapPerm
from carbet.roadmap.views import TEMPLATES


def _system_for(request: HttpRequest, pk: int, perm: Perm = RoadmapPerm.VIEW) -> BackupSystem:
    system = get_object_or_404(
        BackupSystem.objects.visible_to(request.user, RoadmapPerm.VIEW).select_related(
            "structure__organisation"
        ),
        pk=pk,
    )
    if not can(request.user, perm, system.structure):
        raise PermissionDenied
    return system


@login_required
def backups(request: HttpRequest, structure_id: int) -> HttpResponse:
    target = access.structure_for(request.user, structure_id, see=RoadmapPerm.VIEW)
    can_edit = can(request.user, RoadmapPerm.BACKUP, target)
    form = BackupSystemForm() if can_edit else None
    if request.method == "POST":
        if not can_edit:
            raise PermissionDenied
        form = BackupSystemForm(request.POST)
        if form.is_valid():
            try:
                system = services_backups.save_system(
                    request.user, target, form.cleaned_data, ip=client_ip(request)
                )
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, _("« %(name)s » ajouté au registre.") % {"name": system})
                return redirect("roadmap:backups", target.pk)
    today = timezone.localdate()
    rows = []
    for system in (
        BackupSystem.objects.visible_to(request.user, RoadmapPerm.VIEW)
        .filter(structure=target)
        .prefetch_related("tests")
    ):
        tests = list(system.tests.all())
        last = tests[0] if tests else None
        rows.append(
            {
                "system": system,
                "last_test": last,
                "age": services_backups.age_in_days(system, today),
                "issues": services_backups.issues_of(system, last, today),
            }
        )
    return render(
        request,
        TEMPLATES + "backups.html",
        {"structure": target, "rows": rows, "form": form, "can_edit": can_edit},
    )


@login_required
def backup(request: HttpRequest, pk: int) -> HttpResponse:
    system = _system_for(request, pk)
    can_edit = can(request.user, RoadmapPerm.BACKUP, system.structure)
    form = BackupSystemForm(instance=system) if can_edit else None
    if request.method == "POST":
        if not can_edit:
            raise PermissionDenied
        form = BackupSystemForm(request.POST, instance=system)
        if form.is_valid():
            try:
                services_backups.save_system(
                    request.user, system.structure, form.cleaned_data, system, client_ip(request)
                )
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, _("Registre mis à jour."))
                return redirect("roadmap:backups", system.structure_id)
    tests = list(system.tests.all())
    return render(
        request,
        TEMPLATES + "backup.html",
        {
            "system": system,
            "structure": system.structure,
            "form": form,
            "test_form": RestoreTestForm(initial={"tested_on": timezone.localdate()})
            if can_edit
            else None,
            "tests": tests,
            "issues": services_backups.issues_of(
                system, tests[0] if tests else None, timezone.localdate()
            ),
            "can_edit": can_edit,
        },
    )


@require_POST
@login_required
def restore_test(request: HttpRequest, pk: int) -> HttpResponse:
    system = _system_for(request, pk, RoadmapPerm.BACKUP)
    form = RestoreTestForm(request.POST)
    if form.is_valid():
        try:
            services_backups.record_restore_test(
                request.user, system, form.cleaned_data, client_ip(request)
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(
                request,
                _("Test de restauration enregistré : il compte comme preuve pour CaRE D2."),
            )
            return redirect("roadmap:backup", system.pk)
    for errors in form.errors.values():
        messages.error(request, " ".join(errors))
    return redirect("roadmap:backup", system.pk)


@require_POST
@login_required
def backup_delete(request: HttpRequest, pk: int) -> HttpResponse:
    system = _system_for(request, pk, RoadmapPerm.BACKUP)
    structure_id = system.structure_id
    services_backups.delete_system(request.user, system, client_ip(request))
    messages.success(request, _("Système retiré du registre."))
    return redirect("roadmap:backups", structure_id)

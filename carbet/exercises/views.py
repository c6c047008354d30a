"""Staff pages of the exercises: the list, the scenario library, preparing an exercise.

Thin views: every row comes through ``carbet.core.access`` (404 when invisible, 403 when the
right is missing), every change through the service functions (``services*``), which check
the right again, write the audit trail and raise ``ExerciseError`` with a French sentence.
The console is in ``views_console``, the evaluation and report in ``views_after``, the region
in ``views_regional``.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from carbet.audit.services import client_ip
from carbet.core import access, uploads
from carbet.core.tenancy import can
from carbet.engines.exercises import chronogram, jsonformat
from carbet.engines.exercises.model import LEVEL_LABELS, LEVELS, Problem
from carbet.exercises import selectors_pages as sel
from carbet.exercises import services, services_scenarios
from carbet.exercises.choices import ExerciseStatus, LinkPurpose, ParticipantRole
from carbet.exercises.forms import (
    ExerciseEditForm,
    ExerciseForm,
    ParticipantForm,
    ScenarioImportForm,
)
from carbet.exercises.models import AccessLink, Exercise, Participant, ScenarioVersion
from carbet.exercises.service import ExercisePerm

LEVEL_HELP = {
    "debutant": gettext_lazy("Débutant : une première fois, une cellule de crise qui se découvre."),
    "intermediaire": gettext_lazy(
        "Intermédiaire : une cellule déjà formée, plusieurs fronts à la fois."
    ),
    "confirme": gettext_lazy("Confirmé : crise longue, pression des médias, décisions difficiles."),
}


def exercise_for(request: Any, pk: int, perm: Any = ExercisePerm.VIEW) -> Exercise:
    rows = Exercise.objects.visible_to(request.user, ExercisePerm.VIEW).select_related(
        "structure", "regional", "profile"
    )
    return access.owned_for(request.user, rows, pk, perm, see=ExercisePerm.VIEW)


def _error(request: Any, exc: Exception) -> None:
    messages.error(request, str(exc))


@login_required
def index(request):
    access.require(request.user, ExercisePerm.VIEW)
    exercises = sel.exercise_filter(request.user, ExercisePerm.VIEW).order_by("-planned_start")
    return render(
        request,
        "exercises/index.html",
        {
            "exercises": exercises[:300],
            "may_manage": can(request.user, ExercisePerm.MANAGE),
            "regional": can(request.user, ExercisePerm.REGIONAL),
        },
    )


@login_required
def structure_detail(request, pk: int):
    structure = access.structure_for(request.user, pk, see=ExercisePerm.VIEW)
    exercises = sel.exercise_filter(request.user, ExercisePerm.VIEW).filter(structure=structure)
    year = timezone.localdate().year
    return render(
        request,
        "exercises/structure.html",
        {
            "structure": structure,
            "exercises": exercises.order_by("-planned_start"),
            "held_this_year": exercises.filter(
                status__in=sel.HELD_STATUSES, started_at__year=year
            ).exists(),
            "year": year,
            "may_manage": can(request.user, ExercisePerm.MANAGE, structure),
        },
    )


# --- Library -------------------------------------------------------------------------------


@login_required
def library(request):
    # The region's library is the centre's working material (structures see their exercise's
    # own copy on the exercise page).
    access.require_centre(request.user, ExercisePerm.MANAGE)
    versions = ScenarioVersion.objects.order_by("level", "title", "-created_at")
    levels = [
        {
            "code": code,
            "label": LEVEL_LABELS.get(code, code),
            "help": LEVEL_HELP.get(code, ""),
            "rows": [v for v in versions if v.level == code],
        }
        for code in LEVELS
    ]
    others = [v for v in versions if v.level not in LEVELS]
    if others:
        levels.append({"code": "", "help": "", "rows": others})
    return render(
        request,
        "exercises/library.html",
        {"levels": levels, "may_manage": can(request.user, ExercisePerm.MANAGE)},
    )


@login_required
def scenario_detail(request, pk: int):
    access.require_centre(request.user, ExercisePerm.MANAGE)
    version = _version(pk)
    scenario = sel.scenario_from(version.data)
    return render(
        request,
        "exercises/scenario.html",
        {
            "version": version,
            "scenario": scenario,
            "level_help": LEVEL_HELP.get(version.level, ""),
            "may_manage": can(request.user, ExercisePerm.MANAGE),
        },
    )


def _version(pk: Any) -> ScenarioVersion:
    from django.shortcuts import get_object_or_404

    # The library belongs to the region, not to a structure: visible to whoever may VIEW.
    return get_object_or_404(ScenarioVersion, pk=pk)


@login_required
def scenario_export(request, pk: int):
    access.require_centre(request.user, ExercisePerm.MANAGE)
    version = _version(pk)
    response = HttpResponse(
        services_scenarios.export_scenario(version), content_type="application/json"
    )
    name = f"{version.code}-{version.version}.json"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@login_required
def scenario_import(request):
    access.require_centre(request.user, ExercisePerm.MANAGE)
    form = ScenarioImportForm(request.POST or None, request.FILES or None)
    problems: list[Problem] = []
    if request.method == "POST" and form.is_valid():
        try:
            loaded = uploads.load(
                form.cleaned_data["file"],
                (uploads.Kind.JSON, uploads.Kind.CSV, uploads.Kind.XLSX),
                max_bytes=jsonformat.MAX_BYTES,
            )
        except ValidationError as exc:
            problems = [
                Problem(uploads.original_name(form.cleaned_data["file"]), 0, m)
                for m in exc.messages
            ]
        else:
            version, problems = _import(request, form, loaded)
            if version is not None:
                messages.success(
                    request, _("Scénario importé : %(title)s") % {"title": version.title}
                )
                return redirect("exercises:scenario", pk=version.pk)
    return render(
        request,
        "exercises/import.html",
        {"form": form, "problems": [p.render() for p in problems]},
    )


def _import(request: Any, form: ScenarioImportForm, loaded: uploads.Loaded):
    name = loaded.original_name
    if loaded.kind == uploads.Kind.JSON:
        return services_scenarios.import_scenario(
            request.user, loaded.data, name, ip=client_ip(request)
        )
    base: ScenarioVersion | None = form.cleaned_data.get("base")
    version_text = (form.cleaned_data.get("version") or "").strip()
    if base is None or not version_text:
        return None, [
            Problem(
                name,
                0,
                _(
                    "Un chronogramme seul n'est pas un scénario : choisissez le scénario de "
                    "départ et une nouvelle version."
                ),
            )
        ]
    scenario = sel.scenario_from(base.data)
    if scenario is None:
        return None, [Problem(name, 0, _("Le scénario de départ est illisible."))]
    result = chronogram.import_chronogram(loaded.data, name, cells=scenario.cells)
    if result.problems:
        return None, list(result.problems)
    combined = dataclasses.replace(scenario, version=version_text[:20], injects=result.injects)
    text = jsonformat.export(combined)
    return services_scenarios.import_scenario(request.user, text, name, ip=client_ip(request))


# --- Preparing an exercise -----------------------------------------------------------------


@login_required
def exercise_new(request, version_pk: int):
    access.require(request.user, ExercisePerm.MANAGE)
    version = _version(version_pk)
    variables = [
        (v.get("name", ""), v.get("description", ""), v.get("default", ""))
        for v in version.data.get("variables") or []
    ]
    form = ExerciseForm(
        request.POST or None,
        actor=request.user,
        version=version,
        variables=variables,
        initial={"structure": request.GET.get("structure")},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            exercise = services.create_exercise(
                request.user,
                data["structure"],
                version,
                planned_start=data["planned_start"],
                title=data["title"],
                duration_minutes=data["duration_minutes"],
                compression=data["compression"],
                objectives=data["objectives"] or None,
                variables=form.variables(),
                profile=data["profile"],
                continuity_test=data["continuity_test"],
                ip=client_ip(request),
            )
        except services.ExerciseError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("Exercice créé : ajoutez maintenant les participants."))
            return redirect("exercises:exercise", pk=exercise.pk)
    return render(
        request,
        "exercises/exercise_form.html",
        {"form": form, "version": version, "title": _("Nouvel exercice")},
    )


@login_required
def exercise_detail(request, pk: int):
    exercise = exercise_for(request, pk)
    structure = exercise.structure
    may_manage = can(request.user, ExercisePerm.MANAGE, structure)
    links = sel.links_by_participant(exercise)
    participants = list(exercise.participants.select_related("cell"))
    for participant in participants:
        participant.space_link = links.get(participant.pk)
    return render(
        request,
        "exercises/exercise.html",
        {
            "exercise": exercise,
            "checklist": sel.checklist(exercise),
            "participants": participants,
            "cells": exercise.cells.all(),
            "injects": exercise.injects.order_by("offset_seconds", "id"),
            "retex_links": exercise.links.filter(purpose=LinkPurpose.RETEX),
            "may_manage": may_manage,
            "may_run": can(request.user, ExercisePerm.RUN, structure),
            "editable": exercise.status in (ExerciseStatus.DRAFT, ExerciseStatus.SCHEDULED),
            "participant_form": ParticipantForm(exercise=exercise) if may_manage else None,
            "now": timezone.now(),
        },
    )


@login_required
def exercise_edit(request, pk: int):
    exercise = exercise_for(request, pk, ExercisePerm.MANAGE)
    form = ExerciseEditForm(request.POST or None, instance=exercise)
    if request.method == "POST" and form.is_valid():
        fields = {
            name: form.cleaned_data[name]
            for name in form.changed_data
            if not name.startswith("var_")
        }
        if form.variables_changed():
            # The injects are copied again with the new values (before the start only).
            fields["variables"] = form.variables()
        try:
            # A fresh copy: the form has already written its values on ``exercise``.
            fresh = Exercise.objects.visible_to(request.user, ExercisePerm.VIEW).get(pk=exercise.pk)
            services.update_exercise(request.user, fresh, ip=client_ip(request), **fields)
        except services.ExerciseError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("Exercice modifié."))
            return redirect("exercises:exercise", pk=exercise.pk)
    return render(
        request,
        "exercises/exercise_form.html",
        {"form": form, "exercise": exercise, "title": _("Modifier l'exercice")},
    )


@login_required
@require_POST
def exercise_state(request, pk: int, action: str):
    exercise = exercise_for(request, pk, ExercisePerm.MANAGE)
    operation = {"programmer": services.schedule, "annuler": services.cancel}.get(action)
    if operation is None:
        raise access.refusal()
    try:
        operation(request.user, exercise, ip=client_ip(request))
    except services.ExerciseError as exc:
        _error(request, exc)
    else:
        messages.success(
            request, _("État de l'exercice : %(s)s") % {"s": exercise.get_status_display()}
        )
    return redirect("exercises:exercise", pk=exercise.pk)


@login_required
def scenario_copy_export(request, pk: int):
    exercise = exercise_for(request, pk)
    response = HttpResponse(
        services_scenarios.export_exercise_scenario(exercise), content_type="application/json"
    )
    response["Content-Disposition"] = f'attachment; filename="exercice-{exercise.pk}.json"'
    return response


@login_required
@require_POST
def participant_add(request, pk: int):
    exercise = exercise_for(request, pk, ExercisePerm.MANAGE)
    form = ParticipantForm(request.POST, exercise=exercise)
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.add_participant(
                request.user,
                exercise,
                name=data["name"],
                role=data["role"],
                email=data["email"],
                cell=data["cell"],
                phone=data["phone"],
                ip=client_ip(request),
            )
        except services.ExerciseError as exc:
            _error(request, exc)
        else:
            messages.success(request, _("Participant ajouté : %(n)s") % {"n": data["name"]})
    else:
        errors = "; ".join(
            f"{form.fields[k].label} : {' '.join(v)}"
            for k, v in form.errors.items()
            if k in form.fields
        )
        messages.error(request, _("Participant non ajouté. %(e)s") % {"e": errors})
    return redirect(reverse("exercises:exercise", args=[exercise.pk]) + "#participants")


def _participant(request: Any, pk: int) -> Participant:
    rows = Participant.objects.visible_to(request.user, ExercisePerm.VIEW).select_related(
        "exercise__structure"
    )
    return access.owned_for(request.user, rows, pk, ExercisePerm.MANAGE, see=ExercisePerm.VIEW)


@login_required
@require_POST
def participant_remove(request, pk: int):
    participant = _participant(request, pk)
    exercise_pk = participant.exercise_id
    services.remove_participant(request.user, participant, ip=client_ip(request))
    messages.success(request, _("Participant retiré."))
    return redirect(reverse("exercises:exercise", args=[exercise_pk]) + "#participants")


@login_required
@require_POST
def link_issue(request, pk: int):
    """A new signed link, shown once on this page and never again (only its digest is kept)."""
    participant = _participant(request, pk)
    token = services.issue_link(request.user, participant, ip=client_ip(request))
    return render(
        request,
        "exercises/link_issued.html",
        {
            "exercise": participant.exercise,
            "participant": participant,
            "url": request.build_absolute_uri(f"/x/{token}/"),
            "observer": participant.role == ParticipantRole.OBSERVER,
        },
    )


@login_required
@require_POST
def link_revoke(request, pk: int):
    rows = AccessLink.objects.visible_to(request.user, ExercisePerm.VIEW).select_related(
        "exercise__structure"
    )
    link = access.owned_for(request.user, rows, pk, ExercisePerm.MANAGE, see=ExercisePerm.VIEW)
    services.revoke_link(request.user, link, ip=client_ip(request))
    messages.success(request, _("Lien révoqué : il n'ouvre plus rien."))
    return redirect(reverse("exercises:exercise", args=[link.exercise_id]) + "#participants")


@login_required
@require_POST
def retex_link(request, pk: int):
    exercise = exercise_for(request, pk, ExercisePerm.RUN)
    token = services.issue_retex_link(request.user, exercise, ip=client_ip(request))
    return render(
        request,
        "exercises/link_issued.html",
        {"exercise": exercise, "retex": True, "url": request.build_absolute_uri(f"/x/{token}/")},
    )

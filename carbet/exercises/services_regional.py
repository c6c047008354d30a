"""Regional exercises: one scenario, N structures, one synchronised clock and one console.

Each structure gets its own ``Exercise`` (its variables, its people, its mandate); regional
injects (ARS, press, SAMU, the centre) are copied into every child with the same offset, so the
single clock job of the regional exercise sends them to all structures in the same pass.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from carbet.audit import services as audit
from carbet.core.access import require_centre
from carbet.core.models import Structure
from carbet.core.tenancy import Actor
from carbet.engines.exercises import jsonformat
from carbet.exercises import services_console as console
from carbet.exercises.choices import ExerciseStatus, InjectScope, LogKind
from carbet.exercises.models import (
    Exercise,
    Inject,
    LogEntry,
    RegionalExercise,
    ScenarioVersion,
    SendingProfile,
)
from carbet.exercises.service import ExercisePerm
from carbet.exercises.services import (
    ExerciseError,
    _check_clock,
    actor_label,
    create_exercise,
    scenario_of,
)

MAX_STRUCTURES = 1000


def create_regional(
    actor: Actor,
    version: ScenarioVersion,
    structures: Sequence[Structure],
    *,
    planned_start: datetime,
    title: str = "",
    compression: float = 1.0,
    duration_minutes: int | None = None,
    objectives: list[str] | None = None,
    variables: dict[int, dict[str, str]] | None = None,
    profile: SendingProfile | None = None,
    ip: str | None = None,
) -> RegionalExercise:
    """A regional exercise and one child exercise per structure (``variables`` by structure
    id: the name, the director, the software names...)."""
    require_centre(actor, ExercisePerm.REGIONAL)
    if not structures:
        raise ExerciseError(_("Choisissez au moins une structure."))
    if len(structures) > MAX_STRUCTURES:
        raise ExerciseError(_("Trop de structures pour un seul exercice."))
    scenario = scenario_of(version.data)
    duration = duration_minutes or scenario.duration_minutes
    _check_clock(compression, duration)
    with transaction.atomic():
        regional = RegionalExercise.objects.create(
            title=(title or _regional_title(scenario))[:200],
            level=scenario.level,
            scenario_version=version,
            scenario=jsonformat.to_data(scenario),
            planned_start=planned_start,
            duration_minutes=duration,
            compression=compression,
            objectives=objectives or [o.code for o in scenario.objectives],
            profile=profile,
            created_by=actor if getattr(actor, "pk", None) else None,
        )
        for structure in structures:
            create_exercise(
                actor,
                structure,
                version,
                planned_start=planned_start,
                title=title,
                duration_minutes=duration,
                compression=compression,
                objectives=regional.objectives,
                variables=(variables or {}).get(structure.pk),
                profile=profile,
                regional=regional,
                ip=ip,
            )
    audit.record(
        actor,
        "exercise.regional_create",
        regional,
        changes={"structures": len(structures), "scenario": f"{version.code}@{version.version}"},
        ip=ip,
    )
    return regional


def _log_all(ids: list[int], text: str, actor: Actor, now, label: str = "") -> None:
    LogEntry.objects.bulk_create(
        [
            LogEntry(
                exercise_id=pk,
                kind=LogKind.CONSOLE,
                text=text,
                actor_label=label or actor_label(actor),
                at=now,
            )
            for pk in ids
        ],
        batch_size=500,
    )


def _regional_title(scenario) -> str:
    from carbet.engines.exercises import render

    values = {**scenario.variable_defaults(), "structure": _("toutes les structures")}
    return render.render(scenario.title, values, [v.name for v in scenario.variables])


def _children(regional: RegionalExercise) -> list[Exercise]:
    # Locked, without their scenario copies (decoding 200 of them took half a second).
    return list(
        Exercise.objects.select_for_update()
        .filter(regional=regional)
        .defer("scenario", "variables", "report_summary")
        .order_by("pk")
    )


def start_regional(actor: Actor, regional: RegionalExercise, *, ip: str | None = None) -> None:
    """Start every structure's exercise at the same instant, under one clock job."""
    require_centre(actor, ExercisePerm.REGIONAL)
    now = timezone.now()
    with transaction.atomic():
        locked = RegionalExercise.objects.select_for_update().get(pk=regional.pk)
        if locked.status not in (ExerciseStatus.DRAFT, ExerciseStatus.SCHEDULED):
            raise ExerciseError(_("Cet exercice a déjà commencé ou est clos."))
        RegionalExercise.objects.filter(pk=regional.pk).update(
            status=ExerciseStatus.RUNNING, started_at=now, pauses=[]
        )
        locked.started_at, locked.pauses = now, []
        children = [
            c
            for c in _children(regional)
            if c.status in (ExerciseStatus.DRAFT, ExerciseStatus.SCHEDULED)
        ]
        ids = [c.pk for c in children]
        Exercise.objects.filter(pk__in=ids).update(
            status=ExerciseStatus.RUNNING, started_at=now, pauses=[]
        )
        console.schedule_pending(ids, locked)
        _log_all(ids, _("Début de l'exercice (régional)."), actor, now)
        if children:
            console.ensure_clock(children[0], actor)
    regional.refresh_from_db()
    audit.record(actor, "exercise.regional_start", regional, ip=ip)


def pause_regional(actor: Actor, regional: RegionalExercise, *, ip: str | None = None) -> None:
    require_centre(actor, ExercisePerm.REGIONAL)
    now, label = timezone.now(), actor_label(actor)
    with transaction.atomic():
        locked = RegionalExercise.objects.select_for_update().get(pk=regional.pk)
        if locked.status != ExerciseStatus.RUNNING:
            raise ExerciseError(_("Seul un exercice en cours peut être mis en pause."))
        pauses = [*locked.pauses, [now.isoformat(), None]]
        RegionalExercise.objects.filter(pk=regional.pk).update(
            status=ExerciseStatus.PAUSED, paused_at=now, pauses=pauses
        )
        ids = [c.pk for c in _children(regional) if c.status == ExerciseStatus.RUNNING]
        Exercise.objects.filter(pk__in=ids).update(
            status=ExerciseStatus.PAUSED, paused_at=now, pauses=pauses
        )
        _log_all(ids, _("Pause : plus aucun envoi."), actor, now, label)
    regional.refresh_from_db()
    audit.record(actor, "exercise.regional_pause", regional, ip=ip)


def resume_regional(actor: Actor, regional: RegionalExercise, *, ip: str | None = None) -> None:
    require_centre(actor, ExercisePerm.REGIONAL)
    now, label = timezone.now(), actor_label(actor)
    with transaction.atomic():
        locked = RegionalExercise.objects.select_for_update().get(pk=regional.pk)
        if locked.status != ExerciseStatus.PAUSED:
            raise ExerciseError(_("Cet exercice n'est pas en pause."))
        pauses = [list(p) for p in locked.pauses]
        if pauses and pauses[-1][1] is None:
            pauses[-1][1] = now.isoformat()
        RegionalExercise.objects.filter(pk=regional.pk).update(
            status=ExerciseStatus.RUNNING, paused_at=None, pauses=pauses
        )
        locked.pauses = pauses
        children = [c for c in _children(regional) if c.status == ExerciseStatus.PAUSED]
        ids = [c.pk for c in children]
        Exercise.objects.filter(pk__in=ids).update(
            status=ExerciseStatus.RUNNING, paused_at=None, pauses=pauses
        )
        console.schedule_pending(ids, locked)
        _log_all(ids, _("Reprise : les injects suivants sont décalés."), actor, now, label)
        if children:
            console.ensure_clock(children[0], actor)
    regional.refresh_from_db()
    audit.record(actor, "exercise.regional_resume", regional, ip=ip)


def finish_regional(actor: Actor, regional: RegionalExercise, *, ip: str | None = None) -> None:
    require_centre(actor, ExercisePerm.REGIONAL)
    now, label = timezone.now(), actor_label(actor)
    with transaction.atomic():
        locked = RegionalExercise.objects.select_for_update().get(pk=regional.pk)
        if locked.status not in (ExerciseStatus.RUNNING, ExerciseStatus.PAUSED):
            raise ExerciseError(_("Seul un exercice en cours ou en pause peut être terminé."))
        RegionalExercise.objects.filter(pk=regional.pk).update(
            status=ExerciseStatus.FINISHED, finished_at=now, paused_at=None
        )
        for child in _children(regional):
            if child.status in (ExerciseStatus.RUNNING, ExerciseStatus.PAUSED):
                console.close(child, now, label)
    regional.refresh_from_db()
    audit.record(actor, "exercise.regional_finish", regional, ip=ip)


def add_regional_adhoc(
    actor: Actor, regional: RegionalExercise, *, ip: str | None = None, **fields
) -> list[Inject]:
    """The same ad-hoc inject in every structure's exercise (scope regional)."""
    require_centre(actor, ExercisePerm.REGIONAL)
    fields["scope"] = InjectScope.REGIONAL
    return [
        console.add_adhoc(actor, child, ip=ip, **fields)
        for child in Exercise.objects.filter(regional=regional).select_related("structure")
        if child.status not in (ExerciseStatus.FINISHED, ExerciseStatus.CANCELLED)
    ]

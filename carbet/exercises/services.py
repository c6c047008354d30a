"""Preparing an exercise: copy a scenario for a structure, people, signed links, schedule.

The exercise is a copy: the scenario's JSON is snapshotted and its cells, injects and
expectations become rows of the exercise, with the structure's variables already rendered
(``carbet.engines.exercises.render``: plain ``{{ name }}`` substitution, no template engine).
Editing the exercise never touches the library row it came from.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from carbet.audit import services as audit
from carbet.core.access import require
from carbet.core.models import Structure
from carbet.core.tenancy import SYSTEM, Actor, SystemActor
from carbet.engines.exercises import jsonformat, render
from carbet.engines.exercises.model import Scenario
from carbet.exercises import tokens
from carbet.exercises.choices import (
    ExerciseStatus,
    InjectScope,
    LinkPurpose,
    LogKind,
    ParticipantRole,
)
from carbet.exercises.models import (
    AccessLink,
    Cell,
    Exercise,
    Expectation,
    Inject,
    LogEntry,
    Participant,
    RegionalExercise,
    ScenarioVersion,
    SendingProfile,
)
from carbet.exercises.service import ExercisePerm

EDITABLE = (ExerciseStatus.DRAFT, ExerciseStatus.SCHEDULED)
UPDATABLE_FIELDS = (
    "title",
    "planned_start",
    "duration_minutes",
    "compression",
    "objectives",
    "variables",
    "profile",
    "continuity_test",
)
MAX_COMPRESSION = 3600.0


class ExerciseError(ValueError):
    """A request the exercise's state does not allow; the message is French, for a person."""


def actor_label(actor: Actor) -> str:
    if isinstance(actor, SystemActor):
        return str(actor)
    return (getattr(actor, "get_full_name", lambda: "")() or str(actor))[:200]


def log(
    exercise: Exercise,
    kind: str,
    text: str,
    *,
    actor: str = "",
    inject: Inject | None = None,
    data: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> LogEntry:
    return LogEntry.objects.create(
        exercise=exercise,
        kind=kind,
        text=text,
        actor_label=actor[:200],
        inject=inject,
        data=data or {},
        at=at or timezone.now(),
    )


def scenario_of(data: dict[str, Any]) -> Scenario:
    """The engine's scenario from a stored snapshot (checked again: a stored copy is data)."""
    scenario, problems = jsonformat.from_data(data)
    if scenario is None:
        raise ExerciseError(
            _("Le scénario enregistré n'est pas valide : %(problem)s")
            % {"problem": problems[0].render() if problems else "?"}
        )
    return scenario


def _check_clock(compression: float, duration_minutes: int) -> None:
    if not (0 < compression <= MAX_COMPRESSION):
        raise ExerciseError(
            _("Le facteur d'accélération doit être compris entre 1 et %(max)d.")
            % {"max": int(MAX_COMPRESSION)}
        )
    if duration_minutes <= 0:
        raise ExerciseError(_("La durée doit être d'au moins une minute."))


def new_reply_key() -> str:
    return secrets.token_hex(6)


def _variables(scenario: Scenario, structure: Structure, given: dict[str, str] | None) -> dict:
    values = scenario.variable_defaults()
    declared = {v.name for v in scenario.variables}
    if "structure" in declared and not (given or {}).get("structure"):
        values["structure"] = structure.name
    for name, value in (given or {}).items():
        if name in declared:
            values[name] = str(value)[:500]
    return values


def copy_scenario(
    exercise: Exercise,
    scenario: Scenario,
    *,
    regional_only: bool | None = None,
) -> None:
    """Cells, injects and expectations of ``scenario`` as rows of ``exercise``, with the
    exercise's variables rendered. ``regional_only`` keeps only regional (True) or local
    (False) injects; None keeps both."""
    variables = exercise.variables or {}
    declared = [v.name for v in scenario.variables]

    def fill(text: str) -> str:
        return render.render(text, variables, declared) if text else ""

    cells = {
        cell.code: Cell.objects.create(exercise=exercise, code=cell.code, name=fill(cell.name))
        for cell in scenario.cells
    }
    kept = [
        item
        for item in scenario.injects
        if regional_only is None or (item.scope == InjectScope.REGIONAL) == regional_only
    ]
    injects = Inject.objects.bulk_create(
        [
            Inject(
                exercise=exercise,
                ref=item.code,
                title=fill(item.title)[:200],
                channel=item.channel,
                scope=item.scope,
                offset_seconds=int(item.offset_minutes) * 60,
                sender_name=fill(item.sender.name)[:150],
                sender_local=_local_part(item.sender.address),
                audience={"to": list(item.recipients)},
                subject=fill(item.subject)[:250],
                body=fill(item.body),
                outlet=fill(item.sender.name)[:150] if item.channel in ("press", "social") else "",
                script=fill(item.phone_script),
                depends_on=[
                    {"inject": d.inject, "condition": d.condition} for d in item.depends_on
                ],
            )
            for item in kept
        ],
        batch_size=500,
    )
    Expectation.objects.bulk_create(
        [
            Expectation(
                exercise=exercise,
                inject=inject,
                ref=expected.code,
                text=fill(expected.text),
                objective=expected.objective,
                cell=cells.get(expected.cell),
            )
            for item, inject in zip(kept, injects, strict=True)
            for expected in item.expectations
        ],
        batch_size=500,
    )


def _local_part(address: str) -> str:
    """The local part a simulated sender writes from (the domain is always the profile's)."""
    local = (address or "").split("@", 1)[0].strip().lower()
    return "".join(ch for ch in local if ch.isalnum() or ch in ".-_")[:64]


def create_exercise(
    actor: Actor,
    structure: Structure,
    version: ScenarioVersion,
    *,
    planned_start: datetime,
    title: str = "",
    duration_minutes: int | None = None,
    compression: float = 1.0,
    objectives: list[str] | None = None,
    variables: dict[str, str] | None = None,
    profile: SendingProfile | None = None,
    continuity_test: bool = False,
    regional: RegionalExercise | None = None,
    ip: str | None = None,
) -> Exercise:
    """A copy of ``version`` for ``structure`` (MANAGE on the structure)."""
    require(actor, ExercisePerm.MANAGE, structure)
    scenario = scenario_of(version.data)
    duration = duration_minutes or scenario.duration_minutes
    _check_clock(compression, duration)
    known = [o.code for o in scenario.objectives]
    chosen = [code for code in (objectives or known) if code in known]
    values = _variables(scenario, structure, variables)
    declared = [v.name for v in scenario.variables]
    with transaction.atomic():
        exercise = Exercise.objects.create(
            structure=structure,
            regional=regional,
            title=(title or render.render(scenario.title, values, declared))[:200],
            level=scenario.level,
            scenario_version=version,
            scenario=jsonformat.to_data(scenario),
            planned_start=planned_start,
            duration_minutes=duration,
            compression=compression,
            objectives=chosen,
            variables=values,
            profile=profile,
            continuity_test=continuity_test,
            reply_key=new_reply_key(),
            created_by=actor if getattr(actor, "pk", None) else None,
        )
        copy_scenario(exercise, scenario)
    audit.record(
        actor,
        "exercise.create",
        exercise,
        structure=structure,
        changes={"scenario": f"{version.code}@{version.version}", "start": planned_start},
        ip=ip,
    )
    return exercise


def update_exercise(actor: Actor, exercise: Exercise, ip: str | None = None, **fields: Any):
    """Change the preparation of an exercise not started yet."""
    require(actor, ExercisePerm.MANAGE, exercise.structure)
    if exercise.status not in EDITABLE:
        raise ExerciseError(_("Un exercice commencé ou terminé ne se modifie plus."))
    unknown = set(fields) - set(UPDATABLE_FIELDS)
    if unknown:
        raise ExerciseError(_("Champ non modifiable : %(name)s") % {"name": sorted(unknown)[0]})
    changes = {}
    for name, value in fields.items():
        before = getattr(exercise, name)
        if before != value:
            changes[name] = [str(before), str(value)]
            setattr(exercise, name, value)
    _check_clock(exercise.compression, exercise.duration_minutes)
    if "variables" in changes:
        scenario = scenario_of(exercise.scenario)
        exercise.variables = _variables(scenario, exercise.structure, fields["variables"])
        with transaction.atomic():
            exercise.save()
            exercise.injects.all().delete()
            exercise.expectations.all().delete()
            exercise.cells.all().delete()
            copy_scenario(exercise, scenario)
    else:
        exercise.save()
    if changes:
        audit.record(actor, "exercise.update", exercise, changes=changes, ip=ip)
    return exercise


def add_participant(
    actor: Actor,
    exercise: Exercise,
    *,
    name: str,
    role: str,
    email: str = "",
    cell: Cell | None = None,
    phone: str = "",
    ip: str | None = None,
) -> Participant:
    require(actor, ExercisePerm.MANAGE, exercise.structure)
    if exercise.status in (ExerciseStatus.FINISHED, ExerciseStatus.CANCELLED):
        raise ExerciseError(_("L'exercice est terminé : la liste des participants est close."))
    if role not in ParticipantRole.values:
        raise ExerciseError(_("Rôle inconnu : %(role)s") % {"role": role})
    if cell is not None and cell.exercise_id != exercise.pk:
        raise ExerciseError(_("Cette cellule n'appartient pas à cet exercice."))
    participant = Participant.objects.create(
        exercise=exercise,
        name=name.strip()[:200],
        email=email.strip().lower(),
        role=role,
        cell=cell,
        phone=phone.strip()[:40],
    )
    audit.record(
        actor,
        "exercise.participant_add",
        participant,
        structure=exercise.structure,
        changes={"exercise": exercise.pk, "role": role},
        ip=ip,
    )
    return participant


def remove_participant(actor: Actor, participant: Participant, ip: str | None = None) -> None:
    exercise = participant.exercise
    require(actor, ExercisePerm.MANAGE, exercise.structure)
    audit.record(
        actor,
        "exercise.participant_remove",
        participant,
        structure=exercise.structure,
        changes={"exercise": exercise.pk},
        ip=ip,
    )
    participant.delete()


def _link_expiry(exercise: Exercise, days: int) -> datetime:
    base = max(timezone.now(), exercise.planned_start)
    return base + timedelta(days=max(1, min(days, 365)))


def issue_link(
    actor: Actor, participant: Participant, *, days: int = 30, ip: str | None = None
) -> str:
    """A new space link for ``participant``; the token is returned once and never stored.
    The participant's earlier space links stop working."""
    exercise = participant.exercise
    require(actor, ExercisePerm.MANAGE, exercise.structure)
    token = tokens.new_token()
    now = timezone.now()
    with transaction.atomic():
        AccessLink.objects.filter(
            participant=participant, purpose=LinkPurpose.SPACE, revoked_at__isnull=True
        ).update(revoked_at=now)
        link = AccessLink.objects.create(
            exercise=exercise,
            participant=participant,
            purpose=LinkPurpose.SPACE,
            token_digest=tokens.digest(token),
            expires_at=_link_expiry(exercise, days),
        )
    audit.record(
        actor,
        "exercise.link_issue",
        link,
        structure=exercise.structure,
        changes={"participant": participant.pk, "expires": link.expires_at},
        ip=ip,
    )
    return token


def issue_retex_link(
    actor: Actor, exercise: Exercise, *, days: int = 14, ip: str | None = None
) -> str:
    """A link to the anonymous hot RETEX questionnaire (one answer per link)."""
    require(actor, ExercisePerm.RUN, exercise.structure)
    token = tokens.new_token()
    link = AccessLink.objects.create(
        exercise=exercise,
        purpose=LinkPurpose.RETEX,
        token_digest=tokens.digest(token),
        expires_at=timezone.now() + timedelta(days=max(1, min(days, 90))),
    )
    audit.record(actor, "exercise.retex_link", link, structure=exercise.structure, ip=ip)
    return token


def revoke_link(actor: Actor, link: AccessLink, ip: str | None = None) -> None:
    require(actor, ExercisePerm.MANAGE, link.exercise.structure)
    if link.revoked_at is None:
        AccessLink.objects.filter(pk=link.pk).update(revoked_at=timezone.now())
        audit.record(actor, "exercise.link_revoke", link, structure=link.exercise.structure, ip=ip)


def schedule(actor: Actor, exercise: Exercise, ip: str | None = None) -> None:
    require(actor, ExercisePerm.MANAGE, exercise.structure)
    if exercise.status != ExerciseStatus.DRAFT:
        raise ExerciseError(_("Seul un exercice en préparation peut être programmé."))
    Exercise.objects.filter(pk=exercise.pk).update(status=ExerciseStatus.SCHEDULED)
    exercise.status = ExerciseStatus.SCHEDULED
    audit.record(actor, "exercise.schedule", exercise, ip=ip)


def cancel(actor: Actor, exercise: Exercise, ip: str | None = None) -> None:
    require(actor, ExercisePerm.MANAGE, exercise.structure)
    if exercise.status in (ExerciseStatus.FINISHED, ExerciseStatus.CANCELLED):
        raise ExerciseError(_("Cet exercice est déjà clos."))
    Exercise.objects.filter(pk=exercise.pk).update(
        status=ExerciseStatus.CANCELLED, finished_at=timezone.now()
    )
    exercise.status = ExerciseStatus.CANCELLED
    log(exercise, LogKind.CONSOLE, _("Exercice annulé."), actor=actor_label(actor))
    audit.record(actor, "exercise.cancel", exercise, ip=ip)


__all__ = [
    "SYSTEM",
    "ExerciseError",
    "add_participant",
    "cancel",
    "copy_scenario",
    "create_exercise",
    "issue_link",
    "issue_retex_link",
    "remove_participant",
    "revoke_link",
    "schedule",
    "update_exercise",
]

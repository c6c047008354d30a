"""Demo data of the exercises service (``carbet demo load``): one exercise held six weeks ago
with its after-action report (evaluation, observations, hot RETEX, findings and actions), one
exercise scheduled in an EHPAD, and one regional exercise planned for three structures.

Nothing is sent: the held exercise is written as its clock would have left it (injects out at
their time, published press items, a player's reply through his space, expectations judged),
then closed, evaluated and turned into findings by the service's own functions. Idempotent: a
structure that already has an exercise, or a region that already has a regional exercise, is
left alone.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.utils import timezone

from carbet.core.tenancy import SYSTEM
from carbet.exercises import services, services_after, services_console, services_regional, tokens
from carbet.exercises.choices import (
    Channel,
    ExerciseStatus,
    InjectState,
    ItemKind,
    LinkPurpose,
    LogKind,
    Outcome,
    ParticipantRole,
)
from carbet.exercises.models import (
    Exercise,
    Expectation,
    PhoneReminder,
    PressItem,
    RegionalExercise,
    ScenarioVersion,
)

HELD, SCHEDULED = "ch-anse-bleue", "ehpad-hibiscus"
REGIONAL = ("ch-saint-ilet", "ehpad-flamboyants", "ehpad-corossol")
PEOPLE = (
    ("Mme Lucie Bellay (directrice d'exercice)", ParticipantRole.DIRECTOR),
    ("M. Karim Ducos (animateur, centre)", ParticipantRole.ANIMATOR),
    ("Dr Hélène Marie-Sainte", ParticipantRole.PLAYER),
    ("M. Joël Carbet (DSI)", ParticipantRole.PLAYER),
    ("Mme Inès Lauret (communication)", ParticipantRole.PLAYER),
    ("M. Paul Ravine (observateur)", ParticipantRole.OBSERVER),
)
OUTCOMES = (Outcome.MET, Outcome.MET, Outcome.PARTIAL, Outcome.NOT_MET)
STRENGTHS = (
    ("Cellule de crise réunie en moins de 30 minutes", "La liste d'astreinte était à jour."),
    ("Bascule rapide sur les procédures papier aux urgences", "Les classeurs étaient prêts."),
)
IMPROVEMENTS = (
    (
        "Annuaire de crise introuvable hors du système d'information",
        "Personne n'a pu joindre le prestataire sans la messagerie.",
        "Imprimer l'annuaire de crise et le ranger dans la salle de crise ; le vérifier "
        "chaque trimestre.",
        3,
    ),
    (
        "Déclaration d'incident faite trop tard",
        "Le CERT Santé et l'ARS ont été prévenus après plus de quatre heures.",
        "Inscrire la déclaration (portail de signalement) dans la fiche réflexe de la cellule, "
        "avec la personne chargée de la faire.",
        2,
    ),
)


def _version(regional: bool = False) -> ScenarioVersion | None:
    rows = ScenarioVersion.objects.filter(from_library=True).order_by("level", "code", "version")
    if regional:
        ready = [v for v in rows if v.data.get("regional_ready")]
        return ready[0] if ready else None
    return rows.first()


def _at(day: dt.date, hour: int) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, 0)))


def _participants(exercise: Exercise) -> dict[str, Any]:
    cells = list(exercise.cells.all())
    made = {}
    for index, (name, role) in enumerate(PEOPLE):
        cell = cells[index % len(cells)] if cells and role == ParticipantRole.PLAYER else None
        made[name] = services.add_participant(SYSTEM, exercise, name=name, role=role, cell=cell)
    return made


def _play(exercise: Exercise, start: dt.datetime, people: dict[str, Any]) -> None:
    """What the clock and the players would have left: injects out at their time, press items
    published, one reply, expectations judged, observations noted."""
    Exercise.objects.filter(pk=exercise.pk).update(status=ExerciseStatus.RUNNING, started_at=start)
    exercise.refresh_from_db()
    for inject in exercise.injects.order_by("offset_seconds"):
        when = start + dt.timedelta(seconds=inject.offset_seconds)
        inject.state, inject.due_at, inject.sent_at = InjectState.SENT, when, when
        inject.save(update_fields=["state", "due_at", "sent_at"])
        kind = LogKind.SENT if inject.channel == Channel.EMAIL else LogKind.PUBLISHED
        if inject.channel in (Channel.PRESS, Channel.SOCIAL):
            PressItem.objects.create(
                exercise=exercise,
                inject=inject,
                channel=inject.channel,
                outlet=inject.outlet or inject.sender_name,
                headline=inject.subject or inject.title,
                body=inject.body,
                published_at=when,
            )
        elif inject.channel == Channel.PHONE:
            kind = LogKind.PHONE
            PhoneReminder.objects.create(
                exercise=exercise,
                inject=inject,
                callee=inject.sender_name,
                script=inject.script,
                due_at=when,
                done_at=when + dt.timedelta(minutes=3),
            )
        services.log(exercise, kind, f"{inject.ref} {inject.title}", inject=inject, at=when)
    player = next(p for p in people.values() if p.role == ParticipantRole.PLAYER)
    token = services.issue_link(SYSTEM, player)
    link = tokens.open_link(token, LinkPurpose.SPACE)
    first = exercise.injects.filter(channel=Channel.EMAIL).first()
    if link is not None:
        services_console.submit_reply(
            link,
            body="Cellule de crise activée. Nous passons les urgences en procédure papier et "
            "appelons le prestataire.",
            subject="Re: alerte",
            inject=first,
        )
    for index, expectation in enumerate(Expectation.objects.filter(exercise=exercise)):
        services_console.validate_expectation(
            SYSTEM, expectation, OUTCOMES[index % len(OUTCOMES)], "Constaté par l'animation."
        )
    grid = (exercise.scenario or {}).get("observation_grid") or []
    observer = next(p for p in people.values() if p.role == ParticipantRole.OBSERVER)
    token = services.issue_link(SYSTEM, observer)
    observer_link = tokens.open_link(token, LinkPurpose.SPACE)
    for index, row in enumerate(grid[:4]):
        services_console.record_observation(
            observer_link or SYSTEM,
            exercise,
            criterion=str(row.get("criterion", ""))[:200] or "Coordination",
            rating=(index % 3) + 2,
            note="Décision prise collectivement, traces écrites tenues.",
        )


def _after(exercise: Exercise) -> None:
    for row in exercise.objectives:
        services_after.evaluate_objective(
            SYSTEM,
            exercise,
            row,
            Outcome.MET if row.endswith("1") else Outcome.PARTIAL,
            "Conclusion de l'équipe d'animation au débriefing.",
        )
    for title, detail in STRENGTHS:
        services_after.add_item(
            SYSTEM, exercise, kind=ItemKind.STRENGTH, title=title, detail=detail
        )
    for title, detail, recommendation, severity in IMPROVEMENTS:
        services_after.add_item(
            SYSTEM,
            exercise,
            kind=ItemKind.IMPROVEMENT,
            title=title,
            detail=detail,
            recommendation=recommendation,
            severity=severity,
        )
    for role, clarity, well, improve in (
        (ParticipantRole.PLAYER, "4", "La bascule papier.", "Savoir qui appeler."),
        (ParticipantRole.PLAYER, "3", "L'entraide.", "La déclaration d'incident."),
        (ParticipantRole.OBSERVER, "3", "", "Tenir la main courante dès le début."),
    ):
        token = services.issue_retex_link(SYSTEM, exercise)
        link = tokens.open_link(token, LinkPurpose.RETEX)
        if link is not None:
            services_console.submit_retex(
                link,
                {
                    "clarity": clarity,
                    "realism": "4",
                    "coordination": "3",
                    "learned": "4",
                    "went_well": well,
                    "to_improve": improve,
                },
                role=role,
            )
    services_after.ingest_retex(SYSTEM, exercise)


def _held(structure: Any, version: ScenarioVersion, today: dt.date) -> int:
    start = _at(today - dt.timedelta(days=45), 9)
    with transaction.atomic():
        exercise = services.create_exercise(
            SYSTEM, structure, version, planned_start=start, continuity_test=True
        )
        people = _participants(exercise)
    _play(exercise, start, people)
    services_console.close(
        exercise, start + dt.timedelta(minutes=exercise.duration_minutes), "démonstration"
    )
    _after(exercise)
    return 1


def _scheduled(structure: Any, version: ScenarioVersion, today: dt.date) -> int:
    with transaction.atomic():
        exercise = services.create_exercise(
            SYSTEM, structure, version, planned_start=_at(today + dt.timedelta(days=20), 9)
        )
        _participants(exercise)
        services.schedule(SYSTEM, exercise)
    return 1


def load(structures: dict[str, Any], users: list[Any], today: dt.date | None = None) -> int:
    """Add the demo exercises; returns how many exercises (local or regional) were created."""
    today = today or timezone.localdate()
    version = _version()
    if version is None:
        return 0
    created = 0
    held = structures.get(HELD)
    if held is not None and not Exercise.objects.filter(structure=held).exists():
        created += _held(held, version, today)
    scheduled = structures.get(SCHEDULED)
    if scheduled is not None and not Exercise.objects.filter(structure=scheduled).exists():
        created += _scheduled(scheduled, version, today)
    regional_version = _version(regional=True)
    members = [structures[key] for key in REGIONAL if structures.get(key) is not None]
    if regional_version is not None and members and not RegionalExercise.objects.exists():
        with transaction.atomic():
            services_regional.create_regional(
                SYSTEM,
                regional_version,
                members,
                planned_start=_at(today + dt.timedelta(days=40), 9),
                title="Exercice régional : " + regional_version.title,
            )
        created += 1
    return created

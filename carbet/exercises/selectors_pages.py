"""Read-only views of the exercises for the pages: console, player space, coverage, regional.

Nothing here writes. The callers have already obtained their rows through
``carbet.core.access`` (staff pages) or an opened signed link (public spaces); the querysets
below only narrow what those rows lead to.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from carbet.core.models import Structure
from carbet.core.tenancy import Actor
from carbet.engines import disclosure
from carbet.engines.exercises import jsonformat
from carbet.engines.exercises.model import Scenario
from carbet.exercises.choices import (
    Channel,
    ExerciseStatus,
    InjectState,
    Outcome,
    ParticipantRole,
)
from carbet.exercises.models import (
    AccessLink,
    Exercise,
    Expectation,
    Inject,
    LogEntry,
    RegionalExercise,
    Reply,
)
from carbet.exercises.service import ExercisePerm

# How many rows of each kind the live console shows (the full log is in the report).
CONSOLE_ROWS = 60
HELD_STATUSES = (ExerciseStatus.RUNNING, ExerciseStatus.PAUSED, ExerciseStatus.FINISHED)


def scenario_from(data: dict[str, Any]) -> Scenario | None:
    scenario, _problems = jsonformat.from_data(data)
    return scenario


# --- Preparation ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    label: str
    done: bool
    hint: str = ""


def checklist(exercise: Exercise) -> list[Step]:
    """What must be ready before the start, in the order a director checks it."""
    people = Counter(exercise.participants.values_list("role", flat=True))
    live_links = AccessLink.objects.filter(
        exercise=exercise, revoked_at__isnull=True, participant__isnull=False
    ).count()
    has_email = exercise.injects.filter(channel=Channel.EMAIL).exists()
    return [
        Step(
            _("Objectifs retenus"),
            bool(exercise.objectives),
            _("Choisissez deux à quatre objectifs : l'évaluation portera sur eux."),
        ),
        Step(
            _("Un directeur ou une directrice d'exercice"),
            people[ParticipantRole.DIRECTOR] > 0,
            _("La personne qui décide d'arrêter ou d'adapter l'exercice."),
        ),
        Step(
            _("Au moins un animateur"),
            people[ParticipantRole.ANIMATOR] > 0,
            _("Il envoie les stimuli, passe les appels et valide les attendus."),
        ),
        Step(
            _("Des joueurs"),
            people[ParticipantRole.PLAYER] > 0,
            _("Les membres de la cellule de crise qui jouent l'exercice."),
        ),
        Step(
            _("Au moins un observateur"),
            people[ParticipantRole.OBSERVER] > 0,
            _("Il remplit la grille d'observation, de préférence sur un téléphone."),
        ),
        Step(
            _("Des liens envoyés aux joueurs et observateurs"),
            live_links > 0,
            _("Chaque personne reçoit son lien personnel, sans compte à créer."),
        ),
        Step(
            _("Un profil d'envoi des courriels"),
            exercise.profile_id is not None or not has_email,
            _("Nécessaire si le chronogramme contient des courriels."),
        ),
        Step(
            _("Un mandat « exercice de crise » en vigueur"),
            exercise.mandate_id is not None or not has_email,
            _("Sans mandat, aucun courriel ne part vers les adresses de la structure."),
        ),
    ]


def links_by_participant(exercise: Exercise) -> dict[int, AccessLink]:
    """The newest space link of each participant (revoked or not, to say so)."""
    found: dict[int, AccessLink] = {}
    for link in AccessLink.objects.filter(exercise=exercise, participant__isnull=False).order_by(
        "created_at"
    ):
        found[link.participant_id] = link
    return found


# --- Live console --------------------------------------------------------------------------


@dataclass
class Console:
    due: list[dict[str, Any]] = field(default_factory=list)
    sent: list[Inject] = field(default_factory=list)
    replies: list[Reply] = field(default_factory=list)
    expectations: list[Expectation] = field(default_factory=list)
    validated: int = 0
    calls: list[Any] = field(default_factory=list)
    log: list[LogEntry] = field(default_factory=list)


def console(exercise: Exercise, now: dt.datetime | None = None) -> Console:
    now = now or timezone.now()
    state = Console()
    pending = exercise.injects.filter(state__in=(InjectState.PENDING, InjectState.SENDING))
    for inject in pending.order_by("due_at", "offset_seconds", "id")[:CONSOLE_ROWS]:
        seconds = None
        if inject.due_at is not None and exercise.status == ExerciseStatus.RUNNING:
            seconds = max(0, int((inject.due_at - now).total_seconds()))
        minutes = None if seconds is None else seconds // 60
        state.due.append({"inject": inject, "minutes": minutes})
    state.sent = list(
        exercise.injects.filter(
            state__in=(InjectState.SENT, InjectState.SKIPPED, InjectState.FAILED)
        ).order_by("-sent_at", "-id")[:CONSOLE_ROWS]
    )
    state.replies = list(
        Reply.objects.filter(exercise=exercise)
        .select_related("participant", "inject")
        .order_by("-received_at", "-id")[:CONSOLE_ROWS]
    )
    expectations = list(
        Expectation.objects.filter(exercise=exercise)
        .select_related("inject", "result", "cell")
        .order_by("inject__offset_seconds", "id")
    )
    state.validated = sum(1 for e in expectations if _result(e) is not None)
    # Expectations of injects already out come first: those are the ones to judge now.
    state.expectations = sorted(
        expectations,
        key=lambda e: (
            _result(e) is not None,
            not (e.inject is not None and e.inject.state == InjectState.SENT),
            e.pk,
        ),
    )
    state.calls = list(exercise.calls.filter(done_at__isnull=True).select_related("inject"))
    state.log = list(exercise.log.order_by("-at", "-id")[:CONSOLE_ROWS])
    return state


def console_digest(exercise: Exercise, state: Console) -> str:
    """A fingerprint of what the live partial shows: the poll answers "nothing new" (204, no
    swap) while it is unchanged, so the region is only announced when something happened."""
    import hashlib

    parts = [
        exercise.status,
        str(exercise.started_at),
        repr([(r["inject"].pk, r["inject"].state, r["minutes"]) for r in state.due]),
        repr([(i.pk, i.state) for i in state.sent]),
        repr([r.pk for r in state.replies]),
        str(state.validated),
        repr([c.pk for c in state.calls]),
        repr([e.pk for e in state.log]),
    ]
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:16]


def _result(expectation: Expectation) -> Any:
    try:
        return expectation.result
    except Expectation.result.RelatedObjectDoesNotExist:  # type: ignore[attr-defined]
        return None


# --- Public spaces -------------------------------------------------------------------------


def player_feed(link: AccessLink) -> dict[str, Any]:
    """What a player's space shows: messages and documents addressed to them (who receives
    what is decided by ``carbet.exercises.selectors.player_feed``), simulated press and social
    posts once published, and their own replies. Only injects already sent."""
    from carbet.exercises.selectors import player_feed as core_feed

    feed = core_feed(link)
    messages = sorted(feed.injects, key=lambda i: (i.sent_at or timezone.now(), i.pk), reverse=True)
    now = timezone.now()
    press = [p for p in feed.press if p.published_at <= now]
    return {
        "messages": messages,
        "documents": [m for m in messages if m.channel == Channel.DOCUMENT],
        "press": [p for p in press if p.channel == Channel.PRESS],
        "social": [p for p in press if p.channel == Channel.SOCIAL],
        "replies": sorted(feed.replies, key=lambda r: r.received_at, reverse=True),
    }


def grid_criteria(exercise: Exercise) -> list[str]:
    """The observation grid's criteria (the scenario copy's), for the observer's list."""
    grid = (exercise.scenario or {}).get("observation_grid") or []
    return [str(row.get("criterion", "")) for row in grid if row.get("criterion")]


# --- After the exercise --------------------------------------------------------------------


def objectives_of(exercise: Exercise) -> list[dict[str, Any]]:
    """The chosen objectives with their evaluation and the expectations' tally."""
    scenario = exercise.scenario or {}
    chosen = set(exercise.objectives or [])
    evaluations = {e.objective: e for e in exercise.evaluations.all()}
    tallies: dict[str, Counter] = {}
    for expectation in Expectation.objects.filter(exercise=exercise).select_related("result"):
        result = _result(expectation)
        tallies.setdefault(expectation.objective, Counter())[
            result.outcome if result is not None else "pending"
        ] += 1
    rows = []
    for objective in scenario.get("objectives") or []:
        code = objective.get("code", "")
        if chosen and code not in chosen:
            continue
        tally = tallies.get(code, Counter())
        rows.append(
            {
                "code": code,
                "title": objective.get("title", ""),
                "criteria": objective.get("criteria") or [],
                "evaluation": evaluations.get(code),
                "met": tally[Outcome.MET],
                "partly": tally[Outcome.PARTIAL],
                "not_met": tally[Outcome.NOT_MET],
                "pending": tally["pending"],
            }
        )
    return rows


def retex_summary(exercise: Exercise) -> dict[str, Any]:
    """The hot RETEX answers: average per question (1 to 4) and the free texts."""
    from carbet.exercises.forms import RETEX_QUESTIONS

    answers = [r.answers for r in exercise.retex.all()]
    questions = []
    for code, label in RETEX_QUESTIONS:
        values = [int(a[code]) for a in answers if str(a.get(code, "")).isdigit()]
        mean = round(sum(values) / len(values), 1) if values else None
        questions.append({"label": label, "mean": mean, "count": len(values)})
    return {
        "count": len(answers),
        "questions": questions,
        "went_well": [a["went_well"] for a in answers if a.get("went_well")],
        "to_improve": [a["to_improve"] for a in answers if a.get("to_improve")],
    }


# --- Region --------------------------------------------------------------------------------


@dataclass(frozen=True)
class CoverageRow:
    structure: Structure
    last: Exercise | None
    exercised: bool


def coverage(
    actor: Actor, year: int, *, category: str = "", departement: str = ""
) -> list[CoverageRow]:
    """Every structure the actor oversees, with whether an exercise was held in ``year``
    (started, whatever its end) and the latest one."""
    structures = Structure.objects.visible_to(actor, ExercisePerm.REGIONAL).order_by(
        "departement", "name"
    )
    if category:
        structures = structures.filter(category=category)
    if departement:
        structures = structures.filter(departement=departement)
    held: QuerySet[Exercise] = Exercise.objects.visible_to(actor, ExercisePerm.REGIONAL).filter(
        status__in=HELD_STATUSES, started_at__year=year
    )
    latest: dict[int, Exercise] = {}
    for exercise in held.defer("scenario").order_by("started_at"):
        latest[exercise.structure_id] = exercise
    return [CoverageRow(s, latest.get(s.pk), s.pk in latest) for s in structures]


def ars_summary(year: int) -> dict[str, Any]:
    """Aggregates for the ARS: structures that held an exercise in ``year``, by category,
    small cells hidden (``carbet.engines.disclosure``); no structure is named."""
    from carbet.core.choices import Category

    held_ids = set(
        Exercise.objects.filter(status__in=HELD_STATUSES, started_at__year=year).values_list(
            "structure_id", flat=True
        )
    )
    total_by_category = Counter(Structure.objects.values_list("category", flat=True))
    labels = dict(Category.choices)
    held_by_category = Counter(
        Structure.objects.filter(pk__in=held_ids).values_list("category", flat=True)
    )
    cells = [(str(labels.get(c, c)), held_by_category[c]) for c in sorted(total_by_category)]
    table = disclosure.protect_counts(cells)
    rows = [
        {"label": label, "held": count, "total": total_by_category[code]}
        for (label, count), code in zip(table.rows(), sorted(total_by_category), strict=True)
    ]
    regionals = RegionalExercise.objects.filter(planned_start__year=year).count()
    structures = sum(total_by_category.values())
    return {
        "year": year,
        "structures": structures,
        "held": len(held_ids),
        "share": disclosure.protect_share(len(held_ids), structures),
        "table": table,
        "rows": rows,
        "regionals": regionals,
    }


def exercise_filter(actor: Actor, perm: Any) -> QuerySet[Exercise]:
    """Exercises for lists: the scenario snapshot (large JSON) is not loaded."""
    return Exercise.objects.visible_to(actor, perm).select_related("structure").defer("scenario")


__all__ = [
    "Console",
    "CoverageRow",
    "Step",
    "ars_summary",
    "checklist",
    "console",
    "coverage",
    "grid_criteria",
    "links_by_participant",
    "objectives_of",
    "player_feed",
    "retex_summary",
    "scenario_from",
]

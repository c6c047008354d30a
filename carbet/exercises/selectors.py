"""Reading the exercises: lists for an actor, the timeline, a participant's space, the
centre's "who exercised this year", the regional console and the ARS summary."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Count, Max, Q, QuerySet
from django.utils import timezone

from carbet.core.models import Structure
from carbet.core.tenancy import Actor
from carbet.engines import disclosure
from carbet.exercises.choices import (
    PUBLISHED_CHANNELS,
    ExerciseStatus,
    InjectState,
    LinkPurpose,
    LogKind,
    Outcome,
    ParticipantRole,
)
from carbet.exercises.mailing import recipients_of
from carbet.exercises.models import (
    AccessLink,
    Exercise,
    Expectation,
    ExpectationResult,
    Inject,
    LogEntry,
    RegionalExercise,
    Reply,
)
from carbet.exercises.service import ExercisePerm

HELD = (ExerciseStatus.FINISHED,)


def exercises_for(actor: Actor, perm: str = ExercisePerm.VIEW) -> QuerySet[Exercise]:
    return (
        Exercise.objects.visible_to(actor, perm)  # type: ignore[attr-defined]
        .select_related("structure", "regional")
        .order_by("-planned_start", "-id")
    )


def regionals_for(actor: Actor) -> QuerySet[RegionalExercise]:
    return RegionalExercise.objects.visible_to(actor, ExercisePerm.REGIONAL)  # type: ignore[attr-defined]


@dataclass(frozen=True)
class TimelineRow:
    at: datetime | None
    kind: str  # a LogKind, or "due" for an inject still to come
    text: str
    inject_id: int | None = None
    state: str = ""
    actor: str = ""
    due_in_seconds: float | None = None


def timeline(
    exercise: Exercise, now: datetime | None = None, limit: int = 500
) -> list[TimelineRow]:
    """What happened (the log, newest last) followed by what is due (pending injects)."""
    now = now or timezone.now()
    rows = [
        TimelineRow(e.at, e.kind, e.text, e.inject_id, actor=e.actor_label)
        for e in LogEntry.objects.filter(exercise=exercise).order_by("-at", "-id")[:limit]
    ]
    rows.reverse()
    for inject in exercise.injects.filter(state=InjectState.PENDING).order_by("due_at", "id"):
        rows.append(
            TimelineRow(
                inject.due_at,
                "due",
                inject.title,
                inject.pk,
                state=inject.state,
                due_in_seconds=(inject.due_at - now).total_seconds() if inject.due_at else None,
            )
        )
    return rows


@dataclass
class PlayerFeed:
    """What a participant sees in their space: what reached them, the simulated press."""

    exercise: Exercise
    participant_id: int | None
    injects: list[Inject] = field(default_factory=list)
    press: list = field(default_factory=list)
    replies: list = field(default_factory=list)


def player_feed(link: AccessLink) -> PlayerFeed:
    """The injects sent to the link's participant (mails, messages, documents) and every
    press/social item published so far. Nothing not yet sent is ever shown."""
    exercise = link.exercise
    person = link.participant
    feed = PlayerFeed(exercise, person.pk if person else None)
    if link.purpose != LinkPurpose.SPACE or person is None:
        return feed
    people = [person]
    sent = exercise.injects.filter(state=InjectState.SENT).order_by("sent_at", "id")
    staff = person.role in (ParticipantRole.ANIMATOR, ParticipantRole.OBSERVER)
    feed.injects = [
        i
        for i in sent
        if i.channel not in ("press", "social", "phone") and (staff or recipients_of(i, people))
    ]
    feed.press = list(exercise.press.order_by("-published_at", "-id"))
    feed.replies = list(exercise.replies.filter(participant=person).order_by("received_at"))
    return feed


def published_channels() -> tuple[str, ...]:
    return tuple(str(c) for c in PUBLISHED_CHANNELS)


@dataclass(frozen=True)
class CoverageRow:
    structure: Structure
    exercised: bool
    last_finished: datetime | None
    planned: int


def coverage(actor: Actor, year: int | None = None) -> list[CoverageRow]:
    """Every structure the actor may see with ``exercises.view``: did it hold an exercise this
    year (a finished one), when, and how many are planned."""
    year = year or timezone.localdate().year
    structures = Structure.objects.visible_to(actor, ExercisePerm.VIEW).order_by("name")  # type: ignore[attr-defined]
    stats = {
        row["structure_id"]: row
        for row in Exercise.objects.filter(structure__in=structures)
        .values("structure_id")
        .annotate(
            last=Max("finished_at", filter=Q(status__in=HELD, finished_at__year=year)),
            planned=Count(
                "id",
                filter=Q(
                    status__in=(
                        ExerciseStatus.DRAFT,
                        ExerciseStatus.SCHEDULED,
                        ExerciseStatus.RUNNING,
                        ExerciseStatus.PAUSED,
                    )
                ),
            ),
        )
    }
    return [
        CoverageRow(
            s,
            bool(stats.get(s.pk, {}).get("last")),
            stats.get(s.pk, {}).get("last"),
            stats.get(s.pk, {}).get("planned", 0),
        )
        for s in structures
    ]


@dataclass
class BoardRow:
    exercise_id: int
    structure: str
    status: str
    sent: int
    pending: int
    replies: int
    outcomes: dict[str, int]


@dataclass
class RegionalBoard:
    regional: RegionalExercise
    rows: list[BoardRow]
    totals: dict[str, int]


def _counts(queryset, *fields) -> Counter:
    return Counter(
        {
            tuple(row[f] for f in fields): row["n"]
            for row in queryset.values(*fields).annotate(n=Count("id")).order_by()
        }
    )


def regional_console(regional: RegionalExercise) -> RegionalBoard:
    """Structures × expectations (met / partial / not met / not evaluated): five grouped
    queries whatever the number of structures (no join of injects with expectations)."""
    children = list(
        Exercise.objects.filter(regional=regional)
        .select_related("structure")
        .only("pk", "status", "structure__name")
        .order_by("structure__name")
    )
    injects = _counts(Inject.objects.filter(exercise__regional=regional), "exercise_id", "state")
    expected = _counts(Expectation.objects.filter(exercise__regional=regional), "exercise_id")
    outcomes = _counts(
        ExpectationResult.objects.filter(expectation__exercise__regional=regional),
        "expectation__exercise_id",
        "outcome",
    )
    replies = _counts(Reply.objects.filter(exercise__regional=regional), "exercise_id")
    rows, totals = [], Counter()
    for child in children:
        row = {code: outcomes.get((child.pk, code), 0) for code in Outcome.values}
        row["pending"] = expected.get((child.pk,), 0) - sum(row.values())
        totals.update(row)
        rows.append(
            BoardRow(
                child.pk,
                child.structure.name,
                child.status,
                injects.get((child.pk, InjectState.SENT.value), 0),
                injects.get((child.pk, InjectState.PENDING.value), 0),
                replies.get((child.pk,), 0),
                row,
            )
        )
    return RegionalBoard(regional, rows, dict(totals))


def regional_summary(year: int | None = None) -> dict:
    """For the ARS: how many structures exercised this year, by level, and the share of
    expectations met — aggregates only, small cells protected (``engines.disclosure``)."""
    year = year or timezone.localdate().year
    held = Exercise.objects.filter(status__in=HELD, finished_at__year=year)
    structures = Structure.objects.count()
    exercised = held.values("structure_id").distinct().count()
    by_level = dict(
        held.values_list("level").annotate(n=Count("structure_id", distinct=True)).order_by()
    )
    levels = disclosure.protect_counts([(level, by_level[level]) for level in sorted(by_level)])
    results = Counter(
        ExpectationResult.objects.filter(expectation__exercise__in=held).values_list(
            "outcome", flat=True
        )
    )
    evaluated = sum(results.values())
    share = None
    if exercised >= disclosure.MIN_GROUP and evaluated:
        # A group of at least five structures, published as a band of tens (rule 3).
        share = disclosure.step_band(100.0 * results.get(Outcome.MET, 0) / evaluated, 10)
    return {
        "year": year,
        "structures": structures,
        "exercised": disclosure.protect_counts(
            [("exercised", exercised), ("not_exercised", structures - exercised)]
        ),
        "by_level": levels,
        "share_met": share,
        "regional_exercises": RegionalExercise.objects.filter(
            status=ExerciseStatus.FINISHED, finished_at__year=year
        ).count(),
    }


def log_for(exercise: Exercise, kinds: tuple[str, ...] = ()) -> QuerySet[LogEntry]:
    query = LogEntry.objects.filter(exercise=exercise)
    return query.filter(kind__in=kinds) if kinds else query


REPLY = LogKind.REPLY


def board_rows(regional: RegionalExercise) -> list[dict]:
    """The regional board as rows for the pages (same keys as ``selectors_pages``'s board:
    exercise, structure, met, partly, not_met, pending, total, share, sent, replies), from
    ``regional_console``'s grouped queries: a constant number of queries, no scenario loaded."""
    board = regional_console(regional)
    children = {
        child.pk: child
        for child in Exercise.objects.filter(regional=regional)
        .select_related("structure")
        .defer("scenario", "variables", "report_summary", "objectives")
    }
    rows = []
    for row in board.rows:
        total = sum(row.outcomes.values())
        met = row.outcomes.get(Outcome.MET, 0)
        child = children[row.exercise_id]
        rows.append(
            {
                "exercise": child,
                "structure": child.structure,
                "met": met,
                "partly": row.outcomes.get(Outcome.PARTIAL, 0),
                "not_met": row.outcomes.get(Outcome.NOT_MET, 0),
                "pending": row.outcomes.get("pending", 0),
                "total": total,
                "share": round(100 * met / total) if total else None,
                "sent": row.sent,
                "replies": row.replies,
            }
        )
    return rows


def regional_inject_rows(regional: RegionalExercise) -> list[dict]:
    """The regional injects with how many structures have each sent / pending / other, in one
    grouped query (same keys as ``selectors_pages.regional_injects``)."""
    rows: dict[str, dict] = {}
    grouped = (
        Inject.objects.filter(exercise__regional=regional, scope="regional")
        .values("ref", "title", "channel", "state", "offset_seconds")
        .annotate(n=Count("id"), due=Max("due_at"))
        .order_by("offset_seconds", "ref")
    )
    labels = dict(Inject._meta.get_field("channel").choices)
    for item in grouped:
        row = rows.setdefault(
            item["ref"],
            {
                "ref": item["ref"],
                "title": item["title"],
                "channel": labels.get(item["channel"], item["channel"]),
                "sent": 0,
                "pending": 0,
                "other": 0,
                "due_at": item["due"],
            },
        )
        key = {"sent": "sent", "pending": "pending"}.get(item["state"], "other")
        row[key] += item["n"]
    return list(rows.values())

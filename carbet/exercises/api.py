"""Crisis exercises through the API: exercises visible to the caller, their timeline, the
console's actions (start, pause, resume, trigger, skip, ad-hoc inject, expectations, finish),
the centre's coverage of the year, the regional board and the ARS's aggregates.

Every object is reached through ``carbet.core.access``: another structure's exercise is a 404,
a visible one without the right is a 403.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Schema

from carbet.accounts.roles import Perm
from carbet.api.auth import actor
from carbet.api.errors import ApiError
from carbet.api.pagination import Page, PageQuery, paginate
from carbet.api.schemas import ObjectId, StructureRef
from carbet.audit.services import client_ip
from carbet.core import access
from carbet.exercises import selectors, services_console, services_regional
from carbet.exercises.models import Exercise, Expectation, Inject, RegionalExercise
from carbet.exercises.service import ExercisePerm
from carbet.exercises.services import ExerciseError

router = Router(tags=["exercices"])


class ExerciseOut(Schema):
    id: int
    structure: StructureRef
    regional_id: int | None
    title: str
    level: str
    status: str
    planned_start: datetime
    duration_minutes: int
    compression: float
    started_at: datetime | None
    finished_at: datetime | None


class InjectOut(Schema):
    id: int
    ref: str
    title: str
    channel: str
    scope: str
    state: str
    offset_seconds: int
    due_at: datetime | None
    sent_at: datetime | None
    adhoc: bool
    error: str


class ExerciseDetailOut(ExerciseOut):
    injects: list[InjectOut]


class TimelineOut(Schema):
    at: datetime | None
    kind: str
    text: str
    inject_id: int | None
    state: str
    actor: str
    due_in_seconds: float | None


class ExerciseFilters(Schema):
    structure: ObjectId | None = None
    status: str | None = None


class SkipIn(Schema):
    reason: str = ""


class AdhocIn(Schema):
    title: str
    channel: str
    body: str = ""
    subject: str = ""
    sender_name: str = ""
    in_minutes: int = 0
    to: list[str] = ["all"]


class ResultIn(Schema):
    outcome: str
    comment: str = ""


class CoverageOut(Schema):
    structure: StructureRef
    exercised: bool
    last_finished: datetime | None
    planned: int


class BoardRowOut(Schema):
    exercise_id: int
    structure: str
    status: str
    sent: int
    pending: int
    replies: int
    outcomes: dict[str, int]


class ExerciseBoardOut(Schema):
    id: int
    title: str
    status: str
    rows: list[BoardRowOut]
    totals: dict[str, int]


def _exercise(request: HttpRequest, pk: int, perm: str = ExercisePerm.VIEW) -> Exercise:
    return access.owned_for(
        actor(request),
        Exercise.objects.visible_to(actor(request), ExercisePerm.VIEW).select_related("structure"),
        pk,
        perm,  # type: ignore[arg-type]
        see=ExercisePerm.VIEW,  # type: ignore[arg-type]
    )


def _conflict(exc: ExerciseError) -> ApiError:
    return ApiError(409, str(exc), code="exercise_refused")


@router.get("/exercises", response=Page[ExerciseOut], summary="Exercices visibles")
def list_exercises(
    request: HttpRequest, page: Query[PageQuery], filters: Query[ExerciseFilters]
) -> dict:
    access.require(actor(request), ExercisePerm.VIEW)  # type: ignore[arg-type]
    rows = selectors.exercises_for(actor(request))
    if filters.structure is not None:
        rows = rows.filter(structure_id=filters.structure)
    if filters.status:
        rows = rows.filter(status=filters.status)
    return paginate(request, rows, page, ("-planned_start", "-id"))


@router.get("/exercises/{int:id}", response=ExerciseDetailOut, summary="Un exercice et ses injects")
def exercise_detail(request: HttpRequest, id: int) -> dict[str, Any]:
    exercise = _exercise(request, id)
    data = ExerciseOut.from_orm(exercise).model_dump()
    data["injects"] = list(exercise.injects.order_by("offset_seconds", "id"))
    return data


@router.get(
    "/exercises/{int:id}/timeline",
    response=list[TimelineOut],
    summary="Journal de l'exercice et injects à venir",
)
def exercise_timeline(request: HttpRequest, id: int) -> list:
    return selectors.timeline(_exercise(request, id))


@router.post("/exercises/{int:id}/injects", response={201: InjectOut}, summary="Inject ad hoc")
def add_adhoc(request: HttpRequest, id: int, payload: AdhocIn):
    exercise = _exercise(request, id, ExercisePerm.RUN)
    try:
        inject = services_console.add_adhoc(
            actor(request),
            exercise,
            title=payload.title,
            channel=payload.channel,
            body=payload.body,
            subject=payload.subject,
            sender_name=payload.sender_name,
            in_minutes=payload.in_minutes,
            audience={"to": payload.to[:20] or ["all"]},
            ip=client_ip(request),
        )
    except ExerciseError as exc:
        raise _conflict(exc) from None
    return 201, inject


def _console_route(action: str, summary: str):
    """One console route per action (start, pause, resume, finish): explicit paths."""
    service = getattr(services_console, action)

    @router.post(
        f"/exercises/{{int:id}}/{action}",
        response=ExerciseOut,
        summary=summary,
        operation_id=f"exercise_{action}",
    )
    def route(request: HttpRequest, id: int) -> Exercise:
        exercise = _exercise(request, id, ExercisePerm.RUN)
        try:
            service(actor(request), exercise, ip=client_ip(request))
        except ExerciseError as exc:
            raise _conflict(exc) from None
        exercise.refresh_from_db()
        return exercise

    route.__name__ = f"exercise_{action}"
    return route


exercise_start = _console_route("start", "Démarrer l'exercice (l'horloge envoie les injects)")
exercise_pause = _console_route("pause", "Mettre en pause (plus aucun envoi)")
exercise_resume = _console_route("resume", "Reprendre (les injects suivants sont décalés)")
exercise_finish = _console_route("finish", "Terminer l'exercice")


def _inject(request: HttpRequest, pk: int) -> Inject:
    return access.owned_for(
        actor(request),
        Inject.objects.visible_to(actor(request), ExercisePerm.VIEW).select_related(
            "exercise", "exercise__structure"
        ),
        pk,
        ExercisePerm.RUN,  # type: ignore[arg-type]
        see=ExercisePerm.VIEW,  # type: ignore[arg-type]
    )


@router.post(
    "/exercises/injects/{int:id}/trigger", response=InjectOut, summary="Envoyer maintenant"
)
def trigger_inject(request: HttpRequest, id: int) -> Inject:
    inject = _inject(request, id)
    try:
        services_console.trigger_now(actor(request), inject, ip=client_ip(request))
    except ExerciseError as exc:
        raise _conflict(exc) from None
    inject.refresh_from_db()
    return inject


@router.post("/exercises/injects/{int:id}/skip", response=InjectOut, summary="Sauter un inject")
def skip_inject(request: HttpRequest, id: int, payload: SkipIn) -> Inject:
    inject = _inject(request, id)
    try:
        services_console.skip(actor(request), inject, payload.reason, ip=client_ip(request))
    except ExerciseError as exc:
        raise _conflict(exc) from None
    inject.refresh_from_db()
    return inject


@router.post(
    "/exercises/expectations/{int:id}/result",
    response=dict,
    summary="Évaluer un attendu (met, partial, not_met)",
)
def expectation_result(request: HttpRequest, id: int, payload: ResultIn) -> dict[str, Any]:
    expectation = access.owned_for(
        actor(request),
        Expectation.objects.visible_to(actor(request), ExercisePerm.VIEW).select_related(
            "exercise", "exercise__structure"
        ),
        id,
        ExercisePerm.RUN,  # type: ignore[arg-type]
        see=ExercisePerm.VIEW,  # type: ignore[arg-type]
    )
    try:
        result = services_console.validate_expectation(
            actor(request), expectation, payload.outcome, payload.comment, ip=client_ip(request)
        )
    except ExerciseError as exc:
        raise _conflict(exc) from None
    return {"expectation": expectation.pk, "outcome": result.outcome, "at": result.at}


@router.get(
    "/exercises/coverage",
    response=list[CoverageOut],
    summary="Structures ayant tenu (ou non) leur exercice de l'année",
)
def coverage(request: HttpRequest, year: int | None = None) -> list:
    access.require(actor(request), ExercisePerm.VIEW)  # type: ignore[arg-type]
    return selectors.coverage(actor(request), year)


@router.get(
    "/exercises/regional/{int:id}/board",
    response=ExerciseBoardOut,
    summary="Console régionale : structures × attendus",
)
def regional_board(request: HttpRequest, id: int) -> dict[str, Any]:
    regional = access.visible_or_404(
        actor(request),
        RegionalExercise,
        id,
        ExercisePerm.REGIONAL,  # type: ignore[arg-type]
    )
    board = selectors.regional_console(regional)
    return {
        "id": regional.pk,
        "title": regional.title,
        "status": regional.status,
        "rows": [vars(row) for row in board.rows],
        "totals": board.totals,
    }


@router.get(
    "/exercises/regional-summary",
    response=dict,
    summary="Synthèse régionale pour l'ARS (agrégats protégés)",
)
def regional_summary(request: HttpRequest, year: int | None = None) -> dict[str, Any]:
    access.require(actor(request), Perm.REGION_AGGREGATES)
    summary = selectors.regional_summary(year)
    for key in ("exercised", "by_level"):
        table = summary[key]
        summary[key] = {"rows": table.rows(), "published": table.published, "total": table.total}
    band = summary["share_met"]
    summary["share_met"] = str(band) if band is not None else None
    return summary


__all__ = ["router", "services_regional"]

"""The crisis service through the API: reports, cases, the main courante, tasks, decisions,
declarations, the continuity board, indicators (STIX 2.1) and the ARS's aggregates.

Same rules as the pages: a case is visible to the centre and to the members of its crisis cell
only (404 otherwise, 403 when seen without the right); the ARS gets aggregates, never a case.
Every write goes through the service functions (rights, log, audit).
"""

from __future__ import annotations

import json
from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from ninja import Query, Router, Status

from carbet.api.auth import actor
from carbet.api.errors import ApiError
from carbet.api.pagination import Page, PageQuery, paginate
from carbet.api.schemas import ObjectId
from carbet.core import access
from carbet.crisis import (
    selectors,
    services,
    services_board,
    services_clock,
    services_evidence,
    services_log,
    services_work,
    stix,
)
from carbet.crisis.api_schemas import (
    ActivityOut,
    ActivityPatch,
    CaseDetailOut,
    CaseOut,
    CorrectionIn,
    CrisisAggregatesOut,
    CrisisAssetOut,
    CrisisAssetPatch,
    CrisisBoardOut,
    CrisisDecisionIn,
    CrisisVerifyOut,
    DecisionOut,
    DeclarationOut,
    EntryIn,
    EntryOut,
    IndicatorIn,
    IndicatorOut,
    LogFilters,
    PhaseIn,
    QualifyIn,
    ReportIn,
    ReportOut,
    SentIn,
    TaskIn,
    TaskOut,
    TaskPatch,
    TemplateOut,
)
from carbet.crisis.models import Activity, CrisisAsset, IncidentReport, LogEntry, Obligation, Task
from carbet.crisis.service import CrisisPerm

router = Router(tags=["crise"])


def _run(call: Any) -> Any:
    """Run a service call; its plain refusals (``ValueError``) become 422 errors."""
    try:
        return call()
    except ValueError as exc:
        raise ApiError(422, str(exc), code="invalid") from None
    except ValidationError as exc:
        raise ApiError(422, "; ".join(exc.messages), code="invalid") from None


# --- Reports ------------------------------------------------------------------------------------


def _report_out(report: IncidentReport) -> dict[str, Any]:
    case = getattr(report, "case", None) if report.status == "qualified" else None
    return {**ReportOut.from_orm(report).model_dump(), "case_id": case.pk if case else None}


@router.get("/crisis/reports", response=Page[ReportOut], summary="Signalements d'incident")
def list_reports(request: HttpRequest, page: Query[PageQuery]) -> dict:
    access.require(actor(request), CrisisPerm.REPORT)
    result = paginate(request, selectors.reports_for(actor(request)), page, ("-reported_at",))
    result["results"] = [_report_out(r) for r in result["results"]]
    return result


@router.post(
    "/crisis/structures/{int:id}/reports",
    response={201: ReportOut},
    summary="Signaler un incident (direction ou référent de la structure)",
)
def create_report(request: HttpRequest, id: int, payload: ReportIn) -> Status:
    user = actor(request)
    structure = access.structure_for(user, id, CrisisPerm.REPORT)
    report = _run(lambda: services.report_incident(user, structure, **payload.model_dump()))
    return Status(201, _report_out(report))


@router.post(
    "/crisis/reports/{int:id}/qualify",
    response={200: ReportOut},
    summary="Qualifier un signalement et ouvrir le dossier (centre)",
)
def qualify_report(request: HttpRequest, id: int, payload: QualifyIn) -> dict[str, Any]:
    user = actor(request)
    report = access.owned_for(user, IncidentReport, id, CrisisPerm.MANAGE, see=CrisisPerm.REPORT)
    _run(lambda: services.qualify_report(user, report, **payload.model_dump()))
    report.refresh_from_db()
    return _report_out(report)


# --- Cases --------------------------------------------------------------------------------------


@router.get("/crisis/cases", response=Page[CaseOut], summary="Dossiers de crise visibles")
def list_cases(request: HttpRequest, page: Query[PageQuery]) -> dict:
    access.require(actor(request), CrisisPerm.VIEW)
    return paginate(request, selectors.cases_for(actor(request)), page, ("-opened_at",))


@router.get(
    "/crisis/cases/{int:id}",
    response=CaseDetailOut,
    summary="Un dossier : phases, déclarations, tâches, tableau de continuité",
)
def case_detail(request: HttpRequest, id: int) -> dict[str, Any]:
    case = selectors.case_for(actor(request), id)
    view = selectors.director_view(case)
    return {
        **CaseOut.from_orm(case).model_dump(),
        "phases": [
            {"phase": label, "days": round(spent.total_seconds() / 86400, 2)}
            for label, spent in view.durations
        ],
        "declarations": selectors.declarations(case),
        "open_tasks": sum(w["open"] for w in view.workstreams.values()),
        "overdue_tasks": len(view.overdue_tasks),
        "activities_not_normal": view.activity_counts["degraded"] + view.activity_counts["stopped"],
        "log_entries": view.entries,
        "exit_criteria_done": view.exit_done,
        "exit_criteria_total": view.exit_total,
    }


@router.post("/crisis/cases/{int:id}/phase", response=CaseOut, summary="Changer de phase (centre)")
def change_phase(request: HttpRequest, id: int, payload: PhaseIn) -> Any:
    user = actor(request)
    case = selectors.case_for(user, id, CrisisPerm.MANAGE)
    _run(lambda: services.change_phase(user, case, payload.phase, reason=payload.reason))
    case.refresh_from_db()
    return case


# --- Main courante ------------------------------------------------------------------------------


@router.get(
    "/crisis/cases/{int:id}/log", response=Page[EntryOut], summary="La main courante, filtrée"
)
def case_log(
    request: HttpRequest, id: int, page: Query[PageQuery], filters: Query[LogFilters]
) -> dict:
    case = selectors.case_for(actor(request), id)
    rows = selectors.log_entries(
        case,
        kind=filters.kind,
        verified=filters.verified,
        text=filters.q,
        since=filters.since,
        until=filters.until,
    )
    return paginate(request, rows, page, ("sequence",))


@router.post(
    "/crisis/cases/{int:id}/log",
    response={201: EntryOut},
    summary="Ajouter une entrée à la main courante (scellée, jamais modifiable)",
)
def append_entry(request: HttpRequest, id: int, payload: EntryIn) -> Status:
    user = actor(request)
    case = selectors.case_for(user, id, CrisisPerm.CONTRIBUTE)
    entry = _run(lambda: services_log.append_entry(user, case, **payload.model_dump()))
    return Status(201, entry)


@router.post(
    "/crisis/log-entries/{int:id}/correction",
    response={201: EntryOut},
    summary="Corriger une entrée : une nouvelle entrée qui la remplace",
)
def correct_entry(request: HttpRequest, id: int, payload: CorrectionIn) -> Status:
    user = actor(request)
    entry = access.visible_or_404(user, LogEntry, id, CrisisPerm.VIEW)
    selectors.case_for(user, entry.case_id, CrisisPerm.CONTRIBUTE)
    fixed = _run(lambda: services_log.correct_entry(user, entry, **payload.model_dump()))
    return Status(201, fixed)


@router.get(
    "/crisis/cases/{int:id}/log/verify",
    response=CrisisVerifyOut,
    summary="Vérifier le chaînage de la main courante",
)
def verify_log(request: HttpRequest, id: int) -> dict[str, Any]:
    case = selectors.case_for(actor(request), id)
    result = services_log.verify_log(case)
    return {
        "ok": result.ok,
        "checked": result.checked,
        "first_broken": result.first_broken,
        "message": services_log.problem_text(result),
    }


# --- Tasks, decisions, declarations -------------------------------------------------------------


@router.get("/crisis/cases/{int:id}/tasks", response=list[TaskOut], summary="Tâches du dossier")
def list_tasks(request: HttpRequest, id: int) -> Any:
    case = selectors.case_for(actor(request), id)
    return list(case.tasks.all())


@router.post("/crisis/cases/{int:id}/tasks", response={201: TaskOut}, summary="Ajouter une tâche")
def create_task(request: HttpRequest, id: int, payload: TaskIn) -> Status:
    user = actor(request)
    case = selectors.case_for(user, id, CrisisPerm.CONTRIBUTE)
    return Status(201, _run(lambda: services_work.add_task(user, case, **payload.model_dump())))


@router.patch("/crisis/tasks/{int:id}", response=TaskOut, summary="Mettre à jour une tâche")
def update_task(request: HttpRequest, id: int, payload: TaskPatch) -> Any:
    user = actor(request)
    task = access.visible_or_404(user, Task, id, CrisisPerm.VIEW)
    selectors.case_for(user, task.case_id, CrisisPerm.CONTRIBUTE)
    return _run(lambda: services_work.update_task(user, task, **payload.model_dump()))


@router.get(
    "/crisis/cases/{int:id}/decisions", response=list[DecisionOut], summary="Décisions du dossier"
)
def list_decisions(request: HttpRequest, id: int) -> Any:
    return list(selectors.case_for(actor(request), id).decisions.all())


@router.post(
    "/crisis/cases/{int:id}/decisions",
    response={201: DecisionOut},
    summary="Enregistrer une décision (options, motif, qui décide)",
)
def create_decision(request: HttpRequest, id: int, payload: CrisisDecisionIn) -> Status:
    user = actor(request)
    case = selectors.case_for(user, id, CrisisPerm.CONTRIBUTE)
    decision = _run(lambda: services_work.record_decision(user, case, **payload.model_dump()))
    return Status(201, decision)


@router.get(
    "/crisis/cases/{int:id}/declarations",
    response=list[DeclarationOut],
    summary="Déclarations obligatoires : échéance, envoi, référence",
)
def list_declarations(request: HttpRequest, id: int) -> list[dict[str, Any]]:
    return selectors.declarations(selectors.case_for(actor(request), id))


@router.post(
    "/crisis/obligations/{int:id}/sent",
    response=DeclarationOut,
    summary="Noter l'envoi d'une déclaration et la référence reçue",
)
def obligation_sent(request: HttpRequest, id: int, payload: SentIn) -> dict[str, Any]:
    user = actor(request)
    obligation = access.visible_or_404(user, Obligation, id, CrisisPerm.VIEW)
    selectors.case_for(user, obligation.case_id, CrisisPerm.CONTRIBUTE)
    _run(lambda: services_clock.mark_obligation_sent(user, obligation, **payload.model_dump()))
    return next(d for d in selectors.declarations(obligation.case) if d["id"] == obligation.pk)


# --- Board, indicators --------------------------------------------------------------------------


@router.get(
    "/crisis/cases/{int:id}/board",
    response=CrisisBoardOut,
    summary="Tableau de continuité : activités et systèmes",
)
def board(request: HttpRequest, id: int) -> dict[str, Any]:
    case = selectors.case_for(actor(request), id)
    return {"activities": list(case.activities.all()), "assets": list(case.assets.all())}


@router.patch(
    "/crisis/activities/{int:id}", response=ActivityOut, summary="Fonctionnement d'une activité"
)
def update_activity(request: HttpRequest, id: int, payload: ActivityPatch) -> Any:
    user = actor(request)
    activity = access.visible_or_404(user, Activity, id, CrisisPerm.VIEW)
    selectors.case_for(user, activity.case_id, CrisisPerm.CONTRIBUTE)
    return _run(lambda: services_board.set_activity_mode(user, activity, **payload.model_dump()))


@router.patch("/crisis/case-assets/{int:id}", response=CrisisAssetOut, summary="État d'un système")
def update_asset(request: HttpRequest, id: int, payload: CrisisAssetPatch) -> Any:
    user = actor(request)
    row = access.visible_or_404(user, CrisisAsset, id, CrisisPerm.VIEW)
    selectors.case_for(user, row.case_id, CrisisPerm.CONTRIBUTE)
    return _run(lambda: services_board.set_asset_state(user, row, **payload.model_dump()))


@router.get(
    "/crisis/cases/{int:id}/indicators",
    response=list[IndicatorOut],
    summary="Indicateurs de compromission",
)
def list_indicators(request: HttpRequest, id: int) -> Any:
    return list(selectors.case_for(actor(request), id).indicators.all())


@router.post(
    "/crisis/cases/{int:id}/indicators",
    response={201: IndicatorOut},
    summary="Ajouter un indicateur de compromission",
)
def create_indicator(request: HttpRequest, id: int, payload: IndicatorIn) -> Status:
    user = actor(request)
    case = selectors.case_for(user, id, CrisisPerm.CONTRIBUTE)
    indicator = _run(lambda: services_evidence.add_indicator(user, case, **payload.model_dump()))
    return Status(201, indicator)


@router.get(
    "/crisis/cases/{int:id}/indicators/stix",
    response=dict[str, Any],
    summary="Les indicateurs en STIX 2.1 (bundle)",
)
def indicators_stix(request: HttpRequest, id: int) -> dict[str, Any]:
    case = selectors.case_for(actor(request), id)
    return json.loads(stix.bundle_json(case))


# --- Region -------------------------------------------------------------------------------------


def _table(table: Any) -> dict[str, Any]:
    if table is None:
        return {"published": False, "reason": "differencing", "rows": []}
    return {
        "published": table.published,
        "reason": table.reason,
        "rows": [{"label": label, "count": count} for label, count in table.rows()]
        if table.published
        else [],
    }


@router.get(
    "/crisis/aggregates",
    response=CrisisAggregatesOut,
    summary="Indicateurs régionaux des crises (agrégés, règles de diffusion appliquées)",
)
def aggregates(request: HttpRequest) -> dict[str, Any]:
    result = selectors.region_aggregates(actor(request))
    return {
        "crises": result.total,
        "open": result.open_cases,
        "by_category": _table(result.by_category),
        "by_departement": _table(result.by_departement),
        "by_phase": _table(result.by_phase),
        "mean_days": str(result.mean_days) if result.mean_days else None,
    }


@router.get("/crisis/templates", response=list[TemplateOut], summary="Modèles de crise")
def list_templates(request: HttpRequest) -> list[dict[str, str]]:
    access.require(actor(request), CrisisPerm.REPORT)
    return [{"code": code, "title": title} for code, title in selectors.templates()]


__all__ = ["ObjectId", "router"]

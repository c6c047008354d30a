"""The roadmap through the API: frameworks, assessments and answers, the diagnostic, roadmap
items, the backup register and indicators.

Reads go through ``visible_to`` (another structure's row is a 404); writes call the services,
which check the rights (403), validate (422) and audit. Regional aggregates need
``REGION_AGGREGATES`` and never carry a structure's own figure.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema
from pydantic import Field

from carbet.accounts.roles import Perm
from carbet.api.auth import actor
from carbet.api.errors import ApiError
from carbet.api.pagination import Page, PageQuery, paginate
from carbet.api.schemas import InputSchema, ObjectId, StructureRef
from carbet.audit.services import client_ip
from carbet.core import access
from carbet.core.tenancy import can
from carbet.engines.roadmap import indicators as engine
from carbet.roadmap import indicators, services, services_backups, services_roadmap
from carbet.roadmap.models import (
    Assessment,
    BackupSystem,
    Framework,
    FundingDomain,
    IndicatorValue,
    ItemStatus,
    Result,
    RoadmapItem,
)
from carbet.roadmap.models.backups import RestoreResult
from carbet.roadmap.service import RoadmapPerm

router = Router(tags=["feuille de route"])
API_PREFIX = "roadmap"


# --- Schemas ---------------------------------------------------------------------------------


class FrameworkOut(Schema):
    code: str
    version: str
    kind: str
    scale: str
    title: str
    requirements: int


class AnswerOut(Schema):
    requirement: str = Field(description="Code de l'exigence dans son référentiel.")
    official_id: str
    result: str = Field(description="met, partial, not_met, unknown, na, ou vide (note 0–3).")
    score: int | None
    justification: str
    answered_at: dt.datetime


class AssessmentOut(Schema):
    id: int
    structure: StructureRef
    framework: str
    updated_at: dt.datetime
    completed_at: dt.datetime | None


class AssessmentDetailOut(AssessmentOut):
    answers: list[AnswerOut]


class AnswerIn(InputSchema):
    requirement: str = Field(max_length=60)
    result: Result | None = None
    score: int | None = Field(default=None, ge=0, le=3)
    justification: str = Field(default="", max_length=services.MAX_JUSTIFICATION)


class DiagnosticOut(Schema):
    structure: StructureRef
    overall: float | None = Field(description="Moyenne des réponses notées, sur 3.")
    themes: dict[str, float | None]
    priorities: list[str] = Field(description="Les six mesures prioritaires (codes).")
    answered: int
    total: int


class ItemOut(Schema):
    id: int
    structure: StructureRef
    title: str
    why: str
    how: str
    requirement: str | None
    year: int
    rank: int
    priority: int
    status: str
    owner_label: str
    budget: Decimal | None
    funding_domain: str
    funding_amount: Decimal | None
    funding_deadline: dt.date | None
    proposed: bool
    findings: list[int]
    action_items: list[int]


class ItemPatch(InputSchema):
    title: str = Field(default=None, min_length=1, max_length=200)
    why: str = Field(default=None, max_length=4000)
    how: str = Field(default=None, max_length=4000)
    year: int = Field(default=None, ge=2000, le=2100)
    priority: int = Field(default=None, ge=1, le=3)
    status: ItemStatus = Field(default=None)
    owner_label: str = Field(default=None, max_length=200)
    budget: Decimal | None = Field(default=None, ge=0, max_digits=12, decimal_places=2)
    funding_domain: FundingDomain = Field(default=None)
    funding_amount: Decimal | None = Field(default=None, ge=0, max_digits=12, decimal_places=2)
    funding_deadline: dt.date | None = None


class RestoreTestOut(Schema):
    id: int
    tested_on: dt.date
    scope: str
    result: str
    to_production: bool
    business_referent: str


class BackupOut(Schema):
    id: int
    structure: StructureRef
    name: str
    criticality: str
    method: str
    frequency_days: int
    copies: int
    media: int
    offsite: bool
    immutable_offline: bool
    supervised: bool
    rule_321: bool
    last_success_on: dt.date | None
    restore_tests: list[RestoreTestOut]


class RestoreTestIn(InputSchema):
    tested_on: dt.date
    scope: str = Field(min_length=1, max_length=300)
    result: RestoreResult
    to_production: bool = False
    business_referent: str = Field(default="", max_length=200)
    duration_hours: Decimal | None = Field(default=None, ge=0, max_digits=6, decimal_places=1)
    notes: str = Field(default="", max_length=4000)


class IndicatorValueOut(Schema):
    structure: StructureRef
    code: str
    day: dt.date
    value: float | None
    manual: bool


class RegionalOut(Schema):
    code: str
    title: str
    day: dt.date | None
    data: dict[str, Any]


class StructureFilter(Schema):
    structure: ObjectId | None = None


class IndicatorFilter(StructureFilter):
    code: str | None = Field(default=None, max_length=60)
    since: dt.date | None = None


# --- Helpers ---------------------------------------------------------------------------------


def _answers(assessment: Assessment) -> list[dict[str, Any]]:
    return [
        {
            "requirement": a.requirement.code,
            "official_id": a.requirement.official_id,
            "result": a.result,
            "score": a.score,
            "justification": a.justification,
            "answered_at": a.answered_at,
        }
        for a in assessment.answers.select_related("requirement").order_by("requirement__order")
    ]


def _assessment_out(assessment: Assessment, detail: bool = False) -> dict[str, Any]:
    out = {
        "id": assessment.pk,
        "structure": assessment.structure,
        "framework": assessment.framework.code,
        "updated_at": assessment.updated_at,
        "completed_at": assessment.completed_at,
    }
    if detail:
        out["answers"] = _answers(assessment)
    return out


def _item_out(item: RoadmapItem) -> dict[str, Any]:
    return {
        **{name: getattr(item, name) for name in ItemOut.model_fields if hasattr(item, name)},
        "structure": item.structure,
        "requirement": f"{item.requirement.framework.code}:{item.requirement.code}"
        if item.requirement
        else None,
        "findings": sorted(item.findings.values_list("pk", flat=True)),
        "action_items": sorted(item.action_items.values_list("pk", flat=True)),
    }


def _backup_out(system: BackupSystem) -> dict[str, Any]:
    return {
        **{name: getattr(system, name) for name in BackupOut.model_fields if hasattr(system, name)},
        "structure": system.structure,
        "restore_tests": list(system.tests.all()[:50]),
    }


# --- Routes ------------------------------------------------------------------------------------


@router.get("/frameworks", response=list[FrameworkOut], summary="Référentiels chargés")
def list_frameworks(request: HttpRequest):
    access.require(actor(request), RoadmapPerm.VIEW)
    if not can(actor(request), RoadmapPerm.VIEW):
        raise PermissionDenied
    return [
        {
            "code": f.code,
            "version": f.version,
            "kind": f.kind,
            "scale": f.scale,
            "title": f.title,
            "requirements": f.requirements.filter(retired=False).count(),
        }
        for f in Framework.objects.all()
    ]


@router.get("/framework-assessments", response=Page[AssessmentOut], summary="Évaluations")
def list_assessments(request: HttpRequest, filters: Query[StructureFilter], page: Query[PageQuery]):
    access.require(actor(request), RoadmapPerm.VIEW)
    rows = Assessment.objects.visible_to(actor(request), RoadmapPerm.VIEW).select_related(
        "structure", "framework"
    )
    if filters.structure:
        rows = rows.filter(structure_id=filters.structure)
    result = paginate(request, rows, page, ("structure__name", "framework__code"))
    result["results"] = [_assessment_out(a) for a in result["results"]]
    return result


def _visible_assessment(request: HttpRequest, pk: int) -> Assessment:
    return get_object_or_404(
        Assessment.objects.visible_to(actor(request), RoadmapPerm.VIEW).select_related(
            "structure__organisation__ght", "framework"
        ),
        pk=pk,
    )


@router.get("/framework-assessments/{id}", response=AssessmentDetailOut, summary="Une évaluation")
def get_assessment(request: HttpRequest, id: int):
    return _assessment_out(_visible_assessment(request, id), detail=True)


@router.post(
    "/framework-assessments/{id}/answers",
    response=AssessmentDetailOut,
    summary="Répondre à une exigence",
)
def post_answer(request: HttpRequest, id: int, payload: AnswerIn):
    assessment = _visible_assessment(request, id)
    requirement = assessment.framework.requirements.filter(
        code=payload.requirement, retired=False
    ).first()
    if requirement is None:
        message = _("Exigence inconnue dans ce référentiel.")
        raise ApiError(422, details={"requirement": [message]})
    services.answer(
        actor(request),
        assessment,
        requirement,
        result=payload.result or "",
        score=payload.score,
        justification=payload.justification,
    )
    return _assessment_out(assessment, detail=True)


@router.get("/structures/{id}/diagnostic", response=DiagnosticOut, summary="Diagnostic")
def get_diagnostic(request: HttpRequest, id: int):
    structure = access.structure_for(actor(request), id, see=RoadmapPerm.VIEW)
    framework = get_object_or_404(Framework, code=services.DIAGNOSTIC_CODE)
    assessment = services.assessment_for(structure, framework)
    result = services.diagnostic_result(assessment)
    return {
        "structure": structure,
        "overall": result.overall,
        "themes": result.theme_scores,
        "priorities": result.priorities,
        "answered": result.answered,
        "total": result.total,
    }


@router.post("/structures/{id}/proposal", response=list[ItemOut], summary="Proposer le plan")
def post_proposal(request: HttpRequest, id: int):
    structure = access.structure_for(actor(request), id, RoadmapPerm.EDIT, see=RoadmapPerm.VIEW)
    roadmap = services_roadmap.propose_roadmap(actor(request), structure, client_ip(request))
    return [
        _item_out(i) for i in roadmap.items.select_related("structure", "requirement__framework")
    ]


@router.get("/plan-items", response=Page[ItemOut], summary="Chantiers des feuilles de route")
def list_items(request: HttpRequest, filters: Query[StructureFilter], page: Query[PageQuery]):
    access.require(actor(request), RoadmapPerm.VIEW)
    rows = RoadmapItem.objects.visible_to(actor(request), RoadmapPerm.VIEW).select_related(
        "structure", "requirement__framework"
    )
    if filters.structure:
        rows = rows.filter(structure_id=filters.structure)
    result = paginate(request, rows, page, ("structure__name", "year", "rank"))
    result["results"] = [_item_out(i) for i in result["results"]]
    return result


def _visible_item(request: HttpRequest, pk: int) -> RoadmapItem:
    return get_object_or_404(
        RoadmapItem.objects.visible_to(actor(request), RoadmapPerm.VIEW).select_related(
            "structure__organisation__ght", "roadmap", "requirement__framework"
        ),
        pk=pk,
    )


@router.get("/plan-items/{id}", response=ItemOut, summary="Un chantier")
def get_item(request: HttpRequest, id: int):
    return _item_out(_visible_item(request, id))


@router.patch("/plan-items/{id}", response=ItemOut, summary="Modifier un chantier")
def patch_item(request: HttpRequest, id: int, payload: ItemPatch):
    item = _visible_item(request, id)
    values = payload.model_dump(exclude_unset=True)
    if "funding_domain" in values:
        values["funding_domain"] = values["funding_domain"] or ""
    services_roadmap.save_item(actor(request), item.roadmap, values, item, ip=client_ip(request))
    item.refresh_from_db()
    return _item_out(item)


@router.get("/backups", response=Page[BackupOut], summary="Registre des sauvegardes")
def list_backups(request: HttpRequest, filters: Query[StructureFilter], page: Query[PageQuery]):
    access.require(actor(request), RoadmapPerm.VIEW)
    rows = BackupSystem.objects.visible_to(actor(request), RoadmapPerm.VIEW).select_related(
        "structure"
    )
    if filters.structure:
        rows = rows.filter(structure_id=filters.structure)
    result = paginate(request, rows, page, ("structure__name", "name"))
    result["results"] = [_backup_out(s) for s in result["results"]]
    return result


def _visible_backup(request: HttpRequest, pk: int) -> BackupSystem:
    return get_object_or_404(
        BackupSystem.objects.visible_to(actor(request), RoadmapPerm.VIEW).select_related(
            "structure__organisation__ght"
        ),
        pk=pk,
    )


@router.get("/backups/{id}", response=BackupOut, summary="Un système sauvegardé")
def get_backup(request: HttpRequest, id: int):
    return _backup_out(_visible_backup(request, id))


@router.post(
    "/backups/{id}/restore-tests", response=BackupOut, summary="Enregistrer un test de restauration"
)
def post_restore_test(request: HttpRequest, id: int, payload: RestoreTestIn):
    system = _visible_backup(request, id)
    services_backups.record_restore_test(
        actor(request), system, payload.model_dump(), client_ip(request)
    )
    return _backup_out(system)


@router.get("/indicators", response=Page[IndicatorValueOut], summary="Valeurs des indicateurs")
def list_indicators(request: HttpRequest, filters: Query[IndicatorFilter], page: Query[PageQuery]):
    access.require(actor(request), RoadmapPerm.VIEW)
    rows = IndicatorValue.objects.visible_to(actor(request), RoadmapPerm.VIEW).select_related(
        "structure"
    )
    if filters.structure:
        rows = rows.filter(structure_id=filters.structure)
    if filters.code:
        rows = rows.filter(code=filters.code)
    if filters.since:
        rows = rows.filter(day__gte=filters.since)
    return paginate(request, rows, page, ("structure__name", "code", "day"))


@router.get("/indicators/region", response=list[RegionalOut], summary="Agrégats régionaux")
def regional_indicators(request: HttpRequest):
    if not can(actor(request), Perm.REGION_AGGREGATES):
        raise PermissionDenied
    out = []
    for definition in indicators.definitions():
        latest = indicators.latest_regional(definition.code)
        out.append(
            {
                "code": definition.code,
                "title": definition.title,
                "day": latest.day if latest else None,
                # What the ARS may see of it: bands and secret small counts, never the
                # stored aggregate itself (``carbet.engines.disclosure``).
                "data": engine.publish(definition, latest.data) if latest else {},
            }
        )
    return out

"""Phishing simulations through the API: campaigns with their aggregate results, launching
one (centre staff, mandate required), a structure's trend, and importing its staff list.

Results through the API are aggregates only (funnel, by service): individual results stay in
the pages, where each nominative view is audited.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import File, Query, Router, Schema, Status
from ninja.files import UploadedFile

from carbet.api.auth import actor
from carbet.api.errors import ApiError
from carbet.api.pagination import Page, PageQuery, paginate
from carbet.api.schemas import ObjectId, StructureRef
from carbet.audit.services import client_ip
from carbet.awareness import results, services_campaigns, services_targets
from carbet.awareness.models import Campaign
from carbet.awareness.service import AwarenessPerm
from carbet.core import access
from carbet.core.mandates import MandateRefused

router = Router(tags=["sensibilisation"])


class FunnelOut(Schema):
    recipients: int | None = None
    sent: int | None = None
    opened: int | None = None
    clicked: int | None = None
    submitted: int | None = None
    reported: int | None = None
    bot_clicks: int | None = None
    click_rate: float | None = None
    report_rate: float | None = None
    median_minutes_to_report: float | None = None


class SimulationOut(Schema):
    id: int
    structure: StructureRef
    name: str
    status: str
    privacy: str
    difficulty: str
    launch_at: datetime
    send_by: datetime | None
    finished_at: datetime | None
    purged_at: datetime | None


class ServiceRow(FunnelOut):
    service: str


class SimulationDetailOut(SimulationOut):
    funnel: FunnelOut
    by_service: list[ServiceRow]


class SimulationFilters(Schema):
    structure: ObjectId | None = None
    status: str | None = None


class TrendPoint(Schema):
    campaign: int
    day: date
    difficulty: str
    click_rate: float | None
    report_rate: float | None
    weighted_click_rate: float | None
    weighted_report_rate: float | None
    median_minutes_to_report: float | None


class ImportOut(Schema):
    created: int
    updated: int
    errors: list[dict[str, Any]]


def _campaigns(request: HttpRequest):
    return Campaign.objects.visible_to(actor(request), AwarenessPerm.VIEW).select_related(
        "structure"
    )


def _funnel(campaign: Campaign) -> dict[str, Any]:
    return results.funnel(campaign).as_dict()


@router.get("/awareness/simulations", response=Page[SimulationOut], summary="Campagnes")
def list_simulations(
    request: HttpRequest, page: Query[PageQuery], filters: Query[SimulationFilters]
) -> dict:
    access.require(actor(request), AwarenessPerm.VIEW)
    rows = _campaigns(request)
    if filters.structure is not None:
        rows = rows.filter(structure_id=filters.structure)
    if filters.status:
        rows = rows.filter(status=filters.status)
    return paginate(request, rows, page, ("-launch_at", "-id"))


@router.get(
    "/awareness/simulations/{int:id}",
    response=SimulationDetailOut,
    summary="Une campagne et ses résultats agrégés",
)
def simulation_detail(request: HttpRequest, id: int) -> dict[str, Any]:
    campaign = get_object_or_404(_campaigns(request), pk=id)
    data = SimulationOut.from_orm(campaign).model_dump()
    data["funnel"] = _funnel(campaign)
    data["by_service"] = results.by_service(campaign)
    return data


@router.post(
    "/awareness/simulations/{int:id}/launch",
    response={202: SimulationOut},
    summary="Lancer une campagne en brouillon (centre, mandat « hameçonnage » requis)",
)
def launch_simulation(request: HttpRequest, id: int) -> Status:
    user = actor(request)
    campaign = get_object_or_404(_campaigns(request), pk=id)
    access.require(user, AwarenessPerm.MANAGE, campaign.structure)
    try:
        services_campaigns.launch(user, campaign, ip=client_ip(request))
    except MandateRefused as exc:
        raise ApiError(403, str(exc), code="mandate_refused") from None
    except services_campaigns.CampaignError as exc:
        raise ApiError(409, str(exc), code="campaign_refused") from None
    return Status(202, campaign)


@router.get(
    "/awareness/structures/{int:id}/trend",
    response=list[TrendPoint],
    summary="Évolution d'une structure, pondérée par la difficulté des leurres",
)
def structure_trend(request: HttpRequest, id: int) -> list[dict[str, Any]]:
    structure = access.structure_for(actor(request), id, AwarenessPerm.VIEW, see=AwarenessPerm.VIEW)
    points = results.trend(structure, actor(request))
    return [{**p, "campaign": p["campaign"].pk} for p in points]


@router.post(
    "/awareness/structures/{int:id}/targets",
    response=ImportOut,
    summary="Importer la liste du personnel (CSV ou XLSX : nom, e-mail, service, fonction)",
)
def import_targets(
    request: HttpRequest,
    id: int,
    file: UploadedFile = File(...),  # noqa: B008 (ninja's declaration style)
) -> dict[str, Any]:
    structure = access.structure_for(
        actor(request), id, AwarenessPerm.MANAGE, see=AwarenessPerm.VIEW
    )
    if file.size and file.size > services_targets.MAX_BYTES:
        raise ApiError(413, "Le fichier est trop gros (5 Mo au plus).", code="too_large")
    loaded = services_targets.load_upload(file)
    report = services_targets.import_targets(
        actor(request), structure, loaded.data, ip=client_ip(request)
    )
    return report.as_dict()

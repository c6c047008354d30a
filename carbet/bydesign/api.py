"""Digital services, their measures, cyber index and security decisions, and the medico-social
track through the API.

Reads go through ``visible_to`` (another structure's row is a 404); writes call the services,
which check the rights (403), validate (422) and audit. The region's progress needs
``REGION_AGGREGATES``; without the centre's right it is published through the disclosure
rules (small cells hidden), like the page.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from django.http import HttpRequest
from django.utils import timezone
from ninja import Query, Router, Schema
from ninja import Status as HttpStatus
from pydantic import Field

from carbet.accounts.roles import Perm
from carbet.api.auth import actor
from carbet.api.pagination import Page, PageQuery, paginate
from carbet.api.schemas import InputSchema, ObjectId, StructureRef
from carbet.audit.services import client_ip
from carbet.bydesign import (
    selectors,
    selectors_track,
    services,
    services_decision,
    services_track,
)
from carbet.bydesign.choices import (
    Availability,
    DataKind,
    DecisionOutcome,
    Hosting,
    MeasureStatus,
    ServiceKind,
)
from carbet.bydesign.models import DigitalService
from carbet.bydesign.service import BydesignPerm
from carbet.core import access
from carbet.core.tenancy import can

router = Router(tags=["services numériques"])
API_PREFIX = "bydesign"


class BydesignMeasureOut(Schema):
    code: str
    category: str
    title: str
    why: str
    how: str
    title_en: str = Field(description="Titre en anglais (vide : non traduit).")
    why_en: str
    how_en: str
    essential: bool
    status: str = Field(description="État retenu : done, in_progress, not_done ou na.")
    declared: str = Field(description="État déclaré par la structure.")
    verified: str = Field(description="État mesuré par Carbet (vide : aucun résultat récent).")
    verified_source: str
    reason: str
    evidence: str
    hygiene: list[int]
    care: list[str]


class SecurityDecisionOut(Schema):
    state: str = Field(description="none, valid, expiring, expired, refused ou review.")
    outcome: str | None = None
    valid_from: dt.date | None = None
    valid_until: dt.date | None = None
    signer: str | None = None
    dossier_sha256: str | None = None


class DigitalServiceOut(Schema):
    id: int
    structure: StructureRef
    name: str
    kind: str
    description: str
    users: str
    data_kind: str
    hosting: str
    hds_certified: bool | None
    internet_exposed: bool
    availability: str
    vendor_name: str
    index: float | None = Field(description="Indice cyber, de 0 à 5.")
    essentials_missing: int
    decision: SecurityDecisionOut


class DigitalServiceDetailOut(DigitalServiceOut):
    explanation: list[str]
    measures: list[BydesignMeasureOut]


class DigitalServiceIn(InputSchema):
    structure: ObjectId
    name: str = Field(min_length=1, max_length=200)
    kind: ServiceKind
    description: str = Field(default="", max_length=4000)
    users: str = Field(default="", max_length=300)
    data_kind: DataKind
    hosting: Hosting
    hds_certified: bool | None = None
    internet_exposed: bool = False
    availability: Availability
    vendor_name: str = Field(default="", max_length=200)
    vendor_email: str = Field(default="", max_length=254)


class DigitalServicePatch(InputSchema):
    name: str = Field(default=None, min_length=1, max_length=200)
    kind: ServiceKind = Field(default=None)
    description: str = Field(default=None, max_length=4000)
    users: str = Field(default=None, max_length=300)
    data_kind: DataKind = Field(default=None)
    hosting: Hosting = Field(default=None)
    hds_certified: bool | None = None
    internet_exposed: bool = Field(default=None)
    availability: Availability = Field(default=None)
    vendor_name: str = Field(default=None, max_length=200)


class MeasureStatusIn(InputSchema):
    code: str = Field(max_length=40)
    status: MeasureStatus
    reason: str = Field(default="", max_length=500)
    evidence: str = Field(default="", max_length=4000)


class SecurityDecisionIn(InputSchema):
    outcome: DecisionOutcome
    months: int = Field(ge=6, le=36, description="6, 12, 24 ou 36 mois.")
    conditions: str = Field(default="", max_length=4000)
    residual_risks: str = Field(default="", max_length=4000)


class BydesignEssentialOut(Schema):
    code: str
    title: str
    status: str
    measured: bool


class BydesignTrackOut(Schema):
    structure: StructureRef
    step: str
    progress: int
    next_step: str
    essentials: list[BydesignEssentialOut]


class EssentialMarkIn(InputSchema):
    code: str = Field(max_length=40)
    status: Literal["done", "in_progress", "not_done"]
    note: str = Field(default="", max_length=500)


class BydesignRegionOut(Schema):
    protected: bool
    total: int
    steps: list[tuple[str, int | None]]
    essentials: list[tuple[str, int | None, int | None]]
    services_total: int
    services_valid: int | None


class DigitalServiceFilter(Schema):
    structure: ObjectId | None = None


def _decision_out(service: DigitalService) -> dict[str, Any]:
    state = selectors.decision_state(service, timezone.localdate())
    decision = state.decision
    return {
        "state": state.code,
        "outcome": decision.outcome if decision else None,
        "valid_from": decision.valid_from if decision else None,
        "valid_until": decision.valid_until if decision else None,
        "signer": decision.signer_name if decision else None,
        "dossier_sha256": decision.dossier_sha256 if decision else None,
    }


def _service_out(service: DigitalService, detail: bool = False) -> dict[str, Any]:
    out = {
        **{
            name: getattr(service, name)
            for name in DigitalServiceOut.model_fields
            if hasattr(service, name)
        },
        "structure": service.structure,
        "index": float(service.index_value) if service.index_value is not None else None,
        "decision": _decision_out(service),
    }
    if detail:
        page = selectors.service_page(service, timezone.localdate())
        out["index"] = page.index.value
        out["explanation"] = page.explanation
        out["measures"] = [
            {
                "code": row.code,
                "category": row.measure.category,
                "title": row.measure.title,
                "why": row.measure.why,
                "how": row.measure.how,
                "title_en": row.measure.title_en,
                "why_en": row.measure.why_en,
                "how_en": row.measure.how_en,
                "essential": row.essential,
                "status": row.effective,
                "declared": row.state.status if row.state else MeasureStatus.NOT_DONE,
                "verified": row.state.auto_status if row.state else "",
                "verified_source": row.state.auto_source if row.state else "",
                "reason": row.state.reason if row.state else "",
                "evidence": row.state.evidence if row.state else "",
                "hygiene": list(row.measure.hygiene),
                "care": list(row.measure.care),
            }
            for row in page.rows
        ]
    return out


def _visible(request: HttpRequest, pk: int, perm=BydesignPerm.VIEW) -> DigitalService:
    return access.owned_for(
        actor(request),
        DigitalService,  # owned_for applies visible_to and joins the structure
        pk,
        perm,
        see=BydesignPerm.VIEW,
    )


@router.get("/digital-services", response=Page[DigitalServiceOut], summary="Services numériques")
def list_services(
    request: HttpRequest, filters: Query[DigitalServiceFilter], page: Query[PageQuery]
):
    access.require(actor(request), BydesignPerm.VIEW)
    rows = DigitalService.objects.visible_to(actor(request), BydesignPerm.VIEW).select_related(
        "structure"
    )
    if filters.structure:
        rows = rows.filter(structure_id=filters.structure)
    result = paginate(request, rows, page, ("structure__name", "name"))
    result["results"] = [_service_out(s) for s in result["results"]]
    return result


@router.post(
    "/digital-services", response={201: DigitalServiceDetailOut}, summary="Décrire un service"
)
def create_service(request: HttpRequest, payload: DigitalServiceIn):
    values = payload.model_dump()
    structure = access.structure_for(
        actor(request), values.pop("structure"), BydesignPerm.EDIT, see=BydesignPerm.VIEW
    )
    service = services.create_service(actor(request), structure, values, ip=client_ip(request))
    return HttpStatus(201, _service_out(service, detail=True))


@router.get(
    "/digital-services/{id}", response=DigitalServiceDetailOut, summary="Un service numérique"
)
def get_service(request: HttpRequest, id: int):
    return _service_out(_visible(request, id), detail=True)


@router.patch(
    "/digital-services/{id}", response=DigitalServiceDetailOut, summary="Modifier un service"
)
def patch_service(request: HttpRequest, id: int, payload: DigitalServicePatch):
    service = _visible(request, id, BydesignPerm.EDIT)
    values = payload.model_dump(exclude_unset=True)
    services.update_service(actor(request), service, values, ip=client_ip(request))
    return _service_out(service, detail=True)


@router.post(
    "/digital-services/{id}/measures", response=DigitalServiceDetailOut, summary="État d'une mesure"
)
def post_status(request: HttpRequest, id: int, payload: MeasureStatusIn):
    service = _visible(request, id, BydesignPerm.EDIT)
    services.set_status(
        actor(request),
        service,
        payload.code,
        payload.status,
        reason=payload.reason,
        evidence=payload.evidence,
        ip=client_ip(request),
    )
    return _service_out(service, detail=True)


@router.post(
    "/digital-services/{id}/decisions",
    response={201: DigitalServiceDetailOut},
    summary="Signer la décision de sécurité (direction)",
)
def post_decision(request: HttpRequest, id: int, payload: SecurityDecisionIn):
    service = _visible(request, id, BydesignPerm.DECIDE)
    services_decision.sign(actor(request), service, payload.model_dump(), ip=client_ip(request))
    return HttpStatus(201, _service_out(service, detail=True))


def _track_out(structure: Any) -> dict[str, Any]:
    state = services_track.status_of(structure)
    page = selectors_track.structure_track(structure, state)
    return {
        "structure": structure,
        "step": state.step,
        "progress": state.progress,
        "next_step": state.next_step,
        "essentials": [
            {"code": r.code, "title": r.title, "status": r.status, "measured": r.measured}
            for r in page["rows"]
        ],
    }


@router.get("/structures/{id}/track", response=BydesignTrackOut, summary="Parcours médico-social")
def get_track(request: HttpRequest, id: int):
    structure = access.structure_for(actor(request), id, see=BydesignPerm.VIEW)
    return _track_out(structure)


@router.post("/structures/{id}/track", response=BydesignTrackOut, summary="Marquer un essentiel")
def post_track(request: HttpRequest, id: int, payload: EssentialMarkIn):
    structure = access.structure_for(actor(request), id, BydesignPerm.EDIT, see=BydesignPerm.VIEW)
    services_track.mark(
        actor(request), structure, payload.code, payload.status, payload.note, client_ip(request)
    )
    return _track_out(structure)


@router.get("/region/track", response=BydesignRegionOut, summary="Avancement régional du parcours")
def get_region(request: HttpRequest):
    access.require(actor(request), Perm.REGION_AGGREGATES)
    detail = can(actor(request), BydesignPerm.REGION)
    return selectors_track.regional_progress(detail, timezone.localdate())

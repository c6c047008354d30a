"""Bulletins through the API.

A structure's token lists the bulletins delivered to its structures and answers them; another
structure's delivery, or a bulletin never delivered to one of the token's structures, is a 404.
The centre writes drafts, publishes them and reads the follow-up figures. Writes go through
``services_bulletins`` (rights 403, validation 422, audit).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Schema
from ninja import Status as HttpStatus
from pydantic import Field

from carbet.api.auth import actor
from carbet.api.pagination import Page, PageQuery, paginate
from carbet.api.schemas import InputSchema, ObjectId, StructureRef
from carbet.audit.services import client_ip
from carbet.community import selectors_bulletins as sel
from carbet.community import services_bulletins as services
from carbet.community.choices import Acknowledgement, BulletinStatus, Severity, Tlp
from carbet.community.markdown import render
from carbet.community.models import Bulletin, BulletinDelivery
from carbet.community.service import CommunityPerm
from carbet.core import access

router = Router(tags=["communauté : bulletins"])
API_PREFIX = "community"


class CommunityBulletinOut(Schema):
    id: int
    title: str
    summary: str
    body: str = Field(description="Texte en Markdown.")
    body_html: str = Field(description="Le texte rendu en HTML sûr (le HTML saisi est échappé).")
    severity: str
    tlp: str
    status: str
    references: list[str]
    cves: list[str]
    published_at: dt.datetime | None


class CommunityBulletinTargetingOut(Schema):
    categories: list[str]
    departements: list[str]
    ghts: list[int]
    sizes: list[str]
    products: list[str]
    structures: list[int]


class CommunityBulletinCentreOut(CommunityBulletinOut):
    remind_after_days: int
    targeting: CommunityBulletinTargetingOut
    audience: int = Field(description="Structures atteintes (ciblage actuel ou publication).")


class CommunityBulletinDeliveryOut(Schema):
    id: int
    structure: StructureRef
    bulletin: CommunityBulletinOut
    delivered_at: dt.datetime
    status: str = Field(description="unread, read, applied ou not_concerned.")
    reason: str
    acknowledged_at: dt.datetime | None


class CommunityBulletinIn(InputSchema):
    title: str = Field(min_length=1, max_length=200)
    summary: str = Field(default="", max_length=300)
    body: str = Field(min_length=1, max_length=20000)
    severity: Severity = Severity.MEDIUM
    tlp: Tlp = Tlp.GREEN
    references: list[str] = Field(default_factory=list, max_length=50)
    cves: list[str] = Field(default_factory=list, max_length=100)
    remind_after_days: int = Field(default=3, ge=0, le=60)
    categories: list[str] = Field(default_factory=list, max_length=50)
    departements: list[str] = Field(default_factory=list, max_length=120)
    ghts: list[ObjectId] = Field(default_factory=list, max_length=100)
    sizes: list[str] = Field(default_factory=list, max_length=3)
    products: list[str] = Field(default_factory=list, max_length=50)
    structures: list[ObjectId] = Field(default_factory=list, max_length=5000)


class CommunityBulletinAckIn(InputSchema):
    status: Acknowledgement = Field(description="read, applied ou not_concerned (avec reason).")
    reason: str = Field(default="", max_length=500)


class CommunityBulletinRatesOut(Schema):
    label: str
    structures: int
    unread: int
    read: int
    applied: int
    not_concerned: int


class CommunityBulletinFollowUpOut(Schema):
    bulletin: int
    overall: CommunityBulletinRatesOut
    by_category: list[CommunityBulletinRatesOut]
    by_departement: list[CommunityBulletinRatesOut]
    pending: list[StructureRef] = Field(description="Structures sans réponse au-delà de « lu ».")


class CommunityDeliveryFilter(Schema):
    structure: ObjectId | None = None


def _bulletin_out(bulletin: Bulletin) -> dict[str, Any]:
    return {
        "id": bulletin.pk,
        "title": bulletin.title,
        "summary": bulletin.summary,
        "body": bulletin.body,
        "body_html": str(render(bulletin.body)),
        "severity": bulletin.severity,
        "tlp": bulletin.tlp,
        "status": bulletin.status,
        "references": bulletin.references,
        "cves": bulletin.cves,
        "published_at": bulletin.published_at,
    }


def _centre_out(bulletin: Bulletin) -> dict[str, Any]:
    audience = (
        bulletin.deliveries.count()
        if bulletin.status != BulletinStatus.DRAFT
        else sel.targeted_count(bulletin)
    )
    return {
        **_bulletin_out(bulletin),
        "remind_after_days": bulletin.remind_after_days,
        "targeting": {f: getattr(bulletin, f) for f in services.TARGET_FIELDS},
        "audience": audience,
    }


def _delivery_out(delivery: BulletinDelivery) -> dict[str, Any]:
    return {
        "id": delivery.pk,
        "structure": delivery.structure,
        "bulletin": _bulletin_out(delivery.bulletin),
        "delivered_at": delivery.delivered_at,
        "status": delivery.status,
        "reason": delivery.reason,
        "acknowledged_at": delivery.acknowledged_at,
    }


@router.get(
    "/bulletin-deliveries",
    response=Page[CommunityBulletinDeliveryOut],
    summary="Bulletins reçus par mes structures",
)
def list_deliveries(
    request: HttpRequest, filters: Query[CommunityDeliveryFilter], page: Query[PageQuery]
):
    access.require(actor(request), CommunityPerm.VIEW)
    rows = sel.deliveries_for(actor(request), filters.structure)
    result = paginate(request, rows, page, ("_withdrawn", "_unread", "_rank"))
    result["results"] = [_delivery_out(d) for d in result["results"]]
    return result


@router.post(
    "/bulletin-deliveries/{id}/acknowledge",
    response=CommunityBulletinDeliveryOut,
    summary="Répondre à un bulletin pour une structure",
)
def acknowledge(request: HttpRequest, id: int, payload: CommunityBulletinAckIn):
    delivery = access.owned_for(
        actor(request),
        BulletinDelivery,
        id,
        CommunityPerm.ACKNOWLEDGE,
        see=CommunityPerm.VIEW,
    )
    services.acknowledge(
        actor(request), delivery, payload.status, payload.reason, ip=client_ip(request)
    )
    return _delivery_out(delivery)


@router.get("/bulletins", response=Page[CommunityBulletinCentreOut], summary="Bulletins du centre")
def list_bulletins(request: HttpRequest, page: Query[PageQuery]):
    access.require_centre(actor(request), CommunityPerm.PUBLISH)
    result = paginate(request, sel.region_bulletins(), page, ("_draft", "-created_at"))
    result["results"] = [_centre_out(b) for b in result["results"]]
    return result


@router.post("/bulletins", response={201: CommunityBulletinCentreOut}, summary="Écrire un bulletin")
def create_bulletin(request: HttpRequest, payload: CommunityBulletinIn):
    access.require_centre(actor(request), CommunityPerm.PUBLISH)
    bulletin = services.save_bulletin(actor(request), payload.model_dump(), ip=client_ip(request))
    return HttpStatus(201, _centre_out(bulletin))


@router.get("/bulletins/{id}", response=CommunityBulletinOut, summary="Un bulletin")
def get_bulletin(request: HttpRequest, id: int):
    access.require(actor(request), CommunityPerm.VIEW)
    bulletin, _deliveries = sel.bulletin_for(actor(request), id)
    return _bulletin_out(bulletin)


@router.post(
    "/bulletins/{id}/publish",
    response=CommunityBulletinCentreOut,
    summary="Publier un brouillon (livraison et e-mails)",
)
def publish_bulletin(request: HttpRequest, id: int):
    access.require_centre(actor(request), CommunityPerm.PUBLISH)
    bulletin = sel.region_bulletin(id)
    services.publish(actor(request), bulletin, ip=client_ip(request))
    return _centre_out(bulletin)


@router.get(
    "/bulletins/{id}/follow-up",
    response=CommunityBulletinFollowUpOut,
    summary="Suivi régional des réponses",
)
def follow_up(request: HttpRequest, id: int):
    access.require_centre(actor(request), CommunityPerm.REGION)
    report = sel.follow_up(actor(request), sel.region_bulletin(id))
    return {
        "bulletin": id,
        "overall": report.overall.as_dict(),
        "by_category": [r.as_dict() for r in report.by_category],
        "by_departement": [r.as_dict() for r in report.by_departement],
        "pending": [d.structure for d in report.pending],
    }

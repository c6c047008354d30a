"""Shared solutions through the API: the catalogue of regional offers, the structures'
answers and needs, and the centre's view of the demand.

Offers are reached only through ``selectors_solutions.offers_shown_to`` (eligibility: an offer
a structure is not eligible for is a 404); answers and needs through ``visible_to``. Writes call
``services_solutions``, which checks the rights (403), validates (422) and audits.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Query, Router, Schema
from ninja import Status as HttpStatus
from pydantic import Field

from carbet.api.auth import actor
from carbet.api.pagination import Page, PageQuery, paginate
from carbet.api.schemas import InputSchema, ObjectId, StructureRef
from carbet.audit.services import client_ip
from carbet.community import selectors_solutions, services_solutions
from carbet.community.choices import InterestKind, NeedCategory, OfferKind, OfferStatus
from carbet.community.models import Need, Offer, OfferInterest
from carbet.community.service import CommunityPerm
from carbet.core import access

router = Router(tags=["communauté : solutions mutualisées"])
API_PREFIX = "/community/solutions"


class CommunityOfferTargetOut(Schema):
    categories: list[str]
    departements: list[str]
    ghts: list[int]
    sizes: list[str]
    products: list[str]
    structures: list[int]


class CommunityOfferOut(Schema):
    id: int
    title: str
    kind: str
    category: str
    description: str = Field(description="Markdown.")
    provider: str
    eligibility: str
    how_to_join: str
    price_note: str
    url: str
    opens_on: dt.date | None
    closes_on: dt.date | None
    status: str
    accepting: bool = Field(description="Les structures peuvent encore répondre.")
    target: CommunityOfferTargetOut | None = Field(
        default=None, description="Les critères d'éligibilité (pour le centre seulement)."
    )


class CommunityOfferIn(InputSchema):
    title: str = Field(min_length=1, max_length=200)
    kind: OfferKind
    category: NeedCategory
    description: str = Field(min_length=1, max_length=10000)
    provider: str = Field(default="", max_length=200)
    eligibility: str = Field(default="", max_length=2000)
    how_to_join: str = Field(default="", max_length=2000)
    price_note: str = Field(default="", max_length=300)
    url: str = Field(default="", max_length=200)
    opens_on: dt.date | None = None
    closes_on: dt.date | None = None
    status: OfferStatus = OfferStatus.DRAFT
    categories: list[str] = Field(default_factory=list, max_length=50)
    departements: list[str] = Field(default_factory=list, max_length=50)
    ghts: list[ObjectId] = Field(default_factory=list, max_length=50)
    sizes: list[str] = Field(default_factory=list, max_length=3)
    products: list[str] = Field(default_factory=list, max_length=50)
    structures: list[ObjectId] = Field(default_factory=list, max_length=5000)


class CommunityInterestIn(InputSchema):
    structure: ObjectId
    kind: InterestKind
    quantity: int = Field(default=0, ge=0, le=1_000_000)
    comment: str = Field(default="", max_length=1000)


class CommunityInterestOut(Schema):
    id: int
    offer: int
    structure: StructureRef
    kind: str
    quantity: int
    comment: str
    updated_at: dt.datetime


class CommunityNeedIn(InputSchema):
    structure: ObjectId
    category: NeedCategory
    description: str = Field(min_length=1, max_length=2000)


class CommunityNeedOut(Schema):
    id: int
    structure: StructureRef
    category: str
    description: str
    created_at: dt.datetime


class CommunityDemandRowOut(Schema):
    category: str
    size: str
    counts: dict[str, int]
    quantities: dict[str, int]


class CommunityDemandOut(Schema):
    offer: int
    rows: list[CommunityDemandRowOut]
    totals: CommunityDemandRowOut


class CommunityNeedGroupOut(Schema):
    domain: str
    category: str
    size: str
    needs: int
    structures: int


TARGET_FIELDS = ("categories", "departements", "ghts", "sizes", "products", "structures")


def _offer_out(request: HttpRequest, offer: Offer) -> dict[str, Any]:
    out: dict[str, Any] = {
        name: getattr(offer, name)
        for name in CommunityOfferOut.model_fields
        if name not in ("accepting", "target")
    }
    out["accepting"] = selectors_solutions.accepting(offer)
    if selectors_solutions.sees_everything(actor(request)):
        out["target"] = {name: getattr(offer, name) for name in TARGET_FIELDS}
    return out


def _offer(request: HttpRequest, pk: int) -> Offer:
    return get_object_or_404(selectors_solutions.offers_shown_to(actor(request)), pk=pk)


def _interest_out(row: OfferInterest) -> dict[str, Any]:
    return {
        "id": row.pk,
        "offer": row.offer_id,
        "structure": row.structure,
        "kind": row.kind,
        "quantity": row.quantity,
        "comment": row.comment,
        "updated_at": row.updated_at,
    }


def _demand_row(row: Any) -> dict[str, Any]:
    return {
        "category": row.category,
        "size": row.size,
        "counts": row.counts,
        "quantities": row.quantities,
    }


@router.get(
    "/offers",
    response=Page[CommunityOfferOut],
    summary="Offres régionales",
)
def list_offers(request: HttpRequest, page: Query[PageQuery]):
    access.require(actor(request), CommunityPerm.VIEW)
    rows = selectors_solutions.offers_shown_to(actor(request))
    result = paginate(request, rows, page, ("title",))
    result["results"] = [_offer_out(request, o) for o in result["results"]]
    return result


@router.post("/offers", response={201: CommunityOfferOut}, summary="Écrire une offre")
def create_offer(request: HttpRequest, payload: CommunityOfferIn):
    offer = services_solutions.save_offer(
        actor(request), payload.model_dump(), ip=client_ip(request)
    )
    return HttpStatus(201, _offer_out(request, offer))


@router.get("/offers/{id}", response=CommunityOfferOut, summary="Une offre")
def get_offer(request: HttpRequest, id: int):
    return _offer_out(request, _offer(request, id))


@router.put("/offers/{id}", response=CommunityOfferOut, summary="Modifier une offre")
def put_offer(request: HttpRequest, id: int, payload: CommunityOfferIn):
    offer = _offer(request, id)
    services_solutions.save_offer(
        actor(request), payload.model_dump(), offer, ip=client_ip(request)
    )
    return _offer_out(request, offer)


@router.put("/offers/{id}/interest", response=CommunityInterestOut, summary="Répondre à une offre")
def put_interest(request: HttpRequest, id: int, payload: CommunityInterestIn):
    offer = _offer(request, id)
    values = payload.model_dump()
    structure = access.structure_for(
        actor(request), values.pop("structure"), CommunityPerm.INTEREST, see=CommunityPerm.VIEW
    )
    row = services_solutions.set_interest(
        actor(request), offer, structure, values, ip=client_ip(request)
    )
    return _interest_out(row)


@router.get("/offers/{id}/demand", response=CommunityDemandOut, summary="Demande agrégée (centre)")
def get_demand(request: HttpRequest, id: int):
    offer = _offer(request, id)
    access.require(actor(request), CommunityPerm.REGION)
    result = selectors_solutions.demand(offer)
    return {
        "offer": offer.pk,
        "rows": [_demand_row(r) for r in result.rows],
        "totals": _demand_row(result.totals),
    }


@router.get("/interests", response=Page[CommunityInterestOut], summary="Réponses aux offres")
def list_interests(request: HttpRequest, page: Query[PageQuery]):
    access.require(actor(request), CommunityPerm.VIEW)
    rows = selectors_solutions.interests_shown_to(actor(request))
    result = paginate(request, rows, page, ("structure__name",))
    result["results"] = [_interest_out(r) for r in result["results"]]
    return result


@router.delete("/interests/{id}", response={204: None}, summary="Retirer une réponse")
def delete_interest(request: HttpRequest, id: int):
    row = access.owned_for(
        actor(request), OfferInterest, id, CommunityPerm.INTEREST, see=CommunityPerm.VIEW
    )
    services_solutions.withdraw_interest(actor(request), row, ip=client_ip(request))
    return HttpStatus(204, None)


@router.get("/needs", response=Page[CommunityNeedOut], summary="Besoins déclarés")
def list_needs(request: HttpRequest, page: Query[PageQuery]):
    access.require(actor(request), CommunityPerm.VIEW)
    rows = selectors_solutions.needs_shown_to(actor(request))
    result = paginate(request, rows, page, ("-created_at",))
    return result


@router.post("/needs", response={201: CommunityNeedOut}, summary="Déclarer un besoin")
def create_need(request: HttpRequest, payload: CommunityNeedIn):
    values = payload.model_dump()
    structure = access.structure_for(
        actor(request), values.pop("structure"), CommunityPerm.INTEREST, see=CommunityPerm.VIEW
    )
    need = services_solutions.declare_need(actor(request), structure, values, ip=client_ip(request))
    return HttpStatus(201, need)


@router.delete("/needs/{id}", response={204: None}, summary="Retirer un besoin")
def delete_need(request: HttpRequest, id: int):
    row = access.owned_for(actor(request), Need, id, CommunityPerm.INTEREST, see=CommunityPerm.VIEW)
    services_solutions.delete_need(actor(request), row, ip=client_ip(request))
    return HttpStatus(204, None)


@router.get(
    "/region/needs", response=list[CommunityNeedGroupOut], summary="Besoins regroupés (centre)"
)
def region_needs(request: HttpRequest):
    access.require(actor(request), CommunityPerm.REGION)
    return [
        {
            "domain": g.domain,
            "category": g.category_label,
            "size": str(g.size_label),
            "needs": g.needs,
            "structures": g.structures,
        }
        for g in selectors_solutions.needs_summary()
    ]

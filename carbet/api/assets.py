"""Assets through the API: what a structure exposes, declared, then proven to be its own.

A declaration proves nothing: no service contacts an asset before its ownership is proven —
``POST /assets/{id}/verify`` finds the structure's token in DNS or on the web site (see
``GET /assets/{id}/proof`` for what to publish), or the centre records its review of an
address (``/review``) — and while another structure declares the same thing (the centre
decides with ``/resolve``). The structure may still confirm an asset with ``/validate``; that
confirmation is not proof. Values are normalised by the registry (IDNA, canonical addresses).
"""

from __future__ import annotations

from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from ninja import Query, Router, Schema, Status
from pydantic import Field

from carbet.accounts.roles import Perm
from carbet.api.auth import actor
from carbet.api.pagination import Page, PageQuery, paginate
from carbet.api.schemas import (
    AssetIn,
    AssetOut,
    AssetPatch,
    ObjectId,
    ProofOut,
    ResolveIn,
    ReviewIn,
    VerifyOut,
)
from carbet.audit.services import client_ip
from carbet.core import access, ownership, services
from carbet.core.choices import AssetKind, Ownership
from carbet.core.models import Asset

router = Router(tags=["actifs"])

ASSET_ORDER = ("structure__name", "kind", "value")
OWNERSHIP_FILTERS = {
    Ownership.REJECTED: {"rejected": True},
    Ownership.CONFLICT: {"rejected": False, "in_conflict": True},
    Ownership.PROVEN: {"rejected": False, "in_conflict": False, "proven_at__isnull": False},
    Ownership.TO_PROVE: {"rejected": False, "in_conflict": False, "proven_at__isnull": True},
}


class AssetFilters(Schema):
    structure: ObjectId | None = None
    kind: AssetKind | None = None
    validated: bool | None = None
    ownership: Ownership | None = None
    internet_exposed: bool | None = None
    search: str | None = Field(None, max_length=100, description="Valeur ou libellé.")


def _assets(request: HttpRequest):
    return Asset.objects.visible_to(actor(request), Perm.ASSET_VIEW).select_related(
        "structure", "validated_by"
    )


def _visible_asset(request: HttpRequest, pk: int) -> Asset:
    return get_object_or_404(
        _assets(request).select_related("structure__organisation"),
        pk=pk,
    )


@router.get("/assets", response=Page[AssetOut], summary="Actifs visibles")
def list_assets(request: HttpRequest, filters: Query[AssetFilters], page: Query[PageQuery]) -> dict:
    access.require(actor(request), Perm.ASSET_VIEW)
    assets = _assets(request)
    if filters.structure:
        assets = assets.filter(structure_id=filters.structure)
    if filters.kind:
        assets = assets.filter(kind=filters.kind)
    if filters.validated is not None:
        assets = assets.filter(validated=filters.validated)
    if filters.ownership is not None:
        assets = assets.filter(**OWNERSHIP_FILTERS[filters.ownership])
    if filters.internet_exposed is not None:
        assets = assets.filter(internet_exposed=filters.internet_exposed)
    if filters.search and filters.search.strip():
        term = filters.search.strip()
        assets = assets.filter(Q(value__icontains=term) | Q(label__icontains=term))
    return paginate(request, assets, page, ASSET_ORDER)


@router.get(
    "/structures/{int:id}/assets", response=Page[AssetOut], summary="Actifs d'une structure"
)
def list_structure_assets(request: HttpRequest, id: int, page: Query[PageQuery]) -> dict:
    structure = access.structure_for(actor(request), id, see=Perm.ASSET_VIEW)
    return paginate(request, _assets(request).filter(structure=structure), page, ("kind", "value"))


@router.get("/assets/{int:id}", response=AssetOut, summary="Un actif")
def asset_detail(request: HttpRequest, id: int) -> Asset:
    return _visible_asset(request, id)


@router.post(
    "/structures/{int:id}/assets",
    response={201: AssetOut},
    summary="Déclarer un actif (non validé tant que la structure ne l'a pas confirmé)",
)
def create_asset(request: HttpRequest, id: int, payload: AssetIn) -> Status:
    structure = access.structure_for(actor(request), id, see=Perm.ASSET_VIEW)
    asset = Asset(structure=structure, **payload.model_dump())
    services.save_asset(actor(request), asset, ip=client_ip(request))
    return Status(201, asset)


@router.patch(
    "/assets/{int:id}",
    response=AssetOut,
    summary="Modifier un actif (changer sa valeur retire sa validation)",
)
def update_asset(request: HttpRequest, id: int, payload: AssetPatch) -> Asset:
    asset = _visible_asset(request, id)
    for name, value in payload.model_dump(exclude_unset=True).items():
        setattr(asset, name, value)
    services.save_asset(actor(request), asset, ip=client_ip(request))
    return asset


@router.post(
    "/assets/{int:id}/validate",
    response=AssetOut,
    summary="Confirmer qu'un actif appartient bien à la structure (direction ou référent)",
)
def validate_asset(request: HttpRequest, id: int) -> Asset:
    asset = _visible_asset(request, id)
    services.validate_asset(actor(request), asset, ip=client_ip(request))
    return asset


@router.get(
    "/assets/{int:id}/proof",
    response=ProofOut,
    summary="Ce qu'il faut publier pour prouver la propriété d'un nom",
)
def asset_proof(request: HttpRequest, id: int) -> dict:
    asset = _visible_asset(request, id)
    access.require(actor(request), Perm.ASSET_EDIT, asset.structure)
    steps = ownership.instructions(asset)
    return {
        "ownership": str(asset.ownership.value),
        "reason": ownership.refusal(asset),
        **(
            {
                "txt_name": steps.txt_name,
                "txt_value": steps.txt_value,
                "file_url": steps.file_url,
                "file_content": steps.file_content,
            }
            if steps is not None
            else {}
        ),
    }


@router.post(
    "/assets/{int:id}/verify",
    response=VerifyOut,
    summary="Chercher la preuve de propriété (enregistrement DNS TXT ou fichier sur le site)",
)
def verify_asset(request: HttpRequest, id: int) -> dict:
    asset = _visible_asset(request, id)
    outcome = ownership.verify(actor(request), asset, ip=client_ip(request))
    asset.refresh_from_db()
    return {"proven": outcome.proven, "message": outcome.message, "asset": asset}


@router.post(
    "/assets/{int:id}/review",
    response=AssetOut,
    summary="Reconnaître la propriété après vérification par le centre (adresse, réseau)",
)
def review_asset(request: HttpRequest, id: int, payload: ReviewIn) -> Asset:
    asset = _visible_asset(request, id)
    ownership.record_review(actor(request), asset, payload.note, ip=client_ip(request))
    asset.refresh_from_db()
    return asset


@router.post(
    "/assets/{int:id}/resolve",
    response=AssetOut,
    summary="Trancher un conflit : l'actif est à cette structure, ou l'hébergement est partagé",
)
def resolve_asset(request: HttpRequest, id: int, payload: ResolveIn) -> Asset:
    asset = _visible_asset(request, id)
    ownership.resolve_conflict(
        actor(request), asset, payload.decision, payload.note, ip=client_ip(request)
    )
    asset.refresh_from_db()
    return asset


@router.delete("/assets/{int:id}", response={204: None}, summary="Supprimer un actif")
def delete_asset(request: HttpRequest, id: int) -> HttpResponse:
    asset = _visible_asset(request, id)
    services.delete_asset(actor(request), asset, ip=client_ip(request))
    return HttpResponse(status=204)

"""Assets through the API: what a structure exposes, declared and then validated by it.

An asset is created unvalidated; only the structure (director or referent) can confirm with
``POST /assets/{id}/validate`` that it is really its own, and no service contacts an asset
before that. Values are normalised by the registry (IDNA domains, canonical addresses).
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
from carbet.api.schemas import AssetIn, AssetOut, AssetPatch, ObjectId
from carbet.audit.services import client_ip
from carbet.core import services
from carbet.core.choices import AssetKind
from carbet.core.models import Asset, Structure

router = Router(tags=["actifs"])

ASSET_ORDER = ("structure__name", "kind", "value")


class AssetFilters(Schema):
    structure: ObjectId | None = None
    kind: AssetKind | None = None
    validated: bool | None = None
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
    services.require(actor(request), Perm.ASSET_VIEW)
    assets = _assets(request)
    if filters.structure:
        assets = assets.filter(structure_id=filters.structure)
    if filters.kind:
        assets = assets.filter(kind=filters.kind)
    if filters.validated is not None:
        assets = assets.filter(validated=filters.validated)
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
    structure = get_object_or_404(
        Structure.objects.visible_to(actor(request), Perm.ASSET_VIEW), pk=id
    )
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
    structure = get_object_or_404(
        Structure.objects.visible_to(actor(request), Perm.ASSET_VIEW).select_related(
            "organisation"
        ),
        pk=id,
    )
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


@router.delete("/assets/{int:id}", response={204: None}, summary="Supprimer un actif")
def delete_asset(request: HttpRequest, id: int) -> HttpResponse:
    asset = _visible_asset(request, id)
    services.delete_asset(actor(request), asset, ip=client_ip(request))
    return HttpResponse(status=204)

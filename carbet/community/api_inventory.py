"""The software inventory through the API: a structure's lines (detected and declared), the
declared applications (create, change, remove), and the centre's regional "who runs what".

Reads go through ``visible_to`` (another structure's line is a 404); writes call the services,
which check the rights (403), validate (422: empty product, too long, a detected line) and
audit. The regional routes need ``CommunityPerm.REGION`` (the centre only: 403 elsewhere).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Query, Router, Schema
from ninja import Status as HttpStatus
from pydantic import Field

from carbet.api.auth import actor
from carbet.api.pagination import Page, PageQuery, paginate
from carbet.api.schemas import InputSchema, StructureRef
from carbet.audit.services import client_ip
from carbet.community import selectors_inventory as selectors
from carbet.community import services_inventory as services
from carbet.community.choices import Hosting, LineOrigin
from carbet.community.models import SoftwareLine
from carbet.community.service import CommunityPerm
from carbet.core import access
from carbet.core.choices import Category

router = Router(tags=["communauté : inventaire logiciel"])
API_PREFIX = "/community/inventory"
REGION_MAX = 5000


class CommunitySoftwareLineOut(Schema):
    id: int
    structure: StructureRef
    origin: LineOrigin = Field(description="exposure, directory (détectés) ou declared.")
    name: str
    vendor: str
    product: str
    version: str
    cpe: str = Field(description="Nom CPE 2.3 normalisé ; vide quand le produit n'est pas connu.")
    hosting: Hosting
    maintainer: str
    location: str = Field(description="Où le produit a été vu (cible et port, domaine).")
    machines: int
    active: bool = Field(description="Faux : absent des derniers résultats (historique).")
    first_seen: dt.datetime
    last_seen: dt.datetime


class CommunitySoftwareLineIn(InputSchema):
    name: str = Field(default="", max_length=200, description="À quoi sert l'application.")
    vendor: str = Field(default="", max_length=200)
    product: str = Field(min_length=1, max_length=200)
    version: str = Field(default="", max_length=100)
    hosting: Hosting = Hosting.UNKNOWN
    maintainer: str = Field(default="", max_length=200)


class CommunitySoftwareLinePatch(InputSchema):
    name: str = Field(default=None, max_length=200)
    vendor: str = Field(default=None, max_length=200)
    product: str = Field(default=None, min_length=1, max_length=200)
    version: str = Field(default=None, max_length=100)
    hosting: Hosting = Field(default=None)
    maintainer: str = Field(default=None, max_length=200)


class CommunitySoftwareLineFilter(Schema):
    origin: LineOrigin | None = None
    active: bool | None = Field(None, description="Vide : toutes ; vrai : les présentes.")


class CommunityInventoryRegionFilter(Schema):
    q: str = Field(default="", max_length=100, description="Texte du produit ou de l'éditeur.")
    category: Category | None = None
    departement: str = Field(default="", max_length=3)
    limit: int = Field(default=selectors.REGION_LIMIT, ge=1, le=REGION_MAX)


class CommunityInventoryProductOut(Schema):
    vendor_key: str = Field(description="Éditeur normalisé (celui du CPE quand il est connu).")
    product_key: str
    label: str
    cpe_known: bool
    structures: int
    lines: int
    machines: int
    versions: list[tuple[str, int]] = Field(description="(version, nombre de structures).")


class CommunityInventoryRegionOut(Schema):
    total_groups: int
    total_lines: int
    total_structures: int
    groups: list[CommunityInventoryProductOut]


class CommunityInventoryProductQuery(CommunityInventoryRegionFilter):
    # Optional so that the right is checked first (403), not the query (422); no product: none.
    vendor: str = Field(default="", max_length=200)
    product: str = Field(default="", max_length=200)


def _line(request: HttpRequest, pk: int, perm=CommunityPerm.INVENTORY) -> SoftwareLine:
    return access.owned_for(actor(request), SoftwareLine, pk, perm, see=CommunityPerm.INVENTORY)


def _filters(query: CommunityInventoryRegionFilter) -> selectors.RegionFilters:
    return selectors.RegionFilters(
        q=" ".join(query.q.split()),
        category=query.category or "",
        departement=query.departement.strip(),
    )


@router.get(
    "/structures/{id}/lines",
    response=Page[CommunitySoftwareLineOut],
    summary="Inventaire logiciel d'une structure",
)
def list_lines(
    request: HttpRequest,
    id: int,
    filters: Query[CommunitySoftwareLineFilter],
    page: Query[PageQuery],
):
    structure = access.structure_for(
        actor(request), id, CommunityPerm.INVENTORY, see=CommunityPerm.INVENTORY
    )
    rows = selectors.structure_lines(actor(request), structure).select_related("structure")
    if filters.origin:
        rows = rows.filter(origin=filters.origin)
    if filters.active is not None:
        rows = rows.filter(active=filters.active)
    return paginate(request, rows, page, ("origin", "vendor", "product", "version"))


@router.post(
    "/structures/{id}/lines",
    response={201: CommunitySoftwareLineOut},
    summary="Déclarer une application métier",
)
def create_line(request: HttpRequest, id: int, payload: CommunitySoftwareLineIn):
    structure = access.structure_for(
        actor(request), id, CommunityPerm.INVENTORY, see=CommunityPerm.INVENTORY
    )
    line = services.create_line(
        actor(request), structure, payload.model_dump(), ip=client_ip(request)
    )
    return HttpStatus(201, line)


@router.get(
    "/software-lines/{id}", response=CommunitySoftwareLineOut, summary="Une ligne d'inventaire"
)
def get_line(request: HttpRequest, id: int):
    return _line(request, id)


@router.patch(
    "/software-lines/{id}",
    response=CommunitySoftwareLineOut,
    summary="Modifier une application déclarée",
)
def patch_line(request: HttpRequest, id: int, payload: CommunitySoftwareLinePatch):
    line = _line(request, id)
    values = payload.model_dump(exclude_unset=True)
    return services.update_line(actor(request), line, values, ip=client_ip(request))


@router.delete(
    "/software-lines/{id}", response={204: None}, summary="Retirer une application déclarée"
)
def delete_line(request: HttpRequest, id: int) -> HttpResponse:
    line = _line(request, id)
    services.delete_line(actor(request), line, ip=client_ip(request))
    return HttpResponse(status=204)


def _group_out(group: selectors.ProductGroup) -> dict[str, Any]:
    return {
        "vendor_key": group.vendor_key,
        "product_key": group.product_key,
        "label": group.label,
        "cpe_known": group.cpe,
        "structures": group.structures,
        "lines": group.lines,
        "machines": group.machines,
        "versions": group.versions,
    }


@router.get(
    "/region",
    response=CommunityInventoryRegionOut,
    summary="Qui utilise quoi dans la région (centre)",
)
def region(request: HttpRequest, query: Query[CommunityInventoryRegionFilter]):
    access.require(actor(request), CommunityPerm.REGION)
    page = selectors.region_products(actor(request), _filters(query), limit=query.limit)
    return {
        "total_groups": page.total_groups,
        "total_lines": page.total_lines,
        "total_structures": page.total_structures,
        "groups": [_group_out(group) for group in page.groups],
    }


@router.get(
    "/region/product",
    response=Page[CommunitySoftwareLineOut],
    summary="Les structures qui utilisent un produit (centre)",
)
def region_product(
    request: HttpRequest,
    query: Query[CommunityInventoryProductQuery],
    page: Query[PageQuery],
):
    access.require(actor(request), CommunityPerm.REGION)
    rows = selectors.product_lines(actor(request), query.vendor, query.product, _filters(query))
    return paginate(request, rows, page, ("structure__name", "version"))

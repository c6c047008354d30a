"""Reads of the software inventory: one structure's lines, and the centre's regional view of
"who runs what", aggregated in SQL (60,000 lines are grouped by the database, never loaded).

Products are grouped by their normalised names: the CPE's vendor and product when the engine
knows the product ("cpe:2.3:o:fortinet:fortios:…" → fortinet / fortios, whatever people
typed), otherwise the vendor and product as typed, in lower case.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db.models import Case, Count, F, Max, Min, Q, QuerySet, Sum, Value, When
from django.db.models.functions import Lower, StrIndex, Substr, Trim

from carbet.community.choices import LineOrigin
from carbet.community.models import SoftwareLine
from carbet.community.service import CommunityPerm
from carbet.core.models import Structure
from carbet.core.tenancy import Actor

CPE_PREFIX = "cpe:2.3:"
REGION_LIMIT = 300  # product groups shown at once; the text filter narrows the rest
HISTORY_LIMIT = 50


# --- One structure --------------------------------------------------------------------------


@dataclass
class StructureInventory:
    detected: list[SoftwareLine] = field(default_factory=list)
    declared: list[SoftwareLine] = field(default_factory=list)
    gone: list[SoftwareLine] = field(default_factory=list)  # detected before, not any more


def structure_lines(actor: Actor, structure: Structure) -> QuerySet[SoftwareLine]:
    """Every line of ``structure`` that ``actor`` may see (active or not)."""
    return SoftwareLine.objects.visible_to(actor, CommunityPerm.INVENTORY).filter(
        structure=structure
    )


def structure_inventory(actor: Actor, structure: Structure) -> StructureInventory:
    lines = structure_lines(actor, structure).order_by("vendor", "product", "version", "pk")
    page = StructureInventory()
    for line in lines.filter(Q(active=True) | Q(origin=LineOrigin.DECLARED)):
        (page.declared if line.origin == LineOrigin.DECLARED else page.detected).append(line)
    page.gone = list(
        lines.filter(active=False)
        .exclude(origin=LineOrigin.DECLARED)
        .order_by("-last_seen")[:HISTORY_LIMIT]
    )
    return page


# --- The region -----------------------------------------------------------------------------


def _after_colon(text: Any) -> Any:
    return Substr(text, StrIndex(text, Value(":")) + 1)


def _before_colon(text: Any) -> Any:
    return Substr(text, 1, StrIndex(text, Value(":")) - 1)


def _cpe_names() -> tuple[Any, Any, Any]:
    """SQL expressions of a CPE's vendor, product and version
    ("cpe:2.3:o:fortinet:fortios:7.0.12:…" → fortinet, fortios, 7.0.12)."""
    rest = Substr(F("cpe"), len(CPE_PREFIX) + 3)  # "fortinet:fortios:7.0.12:…"
    after_vendor = _after_colon(rest)  # "fortios:7.0.12:…"
    return (
        _before_colon(rest),
        _before_colon(after_vendor),
        _before_colon(_after_colon(after_vendor)),
    )


def with_keys(lines: QuerySet[SoftwareLine]) -> QuerySet[SoftwareLine]:
    """``lines`` annotated with ``vendor_key``, ``product_key`` and ``version_key``: the CPE's
    names when the engine knows the product (its cleaned version, "" when unknown), otherwise
    the text as typed (in lower case for the names)."""
    cpe_vendor, cpe_product, cpe_version = _cpe_names()
    known = Q(cpe__startswith=CPE_PREFIX)
    versioned = known & ~Q(cpe__contains=":*:*:*:*:*:*:*:*")
    return lines.annotate(
        vendor_key=Case(When(known, then=cpe_vendor), default=Lower(Trim("vendor"))),
        product_key=Case(When(known, then=cpe_product), default=Lower(Trim("product"))),
        version_key=Case(
            When(versioned, then=cpe_version),
            When(known, then=Value("")),
            default=Trim("version"),
        ),
    )


@dataclass(frozen=True)
class RegionFilters:
    q: str = ""
    category: str = ""
    departement: str = ""


def region_lines(actor: Actor, filters: RegionFilters) -> QuerySet[SoftwareLine]:
    """The active lines of the region the centre may see, narrowed by the filters."""
    lines = SoftwareLine.objects.visible_to(actor, CommunityPerm.REGION).filter(active=True)
    if filters.q:
        lines = lines.filter(
            Q(product__icontains=filters.q)
            | Q(vendor__icontains=filters.q)
            | Q(name__icontains=filters.q)
            | Q(cpe__icontains=filters.q)
        )
    if filters.category:
        lines = lines.filter(structure__category=filters.category)
    if filters.departement:
        lines = lines.filter(structure__departement=filters.departement)
    return with_keys(lines)


@dataclass
class ProductGroup:
    vendor_key: str
    product_key: str
    vendor: str  # as typed on one of its lines, for the label
    product: str
    cpe: bool
    structures: int
    lines: int
    machines: int
    versions: list[tuple[str, int]] = field(default_factory=list)  # (version, structures)

    @property
    def label(self) -> str:
        if self.vendor and not self.product.lower().startswith(self.vendor.lower()):
            return f"{self.vendor} {self.product}"
        return self.product


@dataclass
class RegionInventory:
    groups: list[ProductGroup]
    total_groups: int
    total_lines: int
    total_structures: int


def region_products(
    actor: Actor, filters: RegionFilters, limit: int | None = REGION_LIMIT
) -> RegionInventory:
    """Products grouped by normalised vendor and product, the most widespread first, each
    with its versions (how many structures run each). Three aggregate queries, whatever the
    number of lines."""
    lines = region_lines(actor, filters)
    grouped = (
        lines.values("vendor_key", "product_key")
        .annotate(
            structures=Count("structure", distinct=True),
            lines=Count("id"),
            machines=Sum("machines"),
            vendor=Min("vendor"),
            product=Min("product"),
            cpe=Max("cpe"),
        )
        .order_by("-structures", "vendor_key", "product_key")
    )
    totals = lines.aggregate(lines=Count("id"), structures=Count("structure", distinct=True))
    rows = list(grouped if limit is None else grouped[:limit])
    groups = {
        (row["vendor_key"], row["product_key"]): ProductGroup(
            vendor_key=row["vendor_key"] or "",
            product_key=row["product_key"] or "",
            vendor=row["vendor"] or "",
            product=row["product"] or "",
            cpe=bool(row["cpe"]),
            structures=row["structures"],
            lines=row["lines"],
            machines=row["machines"] or 0,
        )
        for row in rows
    }
    versions = (
        lines.values("vendor_key", "product_key", "version_key")
        .annotate(structures=Count("structure", distinct=True))
        .order_by("-structures", "version_key")
    )
    seen: set[tuple[str, str]] = set()
    for row in versions:  # every group's versions: also how many groups there are in all
        key = (row["vendor_key"], row["product_key"])
        seen.add(key)
        group = groups.get(key)
        if group is not None:
            group.versions.append((row["version_key"] or "", row["structures"]))
    return RegionInventory(
        groups=list(groups.values()),
        total_groups=len(seen),
        total_lines=totals["lines"],
        total_structures=totals["structures"],
    )


def product_lines(
    actor: Actor, vendor_key: str, product_key: str, filters: RegionFilters
) -> QuerySet[SoftwareLine]:
    """The active lines of one product group across the region, with their structures."""
    return (
        region_lines(actor, filters)
        .filter(vendor_key=vendor_key, product_key=product_key)
        .select_related("structure")
        .order_by("structure__name", "version", "pk")
    )


def departements(actor: Actor) -> list[str]:
    return list(
        Structure.objects.visible_to(actor, CommunityPerm.REGION)
        .exclude(departement="")
        .values_list("departement", flat=True)
        .distinct()
        .order_by("departement")
    )

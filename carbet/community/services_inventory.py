"""What each structure runs: the lines Carbet detects (refreshed by :func:`sync`) and the
business applications people declare (:func:`create_line`, :func:`update_line`,
:func:`delete_line`).

Detected lines come from the kernel contract (``carbet.core.contract.detected_products``: the
latest exposure scan's services, the latest directory audit's operating systems). A line is
found again by its provider's stable key, updated in place, and set ``active=False`` (never
deleted: the history says since when a product is gone) once the provider no longer shows it.
Every line carries a CPE 2.3 name when the engine knows the product, so the daily matching can
compare it with the feeds.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from carbet.accounts.roles import Perm
from carbet.audit import services as audit
from carbet.community.choices import Hosting, LineOrigin
from carbet.community.models import SoftwareLine
from carbet.community.selectors_inventory import RegionFilters, region_products, structure_lines
from carbet.community.service import CommunityPerm
from carbet.core import contract, exports
from carbet.core.access import require
from carbet.core.models import Structure
from carbet.core.tenancy import Actor
from carbet.core.validators import one_line
from carbet.engines.community.inventory import to_cpe

DETECTED = (LineOrigin.EXPOSURE.value, LineOrigin.DIRECTORY.value)
# Fields people fill in for a declared application, with their longest length.
DECLARED_LIMITS = {"name": 200, "vendor": 200, "product": 200, "version": 100, "maintainer": 200}
DECLARED_FIELDS = (*DECLARED_LIMITS, "hosting")
# What a provider's product sets on its line (compared to decide whether the line changed).
DETECTED_FIELDS = ("vendor", "product", "version", "cpe", "location", "asset_id", "machines")
CHUNK = 2000  # ids per UPDATE … WHERE id IN (…): well under SQLite's variable limit


# --- Normalisation --------------------------------------------------------------------------


def normalised_cpe(vendor: str, product: str, version: str, given: str = "") -> str:
    """The CPE 2.3 name of a product as typed or detected ("" when the engine does not know
    it); a CPE the scanner already gave is kept (cleaned) when the names say nothing."""
    cpe = to_cpe(vendor, product, version)
    if not cpe and given.startswith("cpe:2.3:"):
        cpe = to_cpe("", given, version)
    return cpe[:300]


# --- Detected lines -------------------------------------------------------------------------


def _wanted(structure_ids: Iterable[int] | None) -> list[int] | None:
    return None if structure_ids is None else sorted({int(pk) for pk in structure_ids})


def _provided(wanted: list[int] | None) -> tuple[dict[tuple[int, str, str], dict], int]:
    """The providers' products, one per (structure, origin, key), with their CPE; and how many
    were ignored (no product, unknown provider)."""
    cache: dict[tuple[str, str, str, str], str] = {}
    found: dict[tuple[int, str, str], dict] = {}
    ignored = 0
    for item in contract.detected_products(wanted):
        product = one_line(item.product)[:200]
        if item.source not in DETECTED or not product or not item.source_key:
            ignored += 1
            continue
        vendor = one_line(item.vendor)[:200]
        version = one_line(item.version)[:100]
        memo = (vendor, product, version, item.cpe)
        if memo not in cache:
            cache[memo] = normalised_cpe(vendor, product, version, item.cpe)
        found[(item.structure_id, item.source, item.source_key[:300])] = {
            "vendor": vendor,
            "product": product,
            "version": version,
            "cpe": cache[memo],
            "location": one_line(item.location)[:300],
            "asset_id": item.asset_id,
            "machines": max(int(item.machines or 0), 0),
        }
    return found, ignored


def _existing(wanted: list[int] | None) -> dict[tuple[int, str, str], dict]:
    rows = SoftwareLine.objects.filter(origin__in=DETECTED)
    if wanted is not None:
        rows = rows.filter(structure_id__in=wanted)
    columns = ("id", "structure_id", "origin", "source_key", "active", *DETECTED_FIELDS)
    return {
        (row["structure_id"], row["origin"], row["source_key"]): row
        for row in rows.values(*columns).iterator(chunk_size=5000)
    }


def _update_ids(ids: list[int], **values: Any) -> None:
    for start in range(0, len(ids), CHUNK):
        SoftwareLine.objects.filter(id__in=ids[start : start + CHUNK]).update(**values)


def sync(structure_ids: Iterable[int] | None = None) -> dict[str, int]:
    """Refresh the detected lines of ``structure_ids`` (None: the whole region) from the
    providers' latest results, in bulk (a handful of queries whatever the region's size).

    Returns ``inventory_created``, ``inventory_updated`` (version, place… changed),
    ``inventory_seen`` (unchanged, still there), ``inventory_deactivated`` (gone from the latest
    result) and ``inventory_ignored`` (provider rows without a product)."""
    wanted = _wanted(structure_ids)
    found, ignored = _provided(wanted)
    now = timezone.now()
    with transaction.atomic():
        existing = _existing(wanted)
        new, changed, seen = [], [], []
        for key, values in found.items():
            row = existing.get(key)
            if row is None:
                structure_id, origin, source_key = key
                new.append(
                    SoftwareLine(
                        structure_id=structure_id,
                        origin=origin,
                        source_key=source_key,
                        first_seen=now,
                        last_seen=now,
                        updated_at=now,
                        **values,
                    )
                )
            elif any(row[name] != values[name] for name in DETECTED_FIELDS):
                changed.append(
                    SoftwareLine(id=row["id"], active=True, last_seen=now, updated_at=now, **values)
                )
            else:
                seen.append(row["id"])
        gone = [row["id"] for key, row in existing.items() if key not in found and row["active"]]
        SoftwareLine.objects.bulk_create(new, batch_size=1000, ignore_conflicts=True)
        SoftwareLine.objects.bulk_update(
            changed, [*DETECTED_FIELDS, "active", "last_seen", "updated_at"], batch_size=500
        )
        _update_ids(seen, active=True, last_seen=now)
        _update_ids(gone, active=False, updated_at=now)
    return {
        "inventory_created": len(new),
        "inventory_updated": len(changed),
        "inventory_seen": len(seen),
        "inventory_deactivated": len(gone),
        "inventory_ignored": ignored,
    }


# --- Declared applications ------------------------------------------------------------------


def clean_declared(values: dict[str, Any]) -> dict[str, Any]:
    """The declared fields, cleaned; a ``ValidationError`` per field in plain French."""
    cleaned: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for name, limit in DECLARED_LIMITS.items():
        text = one_line(values.get(name))
        if len(text) > limit:
            errors[name] = _("%(limit)d caractères au plus (vous en avez écrit %(count)d).") % {
                "limit": limit,
                "count": len(text),
            }
        cleaned[name] = text
    if not cleaned["product"] and "product" not in errors:
        errors["product"] = _(
            "Indiquez le produit (par exemple « FortiOS » ou « Windows Server 2012 R2 ») : "
            "c'est lui que le centre compare aux alertes."
        )
    hosting = values.get("hosting") or Hosting.UNKNOWN
    if hosting not in Hosting.values:
        errors["hosting"] = _("Choisissez un hébergement dans la liste.")
    cleaned["hosting"] = hosting
    if errors:
        raise ValidationError(errors)
    return cleaned


def _only_declared(line: SoftwareLine) -> None:
    if line.origin != LineOrigin.DECLARED:
        raise ValidationError(
            _(
                "Ce logiciel a été détecté par Carbet : il suit les analyses et ne se modifie "
                "pas à la main. Déclarez plutôt l'application telle que vous la connaissez."
            )
        )


def create_line(
    actor: Actor, structure: Structure, values: dict[str, Any], ip: str | None = None
) -> SoftwareLine:
    """Declare a business application of ``structure``; audited ``community.inventory.create``."""
    require(actor, CommunityPerm.INVENTORY, structure)
    cleaned = clean_declared(values)
    cpe = normalised_cpe(cleaned["vendor"], cleaned["product"], cleaned["version"])
    with transaction.atomic():
        line = SoftwareLine.objects.create(
            structure=structure,
            origin=LineOrigin.DECLARED,
            cpe=cpe,
            created_by=actor if getattr(actor, "pk", None) else None,
            **cleaned,
        )
        audit.record(
            actor,
            "community.inventory.create",
            line,
            structure=structure,
            changes={**cleaned, "cpe": cpe},
            ip=ip,
        )
    return line


def update_line(
    actor: Actor, line: SoftwareLine, values: dict[str, Any], ip: str | None = None
) -> SoftwareLine:
    """Change a declared application (fields not given are kept); the CPE is recomputed;
    audited ``community.inventory.update`` with each changed field's before and after."""
    require(actor, CommunityPerm.INVENTORY, line.structure)
    _only_declared(line)
    merged = {name: getattr(line, name) for name in DECLARED_FIELDS}
    merged.update({name: values[name] for name in DECLARED_FIELDS if name in values})
    cleaned = clean_declared(merged)
    cleaned["cpe"] = normalised_cpe(cleaned["vendor"], cleaned["product"], cleaned["version"])
    changes = {
        name: [getattr(line, name), value]
        for name, value in cleaned.items()
        if getattr(line, name) != value
    }
    if not changes:
        return line
    with transaction.atomic():
        for name, value in cleaned.items():
            setattr(line, name, value)
        line.updated_at = timezone.now()
        line.save(update_fields=[*cleaned, "updated_at"])
        audit.record(
            actor,
            "community.inventory.update",
            line,
            structure=line.structure,
            changes=changes,
            ip=ip,
        )
    return line


def delete_line(actor: Actor, line: SoftwareLine, ip: str | None = None) -> None:
    """Remove a declared application (the audit trail keeps what it was)."""
    require(actor, CommunityPerm.INVENTORY, line.structure)
    _only_declared(line)
    with transaction.atomic():
        audit.record(
            actor,
            "community.inventory.delete",
            line,
            structure=line.structure,
            changes={name: getattr(line, name) for name in (*DECLARED_FIELDS, "cpe")},
            ip=ip,
        )
        line.delete()


# --- Exports --------------------------------------------------------------------------------

LINE_COLUMNS = [
    "origine",
    "application",
    "editeur",
    "produit",
    "version",
    "cpe",
    "hebergement",
    "maintenu_par",
    "ou",
    "machines",
    "actif",
    "vu_la_premiere_fois",
    "vu_la_derniere_fois",
]
REGION_COLUMNS = [
    "editeur_normalise",
    "produit_normalise",
    "libelle",
    "nom_cpe_connu",
    "structures",
    "lignes",
    "machines",
    "versions",
]


def _line_row(line: SoftwareLine) -> list[Any]:
    return [
        line.get_origin_display(),
        line.name,
        line.vendor,
        line.product,
        line.version,
        line.cpe,
        line.get_hosting_display(),
        line.maintainer,
        line.location,
        line.machines,
        line.active,
        timezone.localtime(line.first_seen).strftime("%Y-%m-%d %H:%M"),
        timezone.localtime(line.last_seen).strftime("%Y-%m-%d %H:%M"),
    ]


def export_structure(actor: Actor, structure: Structure, ip: str | None = None) -> bytes:
    """``structure``'s inventory as CSV (lines that are gone included, marked not active);
    audited ``community.inventory.export``."""
    require(actor, CommunityPerm.INVENTORY, structure)
    require(actor, Perm.EXPORT_RUN, structure)
    lines = list(structure_lines(actor, structure).order_by("origin", "vendor", "product", "pk"))
    data = exports.to_csv(LINE_COLUMNS, (_line_row(line) for line in lines))
    audit.record(
        actor,
        "community.inventory.export",
        structure,
        structure=structure,
        changes={"format": "csv", "count": len(lines)},
        ip=ip,
    )
    return data


def export_region(actor: Actor, filters: RegionFilters, ip: str | None = None) -> bytes:
    """The regional "who runs what" as CSV, every product group (no display limit); audited
    ``community.inventory.export_region`` with the filters used."""
    require(actor, CommunityPerm.REGION)
    require(actor, Perm.EXPORT_RUN)
    page = region_products(actor, filters, limit=None)
    rows = (
        [
            group.vendor_key,
            group.product_key,
            group.label,
            group.cpe,
            group.structures,
            group.lines,
            group.machines,
            " ; ".join(f"{version or '?'} ({count})" for version, count in group.versions),
        ]
        for group in page.groups
    )
    data = exports.to_csv(REGION_COLUMNS, rows)
    audit.record(
        actor,
        "community.inventory.export_region",
        changes={
            "format": "csv",
            "count": len(page.groups),
            "filters": {"q": filters.q, "category": filters.category, "dep": filters.departement},
        },
        ip=ip,
    )
    return data

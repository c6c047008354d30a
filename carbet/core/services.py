"""Domain operations on the registry, shared by the pages, the API, the importers and the CLI.

Each function checks the actor's right on the structure concerned, validates, writes, and
appends to the audit trail. Views and API routes stay thin: parse, call one of these, render.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from carbet.accounts.roles import Perm
from carbet.audit import services as audit
from carbet.core import ownership, uploads
from carbet.core.access import require
from carbet.core.models import (
    Asset,
    Contact,
    Ght,
    Mandate,
    MandateStatus,
    Organisation,
    Structure,
)
from carbet.core.tenancy import Actor, can

# What a signed mandate may be (checked by content in carbet.core.uploads).
MANDATE_KINDS = uploads.IMAGES_AND_PDF


def _diff(instance: Any, fields: list[str], before: dict[str, Any]) -> dict[str, list[Any]]:
    return {
        name: [before.get(name), getattr(instance, name)]
        for name in fields
        if before.get(name) != getattr(instance, name)
    }


def _snapshot(instance: Any, fields: list[str]) -> dict[str, Any]:
    return {name: getattr(instance, name) for name in fields}


def _save_validated(instance: Any) -> None:
    instance.full_clean()
    instance.save()


# --- GHTs, organisations and structures ------------------------------------------------------

GHT_FIELDS = ["code", "name"]


@transaction.atomic
def save_ght(actor: Actor, ght: Ght, *, ip: str | None = None) -> None:
    require(actor, Perm.STRUCTURE_EDIT)
    creating = ght.pk is None
    before = {} if creating else _snapshot(Ght.objects.get(pk=ght.pk), GHT_FIELDS)
    _save_validated(ght)
    audit.record(
        actor,
        "ght.create" if creating else "ght.update",
        ght,
        changes=_diff(ght, GHT_FIELDS, before),
        ip=ip,
    )


ORGANISATION_FIELDS = ["finess_ej", "name", "legal_status", "ght_id"]
STRUCTURE_FIELDS = [
    "finess_et",
    "name",
    "organisation_id",
    "category",
    "beds",
    "places",
    "activity_weight",
    "departement",
    "address",
    "postal_code",
    "city",
]


@transaction.atomic
def save_organisation(actor: Actor, organisation: Organisation, *, ip: str | None = None) -> None:
    require(actor, Perm.STRUCTURE_EDIT)
    creating = organisation.pk is None
    before = (
        {}
        if creating
        else _snapshot(Organisation.objects.get(pk=organisation.pk), ORGANISATION_FIELDS)
    )
    _save_validated(organisation)
    audit.record(
        actor,
        "organisation.create" if creating else "organisation.update",
        organisation,
        changes=_diff(organisation, ORGANISATION_FIELDS, before),
        ip=ip,
    )


@transaction.atomic
def save_structure(actor: Actor, structure: Structure, *, ip: str | None = None) -> None:
    require(actor, Perm.STRUCTURE_EDIT)
    creating = structure.pk is None
    before = {} if creating else _snapshot(Structure.objects.get(pk=structure.pk), STRUCTURE_FIELDS)
    _save_validated(structure)
    audit.record(
        actor,
        "structure.create" if creating else "structure.update",
        structure,
        structure=structure,
        changes=_diff(structure, STRUCTURE_FIELDS, before),
        ip=ip,
    )


# --- Contacts --------------------------------------------------------------------------------

CONTACT_FIELDS = ["role", "name", "email", "phone", "organisation_name"]


@transaction.atomic
def save_contact(actor: Actor, contact: Contact, *, ip: str | None = None) -> None:
    require(actor, Perm.CONTACT_EDIT, contact.structure)
    creating = contact.pk is None
    before = {} if creating else _snapshot(Contact.objects.get(pk=contact.pk), CONTACT_FIELDS)
    _save_validated(contact)
    audit.record(
        actor,
        "contact.create" if creating else "contact.update",
        contact,
        changes=_diff(contact, CONTACT_FIELDS, before),
        ip=ip,
    )


@transaction.atomic
def delete_contact(actor: Actor, contact: Contact, *, ip: str | None = None) -> None:
    require(actor, Perm.CONTACT_EDIT, contact.structure)
    audit.record(actor, "contact.delete", contact, ip=ip)
    contact.delete()


# --- Assets ----------------------------------------------------------------------------------

ASSET_FIELDS = ["kind", "value", "label", "criticality", "internet_exposed", "validated"]


@transaction.atomic
def save_asset(actor: Actor, asset: Asset, *, ip: str | None = None) -> None:
    """Create or change an asset. A change of what it designates withdraws its validation and
    its proof of ownership, and conflicts with other structures' declarations are recomputed."""
    require(actor, Perm.ASSET_EDIT, asset.structure)
    creating = asset.pk is None
    previous = None if creating else Asset.objects.get(pk=asset.pk)
    before = {} if previous is None else _snapshot(previous, ASSET_FIELDS)
    asset.full_clean()  # normalises the value (IDNA, canonical IP/CIDR)
    moved = previous is not None and (previous.kind, previous.value) != (asset.kind, asset.value)
    if moved:
        asset.validated, asset.validated_by, asset.validated_at = False, None, None
        ownership.withdraw_proof(asset)
        asset.rejected, asset.shared = False, False
    if creating:
        # Proof and the centre's decisions are never taken from the declaration itself.
        ownership.withdraw_proof(asset)
        asset.rejected, asset.shared, asset.in_conflict = False, False, False
    if creating and asset.validated and not can(actor, Perm.ASSET_VALIDATE, asset.structure):
        asset.validated = False
    asset.save()
    if moved and previous is not None:
        ownership.release_rivals_of(previous)
    found = ownership.refresh_conflicts(asset)
    audit.record(
        actor,
        "asset.create" if creating else "asset.update",
        asset,
        changes={
            **_diff(asset, ASSET_FIELDS, before),
            **({"conflict_with": [o.structure_id for o in found]} if found else {}),
        },
        ip=ip,
    )


@transaction.atomic
def validate_asset(actor: Actor, asset: Asset, *, ip: str | None = None) -> None:
    """The structure confirms the asset is its own: only then may services contact it."""
    require(actor, Perm.ASSET_VALIDATE, asset.structure)
    validator = actor if getattr(actor, "pk", None) else None  # SYSTEM validates as nobody
    asset.validated, asset.validated_by, asset.validated_at = True, validator, timezone.now()
    asset.save(update_fields=["validated", "validated_by", "validated_at"])
    audit.record(actor, "asset.validate", asset, ip=ip)


@transaction.atomic
def delete_asset(actor: Actor, asset: Asset, *, ip: str | None = None) -> None:
    require(actor, Perm.ASSET_EDIT, asset.structure)
    audit.record(actor, "asset.delete", asset, changes={"value": asset.value}, ip=ip)
    asset.delete()
    ownership.release_rivals_of(asset)


BULK_UPDATE_FIELDS = ["label", "criticality", "internet_exposed"]


@transaction.atomic
def bulk_import_assets(
    actor: Actor,
    created: list[Asset],
    updated: list[Asset],
    *,
    ip: str | None = None,
    batch_size: int = 500,
) -> None:
    """Write many assets at once (the importer): far fewer queries than ``save_asset``.

    The caller has normalised each value (``normalize_asset_value``) and checked duplicates;
    here the actor's right is checked once per structure, each asset's fields are validated
    (without the per-row database checks), new assets are never validated, and the trail
    gets one ``asset.import`` entry per structure listing what was created and updated.
    ``updated`` assets keep their kind and value: only the fields in BULK_UPDATE_FIELDS change.
    """
    structures = {a.structure_id: a.structure for a in (*created, *updated)}
    for structure in structures.values():
        require(actor, Perm.ASSET_EDIT, structure)
    for asset in (*created, *updated):
        asset.clean_fields(exclude=["structure", "validated_by"])
    for asset in created:
        asset.validated, asset.validated_by, asset.validated_at = False, None, None
        ownership.withdraw_proof(asset)
        asset.rejected, asset.shared, asset.in_conflict = False, False, False
    Asset.objects.bulk_create(created, batch_size=batch_size)
    Asset.objects.bulk_update(updated, BULK_UPDATE_FIELDS, batch_size=batch_size)
    for asset in created:
        if asset.pk is None:  # backends that do not return keys: find the row again
            asset = Asset.objects.get(
                structure_id=asset.structure_id, kind=asset.kind, value=asset.value
            )
        ownership.refresh_conflicts(asset)
    for structure_id, structure in structures.items():
        audit.record(
            actor,
            "asset.import",
            structure,
            structure=structure,
            changes={
                "created": [a.value for a in created if a.structure_id == structure_id],
                "updated": [a.value for a in updated if a.structure_id == structure_id],
            },
            ip=ip,
        )


# --- Mandates --------------------------------------------------------------------------------


@transaction.atomic
def record_mandate(
    actor: Actor,
    mandate: Mandate,
    document: UploadedFile,
    assets: list[Asset] | None = None,
    *,
    ip: str | None = None,
) -> Mandate:
    """Record a signed mandate with its document; the document's SHA-256 is kept and audited."""
    require(actor, Perm.MANDATE_EDIT, mandate.structure)
    stored = uploads.store(
        document,
        MANDATE_KINDS,
        area="mandates",
        field="document",
        type_message=_("Déposez le mandat signé en PDF, PNG ou JPEG."),
    )
    mandate.document_sha256 = stored.sha256
    mandate.document_name = uploads.original_name(document, "mandat")
    mandate.recorded_by = actor if getattr(actor, "pk", None) else None
    mandate.document = stored.name
    try:
        # recorded_by stays empty when the platform itself records (demo, imports as SYSTEM).
        mandate.full_clean(exclude=["document_sha256", "recorded_by"])
        mandate.save()
        chosen = [a for a in (assets or []) if a.structure_id == mandate.structure_id]
        if len(chosen) != len(assets or []):
            raise ValidationError(_("Un actif choisi n'appartient pas à cette structure."))
        mandate.assets.set(chosen)
    except BaseException:
        uploads.delete_upload(stored.name)  # a refused mandate leaves no document behind
        raise
    audit.record(
        actor,
        "mandate.create",
        mandate,
        changes={
            "services": mandate.services,
            "valid_from": mandate.valid_from,
            "valid_until": mandate.valid_until,
            "all_assets": mandate.all_assets,
            "assets": [a.value for a in chosen],
            "document_sha256": mandate.document_sha256,
            "signed_by": mandate.signed_by_name,
        },
        ip=ip,
    )
    return mandate


@transaction.atomic
def revoke_mandate(actor: Actor, mandate: Mandate, reason: str, *, ip: str | None = None) -> None:
    require(actor, Perm.MANDATE_REVOKE, mandate.structure)
    if not reason.strip():
        raise ValidationError({"status_reason": _("Indiquez le motif de la révocation.")})
    mandate.status, mandate.status_reason = MandateStatus.REVOKED, reason.strip()
    mandate.save(update_fields=["status", "status_reason"])
    audit.record(actor, "mandate.revoke", mandate, changes={"reason": reason.strip()}, ip=ip)


def mandate_state(mandate: Mandate, today: date | None = None) -> str:
    """One word for the interface: active, expiring (≤ 30 days), expired, future, revoked."""
    today = today or timezone.localdate()
    if mandate.status == MandateStatus.REVOKED:
        return "revoked"
    if mandate.valid_from > today:
        return "future"
    if mandate.valid_until < today:
        return "expired"
    if (mandate.valid_until - today).days <= 30:
        return "expiring"
    return "active"

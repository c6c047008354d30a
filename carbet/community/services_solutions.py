"""Shared solutions: the centre's catalogue of regional offers, the structures' answers
(interested, in need, joined) and the needs no offer covers yet. Every write is audited."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from carbet.accounts.models import User
from carbet.audit import services as audit
from carbet.community import selectors_solutions
from carbet.community.choices import InterestKind, NeedCategory, OfferKind, OfferStatus
from carbet.community.models import Need, Offer, OfferInterest
from carbet.community.service import CommunityPerm
from carbet.community.targeting import SIZE_BOUNDS, is_targeted
from carbet.core.access import refusal, require, require_centre
from carbet.core.choices import Category
from carbet.core.models import Structure
from carbet.core.tenancy import Actor, SystemActor

TEXT_FIELDS = {
    "title": 200,
    "description": 10000,
    "provider": 200,
    "eligibility": 2000,
    "how_to_join": 2000,
    "price_note": 300,
}
MAX_QUANTITY = 1_000_000


def _user(actor: Actor) -> User | None:
    return actor if isinstance(actor, User) and actor.pk else None


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        value = value.replace("\n", ",").split(",")
    out: list[str] = []
    for item in value or ():
        text = str(item).strip()[:100]
        if text and text not in out:
            out.append(text)
    return out


def _ids(value: Any) -> list[int]:
    out: list[int] = []
    for item in value or ():
        pk = getattr(item, "pk", item)
        try:
            number = int(pk)
        except (TypeError, ValueError):
            continue
        if number not in out:
            out.append(number)
    return out


def _targeting(values: dict[str, Any], errors: dict[str, str]) -> dict[str, Any]:
    categories = _strings(values.get("categories"))
    if set(categories) - set(Category.values):
        errors["categories"] = _("Catégorie inconnue.")
    sizes = _strings(values.get("sizes"))
    if set(sizes) - set(SIZE_BOUNDS):
        errors["sizes"] = _("Taille inconnue.")
    departements = _strings(values.get("departements"))
    if any(not d.isalnum() or len(d) > 3 for d in departements):
        errors["departements"] = _("Un département s'écrit 971, 972, 2A…")
    structures = _ids(values.get("structures"))
    if structures and Structure.objects.filter(pk__in=structures).count() != len(structures):
        errors["structures"] = _("Structure inconnue.")
    return {
        "categories": categories,
        "departements": departements,
        "ghts": _ids(values.get("ghts")),
        "sizes": sizes,
        "products": _strings(values.get("products")),
        "structures": structures,
    }


def _dates(values: dict[str, Any], errors: dict[str, str]) -> tuple[date | None, date | None]:
    opens_on, closes_on = values.get("opens_on") or None, values.get("closes_on") or None
    if opens_on and closes_on and closes_on < opens_on:
        errors["closes_on"] = _("La date de clôture précède la date d'ouverture.")
    return opens_on, closes_on


def _offer_values(values: dict[str, Any]) -> dict[str, Any]:
    errors: dict[str, str] = {}
    clean: dict[str, Any] = {
        name: str(values.get(name) or "").strip()[:limit] for name, limit in TEXT_FIELDS.items()
    }
    if not clean["title"]:
        errors["title"] = _("Donnez un titre à l'offre.")
    if not clean["description"]:
        errors["description"] = _("Décrivez l'offre.")
    for name, choices in (
        ("kind", OfferKind),
        ("category", NeedCategory),
        ("status", OfferStatus),
    ):
        value = values.get(name) or (OfferStatus.DRAFT if name == "status" else "")
        if value not in choices.values:
            errors[name] = _("Choisissez une valeur de la liste.")
        clean[name] = value
    url = str(values.get("url") or "").strip()[:200]
    if url:
        try:
            URLValidator(schemes=["https", "http"])(url)
        except ValidationError:
            errors["url"] = _("Adresse web invalide.")
    clean["url"] = url
    clean["opens_on"], clean["closes_on"] = _dates(values, errors)
    clean.update(_targeting(values, errors))
    if errors:
        raise ValidationError(errors)
    return clean


def save_offer(
    actor: Actor,
    values: dict[str, Any],
    offer: Offer | None = None,
    *,
    ip: str | None = None,
) -> Offer:
    """The centre writes or updates an offer of the catalogue (who is eligible, how to join)."""
    require_centre(actor, CommunityPerm.PUBLISH)
    clean = _offer_values(values)
    created = offer is None
    if offer is None:
        offer = Offer(author=_user(actor))
    changed = sorted(k for k, v in clean.items() if getattr(offer, k, None) != v)
    for name, value in clean.items():
        setattr(offer, name, value)
    offer.updated_at = timezone.now()
    with transaction.atomic():
        offer.save()
        audit.record(
            actor,
            "community.solutions.offer.create" if created else "community.solutions.offer.update",
            offer,
            ip=ip,
            changes={"status": offer.status, "fields": changed},
        )
    return offer


def _check_member(actor: Actor, perm: Any, structure: Structure) -> None:
    """``actor`` holds ``perm`` on ``structure`` and speaks for it (the centre reads the
    answers; it does not answer for a structure), or is the platform itself."""
    require(actor, perm, structure)
    if isinstance(actor, SystemActor):
        return
    if not selectors_solutions.member_structures(actor, perm).filter(pk=structure.pk).exists():
        raise refusal(_("Seules les personnes de la structure répondent en son nom."))


def set_interest(
    actor: Actor,
    offer: Offer,
    structure: Structure,
    values: dict[str, Any],
    *,
    ip: str | None = None,
) -> OfferInterest:
    """A structure says it is interested, in need, or has joined (one answer per structure and
    offer; answering again updates it)."""
    _check_member(actor, CommunityPerm.INTEREST, structure)
    if not is_targeted(offer, structure):
        raise refusal(_("Cette offre ne s'adresse pas à cette structure."))
    if not selectors_solutions.accepting(offer):
        raise ValidationError(_("Cette offre n'accepte plus de réponse."))
    kind = values.get("kind")
    errors: dict[str, str] = {}
    if kind not in InterestKind.values:
        errors["kind"] = _("Choisissez : intéressée, en a besoin ou a adhéré.")
    try:
        quantity = int(values.get("quantity") or 0)
    except (TypeError, ValueError):
        quantity = -1
    if not 0 <= quantity <= MAX_QUANTITY:
        errors["quantity"] = _("Une quantité entre 0 et un million.")
    if errors:
        raise ValidationError(errors)
    comment = str(values.get("comment") or "").strip()[:1000]
    with transaction.atomic():
        interest, created = OfferInterest.objects.update_or_create(
            offer=offer,
            structure=structure,
            defaults={
                "kind": kind,
                "quantity": quantity,
                "comment": comment,
                "author": _user(actor),
                "updated_at": timezone.now(),
            },
        )
        audit.record(
            actor,
            "community.solutions.interest.save",
            interest,
            structure=structure,
            ip=ip,
            changes={"offer": offer.pk, "kind": kind, "quantity": quantity, "created": created},
        )
    return interest


def withdraw_interest(actor: Actor, interest: OfferInterest, *, ip: str | None = None) -> None:
    _check_member(actor, CommunityPerm.INTEREST, interest.structure)
    with transaction.atomic():
        audit.record(
            actor,
            "community.solutions.interest.withdraw",
            interest,
            structure=interest.structure,
            ip=ip,
            changes={"offer": interest.offer_id, "kind": interest.kind},
        )
        interest.delete()


def declare_need(
    actor: Actor, structure: Structure, values: dict[str, Any], *, ip: str | None = None
) -> Need:
    """A need no offer covers yet, so the centre can federate it."""
    _check_member(actor, CommunityPerm.INTEREST, structure)
    category = values.get("category")
    description = str(values.get("description") or "").strip()[:2000]
    errors: dict[str, str] = {}
    if category not in NeedCategory.values:
        errors["category"] = _("Choisissez un domaine.")
    if not description:
        errors["description"] = _("Décrivez votre besoin en quelques mots.")
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        need = Need.objects.create(
            structure=structure, category=category, description=description, author=_user(actor)
        )
        audit.record(
            actor,
            "community.solutions.need.create",
            need,
            structure=structure,
            ip=ip,
            changes={"category": category},
        )
    return need


def delete_need(actor: Actor, need: Need, *, ip: str | None = None) -> None:
    _check_member(actor, CommunityPerm.INTEREST, need.structure)
    with transaction.atomic():
        audit.record(
            actor,
            "community.solutions.need.delete",
            need,
            structure=need.structure,
            ip=ip,
            changes={"category": need.category},
        )
        need.delete()

"""Who is told about a structure by e-mail: its director and its cyber referent.

Every service mails the same people about a structure (risk acceptances to sign, campaign
notices, proofs to review, exposure alerts, the weekly digest), so they are found in one place:
the structure's contacts with that role and the active users whose membership covers the
structure (directly, through its organisation or its GHT). Each address comes once.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Q

from carbet.accounts.models import Membership, User
from carbet.accounts.roles import StructureRole
from carbet.core.choices import ContactRole
from carbet.core.models import Contact, Structure
from carbet.core.tenancy import SYSTEM


@dataclass(frozen=True)
class Recipient:
    """One person to write to, with the language their message is written in."""

    email: str
    name: str
    language: str = "fr"


def addresses(structure: Structure, roles: Iterable[str] | None = None) -> list[str]:
    """E-mail addresses (lower case, sorted) of the structure's director and referent:
    contacts and users. ``roles`` narrows to some structure roles (e.g. only directors, who
    sign)."""
    wanted = set(roles or (StructureRole.DIRECTOR, StructureRole.REFERENT))
    contact_roles = []
    if StructureRole.DIRECTOR in wanted:
        contact_roles.append(ContactRole.DIRECTOR)
    if StructureRole.REFERENT in wanted:
        contact_roles.append(ContactRole.CYBER_REFERENT)
    found = set(
        Contact.objects.filter(structure=structure, role__in=contact_roles)
        .exclude(email="")
        .values_list("email", flat=True)
    )
    covering = Q(memberships__structure=structure) | Q(
        memberships__organisation_id=structure.organisation_id
    )
    ght_id = structure.organisation.ght_id
    if ght_id:
        covering |= Q(memberships__ght_id=ght_id)
    users = User.objects.filter(covering, is_active=True, memberships__role__in=wanted)
    found.update(users.exclude(email="").values_list("email", flat=True))
    return sorted({a.strip().lower() for a in found if a.strip()})


def referents(structure: Structure) -> list[Recipient]:
    """The structure's referents, with their names and languages: users with the referent role
    covering it, then the cyber referent contacts with an e-mail (each address once)."""
    scope = Q(structure=structure) | Q(organisation_id=structure.organisation_id)
    ght_id = structure.organisation.ght_id
    if ght_id:
        scope |= Q(ght_id=ght_id)
    found: dict[str, Recipient] = {}
    memberships = (
        Membership.objects.filter(scope, role=StructureRole.REFERENT, user__is_active=True)
        .exclude(user__email="")
        .select_related("user")
        .order_by("user__email")
    )
    for membership in memberships:
        user = membership.user
        found.setdefault(
            user.email.lower(), Recipient(user.email, str(user), user.language or "fr")
        )
    contacts = (
        Contact.objects.visible_to(SYSTEM)
        .filter(structure=structure, role=ContactRole.CYBER_REFERENT)
        .exclude(email="")
        .order_by("email")
    )
    for contact in contacts:
        found.setdefault(contact.email.lower(), Recipient(contact.email, contact.name))
    return list(found.values())

"""Tenancy in one place: who may see which structure's rows, and with which rights.

Every query for tenant data goes through ``Model.objects.visible_to(actor, perm)``. Centre staff
see the region; structure people see the structures their memberships cover (a membership on an
organisation covers its structures, one on a GHT covers the structures of its organisations);
the ARS role sees no structure's detail at all (it gets aggregates from dedicated services).
``SYSTEM`` is the explicit actor of background work that is not done on anyone's behalf.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db import models
from django.db.models import Q

from carbet.accounts.roles import MATRIX, Perm

if TYPE_CHECKING:
    from carbet.accounts.models import User


@dataclass(frozen=True)
class SystemActor:
    """Background work acting for the platform itself (scheduled scans, nightly jobs)."""

    name: str = "system"
    is_authenticated: bool = True
    pk: None = None

    def __str__(self) -> str:
        return "Carbet (système)"


SYSTEM = SystemActor()
# Whoever acts: a person's account, or the platform itself (``SYSTEM``). Every service function
# that checks rights or writes the audit trail takes one.
type Actor = User | SystemActor  # lazily evaluated: User is only imported for type checkers


@dataclass(frozen=True)
class Grants:
    """The scopes on which an actor holds a given permission."""

    everything: bool
    structure_ids: frozenset[int] = frozenset()
    organisation_ids: frozenset[int] = frozenset()
    ght_ids: frozenset[int] = frozenset()

    @property
    def nothing(self) -> bool:
        return not (self.everything or self.structure_ids or self.organisation_ids or self.ght_ids)

    def structure_q(self, prefix: str = "") -> Q:
        """A filter on Structure reached through ``prefix`` (``""`` for Structure itself)."""
        if self.everything:
            return Q()
        if self.nothing:
            return Q(pk__in=[])
        p = f"{prefix}__" if prefix else ""
        return (
            Q(**{f"{p}id__in": self.structure_ids})
            | Q(**{f"{p}organisation_id__in": self.organisation_ids})
            | Q(**{f"{p}organisation__ght_id__in": self.ght_ids})
        )


def _memberships(user: User) -> list[tuple[str, int | None, int | None, int | None]]:
    cached = getattr(user, "_carbet_memberships", None)
    if cached is None:
        cached = list(
            user.memberships.values_list("role", "structure_id", "organisation_id", "ght_id")
        )
        user._carbet_memberships = cached
    return cached


def forget_memberships(user: Any) -> None:
    """Drop the per-request membership cache (after a membership changes)."""
    if hasattr(user, "_carbet_memberships"):
        del user._carbet_memberships


def grants(actor: Actor | None, perm: Perm) -> Grants:
    if actor is None or not getattr(actor, "is_authenticated", False):
        return Grants(everything=False)
    if isinstance(actor, SystemActor):
        return Grants(everything=True)
    if not actor.is_active:
        return Grants(everything=False)
    allowed = MATRIX[perm]
    if actor.is_superuser or (actor.centre_role and actor.centre_role in allowed):
        return Grants(everything=True)
    structures, organisations, ghts = set(), set(), set()
    for role, structure_id, organisation_id, ght_id in _memberships(actor):
        if role not in allowed:
            continue
        if structure_id:
            structures.add(structure_id)
        elif organisation_id:
            organisations.add(organisation_id)
        elif ght_id:
            ghts.add(ght_id)
    return Grants(False, frozenset(structures), frozenset(organisations), frozenset(ghts))


def can(actor: Actor | None, perm: Perm, structure: Any = None) -> bool:
    """Whether ``actor`` holds ``perm`` — on ``structure`` if given, anywhere otherwise."""
    scope = grants(actor, perm)
    if scope.everything:
        return True
    if structure is None:
        return not scope.nothing
    return (
        structure.pk in scope.structure_ids
        or structure.organisation_id in scope.organisation_ids
        or (
            bool(scope.ght_ids)
            and structure.organisation.ght_id is not None
            and structure.organisation.ght_id in scope.ght_ids
        )
    )


class TenantQuerySet(models.QuerySet):
    """Querysets of tenant-owned rows; ``visible_to`` is the only way views should reach them.

    Each model names how to reach its Structure with ``tenant_path``: ``""`` on Structure,
    ``"structure"`` on a row owned by one structure, ``"organisation"``/``"ght"`` on the
    registry's upper levels (visible when one of their structures is).
    """

    def visible_to(self, actor: Actor | None, perm: Perm = Perm.STRUCTURE_VIEW) -> TenantQuerySet:
        scope = grants(actor, perm)
        if scope.everything:
            return self
        if scope.nothing:
            return self.none()
        path = self.model.tenant_path
        if path == "organisation":
            return self.filter(
                Q(id__in=scope.organisation_ids)
                | Q(ght_id__in=scope.ght_ids)
                | Q(structures__id__in=scope.structure_ids)
            ).distinct()
        if path == "ght":
            return self.filter(
                Q(id__in=scope.ght_ids)
                | Q(organisations__id__in=scope.organisation_ids)
                | Q(organisations__structures__id__in=scope.structure_ids)
            ).distinct()
        return self.filter(scope.structure_q(path))

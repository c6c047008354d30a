"""Reaching one object on someone's behalf: the 404-then-403 rule, for pages and API alike.

Every view and API route that takes an id from the address asks here for the row:

* the row is looked up through ``visible_to(actor, see)``; a row the actor may not see is a
  **404** (``Http404``), exactly like a row that does not exist, so ids of other structures
  reveal nothing;
* a visible row on which the actor lacks ``perm`` is a **403** (``PermissionDenied``).

The pages turn these exceptions into Django's 404/403 pages, the API into its JSON error format
(``carbet/api/errors.py``): both keep their status codes and shapes. ``require`` is the one
check of a right without a row (lists, creations, services).

Why ``see`` and ``perm`` are two permissions: a referent who may read a structure's roadmap but
not answer it must get a 403 on the answer page (the structure is visible), not a 404.
"""

from __future__ import annotations

from functools import reduce
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Model, QuerySet
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _

from carbet.accounts.roles import Perm
from carbet.core.models import Structure
from carbet.core.tenancy import SYSTEM, Actor, can


def refusal(message: str | None = None) -> PermissionDenied:
    """The 403 of the platform, with its plain French sentence unless a more precise one."""
    return PermissionDenied(message or _("Vous n'avez pas le droit de faire cette action."))


def require(
    actor: Actor, perm: Perm, structure: Structure | None = None, *, message: str | None = None
) -> None:
    """Raise a 403 unless ``actor`` holds ``perm`` (on ``structure`` if given, anywhere else)."""
    if not can(actor, perm, structure):
        raise refusal(message)


def require_centre(actor: Actor, perm: Perm) -> None:
    """``perm`` and a centre role: for region-wide settings only the centre edits (the
    phishing library, sending profiles), even when a structure role holds the same right."""
    require(actor, perm)
    if not (
        actor is SYSTEM
        or getattr(actor, "is_superuser", False)
        or getattr(actor, "centre_role", "")
    ):
        raise refusal()


def structure_for(
    actor: Actor,
    pk: Any,
    perm: Perm | None = None,
    *,
    see: Perm = Perm.STRUCTURE_VIEW,
) -> Structure:
    """The structure ``pk`` if ``actor`` may see it with ``see`` (else 404) and holds ``perm``
    on it (else 403); without ``perm``, seeing is enough."""
    structure = get_object_or_404(
        Structure.objects.visible_to(actor, see).select_related("organisation__ght"), pk=pk
    )
    if perm is not None and perm != see:
        require(actor, perm, structure)
    return structure


def structure_of(row: Model) -> Structure:
    """The structure owning ``row``, reached along its model's ``tenant_path``."""
    path = type(row).tenant_path  # type: ignore[attr-defined]
    return reduce(getattr, path.split("__"), row) if path else row  # type: ignore[return-value]


def owned_for[RowT: Model](
    actor: Actor,
    source: type[RowT] | QuerySet[RowT],
    pk: Any,
    perm: Perm,
    *,
    see: Perm = Perm.STRUCTURE_VIEW,
) -> RowT:
    """A structure-owned row (contact, asset, mandate, scan, campaign…) under the same rule:
    invisible is 404, visible without ``perm`` on its structure is 403.

    ``source`` is the model, or a queryset of it when the caller wants more joined
    (``select_related``) or a narrower set (another structure's row stays a 404 either way).
    """
    queryset = source if isinstance(source, QuerySet) else source._default_manager.all()
    path = queryset.model.tenant_path  # type: ignore[attr-defined]
    if path:
        queryset = queryset.select_related(f"{path}__organisation__ght")
    row = get_object_or_404(queryset.visible_to(actor, see), pk=pk)  # type: ignore[attr-defined]
    require(actor, perm, structure_of(row))
    return row


def visible_or_404[RowT: Model](
    actor: Actor, source: type[RowT] | QuerySet[RowT], pk: Any, see: Perm = Perm.STRUCTURE_VIEW
) -> RowT:
    """A row ``actor`` may see with ``see`` (else 404), when seeing is all the route needs."""
    queryset = source if isinstance(source, QuerySet) else source._default_manager.all()
    return get_object_or_404(queryset.visible_to(actor, see), pk=pk)  # type: ignore[attr-defined]


__all__ = [
    "owned_for",
    "refusal",
    "require",
    "require_centre",
    "structure_for",
    "structure_of",
    "visible_or_404",
]

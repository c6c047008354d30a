"""Helpers shared by the registry views: reaching a structure or a row the viewer may act on."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Model
from django.shortcuts import get_object_or_404

from carbet.accounts.roles import Perm
from carbet.core.models import Structure
from carbet.core.tenancy import can


def structure_for(request: Any, pk: int, perm: Perm = Perm.STRUCTURE_VIEW) -> Structure:
    """The structure ``pk`` if the viewer may see it (else 404) and holds ``perm`` (else 403)."""
    structure = get_object_or_404(
        Structure.objects.visible_to(request.user).select_related("organisation__ght"), pk=pk
    )
    if not can(request.user, perm, structure):
        raise PermissionDenied
    return structure


def owned_for(request: Any, model: type[Model], pk: int, perm: Perm) -> Any:
    """A structure-owned row (contact, asset, mandate) under the same 404-then-403 rule."""
    row = get_object_or_404(
        model.objects.visible_to(request.user).select_related("structure__organisation__ght"),
        pk=pk,
    )
    if not can(request.user, perm, row.structure):
        raise PermissionDenied
    return row

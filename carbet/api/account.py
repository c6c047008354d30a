"""Who am I, how far has my job gone, and the regional aggregates (the ARS's only view)."""

from __future__ import annotations

from uuid import UUID

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Router

from carbet.accounts.roles import CentreRole, Perm, StructureRole
from carbet.api.auth import actor
from carbet.api.schemas import AggregatesOut, JobOut, MeOut
from carbet.core.access import require
from carbet.core.tenancy import can
from carbet.jobs.models import Job
from carbet.web import services as regional

router = Router(tags=["compte"])


@router.get("/me", response=MeOut, summary="Mon compte, mes rattachements et mes droits")
def me(request: HttpRequest) -> dict:
    user = actor(request)
    memberships = []
    for membership in user.memberships.select_related("structure", "organisation", "ght"):
        scope = membership.scope
        memberships.append(
            {
                "role": {
                    "code": membership.role,
                    "label": str(StructureRole(membership.role).label),
                },
                "scope_type": type(scope).__name__.lower(),
                "scope_id": scope.pk,
                "scope_name": str(scope),
            }
        )
    centre_role = (
        {"code": user.centre_role, "label": str(CentreRole(user.centre_role).label)}
        if user.centre_role
        else None
    )
    return {
        "user": user,
        "centre_role": centre_role,
        "memberships": memberships,
        "permissions": [perm.value for perm in Perm if can(user, perm)],
    }


@router.get("/jobs/{uuid:id}", response=JobOut, summary="Avancement d'une tâche de fond")
def job_detail(request: HttpRequest, id: UUID) -> Job:
    return get_object_or_404(Job.objects.visible_to(actor(request)), pk=id)


@router.get(
    "/aggregates",
    response=AggregatesOut,
    summary="Indicateurs régionaux agrégés (jamais le détail d'une structure)",
)
def aggregates(request: HttpRequest) -> dict:
    require(actor(request), Perm.REGION_AGGREGATES)
    rows = {
        "by_category": regional.by_category(),
        "by_departement": regional.by_departement(),
    }
    return {
        "min_group_size": regional.MIN_GROUP_SIZE,
        **{
            key: [
                {
                    "label": row.label,
                    "structures": row.structures,
                    "with_valid_mandate": row.with_valid_mandate,
                    "assets": row.assets,
                    "mandate_share": row.mandate_share,
                }
                for row in values
            ]
            for key, values in rows.items()
        },
    }

"""Directory audits through the API: audits of the structures a token may see, one audit's
results rule by rule, starting an online audit, and the regional level distribution.

Reads go through ``visible_to`` (another structure's audit is a 404); starting an audit goes
through ``carbet.directory.services``, which checks the right (403) and the mandate (403 with
the mandate's reason, written to the audit trail).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Query, Router, Schema, Status
from pydantic import Field

from carbet.accounts.roles import Perm
from carbet.api.auth import actor
from carbet.api.errors import ApiError
from carbet.api.pagination import Page, PageQuery, paginate
from carbet.api.schemas import ObjectId, StructureRef
from carbet.audit.services import client_ip
from carbet.core import services as core_services
from carbet.core.mandates import MandateRefused
from carbet.directory import selectors, services
from carbet.directory.models import DirectoryAudit, DirectoryConnection
from carbet.directory.service import DirectoryPerm

router = Router(tags=["annuaire"])


class AuditOut(Schema):
    id: int
    structure: StructureRef
    domain: str
    origin: str
    status: str
    collected_at: datetime | None
    analysed_at: datetime | None
    anssi_level: int | None
    score_global: int | None
    score_stale: int | None
    score_privileged: int | None
    score_trusts: int | None
    score_anomalies: int | None
    exploitable_count: int
    new_rules: list[str]
    fixed_rules: list[str]
    error: str


class RuleOut(Schema):
    rule: str
    anssi: str
    level: int | None
    category: str
    points: int
    severity: int
    title: str
    exploitable_now: bool
    objects_total: int
    objects: list[str]
    excepted_objects: list[str]
    remediation: str
    command: str


class AuditDetailOut(AuditOut):
    findings: list[RuleOut]
    not_evaluated: list[dict[str, str]]


class AuditFilters(Schema):
    structure: ObjectId | None = None
    domain: str | None = Field(None, max_length=255)


class LevelCount(Schema):
    label: str
    count: int | None = Field(
        description="Nombre de structures ; null : secret statistique (moins de 5 structures, "
        "ou déductible des autres cases)."
    )


def _audits(request: HttpRequest):
    return (
        DirectoryAudit.objects.visible_to(actor(request), DirectoryPerm.VIEW)
        .select_related("structure")
        .defer("snapshot")
    )


@router.get("/directory/audits", response=Page[AuditOut], summary="Audits de l'annuaire")
def list_audits(request: HttpRequest, page: Query[PageQuery], filters: Query[AuditFilters]) -> dict:
    core_services.require(actor(request), DirectoryPerm.VIEW)
    audits = _audits(request).defer("result")
    if filters.structure is not None:
        audits = audits.filter(structure_id=filters.structure)
    if filters.domain:
        audits = audits.filter(domain=filters.domain)
    return paginate(request, audits, page, ("-created_at",))


@router.get(
    "/directory/audits/{int:id}", response=AuditDetailOut, summary="Un audit, règle par règle"
)
def audit_detail(request: HttpRequest, id: int) -> dict[str, Any]:
    audit_row = get_object_or_404(_audits(request), pk=id)
    data = AuditOut.from_orm(audit_row).model_dump()
    data["findings"] = audit_row.result.get("findings", [])
    data["not_evaluated"] = audit_row.result.get("not_evaluated", [])
    return data


@router.post(
    "/directory/connections/{int:id}/audits",
    response={202: AuditOut},
    summary="Lancer un audit en ligne (équipe du centre, mandat requis)",
)
def start_audit(request: HttpRequest, id: int) -> Status:
    user = actor(request)
    connection = get_object_or_404(
        DirectoryConnection.objects.visible_to(user, DirectoryPerm.VIEW).select_related(
            "structure", "asset"
        ),
        pk=id,
    )
    try:
        audit_row = services.request_online_audit(user, connection, ip=client_ip(request))
    except MandateRefused as exc:
        raise ApiError(403, str(exc), code="mandate_refused") from None
    return Status(202, audit_row)


@router.get(
    "/directory/levels",
    response=list[LevelCount],
    summary="Répartition régionale des niveaux ANSSI (agrégée)",
)
def level_distribution(request: HttpRequest) -> list[dict]:
    core_services.require(actor(request), Perm.REGION_AGGREGATES)
    return selectors.level_distribution()

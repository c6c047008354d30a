"""Findings and risk acceptances through the API.

Reads go through ``visible_to(actor, FINDINGS_DETAIL)``: another structure's finding or
acceptance is a 404, and the ARS (no finding detail at all) gets 403 on the lists. Writes call
the services of ``carbet.findings.services``, which check the rights (403), validate (422,
French messages per field) and audit, exactly as the pages do.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema, Status
from pydantic import Field

from carbet.accounts.roles import Perm
from carbet.api.auth import actor
from carbet.api.errors import ApiError
from carbet.api.pagination import Page, PageQuery, paginate
from carbet.api.schemas import InputSchema, ObjectId, StructureRef
from carbet.audit.services import client_ip
from carbet.core import access
from carbet.core.services import require
from carbet.findings import selectors
from carbet.findings.choices import OPEN_STATUSES, Severity, Source
from carbet.findings.choices import Status as FindingStatus
from carbet.findings.models import Finding, RiskAcceptance, RiskAcceptanceStatus
from carbet.findings.services import acceptance as acceptances
from carbet.findings.services import lifecycle

router = Router(tags=["vulnérabilités"])

# --- Schemas ---------------------------------------------------------------------------------


class FindingAssetRef(Schema):
    id: int
    value: str


class FindingOut(Schema):
    id: int
    structure: StructureRef
    source: str
    fingerprint: str
    title: str
    severity: int = Field(description="0 (information) à 4 (critique).")
    severity_label: str
    status: str
    status_reason: str
    cve: str
    rule: str
    tool_id: str
    kev: bool
    cvss: float | None
    epss: float | None
    internet_exposed: bool
    asset: FindingAssetRef | None
    first_seen: dt.datetime
    last_seen: dt.datetime
    sla_due: dt.date | None
    overdue: bool

    @staticmethod
    def resolve_severity_label(obj: Finding) -> str:
        return str(Severity(obj.severity).label)

    @staticmethod
    def resolve_cvss(obj: Finding) -> float | None:
        return None if obj.cvss is None else float(obj.cvss)

    @staticmethod
    def resolve_overdue(obj: Finding) -> bool:
        return bool(
            obj.sla_due and obj.status in OPEN_STATUSES and obj.sla_due < timezone.localdate()
        )


class EventOut(Schema):
    kind: str
    at: dt.datetime
    from_status: str
    to_status: str
    note: str
    actor: str | None

    @staticmethod
    def resolve_actor(obj: Any) -> str | None:
        return str(obj.actor) if obj.actor_id else None


class FindingDetailOut(FindingOut):
    description: str
    remediation: str
    references: list[Any]
    product: str
    evidence: dict[str, Any]
    duplicate_of: int | None
    closed_at: dt.datetime | None
    events: list[EventOut] = Field(description="Historique, du plus ancien au plus récent.")
    allowed_statuses: list[str] = Field(description="États vers lesquels vous pouvez la passer.")

    @staticmethod
    def resolve_duplicate_of(obj: Finding) -> int | None:
        return obj.duplicate_of_id

    @staticmethod
    def resolve_events(obj: Finding) -> list[Any]:
        return list(obj.events.select_related("actor").order_by("at", "id")[:500])

    @staticmethod
    def resolve_allowed_statuses(obj: Finding) -> list[str]:
        return getattr(obj, "allowed_statuses", [])


class FindingFilters(Schema):
    structure: ObjectId | None = None
    severity: Severity | None = None
    status: str = Field(
        "open",
        description="Un groupe (open, decided, closed, all) ou un état (new, confirmed, …).",
        max_length=30,
    )
    source: Source | None = None
    kev: bool | None = None
    internet_exposed: bool | None = None
    overdue: bool = False
    asset: ObjectId | None = None
    search: str | None = Field(None, max_length=100, description="Titre, règle ou CVE.")
    sort: str = Field("severity", description="severity, due, recent, new ou structure.")


class StatusIn(InputSchema):
    status: FindingStatus
    reason: str = Field(min_length=1, max_length=lifecycle.MAX_REASON)
    duplicate_of: ObjectId | None = None


class AcceptanceOut(Schema):
    id: int
    structure: StructureRef
    status: str
    findings: list[int]
    justification: str
    compensating_measures: str
    expires_on: dt.date
    requested_by: str | None
    requested_at: dt.datetime
    decided_by: str | None
    decided_at: dt.datetime | None
    decision_note: str
    reminder_sent_at: dt.datetime | None

    @staticmethod
    def resolve_findings(obj: RiskAcceptance) -> list[int]:
        return sorted(f.pk for f in obj.findings.all())

    @staticmethod
    def resolve_requested_by(obj: RiskAcceptance) -> str | None:
        return str(obj.requested_by) if obj.requested_by_id else None

    @staticmethod
    def resolve_decided_by(obj: RiskAcceptance) -> str | None:
        return str(obj.decided_by) if obj.decided_by_id else None


class AcceptanceIn(InputSchema):
    structure: ObjectId
    findings: list[ObjectId] = Field(min_length=1, max_length=1000)
    justification: str = Field(min_length=1, max_length=acceptances.MAX_TEXT)
    compensating_measures: str = Field(min_length=1, max_length=acceptances.MAX_TEXT)
    expires_on: dt.date = Field(description="Au plus un an après aujourd'hui.")


class DecisionIn(InputSchema):
    note: str = Field("", max_length=acceptances.MAX_TEXT)


class AcceptanceFilters(Schema):
    structure: ObjectId | None = None
    status: RiskAcceptanceStatus | None = None


# --- Findings --------------------------------------------------------------------------------


def _visible_finding(request: HttpRequest, pk: int) -> Finding:
    return get_object_or_404(
        Finding.objects.visible_to(actor(request), Perm.FINDINGS_DETAIL).select_related(
            "structure__organisation", "asset"
        ),
        pk=pk,
    )


def _detail(request: HttpRequest, finding: Finding) -> Finding:
    """The finding with what this caller may do with it (read by ``FindingDetailOut``)."""
    finding.allowed_statuses = lifecycle.allowed_targets(actor(request), finding)
    return finding


@router.get("/findings", response=Page[FindingOut], summary="Vulnérabilités visibles")
def list_findings(
    request: HttpRequest, filters: Query[FindingFilters], page: Query[PageQuery]
) -> dict:
    require(actor(request), Perm.FINDINGS_DETAIL)
    if selectors.status_values(filters.status) is None and filters.status != "all":
        raise ApiError(422, details={"status": [_("Groupe ou état inconnu.")]})
    if filters.sort not in selectors.SORTS:
        raise ApiError(422, details={"sort": [_("Tri inconnu.")]})
    wanted = selectors.FindingFilters(
        q=filters.search or "",
        structure=filters.structure,
        severity=None if filters.severity is None else int(filters.severity),
        status=filters.status,
        source=filters.source or "",
        kev=filters.kev,
        exposed=filters.internet_exposed,
        overdue=filters.overdue,
        asset=filters.asset,
        sort=filters.sort,
    )
    rows = selectors.list_rows(selectors.findings_for(actor(request), wanted))
    order, _label = selectors.SORTS[filters.sort]
    # ``paginate`` appends the primary key itself.
    return paginate(request, rows, page, tuple(o for o in order if o.lstrip("-") != "id"))


@router.get("/findings/{int:id}", response=FindingDetailOut, summary="Une vulnérabilité")
def finding_detail(request: HttpRequest, id: int) -> Finding:
    return _detail(request, _visible_finding(request, id))


@router.post(
    "/findings/{int:id}/status",
    response=FindingDetailOut,
    summary="Changer l'état d'une vulnérabilité (motif obligatoire)",
)
def change_status(request: HttpRequest, id: int, payload: StatusIn) -> Finding:
    finding = _visible_finding(request, id)
    duplicate_of = None
    if payload.duplicate_of:
        duplicate_of = (
            Finding.objects.visible_to(actor(request), Perm.FINDINGS_DETAIL)
            .filter(pk=payload.duplicate_of)
            .first()
        )
        if duplicate_of is None:
            raise ApiError(
                422, details={"duplicate_of": [_("Aucune vulnérabilité visible n'a ce numéro.")]}
            )
    lifecycle.change_status(
        actor(request),
        finding,
        payload.status,
        payload.reason,
        duplicate_of=duplicate_of,
        ip=client_ip(request),
    )
    return _detail(request, finding)


# --- Risk acceptances ------------------------------------------------------------------------


def _acceptances(request: HttpRequest):
    return (
        RiskAcceptance.objects.visible_to(actor(request), Perm.FINDINGS_DETAIL)
        .select_related("structure__organisation", "requested_by", "decided_by")
        .prefetch_related("findings")
    )


def _visible_acceptance(request: HttpRequest, pk: int) -> RiskAcceptance:
    return get_object_or_404(_acceptances(request), pk=pk)


@router.get("/acceptances", response=Page[AcceptanceOut], summary="Acceptations de risque")
def list_acceptances(
    request: HttpRequest, filters: Query[AcceptanceFilters], page: Query[PageQuery]
) -> dict:
    require(actor(request), Perm.FINDINGS_DETAIL)
    rows = _acceptances(request)
    if filters.structure:
        rows = rows.filter(structure_id=filters.structure)
    if filters.status:
        rows = rows.filter(status=filters.status)
    return paginate(request, rows, page, ("-requested_at",))


@router.get("/acceptances/{int:id}", response=AcceptanceOut, summary="Une acceptation de risque")
def acceptance_detail(request: HttpRequest, id: int) -> RiskAcceptance:
    return _visible_acceptance(request, id)


@router.post(
    "/acceptances",
    response={201: AcceptanceOut},
    summary="Demander l'acceptation du risque de vulnérabilités ouvertes d'une structure",
)
def request_acceptance(request: HttpRequest, payload: AcceptanceIn) -> Status:
    user = actor(request)
    structure = access.structure_for(user, payload.structure, see=Perm.FINDINGS_DETAIL)
    findings = list(
        Finding.objects.visible_to(user, Perm.FINDINGS_DETAIL).filter(pk__in=payload.findings)
    )
    missing = set(payload.findings) - {f.pk for f in findings}
    if missing:
        raise ApiError(
            422,
            details={
                "findings": [
                    _("Vulnérabilités inconnues ou non visibles : %(ids)s.")
                    % {"ids": ", ".join(str(i) for i in sorted(missing)[:20])}
                ]
            },
        )
    created = acceptances.request_acceptance(
        user,
        structure,
        findings,
        justification=payload.justification,
        compensating_measures=payload.compensating_measures,
        expires_on=payload.expires_on,
        ip=client_ip(request),
    )
    return Status(201, _visible_acceptance(request, created.pk))


@router.post(
    "/acceptances/{int:id}/approve",
    response=AcceptanceOut,
    summary="Signer une acceptation (direction de la structure)",
)
def approve(request: HttpRequest, id: int, payload: DecisionIn) -> RiskAcceptance:
    item = _visible_acceptance(request, id)
    acceptances.approve(actor(request), item, note=payload.note, ip=client_ip(request))
    return _visible_acceptance(request, id)


@router.post(
    "/acceptances/{int:id}/reject",
    response=AcceptanceOut,
    summary="Refuser une demande d'acceptation (commentaire obligatoire)",
)
def reject(request: HttpRequest, id: int, payload: DecisionIn) -> RiskAcceptance:
    item = _visible_acceptance(request, id)
    acceptances.reject(actor(request), item, note=payload.note, ip=client_ip(request))
    return _visible_acceptance(request, id)

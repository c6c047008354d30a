"""Matched alerts through the API: a structure's alerts, one alert and its acknowledgement;
for the centre, the region's exposure to each vulnerability.

Reads go through ``visible_to`` (another structure's alert is a 404); the acknowledgement calls
the service, which checks the right (403), validates (422) and audits. The regional routes need
``CommunityPerm.REGION`` (the centre): a structure's people and the ARS get a 403.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from django.http import HttpRequest
from ninja import Query, Router, Schema
from pydantic import Field

from carbet.api.auth import actor
from carbet.api.pagination import Page, PageQuery, paginate
from carbet.api.schemas import InputSchema, ObjectId, StructureRef
from carbet.audit.services import client_ip
from carbet.community import selectors_alerts, services_alerts
from carbet.community.choices import AlertStatus
from carbet.community.models import StructureAlert, Vulnerability
from carbet.community.service import CommunityPerm
from carbet.core import access

router = Router(tags=["communauté : alertes ciblées"])
API_PREFIX = "/community/alerts"


class CommunityVulnerabilityOut(Schema):
    id: int
    vuln_id: str
    title: str
    description: str
    cvss: float | None
    epss: float | None
    kev: bool = Field(description="Exploitée activement (catalogue KEV de la CISA).")
    ransomware: bool
    sources: list[str] = Field(description="nvd, kev, certfr.")
    advisories: list[str] = Field(description="Avis et alertes du CERT-FR.")
    required_action: str
    fixed_in: str = Field(description="Versions corrigées, par branche.")
    published: str


class CommunityAlertOut(Schema):
    id: int
    structure: StructureRef
    vulnerability: CommunityVulnerabilityOut
    products: list[str] = Field(description="Ce que la structure utilise, et où.")
    certainty: str = Field(description="version (version touchée) ou product (à vérifier).")
    status: str = Field(description="new, acknowledged, fixed ou not_concerned.")
    reason: str
    acknowledged_at: dt.datetime | None
    matched_at: dt.datetime
    sent_at: dt.datetime | None = Field(description="Envoi du courriel d'alerte.")
    current: bool = Field(description="Le logiciel est toujours dans l'inventaire.")


class CommunityAlertAcknowledgeIn(InputSchema):
    status: Literal["acknowledged", "fixed", "not_concerned"]
    reason: str = Field(default="", max_length=500)


class CommunityAlertFilter(Schema):
    structure: ObjectId | None = None
    status: AlertStatus | None = None


class CommunityExposureStructureOut(Schema):
    alert: int
    structure: StructureRef
    status: str
    reason: str
    products: list[str]


class CommunityExposureOut(Schema):
    vulnerability: CommunityVulnerabilityOut
    structures: int
    waiting: int = Field(description="Structures qui n'ont pas encore répondu.")
    fixed: int
    alerts: list[CommunityExposureStructureOut]


def _alert_out(alert: StructureAlert) -> dict[str, Any]:
    return {
        **{name: getattr(alert, name) for name in CommunityAlertOut.model_fields},
        "current": bool(getattr(alert, "current", True)),
    }


def _exposure_out(row: selectors_alerts.Exposure) -> dict[str, Any]:
    return {
        "vulnerability": row.vulnerability,
        "structures": row.structures,
        "waiting": row.waiting,
        "fixed": row.fixed,
        "alerts": [
            {
                "alert": a.pk,
                "structure": a.structure,
                "status": a.status,
                "reason": a.reason,
                "products": a.products,
            }
            for a in row.alerts
        ],
    }


def _visible(request: HttpRequest, pk: int, perm=CommunityPerm.INVENTORY) -> StructureAlert:
    return access.owned_for(
        actor(request),
        selectors_alerts.alerts_for(actor(request)),
        pk,
        perm,
        see=CommunityPerm.INVENTORY,
    )


@router.get("", response=Page[CommunityAlertOut], summary="Alertes ciblées des structures")
def list_alerts(request: HttpRequest, filters: Query[CommunityAlertFilter], page: Query[PageQuery]):
    access.require(actor(request), CommunityPerm.INVENTORY)
    rows = selectors_alerts.alerts_for(actor(request))
    if filters.structure:
        rows = rows.filter(structure_id=filters.structure)
    if filters.status:
        rows = rows.filter(status=filters.status)
    result = paginate(request, rows, page, ("-matched_at",))
    result["results"] = [_alert_out(a) for a in result["results"]]
    return result


@router.get(
    "/vulnerabilities", response=list[CommunityExposureOut], summary="Exposition de la région"
)
def region(request: HttpRequest, waiting: bool = False):
    """Vulnerabilities matched in the region, actively exploited and ransomware first."""
    rows = selectors_alerts.region_exposure(actor(request), only_open=waiting)
    return [_exposure_out(row) for row in rows]


@router.get(
    "/vulnerabilities/{id}",
    response=CommunityExposureOut,
    summary="Exposition de la région à une faille",
)
def region_vulnerability(request: HttpRequest, id: int):
    vuln: Vulnerability = selectors_alerts.vulnerability_for(actor(request), id)
    return _exposure_out(selectors_alerts.vulnerability_exposure(actor(request), vuln))


@router.get("/{id}", response=CommunityAlertOut, summary="Une alerte ciblée")
def get_alert(request: HttpRequest, id: int):
    return _alert_out(_visible(request, id))


@router.post(
    "/{id}/acknowledge", response=CommunityAlertOut, summary="Répondre à une alerte ciblée"
)
def acknowledge(request: HttpRequest, id: int, payload: CommunityAlertAcknowledgeIn):
    alert = _visible(request, id, CommunityPerm.ACKNOWLEDGE)
    services_alerts.acknowledge(
        actor(request), alert, payload.status, payload.reason, ip=client_ip(request)
    )
    return _alert_out(alert)

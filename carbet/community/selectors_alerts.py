"""Reading matched alerts: a structure's list, one alert, the region's exposure to each
vulnerability and the matching passes. Every query is scoped by ``visible_to``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db.models import Case, Count, Exists, IntegerField, OuterRef, Q, QuerySet, Value, When

from carbet.community.choices import AlertStatus
from carbet.community.models import MatchRun, SoftwareLine, StructureAlert, Vulnerability
from carbet.community.service import CommunityPerm
from carbet.core import access
from carbet.core.models import Structure
from carbet.core.tenancy import Actor

RUNS_SHOWN = 60


def _priority(queryset: QuerySet, prefix: str = "") -> QuerySet:
    """Actively exploited first, then used by ransomware, then the highest scores."""
    return queryset.order_by(
        f"-{prefix}kev", f"-{prefix}ransomware", f"-{prefix}cvss", f"-{prefix}first_matched_at"
    )


def alerts_for(actor: Actor) -> QuerySet[StructureAlert]:
    """The alerts ``actor`` may read, with whether the product is still in the inventory."""
    active = SoftwareLine.objects.visible_to(actor, CommunityPerm.INVENTORY).filter(
        alerts=OuterRef("pk"), active=True
    )
    return (
        StructureAlert.objects.visible_to(actor, CommunityPerm.INVENTORY)
        .select_related("vulnerability", "structure", "acknowledged_by")
        .annotate(
            current=Exists(active),
            open_first=Case(
                When(status=AlertStatus.NEW, then=Value(0)),
                default=Value(1),
                output_field=IntegerField(),
            ),
        )
    )


def structure_alerts(actor: Actor, structure: Structure) -> list[StructureAlert]:
    """A structure's alerts, the ones to handle first (the inventory page includes them)."""
    access.require(actor, CommunityPerm.INVENTORY, structure)
    rows = alerts_for(actor).filter(structure=structure)
    return list(
        rows.order_by(
            "open_first",
            "-vulnerability__kev",
            "-vulnerability__ransomware",
            "-vulnerability__cvss",
            "-matched_at",
        )
    )


@dataclass
class Exposure:
    """One vulnerability's regional exposure: the structures where it matched, their answers."""

    vulnerability: Vulnerability
    alerts: list[StructureAlert] = field(default_factory=list)

    @property
    def structures(self) -> int:
        return len(self.alerts)

    @property
    def waiting(self) -> int:
        return sum(1 for a in self.alerts if a.status == AlertStatus.NEW)

    @property
    def answered(self) -> int:
        return self.structures - self.waiting

    @property
    def fixed(self) -> int:
        return sum(1 for a in self.alerts if a.status == AlertStatus.FIXED)


def region_exposure(actor: Actor, *, only_open: bool = False, limit: int = 300) -> list[Exposure]:
    """Vulnerabilities matched in the region, KEV and ransomware first, each with its
    structures (the centre's page: ``CommunityPerm.REGION``)."""
    access.require(actor, CommunityPerm.REGION)
    vulns = Vulnerability.objects.annotate(
        waiting=Count("structure_alerts", filter=Q(structure_alerts__status=AlertStatus.NEW))
    )
    if only_open:
        vulns = vulns.filter(waiting__gt=0)
    rows = {v.pk: Exposure(v) for v in _priority(vulns)[:limit]}
    alerts = (
        StructureAlert.objects.visible_to(actor, CommunityPerm.REGION)
        .filter(vulnerability_id__in=list(rows))
        .select_related("structure")
        .order_by("structure__name")
    )
    for alert in alerts:
        rows[alert.vulnerability_id].alerts.append(alert)
    return [row for row in rows.values() if row.alerts]


def vulnerability_exposure(actor: Actor, vulnerability: Vulnerability) -> Exposure:
    access.require(actor, CommunityPerm.REGION)
    alerts = (
        alerts_for(actor)
        .filter(vulnerability=vulnerability)
        .order_by("open_first", "structure__name")
    )
    return Exposure(vulnerability, list(alerts))


def vulnerability_for(actor: Actor, pk: Any) -> Vulnerability:
    """A tracked vulnerability, for the centre (regional: no structure owns it)."""
    from django.shortcuts import get_object_or_404

    access.require(actor, CommunityPerm.REGION)
    return get_object_or_404(Vulnerability, pk=pk)


def runs(actor: Actor) -> list[MatchRun]:
    access.require(actor, CommunityPerm.REGION)
    return list(MatchRun.objects.order_by("-started_at")[:RUNS_SHOWN])


def last_run() -> MatchRun | None:
    return MatchRun.objects.order_by("-started_at").first()

"""Launching exposure scans: the mandate gate, the scan rows and the background jobs.

``request_structure_scan`` decides, asset by asset, what may be contacted: only the structure's
proven, internet-facing assets that a valid "exposure scan" mandate covers. Every refused
asset is listed on the scan and the refusal is written to the audit trail (``mandate.refused``);
when nothing is covered the request fails with a plain-French reason and nothing is created.
The scan itself runs as the ``exposure.scan`` job (``services_run``); a regional scan fans out
one such job per structure (``exposure.regional``), so RQ workers on several machines share it.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from carbet.accounts.roles import Perm
from carbet.audit import services as audit
from carbet.core import mandates
from carbet.core.choices import AssetKind
from carbet.core.models import Asset, Structure
from carbet.core.services import require
from carbet.core.tenancy import SYSTEM, Actor
from carbet.exposure.models import (
    RegionalScan,
    Scan,
    ScanProfile,
    ScanStatus,
    ScanTarget,
    ScanTrigger,
)
from carbet.exposure.service import EXPOSURE_MANDATE, ExposurePerm
from carbet.jobs import services as jobs
from carbet.jobs.registry import Reporter

# Asset kinds an internet scan can reach; directory domains and applications are not targets.
SCANNABLE_KINDS = {
    AssetKind.DOMAIN: "host",
    AssetKind.HOSTNAME: "host",
    AssetKind.MAIL_DOMAIN: "domain",
    AssetKind.IPV4: "ip",
    AssetKind.IPV6: "ip",
    AssetKind.CIDR: "ip",
}
SCAN_JOB = "exposure.scan"
REGIONAL_JOB = "exposure.regional"


class NothingToScan(Exception):
    """No asset of the structure may be contacted; ``refused`` says why for each one."""

    def __init__(self, message: str, refused: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.refused = refused or []


@dataclass
class ScanPlan:
    """What a scan of one structure may contact, and what the mandate gate refused."""

    targets: list[tuple[Asset, str, str]] = field(default_factory=list)  # asset, target, kind
    refused: list[dict[str, Any]] = field(default_factory=list)


def default_profile() -> ScanProfile:
    profile = ScanProfile.objects.filter(is_default=True).first()
    if profile is None:  # the migration creates one; someone may have removed the flag
        profile, _created = ScanProfile.objects.get_or_create(
            name="Standard", defaults={"is_default": True}
        )
    return profile


def _expand(asset: Asset) -> list[str]:
    """The engine targets of an asset: itself, or each address of a declared network."""
    if asset.kind != AssetKind.CIDR:
        return [asset.value]
    network = ipaddress.ip_network(asset.value, strict=False)
    limit = settings.CARBET_MAX_CIDR_ADDRESSES
    hosts = list(network.hosts()) if network.num_addresses > 2 else list(network)
    return [str(address) for address in hosts[:limit]]


def plan_scan(actor: Actor, structure: Structure, ip: str | None = None) -> ScanPlan:
    """Gate every internet-facing asset of ``structure`` through the mandate (audited refusals)."""
    plan = ScanPlan()
    assets = (
        Asset.objects.visible_to(SYSTEM)
        .filter(structure=structure, kind__in=list(SCANNABLE_KINDS), internet_exposed=True)
        .order_by("kind", "value")
    )
    for asset in assets:
        decision = mandates.check(structure, EXPOSURE_MANDATE, asset)
        if not decision.allowed:
            try:  # writes mandate.refused to the audit trail
                mandates.require_mandate(actor, structure, EXPOSURE_MANDATE, asset, ip=ip)
            except mandates.MandateRefused as refused:
                plan.refused.append(
                    {"asset": asset.pk, "value": asset.value, "reason": str(refused)}
                )
                continue
        for target in _expand(asset):
            plan.targets.append((asset, target, SCANNABLE_KINDS[asset.kind]))
    return plan


def _nothing_message(structure: Structure, plan: ScanPlan) -> str:
    if not plan.refused:
        return _(
            "« %(structure)s » n'a déclaré aucun actif exposé sur internet à analyser (nom de "
            "domaine, nom d'hôte, adresse ou réseau)."
        ) % {"structure": structure.name}
    return _("Aucun actif de « %(structure)s » ne peut être analysé : %(reason)s") % {
        "structure": structure.name,
        "reason": plan.refused[0]["reason"],
    }


def _create_scan(
    actor: Actor,
    structure: Structure,
    plan: ScanPlan,
    profile: ScanProfile,
    trigger: str,
    regional: RegionalScan | None = None,
) -> Scan:
    """The scan row, its pending targets and its job, in the caller's transaction."""
    user = actor if getattr(actor, "pk", None) else None
    scan = Scan.objects.create(
        structure=structure,
        profile=profile,
        config=profile.as_config(),
        trigger=trigger,
        regional=regional,
        requested_by=user,
        refused=plan.refused,
        targets_total=len(plan.targets),
    )
    ScanTarget.objects.bulk_create(
        [
            ScanTarget(scan=scan, structure=structure, asset=asset, target=target, kind=kind)
            for asset, target, kind in plan.targets
        ],
        ignore_conflicts=True,  # an asset declared twice (a name and its network) is scanned once
    )
    scan.targets_total = scan.targets.count()
    scan.job = jobs.submit(
        SCAN_JOB,
        actor=actor,
        structure=structure,
        params={"scan": scan.pk},
        title=_("Analyse d'exposition — %(structure)s") % {"structure": structure.name},
    )
    scan.save(update_fields=["targets_total", "job"])
    return scan


def request_structure_scan(
    structure: Structure,
    actor: Actor,
    on_demand: bool = True,
    profile: ScanProfile | None = None,
    *,
    ip: str | None = None,
) -> Scan:
    """Queue a scan of ``structure``'s mandated assets; ``NothingToScan`` when none is covered."""
    if actor is not SYSTEM:
        require(actor, ExposurePerm.RUN, structure)
    plan = plan_scan(actor, structure, ip=ip)  # refusals are audited outside our transaction
    if not plan.targets:
        raise NothingToScan(_nothing_message(structure, plan), plan.refused)
    trigger = ScanTrigger.ON_DEMAND if on_demand else ScanTrigger.SCHEDULED
    with transaction.atomic():
        scan = _create_scan(actor, structure, plan, profile or default_profile(), trigger)
        audit.record(
            actor,
            "exposure.scan.requested",
            scan,
            structure=structure,
            changes={
                "trigger": trigger,
                "profile": scan.profile.name if scan.profile else None,
                "targets": scan.targets_total,
                "refused": [item["value"] for item in plan.refused],
            },
            ip=ip,
        )
    return scan


def request_regional_scan(
    actor: Actor, profile: ScanProfile | None = None, *, ip: str | None = None
) -> RegionalScan:
    """Queue the fan-out job that starts one scan per structure of the region."""
    if actor is not SYSTEM:
        require(actor, ExposurePerm.RUN)
        require(actor, Perm.REGION_VIEW)
    with transaction.atomic():
        regional = RegionalScan.objects.create(
            requested_by=actor if getattr(actor, "pk", None) else None,
            profile=profile or default_profile(),
        )
        regional.job = jobs.submit(
            REGIONAL_JOB,
            actor=actor,
            params={"regional": regional.pk},
            title=_("Analyse d'exposition de toute la région"),
        )
        regional.save(update_fields=["job"])
        audit.record(
            actor,
            "exposure.regional.requested",
            regional,
            changes={"profile": regional.profile.name if regional.profile else None},
            ip=ip,
        )
    return regional


def fan_out(regional: RegionalScan, report: Reporter | None = None) -> dict[str, Any]:
    """Start one scan per structure (idempotent: a structure already started is skipped)."""
    actor = regional.requested_by or SYSTEM
    profile = regional.profile or default_profile()
    structures = list(
        Structure.objects.visible_to(SYSTEM).select_related("organisation").order_by("pk")
    )
    started = set(regional.scans.values_list("structure_id", flat=True))
    refused: list[dict[str, Any]] = list(regional.refused)
    refused_ids = {item["structure"] for item in refused}
    for index, structure in enumerate(structures):
        if report is not None and index % 20 == 0:
            report(int(100 * index / max(1, len(structures))), structure.name)
        if structure.pk in started or structure.pk in refused_ids:
            continue
        plan = plan_scan(actor, structure)
        if not plan.targets:
            refused.append(
                {"structure": structure.pk, "name": structure.name,
                 "reason": _nothing_message(structure, plan)}
            )  # fmt: skip
            RegionalScan.objects.filter(pk=regional.pk).update(refused=refused)
            continue
        with transaction.atomic():
            _create_scan(actor, structure, plan, profile, ScanTrigger.REGIONAL, regional)
        started.add(structure.pk)
    RegionalScan.objects.filter(pk=regional.pk).update(structures=len(started), refused=refused)
    audit.record(
        actor,
        "exposure.regional.started",
        regional,
        changes={"structures": len(started), "refused": len(refused)},
    )
    return {"structures": len(started), "refused": len(refused)}


def regional_progress(regional: RegionalScan) -> dict[str, int]:
    scans = regional.scans.all()
    return {
        "total": scans.count(),
        "finished": scans.filter(status__in=[ScanStatus.SUCCEEDED, ScanStatus.FAILED]).count(),
        "failed": scans.filter(status=ScanStatus.FAILED).count(),
        "refused": len(regional.refused),
    }


def exposure_scores(day: Any, structure_ids: list[int]) -> dict[int, float]:
    """Snapshot provider: each structure's latest exposure score (``register_score``)."""
    end = timezone.make_aware(dt.datetime.combine(day, dt.time.max))
    rows = (
        Scan.objects.visible_to(SYSTEM)
        .filter(
            status=ScanStatus.SUCCEEDED,
            structure_id__in=structure_ids,
            score__isnull=False,
            finished_at__lte=end,
        )
        .order_by("created_at", "pk")
        .values_list("structure_id", "score")
    )
    return {sid: float(score) for sid, score in rows}

"""Finishing a scan: completeness, counts, the diff with the previous scan, scores, findings
and alerts. Every step can run twice without harm (a rerun after a killed worker)."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from carbet.core import contract
from carbet.core.tenancy import Actor
from carbet.exposure import alerts
from carbet.exposure import services_scores as scoring
from carbet.exposure.models import Scan, ScanObservation, ScanStatus, ScanTarget, TargetStatus
from carbet.exposure.services_run import write_findings


def previous_scan(scan: Scan) -> Scan | None:
    """The structure's last successful scan before this one."""
    return (
        Scan.objects.filter(
            structure_id=scan.structure_id,
            status=ScanStatus.SUCCEEDED,
            created_at__lte=scan.created_at,
        )
        .exclude(pk=scan.pk)
        .order_by("-created_at", "-pk")
        .first()
    )


def _service_keys(scan: Scan) -> dict[str, dict[str, Any]]:
    keys = {}
    for target, services in scan.targets.values_list("target", "services"):
        for service in services or []:
            key = f"{target}:{service.get('port')}"
            keys[key] = {
                "target": target,
                "port": service.get("port"),
                "service": service.get("service", ""),
                "product": service.get("product", ""),
            }
    return keys


def _observation_summaries(scan: Scan) -> dict[str, dict[str, Any]]:
    return {
        fp: {
            "fingerprint": fp,
            "check": check,
            "title": title,
            "severity": severity,
            "target": target,
            "port": port,
        }
        for fp, check, title, severity, target, port in scan.observations.values_list(
            "fingerprint", "check_id", "title", "severity", "target__target", "port"
        )
    }


def compute_diff(scan: Scan, previous: Scan | None) -> dict[str, Any]:
    """New and gone observations and services against ``previous`` (all new when none)."""
    current = _observation_summaries(scan)
    services = _service_keys(scan)
    if previous is None:
        return {
            "first": True,
            "new": sorted(current),
            "gone": [],
            "services_new": sorted(services.values(), key=lambda s: (s["target"], s["port"])),
            "services_gone": [],
        }
    before = _observation_summaries(previous)
    before_services = _service_keys(previous)
    # Only targets scanned both times can lose something: a target refused or unreachable
    # this time says nothing about what it exposes.
    scanned_now = set(
        scan.targets.filter(status=TargetStatus.DONE).values_list("target", flat=True)
    )
    return {
        "previous": previous.pk,
        "new": sorted(fp for fp in current if fp not in before),
        "gone": sorted(
            (
                item
                for fp, item in before.items()
                if fp not in current and item["target"] in scanned_now
            ),
            key=lambda item: (-item["severity"], item["title"]),
        ),
        "services_new": sorted(
            (s for k, s in services.items() if k not in before_services),
            key=lambda s: (s["target"], s["port"]),
        ),
        "services_gone": sorted(
            (
                s
                for k, s in before_services.items()
                if k not in services and s["target"] in scanned_now
            ),
            key=lambda s: (s["target"], s["port"]),
        ),
    }


def finish(scan: Scan, actor: Actor, *, alert: bool = True, close_findings: bool = True) -> None:
    """``alert``/``close_findings`` off: a replay of past results (the demo) that must neither
    mail anyone nor close findings another loader wrote."""
    scan.refresh_from_db()
    targets = list(ScanTarget.objects.filter(scan=scan))
    done = [t for t in targets if t.status == TargetStatus.DONE]
    previous = previous_scan(scan)
    diff = compute_diff(scan, previous)
    structure_scores = scoring.structure_scores(done)
    observations = ScanObservation.objects.filter(scan=scan)
    with transaction.atomic():
        scan.previous = previous
        scan.diff = diff
        scan.complete = (
            bool(targets) and len(done) == len(targets) and all(t.complete for t in done)
        )
        scan.targets_done = len(done)
        scan.services_count = sum(len(t.services or []) for t in done)
        scan.observations_count = observations.count()
        scan.critical_count = observations.filter(severity=4).count()
        scan.scores = structure_scores
        scan.score = structure_scores.get("overall", {}).get("score")
        scan.grade = structure_scores.get("overall", {}).get("grade", "")
        scan.save()
    scan.ingest_report = write_findings(scan, actor, complete=None if close_findings else False)
    # The findings ingest writes the run to the audit trail; the alert audits itself.
    if alert:
        alerts.alert_new_critical(scan)
    scan.status = ScanStatus.SUCCEEDED
    scan.finished_at = timezone.now()
    scan.save(update_fields=["ingest_report", "status", "finished_at"])
    if scan.complete:
        _tell_roadmap(scan, done)


def dmarc_at_reject(targets: list[ScanTarget]) -> bool | None:
    """Whether every mail domain the scan checked publishes DMARC at p=reject (None: no mail
    domain was checked)."""
    policies = [
        (t.evidence or {}).get("dns", {}).get("dmarc", {}).get("policy", "")
        for t in targets
        if isinstance((t.evidence or {}).get("dns", {}).get("dmarc"), dict)
    ]
    if not policies:
        return None
    return all(policy == "reject" for policy in policies)


# Remote desktops reachable from internet with nothing in front: RDP, VNC and telnet have no
# second factor of their own, so the scan *measures* an access without MFA. The contrary
# cannot be measured from outside (a VPN portal may or may not ask for a second factor).
DIRECT_REMOTE_ACCESS = ("port.rdp", "port.rdp.no_nla", "port.vnc", "port.vnc.noauth", "port.telnet")


def mfa_remote_access(observations) -> bool | None:
    """False when the scan found a remote desktop open to internet (no second factor can stand
    in front of it), None otherwise: absence of evidence is not MFA."""
    return False if observations.filter(check_id__in=DIRECT_REMOTE_ACCESS).exists() else None


def _tell_roadmap(scan: Scan, targets: list[ScanTarget]) -> None:
    """A complete scan is automatic evidence for the roadmap (no critical exposure, DMARC)."""
    observations = ScanObservation.objects.filter(scan=scan)
    contract.record_evidence(
        scan.structure,
        "exposure_scan",
        at=scan.finished_at,
        value={
            "critical": scan.critical_count,
            "high": observations.filter(severity=3).count(),
            "dmarc_reject": dmarc_at_reject(targets),
            "mfa_remote_access": mfa_remote_access(observations),
        },
        reference=f"exposure-scan:{scan.pk}",
    )

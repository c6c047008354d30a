"""Shared hosting is scanned once: a structure's scan takes over a recent complete result of
the same shared address instead of contacting it again.

When the centre marks an address as shared between structures (``carbet.core.ownership``,
"hébergement partagé"), each structure keeps its own declaration, proof and findings. Scanning
the same server once per structure would only double the load on it (scanning etiquette: one
scan at a time per target). So within ``SHARED_REUSE_HOURS``, the scan of a shared **address**
reuses the complete result that another structure's scan of that very address obtained.

Only addresses, never names: the scan of an address contacts that address alone, which both
structures proved and share, whereas a name's scan follows MX, CNAMEs and redirects under the
scanning structure's own policy. The address is checked against this structure's connect-time
policy before anything is reused, and the copy names no other structure: each sees its own
target row and its own findings, nothing of the other's.
"""

from __future__ import annotations

import ipaddress
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from carbet.core import ownership
from carbet.engines.exposure.core import Observation
from carbet.exposure.models import Scan, ScanObservation, ScanTarget, TargetStatus

SHARED_REUSE_HOURS = 24
COPIED_FIELDS = [
    "addresses", "services", "evidence", "errors", "refused", "complete", "scores", "score",
    "grade", "duration", "scanned_at",
]  # fmt: skip


def _is_address(target: str) -> bool:
    try:
        ipaddress.ip_address(target)
    except ValueError:
        return False
    return True


def _recent_twin(scan: Scan, row: ScanTarget) -> ScanTarget | None:
    if row.asset is None or not row.asset.shared or not _is_address(row.target):
        return None
    since = timezone.now() - timedelta(hours=SHARED_REUSE_HOURS)
    return (
        ScanTarget.objects.filter(
            target=row.target,
            status=TargetStatus.DONE,
            complete=True,
            asset__shared=True,
            scanned_at__gte=since,
        )
        .exclude(structure_id=scan.structure_id)
        .order_by("-scanned_at")
        .first()
    )


def _copy_observations(scan: Scan, row: ScanTarget, source: ScanTarget) -> list[ScanObservation]:
    from carbet.exposure.services_run import fingerprint

    copies = []
    for item in ScanObservation.objects.filter(target=source):
        key = Observation(check=item.check_id, port=item.port, cve=item.cve)
        item.pk = None
        item.scan, item.target, item.structure_id = scan, row, scan.structure_id
        item.fingerprint = fingerprint(row.asset_id, row.target, key)
        copies.append(item)
    return copies


def reuse_shared(scan: Scan, rows: list[ScanTarget]) -> list[ScanTarget]:
    """Fill the rows a recent shared scan already answers; return the rows still to scan."""
    remaining, filled, observations = [], [], []
    policy = None
    for row in rows:
        source = _recent_twin(scan, row)
        if source is not None:
            policy = policy or ownership.connect_policy(scan.structure)
            if policy.address_refusal(row.target) is not None:
                source = None
        if source is None:
            remaining.append(row)
            continue
        for name in COPIED_FIELDS:
            setattr(row, name, getattr(source, name))
        shared_note = {"scanned_at": str(source.scanned_at)}
        row.evidence = {**(row.evidence or {}), "shared_scan": shared_note}
        row.status = TargetStatus.DONE
        filled.append(row)
        observations += _copy_observations(scan, row, source)
    if filled:
        with transaction.atomic():
            ScanObservation.objects.filter(target__in=filled).delete()
            ScanObservation.objects.bulk_create(observations)
            ScanTarget.objects.bulk_update(filled, [*COPIED_FIELDS, "status"])
            Scan.objects.filter(pk=scan.pk).update(
                targets_done=ScanTarget.objects.filter(scan=scan, status=TargetStatus.DONE).count()
            )
    return remaining

"""Exposure scans of the demo region: one scan per mandated structure, on the day of the
findings history's last scan, showing what that history says the scan saw.

``load_demo_exposure`` goes through the exposure services: the mandate gate decides which
assets are scanned (the refusals of structures without a valid mandate are real, and audited),
then the engine results are built from ``carbet.demo.findings_data`` (the weaknesses present on
that day, on the asset the history puts them on) and saved and finished like a real scan, dated
that day with the demo's clock. Their observations carry the exposure service's fingerprints,
which the history's findings carry too: the scan page and the findings are one story, without a
second finding for the same weakness. No packet leaves the machine here; an on-demand scan from
the web, against the demo lab (``carbet demo lab``), is a real one.

Idempotent: a structure that already has a scan is left alone.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from carbet.core.models import Structure
from carbet.core.tenancy import SYSTEM
from carbet.demo import findings_data as data
from carbet.demo.clock import frozen_at
from carbet.engines.exposure.core import ServiceInfo, TargetResult
from carbet.exposure import services
from carbet.exposure.models import Scan
from carbet.exposure.service import EXPOSURE_SOURCE
from carbet.exposure.services_finish import finish
from carbet.exposure.services_run import save_targets

SCAN_DAY = data.EXPOSURE_SCAN_DAYS[-1]
_SERVICE_OF_PORT = {3389: "rdp", 445: "smb", 21: "ftp", 104: "dicom", 443: "https"}


def engine_result(target: str, kind: str, asset_value: str, seen_here: list[Any]) -> TargetResult:
    """What the scanner reported for one target: the history's weaknesses on its asset."""
    from carbet.demo.findings import observation

    result = TargetResult(target=target, kind=kind, addresses=[target] if kind == "ip" else [])
    for seen in seen_here:
        weakness = data.CATALOGUE[seen.weakness]
        found = observation(weakness)
        found.detail = weakness.title
        # What the scanner knows of the flaw, as the history's finding does (a rescan must not
        # forget that a CVE is actively exploited).
        found.kev, found.cvss, found.product = weakness.kev, weakness.cvss, weakness.product
        found.evidence = {"démonstration": "résultat rejoué de l'historique de la démo"}
        if found.port:
            result.services.append(
                ServiceInfo(port=found.port, service=_SERVICE_OF_PORT.get(found.port, ""))
            )
        result.observations.append(found)
    result.evidence["open_ports"] = sorted({s.port for s in result.services})
    return result


def _present(seen: data.Seen, day: int) -> bool:
    until = -1 if seen.until is None else seen.until
    return until < day <= seen.since


def load_demo_exposure(
    structures: dict[str, Structure], today: date | None = None
) -> dict[str, int]:
    """One finished scan, dated the history's last scan day, per structure it may scan."""
    from carbet.demo.findings import _asset_roles

    today = today or timezone.localdate()
    created = refused = 0
    for minute, (key, structure) in enumerate(structures.items()):
        profile = [
            s
            for s in data.PROFILES.get(key, ())
            if s.source == EXPOSURE_SOURCE and _present(s, SCAN_DAY)
        ]
        if Scan.objects.filter(structure=structure).exists():
            continue
        moment = timezone.make_aware(
            datetime.combine(today - timedelta(days=SCAN_DAY), time(9, 30))
        ) + timedelta(minutes=minute)
        roles = _asset_roles(structure)
        try:
            # One transaction: the scan's job reaches the task queue only once the scan is
            # finished, so a worker picking it up finds nothing left to do (and contacts nothing).
            with transaction.atomic(), frozen_at(moment):
                scan = services.request_structure_scan(structure, SYSTEM, on_demand=False)
                Scan.objects.filter(pk=scan.pk).update(created_at=moment, started_at=moment)
                rows = list(scan.targets.order_by("pk"))
                results = []
                for row in rows:
                    here = [
                        s
                        for s in profile
                        if s.asset in roles
                        and roles[s.asset].pk == row.asset_id
                        and roles[s.asset].value == row.target
                    ]
                    results.append(engine_result(row.target, row.kind, row.target, here))
                save_targets(scan, list(zip(rows, results, strict=True)))
                finish(scan, SYSTEM, alert=False, close_findings=False)
        except services.NothingToScan:
            refused += 1
            continue
        created += 1
    return {"scans": created, "without_mandate": refused}

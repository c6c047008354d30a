"""Exposure scans for the demo region, without contacting anything.

``load_demo_exposure()`` gives a few demo structures one finished exposure scan each, through
the exposure services themselves: the mandate gate decides which assets are "scanned" (so the
refusals of structures without a valid mandate are real, and audited), then prepared engine
results — what the scanner would have found on lab hosts — are saved and finished like a real
scan (scores, diff, findings). No packet leaves the machine: the engine is not called. Alerts
are not mailed and no existing finding is closed (the demo's own findings history stays).

Idempotent: a structure that already has a scan is left alone.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction

from carbet.core.models import Structure
from carbet.core.tenancy import SYSTEM
from carbet.engines.exposure.core import Observation, ServiceInfo, TargetResult
from carbet.exposure import services
from carbet.exposure.models import Scan
from carbet.exposure.services_finish import finish
from carbet.exposure.services_run import save_targets

MAX_STRUCTURES = 6


def _web(result: TargetResult, port: int, tls: bool, weak: bool) -> None:
    result.services.append(
        ServiceInfo(port=port, service="https" if tls else "http", product="nginx",
                    version="1.18.0", tls=tls, banner="Server: nginx/1.18.0")
    )  # fmt: skip
    headers = {"Server": "nginx/1.18.0", "Content-Type": "text/html"}
    result.evidence.setdefault("web", {})[str(port)] = {
        "headers": headers,
        "observatory_score": 35 if weak else 80,
    }
    result.observations.append(
        Observation("web.hsts.missing", port=port, detail="Pas d'en-tête HSTS")
    )
    if weak:
        result.observations += [
            Observation("web.csp.missing", port=port, detail="Pas de politique CSP"),
            Observation("web.version_disclosure", port=port, detail="Server: nginx/1.18.0"),
        ]
    if tls:
        result.evidence.setdefault("tls", {})[str(port)] = {
            "protocols": ["TLSv1.0", "TLSv1.2"] if weak else ["TLSv1.2", "TLSv1.3"],
            "certificate": {"subject": result.target, "issuer": "Autorité de démonstration"},
        }
        if weak:
            result.observations.append(
                Observation("tls.protocol.tls10", port=port, detail="TLS 1.0 accepté")
            )


def engine_result(target: str, kind: str, rank: int, index: int) -> TargetResult:
    """What the scanner would report for one demo target (deterministic by structure rank)."""
    result = TargetResult(target=target, kind=kind, addresses=[target] if kind == "ip" else [])
    result.evidence["open_ports"] = []
    if kind == "domain" and "." in target and not target.startswith("127."):
        result.evidence["dns"] = {"MX": [f"mx.{target}"], "TXT": ["v=spf1 mx ~all"]}
        result.observations.append(Observation("mail.dmarc.none", detail="DMARC p=none"))
        if rank % 2:
            result.observations.append(Observation("dns.dnssec.missing", detail="Zone non signée"))
    if kind == "host":
        _web(result, 443, tls=True, weak=rank % 2 == 0)
    if kind == "ip" and target.endswith(".10"):
        if rank % 3 == 0:
            result.services.append(ServiceInfo(port=3389, service="rdp", product="RDP"))
            result.observations.append(
                Observation("port.rdp", port=3389, detail="Bureau à distance ouvert sur internet",
                            evidence={"x224": "connection confirm"})
            )  # fmt: skip
        _web(result, 10443, tls=True, weak=False)
    if kind == "ip" and target.endswith(".5") and rank % 3 == 1:
        result.services.append(ServiceInfo(port=104, service="dicom", product="PACS"))
        result.observations.append(
            Observation("medical.dicom.exposed", port=104,
                        detail="Serveur d'imagerie (DICOM) joignable depuis internet")
        )  # fmt: skip
    result.evidence["open_ports"] = [s.port for s in result.services]
    return result


def load_demo_exposure(actor: Any = SYSTEM, limit: int = MAX_STRUCTURES) -> dict[str, int]:
    """One finished scan for up to ``limit`` demo structures with mandated assets."""
    created = refused = scanned = 0
    structures = Structure.objects.visible_to(SYSTEM).order_by("pk")
    for rank, structure in enumerate(structures):
        # Structures scanned by an earlier run count towards the limit: a second run adds none.
        if scanned >= limit:
            break
        if Scan.objects.filter(structure=structure).exists():
            scanned += 1
            continue
        try:
            # One transaction: the scan's job reaches the task queue only once the scan is
            # finished, so a worker picking it up finds nothing left to do (and contacts nothing).
            with transaction.atomic():
                scan = services.request_structure_scan(structure, SYSTEM, on_demand=False)
                rows = list(scan.targets.order_by("pk"))
                results = [
                    engine_result(row.target, row.kind, rank, i) for i, row in enumerate(rows)
                ]
                save_targets(scan, list(zip(rows, results, strict=True)))
                finish(scan, actor, alert=False, close_findings=False)
        except services.NothingToScan:
            refused += 1
            continue
        created += 1
        scanned += 1
    return {"scans": created, "without_mandate": refused}

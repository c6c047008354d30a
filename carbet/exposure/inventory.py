"""What the latest exposure scan of each structure shows it runs, for the software inventory
(``ServiceSpec.inventory``): one product per target and port where the scanner named one."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from django.db.models import Max

from carbet.core.contract import DetectedProduct
from carbet.exposure.models import Scan, ScanStatus, ScanTarget


def _latest_scans(structure_ids: list[int] | None) -> list[int]:
    """The id of each structure's latest succeeded scan (the present state, not the history)."""
    scans = Scan.objects.filter(status=ScanStatus.SUCCEEDED)
    if structure_ids is not None:
        scans = scans.filter(structure_id__in=structure_ids)
    latest = scans.values("structure_id").annotate(last=Max("id"))
    return [row["last"] for row in latest]


def _services(value: Any) -> list[dict[str, Any]]:
    """The target's services as stored: a list of dicts, except when the list was too long to
    keep (``services_run._bounded`` then stores ``{"tronqué": True, "extrait": …}``)."""
    if not isinstance(value, list):
        return []
    return [service for service in value if isinstance(service, dict)]


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def provide(structure_ids: Iterable[int] | None) -> Iterator[DetectedProduct]:
    wanted = None if structure_ids is None else list(structure_ids)
    targets = ScanTarget.objects.filter(scan_id__in=_latest_scans(wanted)).values_list(
        "structure_id", "target", "asset_id", "services"
    )
    for structure_id, target, asset_id, services in targets.iterator(chunk_size=500):
        for service in _services(services):
            product = _text(service.get("product"))
            if not product:
                continue
            port = service.get("port") or 0
            yield DetectedProduct(
                structure_id=structure_id,
                source="exposure",
                source_key=f"exposure:{target}:{port}",
                product=product[:200],
                vendor=_text(service.get("vendor"))[:200],
                version=_text(service.get("version"))[:100],
                location=f"{target}:{port}"[:300],
                asset_id=asset_id,
                cpe=_text(service.get("cpe"))[:300],
            )

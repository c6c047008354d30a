"""What the latest directory audit of each domain shows a structure runs, for the software
inventory (``ServiceSpec.inventory``): its computers' operating systems, counted."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from django.db.models import Max

from carbet.core.contract import DetectedProduct
from carbet.directory.models import AuditStatus, DirectoryAudit


def _split(key: str) -> tuple[str, str]:
    name, _, version = key.partition("|")
    return name, version


def provide(structure_ids: Iterable[int] | None) -> Iterator[DetectedProduct]:
    audits = DirectoryAudit.objects.filter(status=AuditStatus.DONE)
    if structure_ids is not None:
        audits = audits.filter(structure_id__in=list(structure_ids))
    latest = audits.values("structure_id", "domain").annotate(last=Max("id"))
    rows = DirectoryAudit.objects.filter(id__in=[row["last"] for row in latest]).values_list(
        "structure_id", "domain", "counts"
    )
    for structure_id, domain, counts in rows:
        for key, machines in sorted(((counts or {}).get("systems") or {}).items()):
            name, version = _split(key)
            yield DetectedProduct(
                structure_id=structure_id,
                source="directory",
                source_key=f"directory:{domain}:{key}"[:300],
                product=name[:200],
                vendor="Microsoft" if "windows" in name.lower() else "",
                version=version[:100],
                location=f"{domain}"[:300],
                machines=int(machines),
            )

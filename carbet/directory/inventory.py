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
    # Only audits that counted the computers' systems (a collected snapshot): a PingCastle
    # report lists none, and must not make the operating systems look gone.
    audits = DirectoryAudit.objects.filter(status=AuditStatus.DONE, counts__has_key="systems")
    if structure_ids is not None:
        audits = audits.filter(structure_id__in=list(structure_ids))
    latest = audits.values("structure_id", "domain").annotate(last=Max("id"))
    rows = DirectoryAudit.objects.filter(id__in=[row["last"] for row in latest]).values_list(
        "structure_id", "domain", "counts"
    )
    for structure_id, domain, counts in rows:
        systems = (counts or {}).get("systems")
        for key, machines in sorted(systems.items() if isinstance(systems, dict) else []):
            name, version = _split(str(key))
            if not name.strip() or not isinstance(machines, int) or machines < 1:
                continue
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

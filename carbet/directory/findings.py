"""Directory results into the findings store and the dashboards.

One complete stream per domain: a rule that no longer fires closes its finding at the next
audit of the same domain; exceptions keep the rule visible in the audit but out of the plan.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db.models import OuterRef, Subquery

from carbet.core.choices import AssetKind
from carbet.core.models import Asset
from carbet.core.tenancy import SYSTEM, Actor
from carbet.directory.models import AuditStatus, DirectoryAudit
from carbet.directory.service import DIRECTORY_SOURCE
from carbet.findings.ingest import FindingInput, ingest

# Objects listed in a finding's evidence; the audit page shows them all.
EVIDENCE_OBJECTS = 50


def _domain_asset_id(audit_row: DirectoryAudit, domain: str) -> int | None:
    """The structure's declared AD domain the audit looked at, so findings name their asset."""
    if audit_row.connection_id:
        return audit_row.connection.asset_id
    asset = Asset.objects.filter(
        structure=audit_row.structure, kind=AssetKind.AD_DOMAIN, value__iexact=domain
    ).first()
    return asset.pk if asset else None


def _finding_input(domain: str, item: dict[str, Any], asset_id: int | None) -> FindingInput:
    objects = item["objects"]
    description = item["description"]
    if item["objects_total"]:
        description = f"{description}\n\n{item['objects_total']} objet(s) concerné(s)."
    remediation = item["remediation"]
    if item["command"]:
        remediation = f"{remediation}\n\n{item['command']}"
    references = []
    if item["anssi"]:
        references.append({"label": f"ANSSI {item['anssi']}", "level": item["level"]})
    # Weaknesses an attacker can use right away rank first in the plan.
    severity = max(item["severity"], 4 if item["exploitable_now"] else 0)
    return FindingInput(
        title=item["title"] or item["rule"],
        severity=severity,
        fingerprint=f"directory:{domain}:{item['rule']}",
        rule=item["rule"],
        tool_id=item["anssi"] or item["rule"],
        description=description,
        remediation=remediation,
        references=references,
        product="Active Directory",
        evidence={
            "domain": domain,
            "anssi": item["anssi"],
            "level": item["level"],
            "category": item["category"],
            "points": item["points"],
            "exploitable_now": item["exploitable_now"],
            "objects": objects[:EVIDENCE_OBJECTS],
            "objects_total": item["objects_total"],
        },
        internet_exposed=False,
        asset_id=asset_id,
    )


def write_findings(audit_row: DirectoryAudit, data: dict[str, Any], *, actor: Actor = SYSTEM):
    domain = audit_row.domain or "?"
    asset_id = _domain_asset_id(audit_row, domain)
    items = [
        _finding_input(domain, item, asset_id)
        for item in data["findings"]
        if not item["fully_excepted"] and (item["objects"] or item["points"])
    ]
    return ingest(
        audit_row.structure,
        DIRECTORY_SOURCE,
        items,
        complete=True,
        scope=f"directory:{domain}",
        label=f"Annuaire {domain}",
        actor=actor,
    )


def latest_scores(day: date, structure_ids: list[int]) -> dict[int, float]:
    """The global score (PingCastle scale, lower is better) of each structure's last audit."""
    latest = (
        DirectoryAudit.objects.filter(
            structure=OuterRef("structure"), status=AuditStatus.DONE, analysed_at__date__lte=day
        )
        .order_by("-analysed_at")
        .values("pk")[:1]
    )
    rows = DirectoryAudit.objects.filter(
        structure_id__in=structure_ids, pk=Subquery(latest), score_global__isnull=False
    ).values_list("structure_id", "score_global")
    return {sid: float(score) for sid, score in rows}



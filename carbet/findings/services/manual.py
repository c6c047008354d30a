"""Findings written by hand: an auditor's observation during a visit or a review.

They go through the ingest service like any scan result (source ``manual``, partial run), so
the same weakness written twice — same title, rule and asset in the same structure — is one
finding, seen twice, not two.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from carbet.accounts.roles import Perm
from carbet.audit import services as audit
from carbet.core.access import require
from carbet.core.models import Asset, Structure
from carbet.core.tenancy import Actor
from carbet.findings.choices import Severity, Source
from carbet.findings.ingest import FindingInput, IngestError, derive_fingerprint, ingest
from carbet.findings.models import Finding


@dataclass
class ManualFinding:
    """What an auditor fills in. ``references`` are free identifiers (ANSSI, CaRE, URLs)."""

    title: str
    severity: int | str
    description: str = ""
    remediation: str = ""
    asset: Asset | None = None
    cve: str = ""
    rule: str = ""
    references: list[str] = field(default_factory=list)
    cvss: float | None = None
    kev: bool = False


@transaction.atomic
def create_manual_finding(
    actor: Actor, structure: Structure, data: ManualFinding, *, ip: str | None = None
) -> tuple[Finding, bool]:
    """Write ``data`` into ``structure``; returns the finding and whether it is new.

    Needs ``FINDINGS_WRITE`` on the structure. The asset, if any, must be the structure's own.
    """
    require(actor, Perm.FINDINGS_WRITE, structure)
    if data.asset is not None and data.asset.structure_id != structure.pk:
        raise ValidationError({"asset": _("Cet actif n'appartient pas à la structure choisie.")})
    try:
        severity = Severity.parse(data.severity)
    except ValueError:
        raise ValidationError({"severity": _("Gravité inconnue.")}) from None
    item = FindingInput(
        title=data.title,
        severity=int(severity),
        description=data.description,
        remediation=data.remediation,
        asset_id=data.asset.pk if data.asset is not None else None,
        cve=data.cve.strip().upper(),
        rule=data.rule.strip(),
        references=[r for r in (ref.strip() for ref in data.references) if r],
        cvss=data.cvss,
        kev=data.kev,
    )
    try:
        report = ingest(
            structure,
            Source.MANUAL,
            [item],
            complete=False,
            label=_("Constat de %(who)s") % {"who": actor},
            actor=actor,
        )
    except IngestError as exc:
        raise ValidationError(" ".join(message for _i, message in exc.errors)) from exc
    fingerprint = derive_fingerprint(Source.MANUAL, item)[:64]
    finding = Finding.objects.get(structure=structure, fingerprint=fingerprint)
    created = report.created == 1
    audit.record(
        actor,
        "finding.create" if created else "finding.manual_seen_again",
        finding,
        changes={"source": Source.MANUAL, "severity": int(severity), "title": item.title},
        ip=ip,
    )
    return finding, created

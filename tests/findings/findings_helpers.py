"""Helpers shared by the findings-store tests: findings in a given status, quickly."""

from __future__ import annotations

from carbet.findings.ingest import FindingInput, ingest
from carbet.findings.models import Finding


def make_findings(structure, *names: str, severity: str = "high", **extra) -> list[Finding]:
    """Ingest one finding per name (fingerprint ``fp-<name>``) and return them, in order."""
    items = [
        FindingInput(title=f"Finding {n}", fingerprint=f"fp-{n}", severity=severity, **extra)
        for n in names
    ]
    ingest(structure, "exposure", items, complete=False, scope="tests")
    found = {f.fingerprint: f for f in Finding.objects.filter(structure=structure)}
    return [found[f"fp-{n}"] for n in names]


def make_finding(structure, name: str = "x", status: str = "new", **extra) -> Finding:
    """One finding, put directly in ``status`` (test set-up, not a lifecycle change)."""
    finding = make_findings(structure, name, **extra)[0]
    if status != finding.status:
        Finding.objects.filter(pk=finding.pk).update(status=status)
        finding.refresh_from_db()
    return finding

"""Helpers shared by the action-plan tests (no tests here): findings seeded through ingest."""

from __future__ import annotations

from carbet.findings.ingest import FindingInput, ingest
from carbet.findings.models import Finding


def seed(structure, *items: FindingInput, source: str = "manual", scope: str = "") -> list:
    """Write ``items`` into ``structure`` through the ingest service; return them by title."""
    ingest(structure, source, list(items), complete=False, scope=scope, label="seed")
    titles = [item.title for item in items]
    by_title = {f.title: f for f in Finding.objects.filter(structure=structure, title__in=titles)}
    return [by_title[t] for t in titles]


def item(title: str, severity: str = "high", **extra) -> FindingInput:
    extra.setdefault("fingerprint", f"fp-{title}")
    extra.setdefault("description", f"Description de {title}")
    extra.setdefault("remediation", f"Corriger {title}")
    return FindingInput(title=title, severity=severity, **extra)

"""Shared data for the posture tests (imported by the other test_posture_* modules).

A small region (the ``region`` fixture's three structures) with findings written through the
real ingest service: one CVE shared by all three structures (a regional campaign seed), some
findings past their deadline, some fixed, and titles that name their structure so a leak is
easy to spot.
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from carbet.findings.ingest import FindingInput, ingest

SHARED_CVE = "CVE-2024-21762"
A_SECRET = "Alpha-Confidentiel"
B_SECRET = "Beta-Confidentiel"


def _items(prefix: str, *specs: tuple[str, str, str]) -> list[FindingInput]:
    return [
        FindingInput(
            title=f"{prefix} {name}",
            fingerprint=f"{prefix}-{name}",
            severity=severity,
            cve=cve,
            rule="tls.old" if "TLS" in name else "",
            remediation=f"Corriger {name} : appliquer le correctif de l'éditeur.",
        )
        for name, severity, cve in specs
    ]


def seed_findings(region) -> dict:
    """Write the region's findings; returns the moments used."""
    now = timezone.now()
    long_ago = now - dt.timedelta(days=45)
    # Found 45 days ago: the critical (7 days) and high (30 days) ones are overdue now.
    ingest(
        region.a,
        "exposure",
        _items(
            A_SECRET,
            ("Fortinet VPN", "critical", SHARED_CVE),
            ("TLS 1.0 actif", "high", ""),
            ("Bureau à distance exposé", "critical", ""),
            ("En-têtes manquants", "medium", ""),
            ("Certificat bientôt expiré", "low", ""),
        ),
        complete=True,
        scope="asset:a",
        now=long_ago,
    )
    # Found and fixed (a complete rescan no longer sees it) within its deadline.
    ingest(
        region.a,
        "manual",
        _items(A_SECRET, ("Mot de passe par défaut", "high", "")),
        complete=True,
        now=now - dt.timedelta(days=5),
    )
    ingest(region.a, "manual", [], complete=True, now=now - dt.timedelta(days=2))
    ingest(
        region.a2,
        "exposure",
        _items("Alpha2", ("Fortinet VPN", "critical", SHARED_CVE), ("TLS 1.0 actif", "high", "")),
        complete=True,
        now=now - dt.timedelta(days=3),
    )
    ingest(
        region.b,
        "exposure",
        _items(
            B_SECRET,
            ("Fortinet VPN", "critical", SHARED_CVE),
            ("TLS 1.0 actif", "high", ""),
            ("Partage de fichiers ouvert", "high", ""),
        ),
        complete=True,
        now=now - dt.timedelta(days=2),
    )
    return {"now": now, "long_ago": long_ago}


def widen_region(region, count: int = 4) -> list:
    """Add ``count`` small EHPADs of another département, with a finding each.

    The ``region`` fixture has three structures: too few for any anonymous statistic (five at
    least, ``carbet.engines.disclosure``). Tests of what the ARS sees widen it first.
    """
    from carbet.core.models import Structure

    added = []
    for index in range(count):
        structure = Structure.objects.create(
            finess_et=f"97290{index + 1:04d}",
            name=f"EHPAD Remplissage-Secret {index + 1}",
            organisation=region.org_b,
            category="ehpad",
            places=40 + index,
            departement="972",
        )
        ingest(
            structure,
            "manual",
            [FindingInput(title=f"Remplissage-Secret {index + 1} constat", severity="high")],
            complete=False,
        )
        added.append(structure)
    return added

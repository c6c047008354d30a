"""Cross-tenant walk hooks of the community service: alerts (joined by walk_seed.py).

One tracked vulnerability and structure A's alert for it (its products name the secret
marker): B's people must get a 404 on A's alert and a 403 on the centre's regional pages."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from carbet.community.choices import Hosting, LineOrigin
from carbet.community.models import SoftwareLine, StructureAlert, Vulnerability

SECRET = "CH Alpha-Secret"
A11Y_PAGES: list[tuple[str, str]] = [
    ("director", "/communaute/structure/{structure}/alertes/"),
    ("analyst", "/communaute/alertes/region/"),
    ("analyst", "/communaute/alertes/passes/"),
]


def seed_alert(structure: Any, vuln_id: str = "CVE-2024-21762") -> StructureAlert:
    """A KEV vulnerability matched in ``structure``'s FortiOS (idempotent)."""
    vuln, _created = Vulnerability.objects.get_or_create(
        vuln_id=vuln_id,
        defaults={
            "title": "Fortinet FortiOS Out-of-Bound Write Vulnerability",
            "description": "Fortinet FortiOS contains an out-of-bound write vulnerability.",
            "cvss": 9.8,
            "kev": True,
            "ransomware": True,
            "sources": ["nvd", "kev", "certfr"],
            "advisories": ["CERTFR-2024-ALE-005"],
            "required_action": "Apply mitigations per vendor instructions.",
            "fixed_in": "7.0.14, 7.2.7, 7.4.3",
            "published": "2024-02-09",
        },
    )
    line, _created = SoftwareLine.objects.get_or_create(
        structure=structure,
        origin=LineOrigin.DECLARED,
        product="FortiOS",
        version="7.0.12",
        defaults={
            "vendor": "Fortinet",
            "name": f"{SECRET} VPN",
            "location": f"vpn.{structure.pk}.test:443",
            "cpe": "cpe:2.3:o:fortinet:fortios:7.0.12:*:*:*:*:*:*:*",
            "hosting": Hosting.ON_SITE,
        },
    )
    alert, _created = StructureAlert.objects.get_or_create(
        structure=structure,
        vulnerability=vuln,
        defaults={
            "products": [f"Fortinet FortiOS 7.0.12 — {SECRET} VPN"],
            "certainty": "version",
            "matched_at": timezone.now(),
        },
    )
    alert.lines.add(line)
    return alert


def seed(structure_a: Any) -> None:
    seed_alert(structure_a)


API_OBJECT_PARAMETERS: dict[tuple[str, str], Any] = {
    ("alerts", "id"): lambda region: seed_alert(region.a),
    ("vulnerabilities", "id"): lambda region: seed_alert(region.a).vulnerability,
}

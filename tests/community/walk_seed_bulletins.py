"""Cross-tenant walk hooks of the community service: bulletins (joined by walk_seed.py).

The bulletin is regional content targeted at structure A only (``structures=[A]``): B's people
must get a 404 for it, for A's delivery and for A's answer."""

from __future__ import annotations

from typing import Any

from carbet.community import services_bulletins as services
from carbet.community.models import Bulletin, BulletinDelivery
from carbet.core.tenancy import SYSTEM

SECRET = "CH Alpha-Secret"
TITLE = f"{SECRET} : passerelle VPN à mettre à jour"

A11Y_PAGES: list[tuple[str, str]] = [
    ("director", "/communaute/bulletins/"),
    ("analyst", "/communaute/bulletins/"),
    ("analyst", "/communaute/bulletins/nouveau/"),
]


def _bulletin(structure_a: Any) -> Bulletin:
    for found in Bulletin.objects.filter(title=TITLE):
        if found.structures == [structure_a.pk]:
            return found
    bulletin = services.save_bulletin(
        SYSTEM,
        {
            "title": TITLE,
            "summary": f"{SECRET} résumé",
            "body": f"{SECRET} : texte du bulletin.",
            "severity": "critical",
            "tlp": "amber",
            "cves": ["CVE-2024-21762"],
            "structures": [structure_a.pk],
        },
    )
    services.publish(SYSTEM, bulletin, notify=False)
    bulletin.refresh_from_db()
    return bulletin


def _delivery(structure_a: Any) -> BulletinDelivery:
    return BulletinDelivery.objects.get(bulletin=_bulletin(structure_a), structure=structure_a)


def seed(structure_a: Any) -> None:
    """A bulletin published for A only, and A's answer (its reason holds the marker)."""
    delivery = _delivery(structure_a)
    if delivery.status == "unread":
        services.acknowledge(SYSTEM, delivery, "not_concerned", f"{SECRET} raison")


API_OBJECT_PARAMETERS: dict[tuple[str, str], Any] = {
    ("bulletins", "id"): lambda region: _bulletin(region.a),
    ("bulletin-deliveries", "id"): lambda region: _delivery(region.a),
}

"""Cross-tenant walk hooks of the community service: inventory (joined by walk_seed.py)."""

from __future__ import annotations

from typing import Any

from carbet.community import services_inventory
from carbet.community.choices import LineOrigin
from carbet.community.models import SoftwareLine
from carbet.core.tenancy import SYSTEM

SECRET = "CH Alpha-Secret"

A11Y_PAGES: list[tuple[str, str]] = [
    ("director", "/communaute/structure/{structure}/inventaire/"),
    ("analyst", "/communaute/inventaire/region/"),
]


def declared_line(structure: Any) -> SoftwareLine:
    """Structure A's declared application, named after the secret marker."""
    found = SoftwareLine.objects.filter(
        structure=structure, origin=LineOrigin.DECLARED, name=f"{SECRET} VPN"
    ).first()
    if found is not None:
        return found
    return services_inventory.create_line(
        SYSTEM,
        structure,
        {
            "name": f"{SECRET} VPN",
            "vendor": "Fortinet",
            "product": "FortiOS",
            "version": "7.0.12",
            "hosting": "on_site",
            "maintainer": f"{SECRET} prestataire",
        },
    )


API_OBJECT_PARAMETERS: dict[tuple[str, str], Any] = {
    ("software-lines", "id"): lambda region: declared_line(region.a),
}


def seed(structure_a: Any) -> None:
    """One declared line for A (the detected ones come from the exposure and directory seeds
    through ``sync``, which the matching runs)."""
    declared_line(structure_a)

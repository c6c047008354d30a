"""Cross-tenant walk hooks of the community service: exchange (joined by walk_seed.py).

A MISP event received from a peer is the centre's alone: its TLP binds the centre. The walk
proves no structure's person ever sees it (the marker is in its title and an attribute)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from carbet.community import services_exchange as services
from carbet.core.tenancy import SYSTEM
from carbet.engines.community.exchange import SharedEvent as ParsedEvent

SECRET = "CH Alpha-Secret"
A11Y_PAGES: list[tuple[str, str]] = [
    ("analyst", "/communaute/echanges/"),
    ("analyst", "/communaute/echanges/evenements/"),
]
API_OBJECT_PARAMETERS: dict[tuple[str, str], Any] = {}


def seed(structure_a: Any) -> None:
    """One feed import and one received event naming the secret marker (through the service
    that the import uses, so the rows are exactly what an import writes)."""
    event = ParsedEvent(
        uuid="0c8e4c7f-1a01-4f5a-9a51-6f1c3c2e0d4b",
        info=f"{SECRET} : compromission signalée par un pair",
        date=dt.date(2026, 11, 30),
        threat_level=1,
        tlp="amber",
        organisation="CERT Santé",
        tags=("tlp:amber",),
        cves=("CVE-2024-3400",),
        references=(),
        products=(),
        attributes=(("vulnerability", "CVE-2024-3400"), ("comment", SECRET)),
    )
    services.save_events(SYSTEM, f"{SECRET} flux", [event])

"""The community's part of the demo region: inventories and matched alerts, bulletins, articles,
mutual-aid posts, offers and events, each written through the part's own services."""

from __future__ import annotations

from datetime import date
from typing import Any

from carbet.community import (
    demo_aid,
    demo_alerts,
    demo_bulletins,
    demo_events,
    demo_inventory,
    demo_knowledge,
    demo_solutions,
)


def load(structures: dict[str, Any], users: list[Any], today: date | None = None) -> int:
    """Add the community's demo rows; returns how many were made. ``structures`` maps the demo
    keys ("ch-anse-bleue", "ehpad-hibiscus"…) to rows; ``users`` are the demo accounts.
    Idempotent: a part that already has its rows adds nothing."""
    made = 0
    for part in (
        demo_inventory,
        demo_alerts,
        demo_knowledge,
        demo_bulletins,
        demo_aid,
        demo_solutions,
        demo_events,
    ):
        made += part.load(structures, users, today or date.today())
    return made

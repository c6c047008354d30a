"""Cross-tenant walk hooks of the community service (see tests/walk_seeds.py).

Each part of the service keeps its hooks in ``walk_seed_<part>.py``; this module joins them.
Regional content (bulletins, events, offers, posts) is seeded *targeted at structure A only*,
so the walk also proves that targeting hides it from B."""

from __future__ import annotations

from typing import Any

from tests.community import (
    walk_seed_aid,
    walk_seed_alerts,
    walk_seed_bulletins,
    walk_seed_events,
    walk_seed_exchange,
    walk_seed_inventory,
    walk_seed_knowledge,
    walk_seed_solutions,
)

PARTS = (
    walk_seed_inventory,
    walk_seed_alerts,
    walk_seed_bulletins,
    walk_seed_knowledge,
    walk_seed_aid,
    walk_seed_solutions,
    walk_seed_events,
    walk_seed_exchange,
)

A11Y_PAGES: list[tuple[str, str]] = [
    ("director", "/communaute/"),
    *(page for part in PARTS for page in getattr(part, "A11Y_PAGES", [])),
]
API_OBJECT_PARAMETERS: dict[tuple[str, str], Any] = {}
for _part in PARTS:
    API_OBJECT_PARAMETERS.update(getattr(_part, "API_OBJECT_PARAMETERS", {}))


def seed(structure_a: Any) -> None:
    for part in PARTS:
        part.seed(structure_a)

"""Cross-tenant walk hooks of the community service: inventory (joined by walk_seed.py)."""

from __future__ import annotations

from typing import Any

A11Y_PAGES: list[tuple[str, str]] = []
API_OBJECT_PARAMETERS: dict[tuple[str, str], Any] = {}


def seed(structure_a: Any) -> None:
    """Filled in by the part."""

"""TLP 2.0 levels as STIX 2.1 markings and MISP tags, shared by every export.

STIX 2.1 defines the TLP 1.0 markings: TLP 2.0's CLEAR is WHITE, and AMBER+STRICT is AMBER plus
a statement marking saying so (:data:`AMBER_STRICT`, with a stable id so every export of Carbet
names it alike). MISP uses the ``tlp:`` taxonomy tags of TLP 2.0 directly.
"""

from __future__ import annotations

import uuid
from typing import Any

import stix2

LEVELS = ("clear", "green", "amber", "amber+strict", "red")

AMBER_STRICT: Any = stix2.MarkingDefinition(
    id="marking-definition--" + str(uuid.uuid5(uuid.NAMESPACE_URL, "carbet:tlp:amber+strict")),
    created="2026-01-01T00:00:00.000Z",
    definition_type="statement",
    definition=stix2.StatementMarking(statement="TLP:AMBER+STRICT"),
)

STIX_MARKINGS: dict[str, Any] = {
    "clear": stix2.TLP_WHITE,
    "green": stix2.TLP_GREEN,
    "amber": stix2.TLP_AMBER,
    "amber+strict": stix2.TLP_AMBER,
    "red": stix2.TLP_RED,
}


def stix_markings(level: str) -> list[Any]:
    """The STIX marking definitions of a TLP level (two for AMBER+STRICT)."""
    if level not in STIX_MARKINGS:
        raise ValueError(f"unknown TLP level {level!r} (one of {', '.join(LEVELS)})")
    return [STIX_MARKINGS[level], *([AMBER_STRICT] if level == "amber+strict" else [])]


def misp_tag(level: str) -> str:
    if level not in STIX_MARKINGS:
        raise ValueError(f"unknown TLP level {level!r} (one of {', '.join(LEVELS)})")
    return f"tlp:{level}"


def from_misp_tags(tags: list[str]) -> str:
    """The strictest TLP level among MISP tags ("tlp:white" is CLEAR), "" when none."""
    found = ""
    for tag in tags:
        name = tag.strip().lower()
        level = {"tlp:white": "clear", "tlp:ex:chr": "red"}.get(name, name[4:])
        if name.startswith("tlp:") and level in LEVELS:
            if not found or LEVELS.index(level) > LEVELS.index(found):
                found = level
    return found

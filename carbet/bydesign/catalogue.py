"""The measures catalogue shipped with Carbet (``data/measures.json``), loaded once."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

from django.utils.translation import get_language

from carbet.bydesign.models import DigitalService
from carbet.engines.bydesign.catalogue import Applicable, Description, Measure, derive, parse

DATA = Path(__file__).resolve().parent / "data" / "measures.json"


@lru_cache(maxsize=1)
def measures() -> tuple[Measure, ...]:
    return tuple(parse(json.loads(DATA.read_text(encoding="utf-8"))))


def text(measure: Measure, name: str) -> str:
    """The measure's ``title``, ``why`` or ``how`` in the active language (French by default)."""
    return measure.text(name, (get_language() or "").startswith("en"))


def by_code() -> dict[str, Measure]:
    return {m.code: m for m in measures()}


def description_of(service: DigitalService) -> Description:
    return Description(
        kind=service.kind,
        data_kind=service.data_kind,
        hosting=service.hosting,
        hds_certified=service.hds_certified,
        internet_exposed=service.internet_exposed,
        availability=service.availability,
    )


@lru_cache(maxsize=512)
def _derived(description: Description) -> tuple[Applicable, ...]:
    # Descriptions take few distinct values (7 × 3 × 3 × 3 × 2 × 3): a region's thousands of
    # services share a few dozen derivations.
    return tuple(derive(measures(), description))


def applicable(service: DigitalService) -> list[Applicable]:
    return list(_derived(description_of(service)))

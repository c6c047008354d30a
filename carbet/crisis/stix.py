"""Indicators of compromise exported as a STIX 2.1 bundle (the ``stix2`` library).

Each indicator becomes a STIX ``indicator`` with a pattern of its type, its TLP marking, its
first sighting as ``valid_from`` and its source in the description; the bundle is parsed back
with ``stix2.parse`` before it leaves, so what is exported is always valid STIX. Nothing of the
structure's identity is put in the bundle: the cell decides whom to share it with.
"""

from __future__ import annotations

import uuid

import stix2
from django.utils import timezone

from carbet.crisis.choices import IndicatorType, Tlp
from carbet.crisis.models import CrisisCase, Indicator
from carbet.engines.tlp import AMBER_STRICT, STIX_MARKINGS

_PATTERN = {
    IndicatorType.IPV4: "ipv4-addr:value",
    IndicatorType.IPV6: "ipv6-addr:value",
    IndicatorType.DOMAIN: "domain-name:value",
    IndicatorType.URL: "url:value",
    IndicatorType.EMAIL: "email-addr:value",
    IndicatorType.MD5: "file:hashes.MD5",
    IndicatorType.SHA1: "file:hashes.'SHA-1'",
    IndicatorType.SHA256: "file:hashes.'SHA-256'",
    IndicatorType.FILENAME: "file:name",
}
# TLP 2.0 as STIX 2.1 markings (CLEAR is WHITE, AMBER+STRICT is AMBER plus a statement): shared
# with the community exports (carbet.engines.tlp).
_TLP = {level: STIX_MARKINGS[level] for level in Tlp}
_STRICT = AMBER_STRICT
# Stable ids: the same indicator of the same case is the same STIX object in every export.
_NAMESPACE = uuid.UUID("6f3b1c0e-5d7a-4c61-9a55-1c0a7e2b9d40")


def pattern(indicator: Indicator) -> str:
    escaped = indicator.value.replace("\\", "\\\\").replace("'", "\\'")
    return f"[{_PATTERN[IndicatorType(indicator.type)]} = '{escaped}']"


def _indicator(item: Indicator, case: CrisisCase) -> stix2.Indicator:
    markings = [_TLP[Tlp(item.tlp)]]
    if item.tlp == Tlp.AMBER_STRICT:
        markings.append(_STRICT)
    description = " — ".join(p for p in (item.source, item.note) if p)
    fields = {
        "id": "indicator--" + str(uuid.uuid5(_NAMESPACE, f"{case.reference}:{item.pk}")),
        "name": f"{item.get_type_display()} {item.value}"[:250],
        "pattern": pattern(item),
        "pattern_type": "stix",
        "valid_from": item.first_seen or item.added_at,
        "created": item.added_at,
        "modified": item.added_at,
        "indicator_types": ["malicious-activity"],
        "object_marking_refs": [m.id for m in markings],
        "labels": [case.reference],
    }
    if description:
        fields["description"] = description
    return stix2.Indicator(**fields)


def bundle_json(case: CrisisCase, *, indicators: list[Indicator] | None = None) -> str:
    """The case's indicators as a serialised STIX 2.1 bundle, checked by parsing it back."""
    items = indicators if indicators is not None else list(case.indicators.order_by("pk"))
    objects: list[object] = [_indicator(item, case) for item in items]
    if any(item.tlp == Tlp.AMBER_STRICT for item in items):
        objects.append(_STRICT)
    if not objects:
        bundle = stix2.Bundle(allow_custom=False)
    else:
        bundle = stix2.Bundle(objects=objects, allow_custom=False)
    text = bundle.serialize(pretty=True)
    stix2.parse(text, allow_custom=False)
    return text


def export_name(case: CrisisCase) -> str:
    return f"{case.reference}-ioc-{timezone.now():%Y%m%d}.stix.json"


__all__ = ["bundle_json", "export_name", "pattern"]

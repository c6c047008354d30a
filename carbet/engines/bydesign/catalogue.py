"""The measures catalogue (data) and its derivation from a digital service's description.

A measure applies when its ``when`` condition holds, and is *essential* when its
``essential_when`` condition holds (otherwise recommended). A condition maps description
fields to allowed values: ``{"hosting": ["saas", "it_provider"], "internet_exposed": [true]}``
holds when every named field has one of its listed values; an empty condition always holds.
MonServiceSécurisé's four categories are kept: gouvernance, protection, défense, résilience.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import Any

CATEGORIES = ("gouvernance", "protection", "defense", "resilience")
DATA_KINDS = ("health", "personal", "none")
HOSTINGS = ("on_site", "it_provider", "saas")
AVAILABILITIES = ("hours", "day", "week")  # how long care can go on without the service
SERVICE_KINDS = (
    "care_record",
    "email",
    "telemedicine",
    "billing",
    "remote_access",
    "website",
    "other",
)
TEXTS = ("title", "why", "how")  # each may have an English ``<name>_en`` beside it
AUTO_RULES = (
    "password_policy", "mfa_remote", "mfa_admins", "exposure", "mail_dmarc", "phishing",
    "backups",
)  # fmt: skip


class CatalogueError(ValueError):
    """The measures file is malformed; the message names the measure and the field."""


@dataclass(frozen=True)
class Description:
    """What a structure says about one digital service (the inputs of the derivation)."""

    kind: str = "other"
    data_kind: str = "none"
    hosting: str = "on_site"
    hds_certified: bool | None = None
    internet_exposed: bool = False
    availability: str = "week"

    def __post_init__(self) -> None:
        for name, allowed in (
            ("kind", SERVICE_KINDS),
            ("data_kind", DATA_KINDS),
            ("hosting", HOSTINGS),
            ("availability", AVAILABILITIES),
        ):
            if getattr(self, name) not in allowed:
                raise ValueError(f"{name}: {getattr(self, name)!r} not in {allowed}")

    @property
    def hds_required(self) -> bool:
        """Health data kept by a third party must sit at an HDS-certified host."""
        return self.data_kind == "health" and self.hosting != "on_site"

    def as_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


CONDITION_FIELDS = {f.name for f in fields(Description)}


@dataclass(frozen=True)
class Measure:
    code: str
    category: str
    title: str
    why: str
    how: str
    when: Mapping[str, Sequence[Any]] = field(default_factory=dict)
    essential_when: Mapping[str, Sequence[Any]] | None = None  # None: always recommended
    auto: str = ""
    hygiene: tuple[int, ...] = ()
    care: tuple[str, ...] = ()
    vendor: tuple[str, ...] = ()  # vendor questionnaire questions that inform it
    title_en: str = ""  # English texts; empty: the French one is shown
    why_en: str = ""
    how_en: str = ""

    def text(self, name: str, english: bool) -> str:
        """The measure's ``title``, ``why`` or ``how``: in English when asked and written."""
        if name not in TEXTS:
            raise ValueError(f"{name!r} not in {TEXTS}")
        french: str = getattr(self, name)
        if english:
            translated: str = getattr(self, f"{name}_en")
            return translated or french
        return french


@dataclass(frozen=True)
class Applicable:
    measure: Measure
    essential: bool

    @property
    def code(self) -> str:
        return self.measure.code


def holds(condition: Mapping[str, Sequence[Any]] | None, description: Description) -> bool:
    if condition is None:
        return False
    values = description.as_dict()
    return all(values[name] in allowed for name, allowed in condition.items())


def derive(catalogue: Sequence[Measure], description: Description) -> list[Applicable]:
    """The measures that apply to ``description``, essentials first, in catalogue order."""
    found = [
        Applicable(m, holds(m.essential_when, description))
        for m in catalogue
        if holds(m.when, description)
    ]
    return sorted(found, key=lambda a: (not a.essential, CATEGORIES.index(a.measure.category)))


def _condition(raw: Any, where: str) -> dict[str, tuple[Any, ...]]:
    if not isinstance(raw, dict):
        raise CatalogueError(f"{where}: expected an object")
    out: dict[str, tuple[Any, ...]] = {}
    for name, allowed in raw.items():
        if name not in CONDITION_FIELDS:
            raise CatalogueError(f"{where}: unknown field {name!r}")
        if not isinstance(allowed, list) or not allowed:
            raise CatalogueError(f"{where}.{name}: expected a non-empty list")
        out[name] = tuple(allowed)
    return out


def _text(item: dict[str, Any], key: str, where: str) -> str:
    value = item.get(key)
    if not isinstance(value, str) or not value.strip():
        raise CatalogueError(f"{where}.{key}: expected a non-empty text")
    return value


def _optional_text(item: dict[str, Any], key: str, where: str) -> str:
    if key not in item:
        return ""
    return _text(item, key, where)


def _measure(item: Any, index: int, known: set[str]) -> Measure:
    where = f"measures[{index}]"
    if not isinstance(item, dict):
        raise CatalogueError(f"{where}: expected an object")
    code = _text(item, "code", where)
    where = f"measure {code}"
    if code in known:
        raise CatalogueError(f"{where}: duplicate code")
    category = item.get("category")
    if category not in CATEGORIES:
        raise CatalogueError(f"{where}.category: one of {', '.join(CATEGORIES)}")
    auto = item.get("auto", "")
    if auto and auto not in AUTO_RULES:
        raise CatalogueError(f"{where}.auto: unknown rule {auto!r}")
    hygiene = item.get("hygiene", [])
    if not isinstance(hygiene, list) or not all(
        isinstance(n, int) and 1 <= n <= 42 for n in hygiene
    ):
        raise CatalogueError(f"{where}.hygiene: ANSSI hygiene measure numbers (1–42)")
    care = item.get("care", [])
    vendor = item.get("vendor", [])
    for name, value in (("care", care), ("vendor", vendor)):
        if not isinstance(value, list) or not all(isinstance(c, str) for c in value):
            raise CatalogueError(f"{where}.{name}: expected a list of codes")
    essential = item.get("essential_when")
    return Measure(
        code=code,
        category=category,
        title=_text(item, "title", where),
        why=_text(item, "why", where),
        how=_text(item, "how", where),
        when=_condition(item.get("when", {}), f"{where}.when"),
        essential_when=None if essential is None else _condition(essential, f"{where}.essential"),
        auto=auto,
        hygiene=tuple(hygiene),
        care=tuple(care),
        vendor=tuple(vendor),
        title_en=_optional_text(item, "title_en", where),
        why_en=_optional_text(item, "why_en", where),
        how_en=_optional_text(item, "how_en", where),
    )


def parse(data: Any) -> list[Measure]:
    """The catalogue from its JSON document; raises :class:`CatalogueError` on any defect."""
    if not isinstance(data, dict) or not isinstance(data.get("measures"), list):
        raise CatalogueError("expected an object with a 'measures' list")
    measures: list[Measure] = []
    known: set[str] = set()
    for index, item in enumerate(data["measures"]):
        measure = _measure(item, index, known)
        known.add(measure.code)
        measures.append(measure)
    return measures

"""Indicator definitions (a data file) and the arithmetic of regional aggregates.

Regional aggregates never show one structure's figure: a category with fewer than
``MIN_GROUP`` structures is reported as "too few" instead of its average.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from carbet.engines.roadmap import jsonpos
from carbet.engines.roadmap.frameworks import FrameworkError, Issue

UNITS = ("bool", "level", "percent", "score", "number")
AGGREGATES = ("share", "distribution", "mean", "mean_by_category")
PERIODS = ("day", "year")
KINDS = ("computed", "manual")
MIN_GROUP = 3
KEYS = {"code", "title", "kind", "unit", "target", "period", "aggregate", "why"}


@dataclass(frozen=True)
class IndicatorDef:
    code: str
    title: str
    kind: str
    unit: str
    target: float | None
    period: str
    aggregate: str
    why: str = ""

    @property
    def manual(self) -> bool:
        return self.kind == "manual"


def parse_definitions(text: str, filename: str = "indicators.json") -> list[IndicatorDef]:
    try:
        data = jsonpos.loads(text)
    except jsonpos.JsonPositionError as exc:
        raise FrameworkError(
            [Issue(filename, exc.line, f"JSON invalide : {exc.message}")]
        ) from None
    issues: list[Issue] = []
    if not isinstance(data, dict) or data.get("format") != 1:
        raise FrameworkError([Issue(filename, 1, "objet avec « format »: 1 attendu")])
    items = data.get("indicators")
    if not isinstance(items, list):
        raise FrameworkError([Issue(filename, data.line_of("indicators"), "liste attendue")])
    found: list[IndicatorDef] = []
    seen: set[str] = set()
    for index, item in enumerate(items):
        line = items.line_of(index)
        if not isinstance(item, dict):
            issues.append(Issue(filename, line, "un indicateur doit être un objet"))
            continue
        for key in item:
            if key not in KEYS:
                issues.append(Issue(filename, item.line_of(key), f"clé inconnue « {key} »"))
        code, title = item.get("code"), item.get("title")
        if not isinstance(code, str) or not code or code in seen:
            issues.append(Issue(filename, item.line_of("code"), "« code » manquant ou en double"))
            continue
        seen.add(code)
        checks = (("kind", KINDS), ("unit", UNITS), ("period", PERIODS), ("aggregate", AGGREGATES))
        bad = False
        for key, allowed in checks:
            if item.get(key) not in allowed:
                issues.append(
                    Issue(filename, item.line_of(key), f"« {key} » : l'une de {', '.join(allowed)}")
                )
                bad = True
        target = item.get("target")
        if target is not None and (isinstance(target, bool) or not isinstance(target, int | float)):
            issues.append(Issue(filename, item.line_of("target"), "« target » : nombre attendu"))
            bad = True
        if not isinstance(title, str) or not title.strip():
            issues.append(Issue(filename, item.line_of("title"), "« title » manquant"))
            bad = True
        if bad:
            continue
        found.append(
            IndicatorDef(
                code,
                title.strip(),
                item["kind"],
                item["unit"],
                None if target is None else float(target),
                item["period"],
                item["aggregate"],
                str(item.get("why", "")),
            )
        )
    if issues:
        raise FrameworkError(issues)
    return found


def share(values: Iterable[float | None]) -> dict[str, Any]:
    """Of the structures with a value, how many reach 1 (true)."""
    known = [v for v in values if v is not None]
    yes = sum(1 for v in known if v >= 1)
    return {
        "numerator": yes,
        "denominator": len(known),
        "share": round(yes / len(known), 4) if known else None,
    }


def distribution(values: Iterable[float | None]) -> dict[str, Any]:
    counts: dict[str, int] = {}
    missing = 0
    for value in values:
        if value is None:
            missing += 1
            continue
        key = str(int(value))
        counts[key] = counts.get(key, 0) + 1
    return {"counts": dict(sorted(counts.items())), "unknown": missing}


def mean(values: Iterable[float | None]) -> dict[str, Any]:
    known = [v for v in values if v is not None]
    return {"mean": round(sum(known) / len(known), 3) if known else None, "n": len(known)}


def mean_by_category(
    values: Mapping[Any, float | None], categories: Mapping[Any, str]
) -> dict[str, Any]:
    groups: dict[str, list[float]] = {}
    for key, value in values.items():
        if value is None:
            continue
        groups.setdefault(categories.get(key, ""), []).append(value)
    result: dict[str, Any] = {}
    for category, numbers in sorted(groups.items()):
        if len(numbers) < MIN_GROUP:
            result[category] = {"mean": None, "n": len(numbers), "too_few": True}
        else:
            result[category] = {"mean": round(sum(numbers) / len(numbers), 3), "n": len(numbers)}
    overall = mean(values.values())
    return {"overall": overall, "by_category": result}


def aggregate(definition: IndicatorDef, values: Mapping[Any, float | None], categories) -> dict:
    if definition.aggregate == "share":
        return share(values.values())
    if definition.aggregate == "distribution":
        return distribution(values.values())
    if definition.aggregate == "mean_by_category":
        return mean_by_category(values, categories)
    return mean(values.values())

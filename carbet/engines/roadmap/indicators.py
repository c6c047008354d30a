"""Indicator definitions (a data file) and the arithmetic of regional aggregates.

The aggregates computed here are kept whole in the centre's database; ``publish`` turns one
into what the ARS may see (``carbet.engines.disclosure``: no group under five structures,
small counts secret, averages as ranges, complementary suppression between categories).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from carbet.engines import disclosure
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
    if not isinstance(data, jsonpos.PosDict) or data.get("format") != 1:
        raise FrameworkError([Issue(filename, 1, "objet avec « format »: 1 attendu")])
    items = data.get("indicators")
    if not isinstance(items, jsonpos.PosList):
        raise FrameworkError([Issue(filename, data.line_of("indicators"), "liste attendue")])
    found: list[IndicatorDef] = []
    seen: set[str] = set()
    for index, item in enumerate(items):
        line = items.line_of(index)
        if not isinstance(item, jsonpos.PosDict):
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
        if bad or not isinstance(title, str):
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


def aggregate(
    definition: IndicatorDef, values: Mapping[Any, float | None], categories: Mapping[Any, str]
) -> dict[str, Any]:
    if definition.aggregate == "share":
        return share(values.values())
    if definition.aggregate == "distribution":
        return distribution(values.values())
    if definition.aggregate == "mean_by_category":
        return mean_by_category(values, categories)
    return mean(values.values())


# ---- What the ARS is shown (``carbet.engines.disclosure``) --------------------------------
#
# The nightly aggregates above are kept whole in the centre's database; what leaves it (the
# ARS's page and ``GET /roadmap/indicators/region``) goes through ``publish`` first, also for
# rows stored before these rules existed.

MEAN_STEPS = {"percent": 10.0, "score": 0.5, "level": 0.5, "bool": 0.1}


def _published_mean(cell: Mapping[str, Any], unit: str) -> dict[str, Any]:
    n = int(cell.get("n") or 0)
    mean_value = cell.get("mean")
    if unit == "number":
        band = (
            disclosure.band_of(mean_value)
            if mean_value is not None and n >= disclosure.MIN_GROUP
            else None
        )
    else:
        band = disclosure.published_mean(mean_value, n, step=MEAN_STEPS.get(unit, 10.0))
    if band is None:
        return {"range": None, "label": None, "n": n, "too_few": True}
    return {"range": [band.low, band.high], "label": band.label, "n": n}


def _published_by_category(data: Mapping[str, Any], unit: str) -> dict[str, Any]:
    overall = _published_mean(data.get("overall") or {}, unit)
    cells = {code: dict(cell) for code, cell in (data.get("by_category") or {}).items()}
    size = {code: int(cell.get("n") or 0) for code, cell in cells.items()}
    shown = {code for code, n in size.items() if n >= disclosure.MIN_GROUP}
    # Complementary suppression: the overall average less the shown categories' must not give
    # away the hidden ones' when they hold fewer than five structures together.
    while shown and 0 < sum(n for k, n in size.items() if k not in shown) < disclosure.MIN_GROUP:
        shown.discard(min(shown, key=lambda k: (size[k], k)))
    if overall["range"] is None:
        shown = set()
    by_category = {
        code: (
            _published_mean(cell, unit)
            if code in shown
            else {"range": None, "label": None, "n": int(cell.get("n") or 0), "too_few": True}
        )
        for code, cell in sorted(cells.items())
    }
    return {"overall": overall, "by_category": by_category}


def publish(definition: IndicatorDef, data: Mapping[str, Any]) -> dict[str, Any]:
    """The regional aggregate ``data`` as the ARS may see it: shares only when both sides hold
    five structures, small counts of a distribution secret (``None``), averages as ranges."""
    if not data:
        return {}
    if definition.aggregate == "share":
        n = int(data.get("denominator") or 0)
        yes = int(data.get("numerator") or 0)
        value = disclosure.protect_share(yes, n)
        return {
            "denominator": n,
            "numerator": yes if value is not None else None,
            "share": round(value, 4) if value is not None else None,
            "secret": value is None,
        }
    if definition.aggregate == "distribution":
        counts = data.get("counts") or {}
        cells = [(str(k), int(v)) for k, v in sorted(counts.items())]
        cells.append(("unknown", int(data.get("unknown") or 0)))
        table = disclosure.protect_counts(cells)
        rows = dict(table.rows())
        return {
            "counts": {k: rows[k] for k, _v in cells if k != "unknown"},
            "unknown": rows["unknown"],
            "withheld": table.reason or None,
        }
    if definition.aggregate == "mean_by_category":
        return _published_by_category(data, definition.unit)
    return _published_mean(data, definition.unit)


def publish_themes(data: Mapping[str, Any]) -> dict[str, Any]:
    """The diagnostic's per-theme averages (0–3) as the ARS may see them."""
    return {theme: _published_by_category(cell, "score") for theme, cell in data.items()}

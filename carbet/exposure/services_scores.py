"""Scores per target and per structure: 0–100 per category with a letter grade and the reasons.

The engine's scoring (``carbet.engines.exposure.scoring``) fills ``TargetResult.scores`` when
it is available; otherwise the same rule is applied here from the check registry: each check
that fires costs its points in its category, once per check. A structure's category score is
its worst target's (a single exposed server is enough for an attacker), and its overall score
the average of the categories that were evaluated.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from carbet.engines.exposure import checks
from carbet.engines.exposure.core import TargetResult

CATEGORIES = checks.CATEGORIES
MAX_REASONS = 6
GRADES = ((90, "A"), (80, "B"), (65, "C"), (50, "D"), (35, "E"))


def grade_of(score: int | None) -> str:
    if score is None:
        return ""
    for floor, letter in GRADES:
        if score >= floor:
            return letter
    return "F"


def category_label(category: str) -> str:
    return {
        "exposure": _("Services exposés"),
        "tls": _("Chiffrement (TLS)"),
        "web": _("Sites web"),
        "mail": _("Messagerie et DNS"),
        "overall": _("Note globale"),
    }.get(category, category)


def _cost(check_id: str) -> tuple[str, int]:
    try:
        definition = checks.get(check_id)
    except KeyError:
        return "exposure", 10
    return definition.category, definition.cost()


def _from_engine(scores: dict[str, Any]) -> dict[str, Any] | None:
    """Read the engine's scores when they carry per-category numbers we understand."""
    categories = scores.get("categories", scores)
    found = {}
    for category in CATEGORIES:
        value = categories.get(category) if isinstance(categories, dict) else None
        if isinstance(value, dict) and isinstance(value.get("score"), int | float):
            found[category] = {
                "score": int(value["score"]),
                "grade": str(value.get("grade") or grade_of(int(value["score"]))),
                "reasons": [str(r) for r in value.get("reasons", [])][:MAX_REASONS],
            }
        elif isinstance(value, int | float):
            found[category] = {"score": int(value), "grade": grade_of(int(value)), "reasons": []}
    return found or None


def target_scores(result: TargetResult, observations: list[Any]) -> dict[str, Any]:
    """``{category: {score, grade, reasons}, "overall": {...}}`` for one target."""
    found = _from_engine(result.scores or {}) if result.scores else None
    if found is None:
        lost: dict[str, dict[str, int]] = {category: {} for category in CATEGORIES}
        for obs in observations:
            category, cost = _cost(obs.check_id)
            title = obs.title
            lost.setdefault(category, {})[title] = max(lost[category].get(title, 0), cost)
        found = {}
        for category, costs in lost.items():
            score = max(0, 100 - sum(costs.values()))
            reasons = [
                f"{title} (−{points})"
                for title, points in sorted(costs.items(), key=lambda item: -item[1])
            ][:MAX_REASONS]
            found[category] = {"score": score, "grade": grade_of(score), "reasons": reasons}
    return _with_overall(found)


def _with_overall(found: dict[str, Any]) -> dict[str, Any]:
    numbers = [found[c]["score"] for c in CATEGORIES if c in found]
    overall = round(sum(numbers) / len(numbers)) if numbers else None
    return {**found, "overall": {"score": overall, "grade": grade_of(overall), "reasons": []}}


def structure_scores(targets: list[Any]) -> dict[str, Any]:
    """Worst target per category, with the reasons of that target."""
    found: dict[str, Any] = {}
    for category in CATEGORIES:
        worst = None
        for target in targets:
            value = (target.scores or {}).get(category)
            if not value or value.get("score") is None:
                continue
            if worst is None or value["score"] < worst[0]["score"]:
                worst = (value, target.target)
        if worst is not None:
            value, name = worst
            found[category] = {
                "score": value["score"],
                "grade": value.get("grade") or grade_of(value["score"]),
                "reasons": [f"{name} : {reason}" for reason in value.get("reasons", [])],
            }
    if not found:
        return {}
    return _with_overall(found)

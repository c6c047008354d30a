"""Scores as the exposure pages keep them, computed by the engine's scoring rules.

``carbet.engines.exposure.scoring`` owns the scale (0–100 per category, the worst target sets a
structure's category, overall = the lower of the average and the worst + 20, letter grades).
This module stores its result on each ``ScanTarget``/``Scan`` in a flat, page-friendly shape:
``{category: {"score", "grade", "reasons", "lost"}, "overall": {"score", "grade"}}``, with only
the categories that were evaluated (a structure without a mail domain has no mail grade).
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from carbet.engines.exposure import checks, scoring
from carbet.engines.exposure.core import TargetResult

CATEGORIES = checks.CATEGORIES
grade_of = scoring.grade


def category_label(category: str) -> str:
    return {
        "exposure": _("Services exposés"),
        "tls": _("Chiffrement (TLS)"),
        "web": _("Sites web"),
        "mail": _("Messagerie et DNS"),
        "overall": _("Note globale"),
    }.get(category, category)


def _flat(engine_scores: dict[str, Any]) -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for category, value in (engine_scores.get("categories") or {}).items():
        if value.get("score") is None:
            continue
        flat[category] = {
            "score": int(value["score"]),
            "grade": value.get("grade", ""),
            "reasons": list(value.get("reasons", [])),
            "lost": [
                {
                    "check": e.get("check"),
                    "points": e.get("points"),
                    "title": e.get("title"),
                    "severity": e.get("severity"),
                }
                for e in value.get("lost", [])
            ],
        }
    flat["overall"] = {
        "score": engine_scores.get("score"),
        "grade": engine_scores.get("grade", ""),
        "caps": list(engine_scores.get("caps") or []),
    }
    return flat


def target_scores(result: TargetResult, observations: list[Any] | None = None) -> dict[str, Any]:
    """One target's scores (the runner computes them; computed here if it did not)."""
    engine_scores = result.scores if result.scores.get("categories") else None
    return _flat(engine_scores or scoring.score_target(result))


def structure_scores(targets: list[Any]) -> dict[str, Any]:
    """Worst target per category, with that target's reasons; overall by the engine's rule."""
    categories: dict[str, dict[str, Any]] = {}
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
            categories[category] = {
                "score": value["score"],
                "grade": value.get("grade") or grade_of(value["score"]),
                "reasons": [f"{name} : {reason}" for reason in value.get("reasons", [])],
                "lost": value.get("lost", []),
            }
    if not categories:
        return {}
    return {**categories, "overall": scoring.overall(categories)}

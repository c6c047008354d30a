"""Scores per target and per structure: four categories, 0–100, a letter grade and the reasons.

The scale (pure functions, no I/O):

* Each category (exposure, TLS, web, mail) starts at **100**. Every check that fires on the
  target costs the points of its registry entry (``Check.cost()``, from
  ``carbet.engines.severity``: info 0, low 5, medium 10, high 25, critical 40, or the check's
  own ``points``, e.g. 60 for an exposed PACS), **once per check id** whatever the number of
  ports it fires on, at the highest severity seen (an observation may raise its own
  severity). The score never goes below 0.
* Web: when the web probe left an Observatory-style score (``evidence["web"][port]
  ["observatory_score"]``), the web category is the lowest of those scores (clamped to
  0–100) instead of 100 minus the check points; the check points are still listed as reasons.
* A category is **evaluated** only when its probes ran (an open TLS port, a web server, a mail
  domain); others have no score and do not count in the overall score.
* **Overall** = the lower of the average of the evaluated categories and the worst category
  + 20: one very bad category cannot hide behind three good ones.
* **Grades**: A+ = 100 with nothing lost, A ≥ 90, B ≥ 80, C ≥ 65, D ≥ 50, E ≥ 35, F below.
* A **structure**'s category score is its worst target's (one exposed server is enough for an
  attacker), with that target's reasons; its overall score follows the same rule as a target.
"""

from __future__ import annotations

from typing import Any

from carbet.engines import severity as severities
from carbet.engines.exposure import checks
from carbet.engines.exposure.core import Observation, TargetResult

CATEGORIES = checks.CATEGORIES
GRADES = ((90, "A"), (80, "B"), (65, "C"), (50, "D"), (35, "E"))
WORST_MARGIN = 20
# Which evidence key shows a category's probes ran (exposure: the port scan itself).
EVIDENCE_KEYS = {"tls": "tls", "web": "web", "mail": "dns"}
SEVERITY_POINTS = severities.POINTS


def grade(score: int | None, lost_anything: bool = True) -> str:
    """The letter for a 0–100 score ("" when not evaluated)."""
    if score is None:
        return ""
    if score >= 100 and not lost_anything:
        return "A+"
    for floor, letter in GRADES:
        if score >= floor:
            return letter
    return "F"


def observation_cost(observation: Observation, lang: str = "fr") -> tuple[str, int, str]:
    """(category, points, title) of one observation. Every observation's check is registered
    (``Observation`` refuses unknown ids), so nothing here guesses a default cost."""
    definition = checks.get(observation.check)
    points = definition.cost()
    if observation.severity is not None and observation.severity > definition.severity:
        points = max(points, SEVERITY_POINTS.get(observation.severity, points))
    return definition.category, points, observation.title or definition.title(lang)


def category_losses(observations: list[Observation]) -> dict[str, list[dict[str, Any]]]:
    """Per category, the checks that cost points: check, points, title, ports; costliest first."""
    losses: dict[str, dict[str, dict[str, Any]]] = {category: {} for category in CATEGORIES}
    for observation in observations:
        category, points, title = observation_cost(observation)
        entry = losses.setdefault(category, {}).setdefault(
            observation.check,
            {"check": observation.check, "points": 0, "title": title, "ports": []},
        )
        entry["points"] = max(entry["points"], points)
        if observation.port is not None and observation.port not in entry["ports"]:
            entry["ports"].append(observation.port)
    return {
        category: sorted(entries.values(), key=lambda entry: (-entry["points"], entry["check"]))
        for category, entries in losses.items()
    }


def _evaluated(result: TargetResult, category: str, lost: list[dict[str, Any]]) -> bool:
    if lost:
        return True
    if category == "exposure":
        return bool(result.addresses) and "open_ports" in result.evidence
    return bool(result.evidence.get(EVIDENCE_KEYS[category]))


def _observatory(result: TargetResult) -> int | None:
    scores: list[float] = [
        float(value["observatory_score"])
        for value in (result.evidence.get("web") or {}).values()
        if isinstance(value, dict) and isinstance(value.get("observatory_score"), int | float)
    ]
    return max(0, min(100, int(min(scores)))) if scores else None


def reason_text(entry: dict[str, Any]) -> str:
    return f"{entry['title']} (−{entry['points']})"


def _category(score: int | None, lost: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "score": score,
        "grade": grade(score, bool(lost)),
        "reasons": [reason_text(entry) for entry in lost if entry["points"]],
        "lost": lost,
    }


def overall(categories: dict[str, dict[str, Any]]) -> dict[str, Any]:
    numbers = [value["score"] for value in categories.values() if value["score"] is not None]
    if not numbers:
        return {"score": None, "grade": ""}
    score = min(round(sum(numbers) / len(numbers)), min(numbers) + WORST_MARGIN)
    lost_anything = any(value["lost"] for value in categories.values())
    return {"score": score, "grade": grade(score, lost_anything)}


def target_scores(result: TargetResult) -> dict[str, Any]:
    """``{"categories": {category: {score, grade, reasons, lost}}, "score", "grade"}``."""
    losses = category_losses(result.observations)
    categories: dict[str, dict[str, Any]] = {}
    for category in CATEGORIES:
        lost = losses.get(category, [])
        if not _evaluated(result, category, lost):
            categories[category] = _category(None, [])
            continue
        score = max(0, 100 - sum(entry["points"] for entry in lost))
        if category == "web":
            observatory = _observatory(result)
            if observatory is not None:
                score = observatory
        categories[category] = _category(score, lost)
    return {"categories": categories, **overall(categories)}


def score_target(result: TargetResult) -> dict[str, Any]:
    """Compute and store ``result.scores``."""
    result.scores = target_scores(result)
    return result.scores


def structure_scores(results: list[TargetResult]) -> dict[str, Any]:
    """A structure's scores from its targets' results: worst target per category."""
    categories: dict[str, dict[str, Any]] = {}
    for category in CATEGORIES:
        worst: tuple[dict[str, Any], str] | None = None
        for result in results:
            value = (result.scores or score_target(result))["categories"][category]
            if value["score"] is None:
                continue
            if worst is None or value["score"] < worst[0]["score"]:
                worst = (value, result.target)
        if worst is None:
            categories[category] = _category(None, [])
            continue
        value, target = worst
        lost = [{**entry, "target": target} for entry in value["lost"]]
        categories[category] = {
            **_category(value["score"], lost),
            "reasons": [f"{target} : {reason}" for reason in value["reasons"]],
            "target": target,
        }
    return {"categories": categories, **overall(categories)}

"""PingCastle-compatible scoring and the ANSSI level.

- Each rule that fires adds points to its category by its points model: fixed, per object
  (optionally with a floor and a cap), or tiered by a threshold on a measure (krbtgt password
  age: 1, 2, 3, 4 years) or on the number of objects.
- Each category score is the sum of its rules' points, capped at 100; the global score is the
  maximum of the four categories. Lower is better, 0 is perfect — as in PingCastle.
- The ANSSI level is the lowest level among the failed ANSSI controls, 5 when none failed
  (ANSSI "points de contrôle AD": level 1 is critical, 5 the best).

PingCastle's known weakness is saturation: most real domains hit 100 in some category. Carbet
keeps the same arithmetic so the numbers compare, but caps per-object rules so one noisy rule
cannot saturate a category by itself, and orders findings by "exploitable now" first.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

CATEGORIES = ("stale_objects", "privileged_accounts", "trusts", "anomalies")
CATEGORY_CAP = 100
BEST_LEVEL = 5


@dataclass(frozen=True)
class Fixed:
    """The same points as soon as one object is affected."""

    points: int

    def compute(self, count: int, measure: float | None = None) -> int:
        return self.points if count else 0

    def describe(self) -> str:
        return f"{self.points} points"


@dataclass(frozen=True)
class PerObject:
    """``each`` points per affected object, at least ``floor``, at most ``cap`` (0: no cap)."""

    each: int
    floor: int = 0
    cap: int = 0

    def compute(self, count: int, measure: float | None = None) -> int:
        if not count:
            return 0
        points = max(self.floor, count * self.each)
        return min(points, self.cap) if self.cap else points

    def describe(self) -> str:
        text = f"{self.each} par objet"
        if self.floor:
            text += f", minimum {self.floor}"
        if self.cap:
            text += f", maximum {self.cap}"
        return text


@dataclass(frozen=True)
class Tiered:
    """Points of the highest threshold reached by the measure (or by the object count).

    ``tiers`` are ``(threshold, points)`` pairs in increasing threshold order; below the first
    threshold the rule costs nothing.
    """

    tiers: tuple[tuple[float, int], ...]
    unit: str = "objets"

    def compute(self, count: int, measure: float | None = None) -> int:
        if not count:
            return 0
        value = count if measure is None else measure
        points = 0
        for threshold, tier_points in self.tiers:
            if value >= threshold:
                points = tier_points
        return points

    def describe(self) -> str:
        steps = ", ".join(f"≥ {t:g} {self.unit} : {p}" for t, p in self.tiers)
        return f"par paliers ({steps})"


PointsModel = Fixed | PerObject | Tiered


def category_scores(points_by_category: Iterable[tuple[str, int]]) -> dict[str, int]:
    """``{"global", <each category>}`` from (category, points) pairs: capped sums and maximum."""
    sums = dict.fromkeys(CATEGORIES, 0)
    for category, points in points_by_category:
        sums[category] = sums.get(category, 0) + max(0, points)
    scores = {category: min(CATEGORY_CAP, sums[category]) for category in CATEGORIES}
    return {"global": max(scores.values()), **scores}


def anssi_level(failed_levels: Iterable[int | None]) -> int:
    """The lowest ANSSI level among failed controls, 5 when none failed."""
    levels = [level for level in failed_levels if level is not None]
    return min(levels, default=BEST_LEVEL)

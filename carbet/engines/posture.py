"""The posture score and the small statistics the dashboards show (pure Python, no Django).

The posture score sums up, from 0 to 100, how exposed a structure is *today*. It starts at 100;
each open critical weakness takes 10 points (40 at most), each open high one 3 points (30 at
most), each open medium one half a point (10 at most) and each weakness past its deadline
2 points (20 at most). The caps add up to 100, so the score never goes below 0, and one kind
of problem alone can never hide the others: a structure with a thousand medium findings but
nothing critical keeps at least 90. ``SCORE_RULES`` is the one place these weights live; the
pages explain them from it, in plain French.

Statistics over *other* structures (the peer comparison, the ARS's aggregates) are not made
here: they go through ``carbet.engines.disclosure``, which publishes bands and secret small
counts instead of exact small-group quartiles that could be inverted.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class ScoreRule:
    """One kind of problem: how many points each occurrence costs, and at most how many."""

    key: str
    points: float
    cap: int


SCORE_RULES: tuple[ScoreRule, ...] = (
    ScoreRule("open_critical", 10, 40),
    ScoreRule("open_high", 3, 30),
    ScoreRule("open_medium", 0.5, 10),
    ScoreRule("overdue", 2, 20),
)


@dataclass(frozen=True)
class PostureCounts:
    """A structure's numbers at one moment (live, or as a nightly snapshot kept them)."""

    open_critical: int = 0
    open_high: int = 0
    open_medium: int = 0
    open_low: int = 0
    overdue: int = 0
    closed_in_sla: int = 0
    closed_late: int = 0

    @property
    def open_critical_high(self) -> int:
        return self.open_critical + self.open_high

    @property
    def open_total(self) -> int:
        return self.open_critical + self.open_high + self.open_medium + self.open_low

    @property
    def sla_compliance(self) -> int | None:
        return sla_compliance(self.closed_in_sla, self.closed_late)

    @property
    def score(self) -> int:
        return posture_score(self)


def posture_score(counts: PostureCounts) -> int:
    """100 minus capped penalties (see the module docstring), an integer in 0–100."""
    penalty = 0.0
    for rule in SCORE_RULES:
        penalty += min(rule.cap, rule.points * max(0, getattr(counts, rule.key)))
    return max(0, min(100, round(100 - penalty)))


def sla_compliance(in_sla: int, late: int) -> int | None:
    """Share (%) of the fixes made within their deadline; ``None`` when nothing was fixed."""
    total = in_sla + late
    return round(100 * in_sla / total) if total > 0 else None


def trend(now: float | None, before: float | None, *, tolerance: float = 0.5) -> str | None:
    """``"up"``, ``"down"`` or ``"flat"`` between two values, ``None`` if one is unknown."""
    if now is None or before is None:
        return None
    if now > before + tolerance:
        return "up"
    if now < before - tolerance:
        return "down"
    return "flat"


def merge_small_groups(
    groups: Sequence[tuple[str, list[int]]], minimum: int, other_label: str
) -> list[tuple[str, list[int]]]:
    """Keep groups of at least ``minimum`` members; pool the others under ``other_label``.

    If the pooled group is itself too small it is folded into the smallest kept group, so no
    group returned ever has fewer than ``minimum`` members (none at all if the whole region
    has fewer).
    """
    kept = [(label, list(members)) for label, members in groups if len(members) >= minimum]
    pooled = [m for label, members in groups if len(members) < minimum for m in members]
    if pooled:
        if len(pooled) >= minimum:
            kept.append((other_label, pooled))
        elif kept:
            smallest = min(range(len(kept)), key=lambda i: len(kept[i][1]))
            label, members = kept[smallest]
            kept[smallest] = (f"{label} + {other_label}", members + pooled)
    return kept

"""Proposing a roadmap from the gaps of a structure's assessments.

Order: prerequisites first (CaRE's prerequisites, or any requirement flagged as such in the
framework data), then the other gaps by urgency — the larger the gap (3 minus the score), the
higher the priority and the more the structure is exposed on the internet when the requirement
concerns exposure, the sooner. A requirement never comes before those it ``requires``. Items are
then spread over the plan's years: priority-1 gaps and prerequisites in the first year.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

PRIORITY_WEIGHT = {1: 3.0, 2: 2.0, 3: 1.0}
UNKNOWN_SCORE = 1.0  # "ne sais pas" is treated as a weak answer: it deserves a look early


@dataclass(frozen=True)
class Gap:
    key: str
    score: float | None  # 0–3, None when unanswered or unknown
    priority: int = 2
    prerequisite: bool = False
    exposure: bool = False
    requires: tuple[str, ...] = ()
    order: int = 0


@dataclass(frozen=True)
class Proposed:
    key: str
    rank: int
    year_offset: int
    urgency: float


def urgency(gap: Gap, exposure: float) -> float:
    """Gap size × priority weight, raised up to ×2 for exposure-related gaps of an exposed
    structure (``exposure`` in 0–1)."""
    score = UNKNOWN_SCORE if gap.score is None else gap.score
    size = max(0.0, 3.0 - score)
    factor = 1.0 + (min(max(exposure, 0.0), 1.0) if gap.exposure else 0.0)
    return round(size * PRIORITY_WEIGHT.get(gap.priority, 1.0) * factor, 6)


def propose(gaps: Iterable[Gap], *, exposure: float = 0.0, years: int = 3) -> list[Proposed]:
    """Order the gaps (score below 3) and give each a year offset in ``0..years-1``."""
    pending = [g for g in gaps if g.score is None or g.score < 3]
    by_key = {g.key: g for g in pending}
    ranked = sorted(
        pending,
        key=lambda g: (not g.prerequisite, -urgency(g, exposure), g.priority, g.order, g.key),
    )
    placed: list[Gap] = []
    seen: set[str] = set()
    for gap in ranked:
        _place(gap, by_key, seen, placed)
    result = []
    count = len(placed)
    for rank, gap in enumerate(placed):
        if gap.prerequisite or gap.priority == 1:
            offset = 0
        else:
            offset = min(years - 1, rank * years // max(count, 1))
        result.append(Proposed(gap.key, rank + 1, offset, urgency(gap, exposure)))
    # A requirement never lands in a year before one it depends on.
    offsets = {p.key: p.year_offset for p in result}
    fixed = []
    for item in result:
        needed = max((offsets[r] for r in by_key[item.key].requires if r in offsets), default=0)
        offsets[item.key] = max(item.year_offset, needed)
        fixed.append(Proposed(item.key, item.rank, offsets[item.key], item.urgency))
    return fixed


def _place(gap: Gap, by_key: dict[str, Gap], seen: set[str], placed: list[Gap]) -> None:
    """Place ``gap`` after the pending gaps it requires (iteratively: no deep recursion)."""
    stack: list[tuple[Gap, bool]] = [(gap, False)]
    on_stack: set[str] = set()
    while stack:
        current, expanded = stack.pop()
        if current.key in seen:
            continue
        if expanded:
            seen.add(current.key)
            on_stack.discard(current.key)
            placed.append(current)
            continue
        on_stack.add(current.key)
        stack.append((current, True))
        for required in reversed(current.requires):
            dep = by_key.get(required)
            if dep is not None and dep.key not in seen and dep.key not in on_stack:
                stack.append((dep, False))

"""The cyber index of a digital service (0 to 5), and why it is what it is.

Every applicable measure counts, essentials twice as much as recommended ones; a measure done
counts fully, in progress half, not done nothing; "not applicable" leaves the count. The result
is scaled to 5 and rounded down to a tenth. Two hard limits keep it honest:

* health data at a third party without an HDS certificate caps the index at 2;
* each essential measure not done takes the cap down (0.5 each, never under 1 for that reason).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from carbet.engines.bydesign.auto import DONE, IN_PROGRESS, NOT_APPLICABLE, NOT_DONE
from carbet.engines.bydesign.catalogue import CATEGORIES, Applicable, Description

CREDIT = {DONE: 1.0, IN_PROGRESS: 0.5, NOT_DONE: 0.0}
ESSENTIAL_WEIGHT, RECOMMENDED_WEIGHT = 2.0, 1.0
HDS_CAP = 2.0


@dataclass(frozen=True)
class IndexResult:
    value: float
    by_category: dict[str, float | None]  # share done (0–1) per category, None if nothing
    essentials_total: int
    essentials_done: int
    missing_essentials: tuple[str, ...]  # codes, catalogue order
    capped_by: tuple[str, ...] = field(default=())  # "hds", "essentials"
    best_next: tuple[str, ...] = field(default=())  # codes that would raise it most


def compute(
    applicable: Sequence[Applicable],
    statuses: Mapping[str, str],
    description: Description,
    hds_certified: bool | None = None,
) -> IndexResult:
    """The index from the applicable measures and their effective statuses (missing: not done)."""
    weight_sum = credit_sum = 0.0
    per_category: dict[str, list[float]] = {c: [0.0, 0.0] for c in CATEGORIES}
    missing: list[str] = []
    gains: list[tuple[float, int, str]] = []
    essentials_total = essentials_done = 0
    for order, item in enumerate(applicable):
        status = statuses.get(item.code, NOT_DONE)
        if status == NOT_APPLICABLE:
            continue
        weight = ESSENTIAL_WEIGHT if item.essential else RECOMMENDED_WEIGHT
        credit = CREDIT.get(status, 0.0)
        weight_sum += weight
        credit_sum += weight * credit
        per_category[item.measure.category][0] += weight * credit
        per_category[item.measure.category][1] += weight
        if item.essential:
            essentials_total += 1
            essentials_done += status == DONE
            if status != DONE:
                missing.append(item.code)
        if credit < 1.0:
            gains.append((-(weight * (1.0 - credit)), order, item.code))
    raw = 5.0 * credit_sum / weight_sum if weight_sum else 0.0
    caps: list[str] = []
    if description.hds_required and not hds_certified:
        caps.append("hds")
        raw = min(raw, HDS_CAP)
    if missing:
        limit = max(1.0, 5.0 - 0.5 * len(missing))
        if raw > limit:
            caps.append("essentials")
            raw = limit
    return IndexResult(
        value=math.floor(raw * 10 + 1e-9) / 10,
        by_category={c: (v[0] / v[1] if v[1] else None) for c, v in per_category.items()},
        essentials_total=essentials_total,
        essentials_done=essentials_done,
        missing_essentials=tuple(missing),
        capped_by=tuple(caps),
        best_next=tuple(code for _gain, _order, code in sorted(gains)[:3]),
    )

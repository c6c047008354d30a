"""Nightly posture snapshots: one PostureSnapshot per structure per day, written in bulk.

The numbers come from the same aggregate queries as the live dashboard (``selectors``), for the
whole region at once, and are upserted on (structure, day): running the snapshot twice the same
day rewrites that day's rows instead of adding new ones. A snapshot records the state at the
moment it runs; ``day`` only names the row (deadlines are judged against that day).

Other services add their own figures to ``scores`` (e.g. an exposure or directory score) by
registering a provider with ``register_score``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db import transaction
from django.utils import timezone

from carbet.audit import services as audit
from carbet.core.models import Structure
from carbet.core.tenancy import SYSTEM, Actor
from carbet.engines.posture import PostureCounts
from carbet.findings.models import PostureSnapshot
from carbet.findings.posture.selectors import live_counts

# name → function(day, structure ids) → {structure id: number}; merged into ``scores``.
ScoreProvider = Callable[[date, list[int]], dict[int, float]]
_SCORE_PROVIDERS: dict[str, ScoreProvider] = {}

COUNT_FIELDS = (
    "open_critical",
    "open_high",
    "open_medium",
    "open_low",
    "overdue",
    "closed_in_sla",
    "closed_late",
)


def register_score(name: str, provider: ScoreProvider) -> None:
    """Let a service add a per-structure score to every snapshot under ``scores[name]``."""
    if name == "posture":
        raise ValueError("the posture score is computed here")
    _SCORE_PROVIDERS[name] = provider


@dataclass(frozen=True)
class SnapshotResult:
    day: date
    structures: int

    def as_dict(self) -> dict[str, Any]:
        return {"day": self.day.isoformat(), "structures": self.structures}


def take_snapshots(day: date | None = None, *, actor: Actor = SYSTEM) -> SnapshotResult:
    """Write (or rewrite) ``day``'s snapshot of every structure of the region."""
    day = day or timezone.localdate()
    structure_ids = list(Structure.objects.visible_to(SYSTEM).values_list("pk", flat=True))
    counts, _cells = live_counts(SYSTEM, today=day)
    extra = {name: provider(day, structure_ids) for name, provider in _SCORE_PROVIDERS.items()}
    rows = []
    for sid in structure_ids:
        numbers = counts.get(sid, PostureCounts())
        scores: dict[str, float] = {"posture": numbers.score}
        for name, values in extra.items():
            if sid in values and values[sid] is not None:
                scores[name] = values[sid]
        rows.append(
            PostureSnapshot(
                structure_id=sid,
                day=day,
                scores=scores,
                **{name: getattr(numbers, name) for name in COUNT_FIELDS},
            )
        )
    with transaction.atomic():
        PostureSnapshot.objects.bulk_create(
            rows,
            batch_size=500,
            update_conflicts=True,
            unique_fields=["structure", "day"],
            update_fields=[*COUNT_FIELDS, "scores"],
        )
        result = SnapshotResult(day, len(rows))
        audit.record(actor, "findings.snapshot", label=day.isoformat(), changes=result.as_dict())
    return result

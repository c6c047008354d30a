"""Anonymised figures: a structure's peer comparison and the ARS's regional aggregates.

Both read the whole region with the system actor — the viewer could not see the other
structures — and only ever return group statistics (counts, averages, median and quartiles) of
groups of at least ``MIN_GROUP`` structures. No structure's name, FINESS number or finding
leaves this module; the tests check the rendered pages, exports and PDFs for it.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta

from django.db.models import Max
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from carbet.core.models import Structure
from carbet.core.tenancy import SYSTEM
from carbet.engines.posture import (
    PostureCounts,
    Spread,
    merge_small_groups,
    position,
    sla_compliance,
    spread,
)
from carbet.findings.dashboards.selectors import (
    CATEGORY_LABELS,
    TrendData,
    live_counts,
    region_counts,
    trend_data,
)
from carbet.findings.models import PostureSnapshot

MIN_GROUP = 3
SNAPSHOT_MAX_AGE = 3  # days: an older snapshot is not "last night" any more


def size_class(beds: int, places: int) -> str:
    """Same thresholds as ``Structure.size_label``: small < 100 ≤ medium < 500 ≤ large."""
    capacity = (beds or 0) + (places or 0)
    if capacity >= 500:
        return "large"
    if capacity >= 100:
        return "medium"
    return "small"


SIZE_LABELS = {
    "small": gettext_lazy("petite"),
    "medium": gettext_lazy("moyenne"),
    "large": gettext_lazy("grande"),
}


@dataclass(frozen=True)
class PeerMetric:
    label: str
    own: float | None
    group: Spread | None
    verdict: str | None  # "better", "usual", "worse"
    unit: str = ""
    higher_is_better: bool = True


@dataclass(frozen=True)
class PeerComparison:
    group_label: str
    size: int
    metrics: list[PeerMetric]
    as_of: date | None = None  # the snapshot the group's figures come from (None: live)


def _metrics(counts: PostureCounts) -> dict[str, float | None]:
    return {
        "score": counts.score,
        "critical_high": counts.open_critical_high,
        "overdue": counts.overdue,
        "sla": counts.sla_compliance,
    }


def _group_counts(members: list[int], today: date) -> tuple[dict[int, PostureCounts], date | None]:
    """The group's figures from last night's snapshots (one small query), or counted live when
    there is no recent snapshot yet (a new installation)."""
    snapshots = PostureSnapshot.objects.visible_to(SYSTEM).filter(
        structure_id__in=members, day__lte=today, day__gt=today - timedelta(days=SNAPSHOT_MAX_AGE)
    )
    latest = snapshots.aggregate(day=Max("day"))["day"]
    if latest is None:
        counts, _cells = live_counts(SYSTEM, today=today, structure_ids=members)
        return counts, None
    fields = (
        "open_critical",
        "open_high",
        "open_medium",
        "open_low",
        "overdue",
        "closed_in_sla",
        "closed_late",
    )
    rows = snapshots.filter(day=latest).values_list("structure_id", *fields)
    return {sid: PostureCounts(*numbers) for sid, *numbers in rows}, latest


def peer_comparison(
    structure: Structure, *, today: date, own_counts: PostureCounts | None = None
) -> PeerComparison | None:
    """The structure against comparable ones (same category and size, else same category).

    The group's median and quartiles come from the latest nightly snapshot (``as_of``); the
    structure's own figures are ``own_counts`` (live) when given. ``None`` when fewer than
    ``MIN_GROUP`` structures (the structure included) are comparable.
    """
    same_category = list(
        Structure.objects.visible_to(SYSTEM)
        .filter(category=structure.category)
        .values_list("pk", "beds", "places")
    )
    own_size = size_class(structure.beds, structure.places)
    same_size = [pk for pk, beds, places in same_category if size_class(beds, places) == own_size]
    category = CATEGORY_LABELS.get(structure.category, structure.category)
    if len(same_size) >= MIN_GROUP:
        members = same_size
        label = _("%(category)s de taille %(size)s") % {
            "category": category,
            "size": SIZE_LABELS[own_size],
        }
    elif len(same_category) >= MIN_GROUP:
        members = [pk for pk, _beds, _places in same_category]
        label = _("%(category)s, toutes tailles") % {"category": category}
    else:
        return None
    counts, as_of = _group_counts(members, today)
    values = {pk: _metrics(counts.get(pk, PostureCounts())) for pk in members}
    own = _metrics(own_counts) if own_counts is not None else values[structure.pk]
    specs = (
        ("score", _("Score de posture (sur 100)"), True, ""),
        ("critical_high", _("Vulnérabilités critiques ou élevées ouvertes"), False, ""),
        ("overdue", _("Vulnérabilités en retard"), False, ""),
        ("sla", _("Corrections faites dans les délais (90 jours)"), True, " %"),
    )
    metrics = []
    for key, metric_label, higher_is_better, unit in specs:
        group = spread(v[key] for v in values.values())
        metrics.append(
            PeerMetric(
                str(metric_label),
                own[key],
                group,
                position(own[key], group, higher_is_better=higher_is_better),
                unit,
                higher_is_better,
            )
        )
    return PeerComparison(label, len(members), metrics, as_of)


@dataclass(frozen=True)
class GroupFigures:
    """What the ARS sees of a group of structures."""

    label: str
    structures: int
    avg_critical_high: float
    sla_compliance: int | None
    share_without_critical: int
    avg_score: float


@dataclass(frozen=True)
class RegionalView:
    total: GroupFigures | None
    by_category: list[GroupFigures]
    by_departement: list[GroupFigures]
    trend: TrendData | None
    min_group: int = MIN_GROUP


def _figures(label: str, members: list[int], counts: dict[int, PostureCounts]) -> GroupFigures:
    rows = [counts.get(pk, PostureCounts()) for pk in members]
    n = len(rows)
    return GroupFigures(
        label=label,
        structures=n,
        avg_critical_high=round(sum(r.open_critical_high for r in rows) / n, 1),
        sla_compliance=sla_compliance(
            sum(r.closed_in_sla for r in rows), sum(r.closed_late for r in rows)
        ),
        share_without_critical=round(100 * sum(1 for r in rows if r.open_critical == 0) / n),
        avg_score=round(sum(r.score for r in rows) / n, 1),
    )


def regional_view(*, today: date) -> RegionalView:
    """Aggregates by category and by département; groups under ``MIN_GROUP`` merged."""
    structures = list(
        Structure.objects.visible_to(SYSTEM).values_list("pk", "category", "departement")
    )
    if len(structures) < MIN_GROUP:
        return RegionalView(None, [], [], None)
    counts, _cells = region_counts(today=today)
    others = _("Autres (petits groupes)")
    by_category: dict[str, list[int]] = defaultdict(list)
    by_departement: dict[str, list[int]] = defaultdict(list)
    for pk, category, departement in structures:
        by_category[CATEGORY_LABELS.get(category, category)].append(pk)
        by_departement[departement].append(pk)
    categories = merge_small_groups(sorted(by_category.items()), MIN_GROUP, others)
    departements = merge_small_groups(sorted(by_departement.items()), MIN_GROUP, others)
    return RegionalView(
        total=_figures(_("Toute la région"), [pk for pk, _c, _d in structures], counts),
        by_category=[_figures(label, members, counts) for label, members in categories],
        by_departement=[_figures(label, members, counts) for label, members in departements],
        trend=trend_data(SYSTEM, today=today),
    )

"""Anonymised figures: a structure's peer comparison and the ARS's regional aggregates.

Both read the whole region with the system actor — the viewer could not see the other
structures — and publish only what ``carbet.engines.disclosure`` allows: groups of at least
``MIN_GROUP`` (5) structures, the viewer's own structures left out of their comparison, bands
instead of exact quartiles and averages, small counts of structures kept secret, and no
breakdown that could be subtracted from another to isolate a structure. No structure's name,
FINESS number or finding leaves this module; the tests check the rendered pages, exports and
PDFs for it, and ``tests/test_aggregate_inversion.py`` tries to invert what is published.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, timedelta

from django.db.models import Max
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from carbet.core.models import Structure
from carbet.core.tenancy import SYSTEM
from carbet.engines import disclosure
from carbet.engines.disclosure import Band, PeerRange
from carbet.engines.posture import PostureCounts, merge_small_groups, sla_compliance
from carbet.findings.models import PostureSnapshot
from carbet.findings.posture.selectors import (
    CATEGORY_LABELS,
    TrendData,
    live_counts,
    region_counts,
    trend_data,
)

MIN_GROUP = disclosure.MIN_GROUP
MIN_PEERS = disclosure.MIN_PEERS
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
    group: PeerRange | None  # bands of the *other* structures' figures, never exact
    verdict: str | None  # "better", "usual", "worse"
    unit: str = ""
    higher_is_better: bool = True


@dataclass(frozen=True)
class PeerComparison:
    group_label: str
    size: int  # structures in the group, the viewer's included
    metrics: list[PeerMetric]
    as_of: date | None = None  # the snapshot the group's figures come from (None: live)
    peers: int = 0  # structures the bands come from (the group less the viewer's own)


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
    structure: Structure,
    *,
    today: date,
    own_counts: PostureCounts | None = None,
    viewer_structures: Collection[int] = (),
) -> PeerComparison | None:
    """The structure against comparable ones (same category and size, else same category).

    The bands come from the other structures of the group only: ``structure`` and every one in
    ``viewer_structures`` (all those the viewer covers) are left out, so what the viewer knows
    of their own figures cannot be subtracted from what is shown. Their figures come from the
    latest nightly snapshot (``as_of``); the structure's own are ``own_counts`` (live) when
    given. ``None`` when fewer than ``MIN_PEERS`` other structures are comparable (a group of
    fewer than ``MIN_GROUP``).
    """
    mine = {structure.pk, *viewer_structures}
    same_category = list(
        Structure.objects.visible_to(SYSTEM)
        .filter(category=structure.category)
        .values_list("pk", "beds", "places")
    )
    own_size = size_class(structure.beds, structure.places)
    same_size = [pk for pk, beds, places in same_category if size_class(beds, places) == own_size]
    all_sizes = [pk for pk, _beds, _places in same_category]
    category = CATEGORY_LABELS.get(structure.category, structure.category)
    if len(set(same_size) - mine) >= MIN_PEERS:
        members = same_size
        label = _("%(category)s de taille %(size)s") % {
            "category": category,
            "size": SIZE_LABELS[own_size],
        }
    elif len(set(all_sizes) - mine) >= MIN_PEERS:
        members = all_sizes
        label = _("%(category)s, toutes tailles") % {"category": category}
    else:
        return None
    others = [pk for pk in members if pk not in mine]
    counts, as_of = _group_counts(others, today)
    values = [_metrics(counts.get(pk, PostureCounts())) for pk in others]
    own = (
        _metrics(own_counts)
        if own_counts is not None
        else _metrics(_group_counts([structure.pk], today)[0].get(structure.pk, PostureCounts()))
    )
    specs = (
        ("score", _("Score de posture (sur 100)"), True, "", disclosure.PERCENT_BANDS),
        (
            "critical_high",
            _("Vulnérabilités critiques ou élevées ouvertes"),
            False,
            "",
            disclosure.COUNT_BANDS,
        ),
        ("overdue", _("Vulnérabilités en retard"), False, "", disclosure.COUNT_BANDS),
        (
            "sla",
            _("Corrections faites dans les délais (90 jours)"),
            True,
            " %",
            disclosure.PERCENT_BANDS,
        ),
    )
    metrics = []
    for key, metric_label, higher_is_better, unit, bands in specs:
        group = disclosure.peer_range((v[key] for v in values), bands)
        metrics.append(
            PeerMetric(
                str(metric_label),
                own[key],
                group,
                disclosure.peer_position(own[key], group, higher_is_better=higher_is_better),
                unit,
                higher_is_better,
            )
        )
    return PeerComparison(label, len(members), metrics, as_of, len(others))


@dataclass(frozen=True)
class GroupFigures:
    """What the ARS sees of a group of at least ``MIN_GROUP`` structures: bands, and a share
    only when both sides of it hold five structures or more (``None``: secret)."""

    label: str
    structures: int
    avg_critical_high: Band | None
    sla_compliance: Band | None
    share_without_critical: int | None
    avg_score: Band | None


@dataclass(frozen=True)
class RegionalView:
    total: GroupFigures | None
    by_category: list[GroupFigures]
    by_departement: list[GroupFigures]
    trend: TrendData | None
    min_group: int = MIN_GROUP
    departement_withheld: bool = False  # crossed with the categories, it would isolate someone


def _figures(label: str, members: list[int], counts: dict[int, PostureCounts]) -> GroupFigures:
    rows = [counts.get(pk, PostureCounts()) for pk in members]
    n = len(rows)
    fixed_in_sla = sum(r.closed_in_sla for r in rows)
    fixed_late = sum(r.closed_late for r in rows)
    fixers = sum(1 for r in rows if r.closed_in_sla + r.closed_late)
    compliance = sla_compliance(fixed_in_sla, fixed_late)
    without = sum(1 for r in rows if r.open_critical == 0)
    share = disclosure.protect_share(without, n)
    return GroupFigures(
        label=label,
        structures=n,
        avg_critical_high=disclosure.banded_mean([r.open_critical_high for r in rows]),
        # A ratio pooled over fewer than five structures that fixed something is theirs.
        sla_compliance=(
            disclosure.band_of(compliance, disclosure.PERCENT_BANDS)
            if compliance is not None and fixers >= MIN_GROUP
            else None
        ),
        share_without_critical=None if share is None else round(100 * share),
        avg_score=disclosure.banded_mean([r.score for r in rows], disclosure.PERCENT_BANDS),
    )


def regional_view(*, today: date) -> RegionalView:
    """Aggregates by category and by département (``carbet.engines.disclosure`` rules).

    Groups under ``MIN_GROUP`` are merged; the département breakdown is withheld when its
    groups, subtracted from the categories' and the region's, would isolate fewer than
    ``MIN_GROUP`` structures; the trend follows the structures present on every day shown.
    """
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
    everyone = [pk for pk, _c, _d in structures]
    _ok_categories, ok_departements = disclosure.safe_breakdowns(
        everyone, [[m for _l, m in categories], [m for _l, m in departements]]
    )
    trend = trend_data(SYSTEM, today=today, stable_cohort=True)
    return RegionalView(
        total=_figures(_("Toute la région"), everyone, counts),
        by_category=[_figures(label, members, counts) for label, members in categories],
        by_departement=(
            [_figures(label, members, counts) for label, members in departements]
            if ok_departements
            else []
        ),
        trend=trend if trend.days else None,
        departement_withheld=not ok_departements,
    )

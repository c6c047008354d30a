"""Regional aggregates: counts by category and département, never one structure's detail.

This is what the ARS role sees; it is computed over the whole region by the system actor and
only ever returns groups of at least five structures, with the rules of
``carbet.engines.disclosure`` (secret small counts, no breakdown that isolates anyone).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _

from carbet.core.choices import Category, sector_of
from carbet.core.models import Mandate, Structure
from carbet.core.tenancy import SYSTEM
from carbet.engines import disclosure
from carbet.engines.posture import merge_small_groups

# Groups smaller than this are merged so one structure cannot be singled out; counts of
# structures under it are secret (``carbet.engines.disclosure``).
MIN_GROUP_SIZE = disclosure.MIN_GROUP


@dataclass(frozen=True)
class AggregateRow:
    label: str
    structures: int
    with_valid_mandate: int | None  # None: secret (fewer than five on one side)
    assets: int  # rounded to ten: a newcomer's own number stays unknown

    @property
    def mandate_share(self) -> int | None:
        if self.with_valid_mandate is None or not self.structures:
            return None
        return round(100 * self.with_valid_mandate / self.structures)


def _per_structure() -> list[tuple[int, str, str, bool, int]]:
    """(id, category, département, has a valid mandate, declared assets) for the region."""
    today = timezone.localdate()
    mandated = set(
        Mandate.objects.visible_to(SYSTEM)
        .filter(status="active", valid_from__lte=today, valid_until__gte=today)
        .values_list("structure_id", flat=True)
    )
    rows = (
        Structure.objects.visible_to(SYSTEM)
        .annotate(n_assets=Count("assets", distinct=True))
        .values_list("pk", "category", "departement", "n_assets")
    )
    return [(pk, cat, dep, pk in mandated, n) for pk, cat, dep, n in rows]


def _groups(field: int, labels: dict[str, str], data) -> list[tuple[str, list[int]]]:
    grouped: dict[str, list[int]] = defaultdict(list)
    for row in data:
        grouped[labels.get(row[field], row[field])].append(row[0])
    return merge_small_groups(
        sorted(grouped.items()), MIN_GROUP_SIZE, str(_("Autres (petits groupes)"))
    )


def _row(label: str, members: list[int], by_id: dict) -> AggregateRow:
    n = len(members)
    yes = sum(1 for pk in members if by_id[pk][3])
    share = disclosure.protect_share(yes, n)
    assets = sum(by_id[pk][4] for pk in members)
    return AggregateRow(
        label, n, yes if share is not None else None, disclosure.rounded_total(assets)
    )


def _breakdowns() -> tuple[list[AggregateRow], list[AggregateRow]]:
    data = _per_structure()
    if len(data) < MIN_GROUP_SIZE:
        return [], []
    by_id = {row[0]: row for row in data}
    categories = _groups(1, {c.value: str(c.label) for c in Category}, data)
    departements = _groups(2, {}, data)
    _ok, departements_ok = disclosure.safe_breakdowns(
        list(by_id), [[m for _l, m in categories], [m for _l, m in departements]]
    )
    return (
        [_row(label, members, by_id) for label, members in categories],
        [_row(label, members, by_id) for label, members in departements] if departements_ok else [],
    )


def by_category() -> list[AggregateRow]:
    return _breakdowns()[0]


def by_departement() -> list[AggregateRow]:
    """Empty when, crossed with the categories, it would isolate fewer than five structures."""
    return _breakdowns()[1]


def sector_totals() -> dict[str, int]:
    totals: dict[str, int] = {}
    for row in Structure.objects.visible_to(SYSTEM).values("category").annotate(n=Count("id")):
        sector = str(sector_of(row["category"]).label)
        totals[sector] = totals.get(sector, 0) + row["n"]
    return totals

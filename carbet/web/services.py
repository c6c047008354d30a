"""Regional aggregates: counts by category and département, never one structure's detail.

This is what the ARS role sees; it is computed over the whole region by the system actor and
only ever returns groups, so no structure's own data can leak through it.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from carbet.core.choices import Category, sector_of
from carbet.core.models import Mandate, Structure
from carbet.core.tenancy import SYSTEM

# Groups smaller than this are merged into "autres" so one structure cannot be singled out.
MIN_GROUP_SIZE = 3


@dataclass(frozen=True)
class AggregateRow:
    label: str
    structures: int
    with_valid_mandate: int
    assets: int

    @property
    def mandate_share(self) -> int:
        return round(100 * self.with_valid_mandate / self.structures) if self.structures else 0


def _rows(field: str, labels: dict[str, str]) -> list[AggregateRow]:
    today = timezone.localdate()
    valid_mandates = Mandate.objects.visible_to(SYSTEM).filter(
        status="active", valid_from__lte=today, valid_until__gte=today
    )
    grouped = (
        Structure.objects.visible_to(SYSTEM)
        .values(field)
        .annotate(
            n=Count("id", distinct=True),
            mandated=Count(
                "id", filter=Q(id__in=valid_mandates.values("structure_id")), distinct=True
            ),
            assets=Count("assets", distinct=True),
        )
        .order_by(field)
    )
    rows, small = [], AggregateRow(str(_("Autres (petits groupes)")), 0, 0, 0)
    for group in grouped:
        row = AggregateRow(
            labels.get(group[field], group[field]), group["n"], group["mandated"], group["assets"]
        )
        if row.structures < MIN_GROUP_SIZE:
            small = AggregateRow(
                small.label,
                small.structures + row.structures,
                small.with_valid_mandate + row.with_valid_mandate,
                small.assets + row.assets,
            )
        else:
            rows.append(row)
    if small.structures:
        rows.append(small)
    return rows


def by_category() -> list[AggregateRow]:
    return _rows("category", {c.value: str(c.label) for c in Category})


def by_departement() -> list[AggregateRow]:
    return _rows("departement", {})


def sector_totals() -> dict[str, int]:
    totals: dict[str, int] = {}
    for row in Structure.objects.visible_to(SYSTEM).values("category").annotate(n=Count("id")):
        sector = str(sector_of(row["category"]).label)
        totals[sector] = totals.get(sector, 0) + row["n"]
    return totals

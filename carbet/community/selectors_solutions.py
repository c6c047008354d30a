"""Reads of shared solutions: which offers a person sees (eligibility), the demand per offer
by category and size, and the needs no offer covers, grouped for the centre.

Eligibility. A structure sees an offer while it is open and its targeting
(``carbet.community.targeting``: categories, départements, GHT, sizes, products or structures
named one by one) includes the structure; it keeps seeing an offer it answered after the offer
closes. Drafts are the centre's. The centre sees every offer.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from carbet.community.choices import InterestKind, NeedCategory, OfferStatus
from carbet.community.models import Need, Offer, OfferInterest
from carbet.community.service import CommunityPerm
from carbet.community.targeting import size_of, structures_targeted
from carbet.core.choices import Category
from carbet.core.models import Structure
from carbet.core.tenancy import Actor, grants

SIZE_LABELS = {
    "small": gettext_lazy("petite"),
    "medium": gettext_lazy("moyenne"),
    "large": gettext_lazy("grande"),
}


def sees_everything(actor: Actor) -> bool:
    return grants(actor, CommunityPerm.VIEW).everything


def member_structures(actor: Actor, perm: Any = CommunityPerm.VIEW) -> QuerySet[Structure]:
    if grants(actor, perm).everything:
        return Structure.objects.none()
    return Structure.objects.visible_to(actor, perm).order_by("name")


def offers_shown_to(actor: Actor) -> QuerySet[Offer]:
    """THE eligibility rule (see the module's docstring)."""
    if sees_everything(actor):
        return Offer.objects.all()
    mine = list(member_structures(actor).values_list("pk", flat=True))
    if not mine:
        return Offer.objects.none()
    shown = set(
        OfferInterest.objects.filter(structure__in=mine)
        .exclude(offer__status=OfferStatus.DRAFT)
        .values_list("offer_id", flat=True)
    )
    for offer in Offer.objects.filter(status=OfferStatus.OPEN):
        if structures_targeted(offer).filter(pk__in=mine).exists():
            shown.add(offer.pk)
    return Offer.objects.filter(pk__in=shown)


def accepting(offer: Offer, today: date | None = None) -> bool:
    """Whether structures may still answer ``offer``."""
    today = today or timezone.localdate()
    return offer.status == OfferStatus.OPEN and not (offer.closes_on and offer.closes_on < today)


def answering_structures(actor: Actor, offer: Offer) -> QuerySet[Structure]:
    """The structures ``actor`` may declare interest for: theirs, with the right, eligible."""
    mine = member_structures(actor, CommunityPerm.INTEREST)
    return structures_targeted(offer).filter(pk__in=mine.values("pk"))


def interests_shown_to(actor: Actor, offer: Offer | None = None) -> QuerySet[OfferInterest]:
    """A structure's people see their structures' answers; the centre every answer."""
    rows = OfferInterest.objects.visible_to(actor, CommunityPerm.VIEW).select_related(
        "structure", "offer"
    )
    if offer is not None:
        rows = rows.filter(offer=offer)
    return rows.order_by("structure__name")


def needs_shown_to(actor: Actor) -> QuerySet[Need]:
    return (
        Need.objects.visible_to(actor, CommunityPerm.VIEW)
        .select_related("structure")
        .order_by("-created_at")
    )


# --- The centre's view of the demand ----------------------------------------------------------


def size_key(structure: Structure) -> str:
    return size_of(structure.beds + structure.places)


@dataclass
class DemandRow:
    category: str
    category_label: str
    size: str
    size_label: str
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(InterestKind.values, 0))
    quantities: dict[str, int] = field(
        default_factory=lambda: dict.fromkeys(InterestKind.values, 0)
    )

    @property
    def structures(self) -> int:
        return sum(self.counts.values())

    @property
    def quantity(self) -> int:
        return sum(self.quantities.values())


@dataclass
class Demand:
    rows: list[DemandRow]
    totals: DemandRow


def demand(offer: Offer) -> Demand:
    """Answers to ``offer`` by structure category and size: structures and quantities for each
    kind of answer (interested, in need, joined). For the centre only (the view checks)."""
    groups: dict[tuple[str, str], DemandRow] = {}
    labels = dict(Category.choices)
    totals = DemandRow("", _("Total"), "", "")
    for interest in OfferInterest.objects.filter(offer=offer).select_related("structure"):
        structure = interest.structure
        key = (structure.category, size_key(structure))
        row = groups.get(key)
        if row is None:
            row = DemandRow(
                key[0], str(labels.get(key[0], key[0])), key[1], str(SIZE_LABELS[key[1]])
            )
            groups[key] = row
        for target in (row, totals):
            target.counts[interest.kind] += 1
            target.quantities[interest.kind] += interest.quantity
    rows = sorted(
        groups.values(), key=lambda r: (r.category_label, list(SIZE_LABELS).index(r.size))
    )
    return Demand(rows, totals)


def demand_csv(offer: Offer) -> str:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";")
    kinds = dict(InterestKind.choices)
    header = [_("Catégorie"), _("Taille")]
    for code in InterestKind.values:
        header += [
            _("%(kind)s (structures)") % {"kind": kinds[code]},
            _("%(kind)s (quantité)") % {"kind": kinds[code]},
        ]
    writer.writerow(header)
    result = demand(offer)
    for row in [*result.rows, result.totals]:
        line: list[Any] = [row.category_label, row.size_label]
        for code in InterestKind.values:
            line += [row.counts[code], row.quantities[code]]
        writer.writerow(line)
    return out.getvalue()


@dataclass
class NeedGroup:
    domain: str
    domain_label: str
    category_label: str
    size_label: str
    needs: int
    structures: int


def needs_summary() -> list[NeedGroup]:
    """Needs no offer covers, by domain, structure category and size (for the centre)."""
    counts: dict[tuple[str, str, str], list[int]] = defaultdict(list)
    for need in Need.objects.select_related("structure"):
        s = need.structure
        counts[(need.category, s.category, size_key(s))].append(s.pk)
    domains, categories = dict(NeedCategory.choices), dict(Category.choices)
    groups = [
        NeedGroup(
            domain,
            str(domains.get(domain, domain)),
            str(categories.get(category, category)),
            str(SIZE_LABELS[size]),
            len(ids),
            len(set(ids)),
        )
        for (domain, category, size), ids in counts.items()
    ]
    return sorted(groups, key=lambda g: (-g.structures, g.domain_label, g.category_label))


def needs_csv() -> str:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";")
    writer.writerow([_("Domaine"), _("Catégorie"), _("Taille"), _("Besoins"), _("Structures")])
    for g in needs_summary():
        writer.writerow([g.domain_label, g.category_label, g.size_label, g.needs, g.structures])
    return out.getvalue()


def offers_overview() -> list[dict[str, Any]]:
    """Each offer with its number of answers per kind, for the centre's list."""
    counts: dict[int, dict[str, int]] = defaultdict(lambda: dict.fromkeys(InterestKind.values, 0))
    for offer_id, kind in OfferInterest.objects.values_list("offer_id", "kind"):
        counts[offer_id][kind] += 1
    return [{"offer": o, "counts": counts[o.pk]} for o in Offer.objects.order_by("status", "title")]

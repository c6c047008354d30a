"""Reading bulletins: what each person may see, and the centre's follow-up figures.

A structure's people reach a bulletin only through a delivery row of a structure they may see
(``BulletinDelivery.objects.visible_to``); anything else is a 404. The centre (region-wide
``CommunityPerm.VIEW``) sees every bulletin, drafts included.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Case, IntegerField, QuerySet, Value, When
from django.http import Http404

from carbet.community.choices import Acknowledgement, BulletinStatus, Severity
from carbet.community.models import Bulletin, BulletinDelivery
from carbet.community.service import CommunityPerm
from carbet.community.targeting import structures_targeted
from carbet.core.choices import Category
from carbet.core.models import Ght, Structure
from carbet.core.tenancy import Actor, grants

SEVERITY_RANK = {
    Severity.CRITICAL: 0,
    Severity.HIGH: 1,
    Severity.MEDIUM: 2,
    Severity.LOW: 3,
    Severity.INFO: 4,
}
ACK_ORDER = (
    Acknowledgement.UNREAD,
    Acknowledgement.READ,
    Acknowledgement.APPLIED,
    Acknowledgement.NOT_CONCERNED,
)


def sees_region(actor: Actor) -> bool:
    """Whether ``actor`` reads bulletins for the whole region (the centre)."""
    return grants(actor, CommunityPerm.VIEW).everything


def _severity_rank(prefix: str = "") -> Case:
    return Case(
        *(When(**{f"{prefix}severity": s}, then=Value(r)) for s, r in SEVERITY_RANK.items()),
        default=Value(9),
        output_field=IntegerField(),
    )


def deliveries_for(actor: Actor, structure_id: int | None = None) -> QuerySet[BulletinDelivery]:
    """The deliveries ``actor`` may see (published or withdrawn bulletins): unread first, then
    critical first, then the newest."""
    rows = (
        BulletinDelivery.objects.visible_to(actor, CommunityPerm.VIEW)
        .filter(bulletin__status__in=[BulletinStatus.PUBLISHED, BulletinStatus.WITHDRAWN])
        .select_related("bulletin", "structure")
    )
    if structure_id is not None:
        rows = rows.filter(structure_id=structure_id)
    return rows.annotate(
        _unread=Case(
            When(
                status=Acknowledgement.UNREAD,
                bulletin__status=BulletinStatus.PUBLISHED,
                then=Value(0),
            ),
            default=Value(1),
            output_field=IntegerField(),
        ),
        _withdrawn=Case(
            When(bulletin__status=BulletinStatus.WITHDRAWN, then=Value(1)),
            default=Value(0),
            output_field=IntegerField(),
        ),
        _rank=_severity_rank("bulletin__"),
    ).order_by("_withdrawn", "_unread", "_rank", "-bulletin__published_at", "structure__name")


def region_bulletins() -> QuerySet[Bulletin]:
    """Every bulletin, for the centre: drafts first, then critical first, then newest."""
    return Bulletin.objects.annotate(
        _draft=Case(
            When(status=BulletinStatus.DRAFT, then=Value(0)),
            default=Value(1),
            output_field=IntegerField(),
        ),
        _rank=_severity_rank(),
    ).order_by("_draft", "-published_at", "_rank", "-created_at")


def bulletin_for(actor: Actor, pk: int) -> tuple[Bulletin, list[BulletinDelivery]]:
    """The bulletin ``pk`` and the deliveries of it that ``actor`` may see; 404 when a
    structure's person has no delivery of it (or it is a draft)."""
    if sees_region(actor):
        try:
            bulletin = Bulletin.objects.get(pk=pk)
        except Bulletin.DoesNotExist:
            raise Http404 from None
        return bulletin, []
    deliveries = list(
        deliveries_for(actor).filter(bulletin_id=pk).select_related("structure__organisation")
    )
    if not deliveries:
        raise Http404
    return deliveries[0].bulletin, deliveries


def region_bulletin(pk: int) -> Bulletin:
    """A bulletin for the centre's pages (callers have checked the centre's right)."""
    try:
        return Bulletin.objects.get(pk=pk)
    except Bulletin.DoesNotExist:
        raise Http404 from None


def unread_count(actor: Actor) -> int:
    return (
        BulletinDelivery.objects.visible_to(actor, CommunityPerm.VIEW)
        .filter(bulletin__status=BulletinStatus.PUBLISHED, status=Acknowledgement.UNREAD)
        .count()
    )


# --- The centre's follow-up ------------------------------------------------------------------


@dataclass
class Rates:
    label: str
    total: int = 0
    counts: Counter[str] = field(default_factory=Counter)

    def share(self, status: str) -> int:
        return round(100 * self.counts[status] / self.total) if self.total else 0

    @property
    def acknowledged(self) -> int:
        """Structures that answered beyond "read" (applied or not concerned)."""
        return self.counts[Acknowledgement.APPLIED] + self.counts[Acknowledgement.NOT_CONCERNED]

    def cells(self) -> list[dict[str, Any]]:
        return [{"status": s, "count": self.counts[s], "share": self.share(s)} for s in ACK_ORDER]

    def as_dict(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "structures": self.total,
            **{str(s): self.counts[s] for s in ACK_ORDER},
        }


@dataclass
class FollowUp:
    bulletin: Bulletin
    overall: Rates
    by_category: list[Rates]
    by_departement: list[Rates]
    pending: list[BulletinDelivery]


def _group(rows: list[BulletinDelivery], key: Any, labels: dict[str, str]) -> list[Rates]:
    groups: dict[str, Rates] = {}
    for row in rows:
        value = key(row)
        rates = groups.setdefault(value, Rates(str(labels.get(value, value))))
        rates.total += 1
        rates.counts[row.status] += 1
    return sorted(groups.values(), key=lambda r: r.label)


def follow_up(actor: Actor, bulletin: Bulletin) -> FollowUp:
    """Acknowledgement rates of ``bulletin`` overall, by category and by département, and the
    structures that have not answered beyond "read" (callers check ``CommunityPerm.REGION``)."""
    rows = list(
        BulletinDelivery.objects.visible_to(actor, CommunityPerm.REGION)
        .filter(bulletin=bulletin)
        .select_related("structure")
        .order_by("structure__name")
    )
    overall = Rates("", total=len(rows), counts=Counter(r.status for r in rows))
    categories = dict(Category.choices)
    return FollowUp(
        bulletin=bulletin,
        overall=overall,
        by_category=_group(rows, lambda r: r.structure.category, categories),
        by_departement=_group(rows, lambda r: r.structure.departement, {}),
        pending=[r for r in rows if r.status in (Acknowledgement.UNREAD, Acknowledgement.READ)],
    )


def delivery_rows(actor: Actor, bulletin: Bulletin) -> QuerySet[BulletinDelivery]:
    """Every delivery of ``bulletin`` (the CSV export of the follow-up)."""
    return (
        BulletinDelivery.objects.visible_to(actor, CommunityPerm.REGION)
        .filter(bulletin=bulletin)
        .select_related("structure", "acknowledged_by")
        .order_by("structure__departement", "structure__name")
    )


# --- Choices of the targeting form -----------------------------------------------------------


def departement_choices() -> list[tuple[str, str]]:
    values = Structure.objects.order_by("departement").values_list("departement", flat=True)
    return [(d, d) for d in dict.fromkeys(values)]


def ght_choices() -> list[tuple[str, str]]:
    return [(str(pk), name) for pk, name in Ght.objects.order_by("name").values_list("pk", "name")]


def structure_choices() -> list[tuple[str, str]]:
    return [
        (str(pk), f"{name} ({departement})")
        for pk, name, departement in Structure.objects.order_by("name").values_list(
            "pk", "name", "departement"
        )
    ]


def targeted_count(bulletin: Bulletin) -> int:
    return structures_targeted(bulletin).count()


def targeted_names(bulletin: Bulletin, limit: int = 50) -> list[str]:
    return list(structures_targeted(bulletin).values_list("name", flat=True)[:limit])

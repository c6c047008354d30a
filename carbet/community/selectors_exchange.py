"""Reads of the exchange with peers: what may be exported, the imported events and the CVEs of
an event the region already tracks. The centre only (``CommunityPerm.EXCHANGE``): each reader
checks the right first, so a structure's person gets a 403 whatever the route."""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence

from django.conf import settings
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from carbet.community.choices import BulletinStatus, Tlp
from carbet.community.models import (
    Bulletin,
    FeedImport,
    SharedEvent,
    StructureAlert,
    Vulnerability,
)
from carbet.community.service import CommunityPerm
from carbet.core.access import require_centre
from carbet.core.tenancy import SYSTEM, Actor

_CPE = re.compile(r"^cpe:2\.3:([aoh]):([a-z0-9_.\-~!%]+):([a-z0-9_.\-~!%]+):")


def organisation_name() -> str:
    """Who signs the exports (STIX identity, MISP organisation): the region's centre."""
    return f"Carbet {settings.CARBET_REGION_NAME}"[:200]


def exportable_bulletins(actor: Actor) -> QuerySet[Bulletin]:
    """Published bulletins that may leave Carbet: every TLP but RED."""
    require_centre(actor, CommunityPerm.EXCHANGE)
    return (
        Bulletin.objects.filter(status=BulletinStatus.PUBLISHED, published_at__isnull=False)
        .exclude(tlp=Tlp.RED)
        .order_by("-published_at", "pk")
    )


def red_bulletins(actor: Actor) -> int:
    """How many published bulletins are TLP:RED, hence never exported (said on the page)."""
    require_centre(actor, CommunityPerm.EXCHANGE)
    return Bulletin.objects.filter(status=BulletinStatus.PUBLISHED, tlp=Tlp.RED).count()


def bulletins_for_export(
    actor: Actor,
    *,
    ids: Sequence[int] = (),
    since: dt.date | None = None,
    until: dt.date | None = None,
) -> QuerySet[Bulletin]:
    """The bulletins chosen one by one, else those published between the dates (bounds
    included, either may be open)."""
    rows = exportable_bulletins(actor)
    if ids:
        return rows.filter(pk__in=list(ids)).order_by("published_at", "pk")
    if since:
        rows = rows.filter(published_at__date__gte=since)
    if until:
        rows = rows.filter(published_at__date__lte=until)
    return rows.order_by("published_at", "pk")


def vulnerabilities_for_export(
    actor: Actor, *, since: dt.date | None = None, until: dt.date | None = None
) -> QuerySet[Vulnerability]:
    """The vulnerabilities matched in the region, first matched between the dates."""
    require_centre(actor, CommunityPerm.EXCHANGE)
    rows = Vulnerability.objects.all()
    if since:
        rows = rows.filter(first_matched_at__date__gte=since)
    if until:
        rows = rows.filter(first_matched_at__date__lte=until)
    return rows.order_by("first_matched_at", "vuln_id")


def product_of(cpe: str) -> str | None:
    """A CPE cut to its part, vendor and product (no version, nothing of the line), or None
    when the name is not a plain CPE 2.3 (then nothing of it leaves)."""
    match = _CPE.match(cpe or "")
    if not match:
        return None
    part, vendor, product = match.groups()
    return f"cpe:2.3:{part}:{vendor}:{product}:*:*:*:*:*:*:*:*"


def products_of(vulnerabilities: Iterable[Vulnerability]) -> dict[int, list[str]]:
    """For each vulnerability, the products it matched in the region as vendor/product CPE
    names, merged across structures: nothing says which structure, which host or version."""
    ids = [v.pk for v in vulnerabilities]
    found: dict[int, set[str]] = defaultdict(set)
    if not ids:
        return {}
    rows = (
        StructureAlert.objects.visible_to(SYSTEM, CommunityPerm.REGION)
        .filter(vulnerability_id__in=ids)
        .exclude(lines__cpe="")
        .exclude(lines__cpe__isnull=True)
        .values_list("vulnerability_id", "lines__cpe")
        .distinct()
    )
    for vulnerability_id, cpe in rows.iterator(chunk_size=2000):
        product = product_of(cpe)
        if product:
            found[vulnerability_id].add(product)
    return {key: sorted(value) for key, value in found.items()}


def recent_imports(actor: Actor, limit: int = 10) -> QuerySet[FeedImport]:
    require_centre(actor, CommunityPerm.EXCHANGE)
    return FeedImport.objects.select_related("imported_by").order_by("-imported_at")[:limit]


def shared_events(actor: Actor) -> QuerySet[SharedEvent]:
    """The events received from peers: the centre only (their TLP binds the centre)."""
    require_centre(actor, CommunityPerm.EXCHANGE)
    return SharedEvent.objects.select_related("feed").order_by("-date", "info", "pk")


def shared_event(actor: Actor, pk: int) -> SharedEvent:
    """One received event (403 for anyone but the centre, 404 when it does not exist)."""
    return get_object_or_404(shared_events(actor), pk=pk)


def tracked(actor: Actor, cves: Iterable[str]) -> QuerySet[Vulnerability]:
    """The vulnerabilities already tracked in the region among ``cves``: a pointer for the
    analyst reading a peer's event."""
    require_centre(actor, CommunityPerm.EXCHANGE)
    wanted = sorted({str(c).upper() for c in cves})[:5000]
    return Vulnerability.objects.filter(vuln_id__in=wanted).order_by("vuln_id")


def tracked_by_event(actor: Actor, events: Sequence[SharedEvent]) -> dict[int, list[str]]:
    """For each event of a page, the ids of its CVEs the region tracks (one query)."""
    every = {str(c).upper() for event in events for c in event.cves}
    known = set(tracked(actor, every).values_list("vuln_id", flat=True))
    return {event.pk: sorted({str(c).upper() for c in event.cves} & known) for event in events}


__all__ = [
    "bulletins_for_export",
    "exportable_bulletins",
    "organisation_name",
    "product_of",
    "products_of",
    "recent_imports",
    "red_bulletins",
    "shared_event",
    "shared_events",
    "tracked",
    "tracked_by_event",
    "vulnerabilities_for_export",
]

"""Reading findings: the one filter the list page, the exports and the API share.

Everything starts from ``Finding.objects.visible_to(actor, perm)``, so a filter can only narrow
what the actor may see. Sorts always end with the primary key (stable pagination) and stay on
indexed columns, so the list remains fast with hundreds of thousands of rows.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from datetime import date
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from carbet.accounts.roles import Perm
from carbet.core.tenancy import Actor
from carbet.findings.choices import CLOSED_STATUSES, DECIDED_STATUSES, OPEN_STATUSES, Status
from carbet.findings.models import Finding

STATUS_GROUPS: dict[str, frozenset[str]] = {
    "open": OPEN_STATUSES,
    "decided": DECIDED_STATUSES,
    "closed": CLOSED_STATUSES,
}
GROUP_LABELS = {
    "open": _("Ouvertes (à traiter)"),
    "decided": _("Décidées (faux positif, doublon, hors périmètre, risque accepté)"),
    "closed": _("Corrigées"),
    "all": _("Toutes"),
}
SORTS: dict[str, tuple[tuple[str, ...], Any]] = {
    "severity": (("-severity", "sla_due", "-id"), _("Gravité")),
    "due": (("sla_due", "-severity", "id"), _("Échéance la plus proche")),
    "recent": (("-last_seen", "-id"), _("Vues récemment")),
    "new": (("-first_seen", "-id"), _("Détectées récemment")),
    "structure": (("structure__name", "-severity", "id"), _("Structure")),
}
CVE_LIKE = re.compile(r"^cve-\d{4}-\d+$", re.IGNORECASE)
LIST_FIELDS = (
    "id",
    "title",
    "severity",
    "status",
    "source",
    "cve",
    "rule",
    "kev",
    "internet_exposed",
    "sla_due",
    "first_seen",
    "last_seen",
    "structure__id",
    "structure__name",
    "structure__organisation_id",
    "asset__id",
    "asset__value",
    "correlation_key",
)


@dataclass
class FindingFilters:
    """What a list, an export or an API call asks for. Empty values do not filter."""

    q: str = ""
    structure: int | None = None
    severity: int | None = None
    status: str = "open"
    source: str = ""
    kev: bool | None = None
    exposed: bool | None = None
    overdue: bool = False
    asset: int | None = None
    sort: str = "severity"

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v not in (None, "", False)}


def status_values(status: str) -> frozenset[str] | None:
    """The statuses a ``status`` filter means (a group, one status, or ``None`` for all)."""
    if status in STATUS_GROUPS:
        return STATUS_GROUPS[status]
    if status in Status.values:
        return frozenset({status})
    return None


def older_open_in_group() -> Exists:
    """Whether an older open finding of the same structure has the same correlation key:
    such a finding is the group's primary (``carbet.findings.correlation``)."""
    return Exists(
        Finding.objects.filter(
            structure_id=OuterRef("structure_id"),
            correlation_key=OuterRef("correlation_key"),
            status__in=sorted(OPEN_STATUSES),
            id__lt=OuterRef("id"),
        )
    )


def counted_once(queryset: QuerySet) -> QuerySet:
    """``queryset`` less the open findings that another, older open finding of their group
    already stands for: what the lists and dashboards count (one weakness, one count)."""
    return queryset.filter(
        ~Q(status__in=sorted(OPEN_STATUSES))
        | Q(correlation_key__isnull=True)
        | ~older_open_in_group()
    )


def also_reported(findings: list[Finding]) -> dict[int, list[Finding]]:
    """Finding id → the other open findings of its group (one query for a page of rows).

    The group is read unscoped, but only within each finding's own structure: whoever may
    see a finding may see the structure's findings of the same weakness."""
    wanted = {(f.structure_id, f.correlation_key) for f in findings if f.correlation_key}
    if not wanted:
        return {}
    query = Q()
    for structure_id, key in wanted:
        query |= Q(structure_id=structure_id, correlation_key=key)
    members: dict[tuple[int, str], list[Finding]] = {}
    for row in (
        Finding.objects.filter(query, status__in=sorted(OPEN_STATUSES))
        .only("id", "structure_id", "correlation_key", "source", "title", "status", "last_seen")
        .order_by("id")
    ):
        members.setdefault((row.structure_id, row.correlation_key), []).append(row)
    return {
        f.pk: [m for m in members.get((f.structure_id, f.correlation_key), []) if m.pk != f.pk]
        for f in findings
        if f.correlation_key
    }


def filter_findings(queryset: QuerySet, filters: FindingFilters, today: date | None = None):
    """Apply ``filters`` to an already scoped queryset of findings.

    Without a source filter, an open weakness reported by several sources is listed once (its
    primary; the others are named on its row and page): asking for one source shows that
    source's own finding."""
    today = today or timezone.localdate()
    statuses = status_values(filters.status)
    if statuses is not None:
        queryset = queryset.filter(status__in=sorted(statuses))
    if not filters.source:
        queryset = counted_once(queryset)
    if filters.structure:
        queryset = queryset.filter(structure_id=filters.structure)
    if filters.severity is not None:
        queryset = queryset.filter(severity=filters.severity)
    if filters.source:
        queryset = queryset.filter(source=filters.source)
    if filters.kev is not None:
        queryset = queryset.filter(kev=filters.kev)
    if filters.exposed is not None:
        queryset = queryset.filter(internet_exposed=filters.exposed)
    if filters.overdue:
        queryset = queryset.filter(status__in=sorted(OPEN_STATUSES), sla_due__lt=today)
    if filters.asset:
        queryset = queryset.filter(asset_id=filters.asset)
    term = filters.q.strip()
    if term:
        if CVE_LIKE.match(term):
            queryset = queryset.filter(cve=term.upper())
        else:
            queryset = queryset.filter(
                Q(title__icontains=term) | Q(rule__icontains=term) | Q(cve__icontains=term)
            )
    order, _label = SORTS.get(filters.sort, SORTS["severity"])
    return queryset.order_by(*order)


def findings_for(
    actor: Actor,
    filters: FindingFilters,
    perm: Perm = Perm.FINDINGS_DETAIL,
    today: date | None = None,
) -> QuerySet:
    """The findings ``actor`` may see with ``perm``, filtered and sorted."""
    return filter_findings(Finding.objects.visible_to(actor, perm), filters, today)


def list_rows(queryset: QuerySet) -> QuerySet:
    """The same rows with just what a table shows (one query, no per-row lookups)."""
    return queryset.select_related("structure", "asset").only(*LIST_FIELDS)


def page_of(queryset: QuerySet, number: Any, size: int) -> Page:
    """One page of a sorted findings queryset, fetched in two narrow steps.

    Sorting tens of thousands of full rows (titles included) is what costs: the database
    sorts only the ids (and the sort keys), then the page's 50 rows are read by id.
    """
    page = Paginator(queryset.values_list("id", flat=True), size).get_page(number)
    ids = list(page.object_list)
    rows = {f.pk: f for f in list_rows(Finding.objects.filter(pk__in=ids))}
    page.object_list = [rows[pk] for pk in ids if pk in rows]
    others = also_reported(page.object_list)
    for row in page.object_list:
        row.also_reported = others.get(row.pk, [])
    return page

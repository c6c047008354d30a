"""Read side of the dashboards: the whole region's posture in a handful of aggregate queries.

Nothing here loops over structures with a query each: open findings are counted in one
``GROUP BY structure, source, severity`` (overdue counted in the same pass), fixes of the last
90 days in one more, and the comparison with 30 days ago comes from one day of nightly
snapshots. Trends come from snapshots only. Every query goes through ``visible_to(actor, perm)``
so the same functions serve centre staff (the region), a director (their structures) and the
system actor (jobs, anonymised peer and ARS figures, see ``peers`` and ``regional``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db.models import Count, Max, Min, Q, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from carbet.accounts.roles import Perm
from carbet.audit.models import AuditEntry
from carbet.core.choices import Category
from carbet.core.models import Structure
from carbet.core.tenancy import SYSTEM, Actor, grants
from carbet.engines import disclosure
from carbet.engines.posture import PostureCounts, trend
from carbet.findings.choices import OPEN_STATUSES, Severity, Status, source_choices
from carbet.findings.models import Finding, PostureSnapshot
from carbet.findings.selectors import counted_once

SLA_WINDOW_DAYS = 90
TREND_DAYS = 90
COMPARE_DAYS = 30
OPEN = sorted(OPEN_STATUSES)
CATEGORY_LABELS = {c.value: str(c.label) for c in Category}


def source_labels() -> dict[str, str]:
    """Code → label of every findings source, the services' included (read from the service
    registry when asked, not at import: the services register at start-up)."""
    return dict(source_choices())


@dataclass
class SourceCell:
    """Open findings of one structure from one source (one heatmap cell)."""

    open: int = 0
    critical_high: int = 0
    worst: int = -1
    by_severity: dict[int, int] = field(default_factory=dict)

    @property
    def level(self) -> int:
        """0 nothing open, 1 only low/info, 2 medium, 3 high, 4 critical."""
        return {-1: 0, 0: 1, 1: 1, 2: 2, 3: 3, 4: 4}[self.worst]


@dataclass
class PostureRow:
    """One structure's line of the posture table."""

    structure: Structure
    counts: PostureCounts
    by_source: dict[str, SourceCell] = field(default_factory=dict)
    score_before: int | None = None

    @property
    def score(self) -> int:
        return self.counts.score

    @property
    def trend(self) -> str | None:
        """``"up"`` when the score rose (better) since the comparison snapshot."""
        return trend(self.score, self.score_before)

    @property
    def category_label(self) -> str:
        return CATEGORY_LABELS.get(self.structure.category, self.structure.category)


def _structures(actor: Actor, perm: Perm, structure_ids: Iterable[int] | None):
    rows = Structure.objects.visible_to(actor, perm).only(
        "id", "name", "finess_et", "category", "departement", "beds", "places", "organisation_id"
    )
    if structure_ids is not None:
        rows = rows.filter(pk__in=list(structure_ids))
    return rows.order_by("name", "pk")


def _findings(actor: Actor, structure_ids: Iterable[int] | None):
    rows = Finding.objects.visible_to(actor, Perm.FINDINGS_DETAIL)
    if structure_ids is not None:
        rows = rows.filter(structure_id__in=list(structure_ids))
    return rows


class ClosedDay(TruncDate):
    """The day a finding was closed, comparable with its deadline inside the database.

    PostgreSQL converts to the local day natively. On SQLite, Django's date conversion calls
    Python for every row (half a second for 20,000 fixes); the stored UTC text's first ten
    characters are used instead, which is the UTC day — a fix made just after local midnight
    counts for the previous day, in the structure's favour.
    """

    def as_sqlite(self, compiler, connection, **extra_context):
        sql, params = compiler.compile(self.lhs)
        return f"substr({sql}, 1, 10)", params


def start_of(day: date) -> datetime:
    """Local midnight at the start of ``day`` (range filters on datetimes can use indexes)."""
    return timezone.make_aware(datetime.combine(day, time.min))


def live_counts(
    actor: Actor, *, today: date, structure_ids: Iterable[int] | None = None
) -> tuple[dict[int, PostureCounts], dict[int, dict[str, SourceCell]]]:
    """Current counts per structure and open findings per (structure, source): two queries."""
    ids = None if structure_ids is None else list(structure_ids)
    per_severity: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    cells: dict[int, dict[str, SourceCell]] = defaultdict(dict)
    # Grouping by status too follows the covering index (status, structure, source, severity,
    # sla_due) in order: SQLite aggregates as it reads, without sorting 300,000 entries.
    # A weakness several sources report is counted once (``findings.selectors.counted_once``).
    grouped = (
        counted_once(_findings(actor, ids))
        .filter(status__in=OPEN)
        .values("status", "structure_id", "source", "severity")
        .annotate(n=Count("*"), late=Count("structure_id", filter=Q(sla_due__lt=today)))
        .order_by()
    )
    keys = {
        Severity.CRITICAL: "open_critical",
        Severity.HIGH: "open_high",
        Severity.MEDIUM: "open_medium",
        Severity.LOW: "open_low",
    }
    for row in grouped:
        sid, severity, n = row["structure_id"], row["severity"], row["n"]
        numbers = per_severity[sid]
        if severity in keys:
            numbers[keys[severity]] += n
        numbers["overdue"] += row["late"]
        cell = cells[sid].setdefault(row["source"], SourceCell())
        cell.open += n
        cell.worst = max(cell.worst, severity)
        cell.by_severity[severity] = cell.by_severity.get(severity, 0) + n
        if severity >= Severity.HIGH:
            cell.critical_high += n
    since = start_of(today - timedelta(days=SLA_WINDOW_DAYS - 1))
    fixed = (
        _findings(actor, ids)
        .filter(status=Status.VERIFIED_CLOSED, closed_at__gte=since, sla_due__isnull=False)
        .values("structure_id")
        .annotate(
            in_sla=Count("structure_id", filter=Q(sla_due__gte=ClosedDay("closed_at"))),
            late=Count("structure_id", filter=Q(sla_due__lt=ClosedDay("closed_at"))),
        )
        .order_by()
    )
    for row in fixed:
        numbers = per_severity[row["structure_id"]]
        numbers["closed_in_sla"] = row["in_sla"]
        numbers["closed_late"] = row["late"]
    counts = {sid: PostureCounts(**numbers) for sid, numbers in per_severity.items()}
    return counts, dict(cells)


def _data_version() -> str | None:
    """Changes whenever anything is written to the audit trail — every change to findings is
    (ingest, status changes, acceptances...). The chained hash makes it unique even across
    databases; ``None`` (an empty trail) means "do not cache"."""
    last = AuditEntry.objects.order_by("-sequence").values_list("sequence", "entry_hash").first()
    return f"{last[0]}-{last[1][:24]}" if last else None


def _kept(name: str, today: date, compute: Callable[[], Any]) -> Any:
    """``compute()``, kept between requests until the next audited change (or the next day).

    Counting 300,000 open findings takes SQLite a good 150 ms on its own; the result only
    changes when findings do, and every such change is audited. So region-wide figures are
    cached (Django's cache, ``CARBET_DASHBOARD_CACHE_SECONDS``, 300 s by default, 0 to turn
    off) under the audit trail's head and the day (deadlines pass at midnight); the time
    limit covers a change someone forgot to audit.
    """
    version = _data_version()
    seconds = getattr(settings, "CARBET_DASHBOARD_CACHE_SECONDS", 300) if version else 0
    if not seconds:
        return compute()
    key = f"carbet:dashboards:{name}:{today.isoformat()}:{version}"
    found = cache.get(key)
    if found is None:
        found = compute()
        cache.set(key, found, seconds)
    return found


def region_counts(*, today: date) -> tuple[dict[int, PostureCounts], dict[int, dict]]:
    """Live counts of every structure of the region (``live_counts``), kept (``_kept``)."""
    return _kept("counts", today, lambda: live_counts(SYSTEM, today=today))


def region_recurring(*, today: date) -> list[Recurring]:
    """The region's most shared weaknesses (``top_recurring``), kept (``_kept``)."""
    return _kept("recurring", today, lambda: top_recurring(SYSTEM))


def comparison_day(actor: Actor, today: date, days: int = COMPARE_DAYS) -> date | None:
    """The latest snapshot day at least ``days`` before ``today`` (snapshots may skip days)."""
    return (
        PostureSnapshot.objects.visible_to(actor, Perm.FINDINGS_DETAIL)
        .filter(day__lte=today - timedelta(days=days), day__gte=today - timedelta(days=days * 2))
        .aggregate(day=Max("day"))["day"]
    )


def scores_on(
    actor: Actor, day: date | None, structure_ids: Iterable[int] | None = None
) -> dict[int, int]:
    """Posture score of each structure in the snapshots of ``day``."""
    if day is None:
        return {}
    rows = PostureSnapshot.objects.visible_to(actor, Perm.FINDINGS_DETAIL).filter(day=day)
    if structure_ids is not None:
        rows = rows.filter(structure_id__in=list(structure_ids))
    found = {}
    for sid, scores, *numbers in rows.values_list(
        "structure_id", "scores", "open_critical", "open_high", "open_medium", "open_low", "overdue"
    ):
        posture = (scores or {}).get("posture")
        if not isinstance(posture, int | float):
            critical, high, medium, low, overdue = numbers
            posture = PostureCounts(critical, high, medium, low, overdue).score
        found[sid] = int(posture)
    return found


def posture_rows(
    actor: Actor,
    *,
    today: date,
    perm: Perm = Perm.FINDINGS_DETAIL,
    structure_ids: Iterable[int] | None = None,
) -> list[PostureRow]:
    """The posture table: one row per visible structure, including those with no finding."""
    structures = list(_structures(actor, perm, structure_ids))
    ids = [s.pk for s in structures] if structure_ids is not None else None
    if ids is None and grants(actor, Perm.FINDINGS_DETAIL).everything:
        counts, cells = region_counts(today=today)
    else:
        counts, cells = live_counts(actor, today=today, structure_ids=ids)
    before = scores_on(actor, comparison_day(actor, today), ids)
    return [
        PostureRow(
            structure=s,
            counts=counts.get(s.pk, PostureCounts()),
            by_source=cells.get(s.pk, {}),
            score_before=before.get(s.pk),
        )
        for s in structures
    ]


def sources_in(rows: list[PostureRow]) -> list[tuple[str, str]]:
    """The sources (heatmap columns) that have at least one open finding, in a stable order."""
    present = {source for row in rows for source in row.by_source}
    return [(code, str(label)) for code, label in source_choices() if code in present]


@dataclass(frozen=True)
class TrendData:
    days: list[date]
    open_critical: list[int | None]
    open_high: list[int | None]
    overdue: list[int | None]
    structures: list[int | None]


def trend_data(
    actor: Actor,
    *,
    today: date,
    days: int = TREND_DAYS,
    structure_ids: Iterable[int] | None = None,
    stable_cohort: bool = False,
) -> TrendData:
    """Daily sums of the snapshots over ``days`` (one query; two with ``stable_cohort``).

    ``stable_cohort`` (the ARS's anonymous trend) keeps only the structures that have a
    snapshot on every day shown, and nothing under ``disclosure.MIN_GROUP`` of them: a
    structure joining or leaving would otherwise be the difference between two days.
    """
    rows = PostureSnapshot.objects.visible_to(actor, Perm.FINDINGS_DETAIL).filter(
        day__gt=today - timedelta(days=days), day__lte=today
    )
    if structure_ids is not None:
        rows = rows.filter(structure_id__in=list(structure_ids))
    if stable_cohort:
        span_days = rows.values("day").distinct().count()
        cohort = list(
            rows.values("structure_id")
            .annotate(n=Count("day", distinct=True))
            .filter(n=span_days)
            .values_list("structure_id", flat=True)
        )
        if len(cohort) < disclosure.MIN_GROUP:
            return TrendData([], [], [], [], [])
        rows = rows.filter(structure_id__in=cohort)
    by_day = {
        row["day"]: row
        for row in rows.values("day")
        .annotate(c=Sum("open_critical"), h=Sum("open_high"), o=Sum("overdue"), n=Count("*"))
        .order_by("day")
    }
    # Only the days that have a snapshot: a night without one (server off) is skipped, not
    # drawn as a gap.
    span = sorted(by_day)
    return TrendData(
        days=span,
        open_critical=[by_day[d]["c"] if d in by_day else None for d in span],
        open_high=[by_day[d]["h"] if d in by_day else None for d in span],
        overdue=[by_day[d]["o"] if d in by_day else None for d in span],
        structures=[by_day[d]["n"] if d in by_day else None for d in span],
    )


def structure_score_trend(
    actor: Actor, structure: Structure, *, today: date, days: int = TREND_DAYS
) -> tuple[list[date], list[int | None]]:
    """One structure's posture score per day from its snapshots (at most ``days`` rows)."""
    rows = (
        PostureSnapshot.objects.visible_to(actor, Perm.FINDINGS_DETAIL)
        .filter(structure=structure, day__gt=today - timedelta(days=days), day__lte=today)
        .values_list(
            "day", "scores", "open_critical", "open_high", "open_medium", "open_low", "overdue"
        )
        .order_by("day")
    )
    found: dict[date, int] = {}
    for day, scores, *numbers in rows:
        posture = (scores or {}).get("posture")
        found[day] = (
            int(posture) if isinstance(posture, int | float) else PostureCounts(*numbers).score
        )
    span = sorted(found)
    return span, [found[d] for d in span]


@dataclass(frozen=True)
class Recurring:
    """A weakness shared by several structures: a natural seed for a regional campaign."""

    kind: str  # "cve" or "rule"
    key: str
    title: str
    structures: int
    findings: int
    severity: int

    @property
    def severity_label(self) -> str:
        return str(Severity(self.severity).label)


def top_recurring(actor: Actor, *, limit: int = 10, minimum: int = 2) -> list[Recurring]:
    """Open weaknesses (same CVE, or same rule when there is no CVE) found in most structures.

    The centre's page reads it through ``region_recurring`` (cached)."""
    open_rows = _findings(actor, None).filter(status__in=OPEN, severity__gte=Severity.MEDIUM)
    found: list[Recurring] = []
    for kind, column, rows, same_kind in (
        # Ranges (> "") rather than "not empty", so the index on (cve, rule, ...) is searched.
        ("cve", "cve", open_rows.filter(cve__gt=""), open_rows),
        ("rule", "rule", open_rows.filter(cve="", rule__gt=""), open_rows.filter(cve="")),
    ):
        grouped = list(
            rows.values(column)
            .annotate(
                structures=Count("structure_id", distinct=True),
                findings=Count("*"),
                worst=Max("severity"),
            )
            .filter(structures__gte=minimum)
            .order_by("-structures", "-worst", column)[:limit]
        )
        # One title per weakness, read for the few kept keys only (the grouping above stays
        # inside the covering index and never touches the wide rows).
        titles = (
            dict(
                same_kind.filter(**{f"{column}__in": [g[column] for g in grouped]})
                .values(column)
                .annotate(sample=Min("title"))
                .values_list(column, "sample")
            )
            if grouped
            else {}
        )
        found.extend(
            Recurring(
                kind,
                g[column],
                titles.get(g[column], g[column]),
                g["structures"],
                g["findings"],
                g["worst"],
            )
            for g in grouped
        )
    found.sort(key=lambda r: (-r.structures, -r.severity, r.key))
    return found[:limit]


SEVERITY_WORDS = {
    Severity.CRITICAL: _("critique"),
    Severity.HIGH: _("élevée"),
    Severity.MEDIUM: _("moyenne"),
    Severity.LOW: _("faible"),
    Severity.INFO: _("pour information"),
}

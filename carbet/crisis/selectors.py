"""Reading the crisis service's data: lists, the log with its filters, the director's one-page
view, the CSV export, and the ARS's aggregates (disclosure rules applied).

Every list starts from ``visible_to``; the functions taking a ``case`` expect one already
obtained through ``case_for`` (404 when not visible, 403 without the right).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from carbet.core.access import refusal, visible_or_404
from carbet.core.tenancy import Actor, can
from carbet.crisis import library
from carbet.crisis.choices import (
    ActivityMode,
    AssetState,
    EntryKind,
    Phase,
    Priority,
    TaskStatus,
)
from carbet.crisis.models import (
    CrisisCase,
    Decision,
    IncidentReport,
    LogEntry,
    Obligation,
    Sitrep,
    Task,
)
from carbet.crisis.service import CrisisPerm
from carbet.crisis.services import phase_durations
from carbet.crisis.services_clock import obligation_status
from carbet.crisis.services_work import tasks_by_workstream
from carbet.engines import disclosure
from carbet.engines.crisis import phases as phase_engine


def templates() -> list[tuple[str, str]]:
    return library.choices()


def reports_for(actor: Actor) -> QuerySet[IncidentReport]:
    return IncidentReport.objects.visible_to(actor, CrisisPerm.REPORT).select_related("structure")


def cases_for(actor: Actor) -> QuerySet[CrisisCase]:
    return CrisisCase.objects.visible_to(actor, CrisisPerm.VIEW).select_related("structure")


def case_for(actor: Actor, pk: Any, perm: Any = CrisisPerm.VIEW) -> CrisisCase:
    """The case ``pk``: 404 if ``actor`` does not see it, 403 if seen without ``perm``."""
    case = visible_or_404(
        actor, CrisisCase.objects.select_related("structure", "report"), pk, CrisisPerm.VIEW
    )
    if (
        perm != CrisisPerm.VIEW
        and not CrisisCase.objects.visible_to(actor, perm).filter(pk=case.pk).exists()
    ):
        raise refusal()
    return case


LOG_ORDERS = {
    "event": ("event_at", "sequence"),
    "newest": ("-event_at", "-sequence"),
    "sequence": ("sequence",),  # the order of the chain: printouts and exports
}


def log_entries(
    case: CrisisCase,
    *,
    kind: str | None = None,
    verified: bool | None = None,
    text: str | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    author: str | None = None,
    order: str = "event",
    mark_superseded: bool = True,
) -> QuerySet[LogEntry]:
    """The case's log, filtered (the same filters for the pages, their exports and the API);
    with ``mark_superseded`` each entry carries ``superseded`` (a later entry corrects it)."""
    queryset = LogEntry.objects.filter(case_id=case.pk)
    if mark_superseded:
        queryset = queryset.annotate(
            superseded=Exists(
                LogEntry.objects.filter(case_id=case.pk, supersedes_id=OuterRef("pk"))
            )
        )
    if kind:
        queryset = queryset.filter(kind=kind)
    if verified is not None:
        queryset = queryset.filter(verified=verified)
    if text:
        queryset = queryset.filter(Q(text__icontains=text) | Q(source__icontains=text))
    if author:
        queryset = queryset.filter(author_label__icontains=author)
    if since:
        queryset = queryset.filter(event_at__gte=since)
    if until:
        queryset = queryset.filter(event_at__lte=until)
    return queryset.order_by(*LOG_ORDERS[order])


CSV_HEADER = (
    "sequence",
    "event_at",
    "recorded_at",
    "kind",
    "author",
    "source",
    "verified",
    "supersedes",
    "text",
    "entry_hash",
)


def _safe_cell(value: str) -> str:
    """No formula injection when the CSV is opened in a spreadsheet."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def log_csv_rows(case: CrisisCase) -> Iterator[list[str]]:
    yield list(CSV_HEADER)
    sequences = dict(LogEntry.objects.filter(case_id=case.pk).values_list("pk", "sequence"))
    for entry in LogEntry.objects.filter(case_id=case.pk).order_by("sequence").iterator(2000):
        yield [
            str(entry.sequence),
            entry.event_at.isoformat(),
            entry.recorded_at.isoformat(),
            entry.kind,
            _safe_cell(entry.author_label),
            _safe_cell(entry.source),
            "1" if entry.verified else "0",
            str(sequences.get(entry.supersedes_id, "")) if entry.supersedes_id else "",
            _safe_cell(entry.text),
            entry.entry_hash,
        ]


def log_csv(case: CrisisCase) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for row in log_csv_rows(case):
        writer.writerow(row)
    return buffer.getvalue()


@dataclass
class ObligationLine:
    obligation: Obligation
    status: str
    label: str


@dataclass
class DirectorView:
    """What the director and the ARS liaison read on one page, priorities first."""

    case: CrisisCase
    now: dt.datetime
    phase_label: str
    durations: list[tuple[str, dt.timedelta]]
    total: dt.timedelta
    obligations: list[ObligationLine]
    activities: list[Any]
    activity_counts: dict[str, int]
    asset_counts: list[tuple[str, str, int]]
    overdue_tasks: list[Task]
    urgent_tasks: list[Task]
    workstreams: dict[str, dict[str, Any]]
    last_sitrep: Sitrep | None
    decisions: list[Decision]
    exit_done: int
    exit_total: int
    entries: int
    stakeholders: list[Any] = field(default_factory=list)


def director_view(case: CrisisCase, *, now: dt.datetime | None = None) -> DirectorView:
    now = now or timezone.now()
    spent = phase_durations(case, now=now)
    changes = [
        phase_engine.Change(at, to)
        for at, to in case.phase_changes.order_by("at", "pk").values_list("at", "to_phase")
    ]
    obligations = [
        ObligationLine(o, obligation_status(o, now=now), o.get_kind_display())
        for o in case.obligations.all()
    ]
    activities = list(case.activities.all())
    asset_by_state = dict(
        case.assets.values_list("state").annotate(n=Count("pk")).values_list("state", "n")
    )
    open_tasks = Task.objects.filter(
        case_id=case.pk, status__in=[TaskStatus.TODO, TaskStatus.DOING]
    )
    checklist = case.checklist.filter(checklist="exit")
    return DirectorView(
        case=case,
        now=now,
        phase_label=str(Phase(case.phase).label),
        durations=[(str(Phase(p).label), spent[p]) for p in phase_engine.PHASES if p in spent],
        total=phase_engine.total(case.opened_at, changes, now),
        obligations=obligations,
        activities=activities,
        activity_counts={
            mode.value: sum(1 for a in activities if a.mode == mode.value) for mode in ActivityMode
        },
        asset_counts=[(s.value, str(s.label), asset_by_state.get(s.value, 0)) for s in AssetState],
        overdue_tasks=list(open_tasks.filter(due_at__lt=now).order_by("due_at")[:10]),
        urgent_tasks=list(open_tasks.filter(priority=Priority.URGENT).order_by("due_at")[:10]),
        workstreams=tasks_by_workstream(case),
        last_sitrep=case.sitreps.order_by("-number").first(),
        decisions=list(case.decisions.order_by("-decided_at")[:5]),
        exit_done=checklist.filter(done=True).count(),
        exit_total=checklist.count(),
        entries=LogEntry.objects.filter(case_id=case.pk).count(),
        stakeholders=list(case.stakeholders.all()),
    )


def declarations(case: CrisisCase) -> list[dict[str, Any]]:
    """What was declared when (the director's one click, the API): kind, due, sent, reference."""
    now = timezone.now()
    return [
        {
            "id": o.pk,
            "kind": o.kind,
            "label": o.get_kind_display(),
            "applicable": o.applicable,
            "due_at": o.due_at,
            "sent_at": o.sent_at,
            "reference": o.reference,
            "status": obligation_status(o, now=now),
        }
        for o in case.obligations.all()
    ]


def entry_kinds() -> list[tuple[str, str]]:
    return [(k.value, str(k.label)) for k in EntryKind]


# --- The ARS's aggregates -----------------------------------------------------------------------


@dataclass
class Aggregates:
    """Counts of cases per category, per département and per current phase (protected tables),
    and the average duration of closed cases as a band; nothing names a structure."""

    total: int
    open_cases: int
    by_category: disclosure.CountTable
    by_departement: disclosure.CountTable | None
    by_phase: disclosure.CountTable
    mean_days: disclosure.Band | None
    departement_withheld: bool = False


def region_aggregates(actor: Actor, *, now: dt.datetime | None = None) -> Aggregates:
    if not can(actor, CrisisPerm.AGGREGATES):
        raise refusal()
    now = now or timezone.now()
    from carbet.core.tenancy import SYSTEM

    rows = list(
        CrisisCase.objects.visible_to(SYSTEM)
        .filter(qualification="crisis")
        .values_list("pk", "category", "structure__departement", "phase", "opened_at", "closed_at")
    )
    # Counted per structure-case; the disclosure rules reason on counts of cases here.
    titles = dict(library.choices())
    categories: dict[str, set[int]] = {}
    departements: dict[str, set[int]] = {}
    phases: dict[str, int] = {}
    days: list[float | None] = []
    for pk, category, departement, phase, opened, closed in rows:
        categories.setdefault(category, set()).add(pk)
        departements.setdefault(departement, set()).add(pk)
        phases[phase] = phases.get(phase, 0) + 1
        if closed is not None:
            days.append((closed - opened).total_seconds() / 86400)
    by_category = disclosure.protect_counts(
        [(titles.get(code, code), len(ids)) for code, ids in sorted(categories.items())]
    )
    all_ids = {pk for pk, *_rest in rows}
    verdicts = disclosure.safe_breakdowns(
        all_ids, [list(categories.values()), list(departements.values())]
    )
    by_departement = (
        disclosure.protect_counts([(d, len(ids)) for d, ids in sorted(departements.items())])
        if verdicts[1]
        else None
    )
    by_phase = disclosure.protect_counts([(str(p.label), phases.get(p.value, 0)) for p in Phase])
    return Aggregates(
        total=len(rows),
        open_cases=sum(1 for *_r, closed in rows if closed is None),
        by_category=by_category,
        by_departement=by_departement,
        by_phase=by_phase,
        mean_days=disclosure.banded_mean(days, disclosure.COUNT_BANDS),
        departement_withheld=not verdicts[1],
    )


def reason_text(table: disclosure.CountTable | None) -> str:
    if table is None:
        return _("non publié : croisé avec les autres tableaux, il isolerait moins de cinq cas")
    return {
        "too_small": _("non publié : moins de cinq cas"),
        "concentrated": _("non publié : tous les cas dans une même case"),
    }.get(table.reason, "")

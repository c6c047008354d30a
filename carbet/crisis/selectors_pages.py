"""Read-only selections for the crisis pages: lists, filters, durations, countdowns, aggregates.

Nothing here writes; every query starts from rows the views already obtained through
``carbet.core.access`` (a case) or from ``visible_to`` (lists). The ARS figures go through
``carbet.engines.disclosure`` (small cells hidden), never through a case.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db.models import Count, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from carbet.core.tenancy import Actor
from carbet.crisis import selectors
from carbet.crisis.choices import (
    ActivityMode,
    AssetState,
    Phase,
    ReportStatus,
    SitrepStatus,
    TaskStatus,
)
from carbet.crisis.models import (
    Activity,
    CrisisAsset,
    CrisisCase,
    Decision,
    IncidentReport,
    LogEntry,
    Obligation,
    PhaseChange,
    Sitrep,
    Task,
)
from carbet.crisis.service import CrisisPerm
from carbet.engines import disclosure

PHASE_ORDER = [p.value for p in Phase]
SOON = dt.timedelta(hours=6)


# ---- how to reach the centre ------------------------------------------------------------


@dataclass(frozen=True)
class Hotline:
    phone: str
    email: str
    hours: str

    @property
    def tel(self) -> str:
        """The number as a ``tel:`` link target (digits and a leading +)."""
        return "".join(ch for ch in self.phone if ch.isdigit() or ch == "+")


def hotline() -> Hotline:
    """The centre's crisis number and address: read by the service itself (a setting if the
    deployment defines one, else the environment, else empty), so the kernel's settings never
    name a service."""

    def value(name: str) -> str:
        return str(getattr(settings, name, "") or os.environ.get(name, "")).strip()

    return Hotline(
        phone=value("CARBET_CRISIS_HOTLINE"),
        email=value("CARBET_CRISIS_EMAIL"),
        hours=value("CARBET_CRISIS_HOURS") or _("24 h sur 24, 7 jours sur 7"),
    )


# ---- lists ------------------------------------------------------------------------------


def open_reports(actor: Actor) -> QuerySet[IncidentReport]:
    return (
        IncidentReport.objects.visible_to(actor, CrisisPerm.MANAGE)
        .filter(status=ReportStatus.NEW)
        .select_related("structure")
        .order_by("reported_at")
    )


def my_reports(actor: Actor) -> QuerySet[IncidentReport]:
    return (
        IncidentReport.objects.visible_to(actor, CrisisPerm.REPORT)
        .select_related("structure")
        .order_by("-reported_at")
    )


def cases_for(actor: Actor, *, closed: bool = False) -> QuerySet[CrisisCase]:
    cases = CrisisCase.objects.visible_to(actor, CrisisPerm.VIEW).select_related("structure")
    if closed:
        return cases.filter(phase=Phase.CLOSED).order_by("-closed_at", "-pk")
    return cases.exclude(phase=Phase.CLOSED).order_by("-severity", "opened_at")


# ---- phases -----------------------------------------------------------------------------


@dataclass
class PhaseSpan:
    phase: str
    label: str
    start: dt.datetime
    end: dt.datetime | None
    by: str
    reason: str

    @property
    def duration(self) -> dt.timedelta:
        return (self.end or timezone.now()) - self.start

    @property
    def duration_text(self) -> str:
        return human_duration(self.duration)


def phase_spans(case: CrisisCase) -> list[PhaseSpan]:
    """Each phase the case went through, with its start, end, who moved it and why."""
    labels = dict(Phase.choices)
    changes = list(PhaseChange.objects.filter(case=case).order_by("at", "pk"))
    spans: list[PhaseSpan] = []
    if not changes:
        return [PhaseSpan(case.phase, labels[case.phase], case.opened_at, None, "", "")]
    first = changes[0]
    if first.from_phase and first.at > case.opened_at:  # the alert, before the qualification
        label = labels.get(first.from_phase, first.from_phase)
        spans.append(PhaseSpan(first.from_phase, label, case.opened_at, first.at, "", ""))
    for index, change in enumerate(changes):
        end = changes[index + 1].at if index + 1 < len(changes) else None
        if change.to_phase == Phase.CLOSED:
            end = change.at
        spans.append(
            PhaseSpan(
                change.to_phase,
                labels.get(change.to_phase, change.to_phase),
                change.at,
                end,
                change.by_label,
                change.reason,
            )
        )
    return spans


def next_phases(case: CrisisCase) -> list[tuple[str, str]]:
    """The phases a case may move to: any other one but the alert (going back is allowed,
    with a reason); none once closed."""
    if case.phase == Phase.CLOSED:
        return []
    return [
        (value, label) for value, label in Phase.choices if value not in (case.phase, Phase.ALERT)
    ]


def human_duration(delta: dt.timedelta) -> str:
    seconds = int(abs(delta.total_seconds()))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        return _("%(d)d j %(h)d h") % {"d": days, "h": hours}
    if hours:
        return _("%(h)d h %(m)02d min") % {"h": hours, "m": minutes}
    return _("%(m)d min") % {"m": minutes}


# ---- main courante ----------------------------------------------------------------------


@dataclass
class LogFilters:
    kind: str = ""
    author: str = ""
    verified: str = ""  # "", "yes", "no"
    since: dt.datetime | None = None
    until: dt.datetime | None = None

    @property
    def active(self) -> bool:
        return bool(self.kind or self.author or self.verified or self.since or self.until)


def log_entries(case: CrisisCase, filters: LogFilters | None = None) -> QuerySet[LogEntry]:
    f = filters or LogFilters()
    return selectors.log_entries(
        case,
        kind=f.kind,
        author=f.author,
        verified={"yes": True, "no": False}.get(f.verified),
        since=f.since,
        until=f.until,
        order="sequence",
        mark_superseded=False,  # the pages show corrections through ``with_corrections``
    )


def superseded_ids(case: CrisisCase) -> dict[int, int]:
    """Entry id → the sequence number of the entry that corrects it."""
    return {
        old: seq
        for old, seq in LogEntry.objects.filter(case=case, supersedes__isnull=False).values_list(
            "supersedes_id", "sequence"
        )
    }


def with_corrections(case: CrisisCase, entries: Any) -> Iterator[LogEntry]:
    """Each entry with ``corrected_by`` (the sequence of the entry that corrects it, or None)
    and ``corrects`` (the sequence of the entry it corrects, or None); streams large logs."""
    corrected_by = superseded_ids(case)
    targets = dict(LogEntry.objects.filter(pk__in=list(corrected_by)).values_list("pk", "sequence"))
    for entry in entries:
        entry.corrected_by = corrected_by.get(entry.pk)
        entry.corrects = targets.get(entry.supersedes_id) if entry.supersedes_id else None
        yield entry


# ---- the regulatory clock ---------------------------------------------------------------


@dataclass
class ClockRow:
    obligation: Obligation
    state: str  # "sent", "late", "soon", "running", "not_applicable", "no_due"
    label: str
    remaining: str


def clock_rows(case: CrisisCase, now: dt.datetime | None = None) -> list[ClockRow]:
    now = now or timezone.now()
    rows = []
    for ob in Obligation.objects.filter(case=case).order_by("due_at", "kind"):
        rows.append(_clock_row(ob, now))
    return rows


def _clock_row(ob: Obligation, now: dt.datetime) -> ClockRow:
    if not ob.applicable:
        return ClockRow(ob, "not_applicable", _("Sans objet"), "")
    if ob.sent_at:
        return ClockRow(ob, "sent", _("Envoyée"), "")
    if ob.due_at is None:
        return ClockRow(ob, "no_due", _("À faire, sans délai fixé"), "")
    left = ob.due_at - now
    if left.total_seconds() < 0:
        return ClockRow(ob, "late", _("En retard"), human_duration(left))
    state = "soon" if left <= SOON else "running"
    label = _("Bientôt dû") if state == "soon" else _("Dans les délais")
    return ClockRow(ob, state, label, human_duration(left))


def declared(case: CrisisCase) -> list[Obligation]:
    """What was declared when: the obligations sent, in the order they were sent."""
    return list(
        Obligation.objects.filter(case=case, sent_at__isnull=False).order_by("sent_at", "kind")
    )


# ---- tasks, board, director's page --------------------------------------------------------


def tasks_by_workstream(case: CrisisCase, *, open_only: bool = False) -> list[tuple[str, list]]:
    from carbet.crisis.choices import Workstream

    tasks = Task.objects.filter(case=case).order_by("status", "priority", "due_at", "pk")
    if open_only:
        tasks = tasks.filter(status__in=[TaskStatus.TODO, TaskStatus.DOING])
    grouped: dict[str, list[Task]] = {value: [] for value, _label in Workstream.choices}
    for task in tasks[:2000]:
        grouped.setdefault(task.workstream, []).append(task)
    labels = dict(Workstream.choices)
    return [(labels.get(key, key), rows) for key, rows in grouped.items() if rows]


def top_tasks(case: CrisisCase, limit: int = 8) -> list[Task]:
    return list(
        Task.objects.filter(case=case, status__in=[TaskStatus.TODO, TaskStatus.DOING]).order_by(
            "priority", "due_at", "pk"
        )[:limit]
    )


@dataclass
class BoardSummary:
    stopped: list[Activity] = field(default_factory=list)
    degraded: list[Activity] = field(default_factory=list)
    normal_count: int = 0
    assets_by_state: list[tuple[str, str, int]] = field(default_factory=list)
    assets_total: int = 0


def board_summary(case: CrisisCase) -> BoardSummary:
    summary = BoardSummary()
    for activity in Activity.objects.filter(case=case).order_by("position", "name"):
        if activity.mode == ActivityMode.STOPPED:
            summary.stopped.append(activity)
        elif activity.mode == ActivityMode.DEGRADED:
            summary.degraded.append(activity)
        else:
            summary.normal_count += 1
    counts = dict(
        CrisisAsset.objects.filter(case=case)
        .values_list("state")
        .annotate(n=Count("pk"))
        .values_list("state", "n")
    )
    summary.assets_by_state = [
        (value, label, counts.get(value, 0)) for value, label in AssetState.choices
    ]
    summary.assets_total = sum(counts.values())
    return summary


def open_decisions(case: CrisisCase) -> list[Decision]:
    """The last decisions (the cell's choices the director should have in mind)."""
    return list(Decision.objects.filter(case=case).order_by("-decided_at")[:5])


def last_sitrep(case: CrisisCase, *, sent_only: bool = False) -> Sitrep | None:
    sitreps = Sitrep.objects.filter(case=case)
    if sent_only:
        sitreps = sitreps.filter(status=SitrepStatus.SENT)
    return sitreps.order_by("-number").first()


# ---- the ARS: aggregates only -------------------------------------------------------------


@dataclass
class AggregateTable:
    title: str
    caption: str
    rows: list[tuple[str, int | None]]
    published: bool
    reason: str


def _protected(title: str, caption: str, cells: list[tuple[str, int]]) -> AggregateTable:
    table = disclosure.protect_counts(cells)
    reasons = {
        "too_small": _("Moins de cinq crises : rien n'est publié, pour ne désigner personne."),
        "concentrated": _(
            "Toutes les crises tombent dans la même case : le tableau désignerait chacune."
        ),
    }
    return AggregateTable(
        title, caption, table.rows(), table.published, reasons.get(table.reason, "")
    )


def aggregates(actor: Actor) -> dict[str, Any]:
    """Cases per category, per département, per phase; durations as bands. Counts of cases of
    distinct structures are protected as counts of structures (a case names its structure)."""
    from carbet.core.choices import Category

    cases = CrisisCase.objects.all()  # counted, never listed: the ARS sees no case
    category_labels = dict(Category.choices)
    by_category = [
        (str(category_labels.get(row["structure__category"], row["structure__category"])), row["n"])
        for row in cases.values("structure__category")
        .annotate(n=Count("pk"))
        .order_by("structure__category")
    ]
    by_dept = [
        (row["structure__departement"] or "—", row["n"])
        for row in cases.values("structure__departement")
        .annotate(n=Count("pk"))
        .order_by("structure__departement")
    ]
    phase_counts = dict(
        cases.values_list("phase").annotate(n=Count("pk")).values_list("phase", "n")
    )
    by_phase = [(str(label), phase_counts.get(value, 0)) for value, label in Phase.choices]
    durations = _duration_bands(cases)
    return {
        "tables": [
            _protected(_("Par catégorie de structure"), _("Crises par catégorie"), by_category),
            _protected(_("Par département"), _("Crises par département"), by_dept),
            _protected(_("Par phase en cours"), _("Crises par phase"), by_phase),
            _protected(
                _("Durée (ouverture → clôture, ou aujourd'hui)"), _("Crises par durée"), durations
            ),
        ],
        "total": disclosure.rounded_total(cases.count(), 5) if cases.count() >= 5 else None,
    }


def _duration_bands(cases: QuerySet[CrisisCase]) -> list[tuple[str, int]]:
    now = timezone.now()
    bands = [
        (_("moins d'une semaine"), 7),
        (_("1 à 4 semaines"), 28),
        (_("1 à 3 mois"), 92),
        (_("plus de 3 mois"), 10**6),
    ]
    counts = [0] * len(bands)
    for opened, closed in cases.values_list("opened_at", "closed_at"):
        days = ((closed or now) - opened).days
        for index, (_label, limit) in enumerate(bands):
            if days < limit:
                counts[index] += 1
                break
    return [(str(label), n) for (label, _limit), n in zip(bands, counts, strict=True)]

"""The cell's work: decisions, tasks by workstream, checklists and situation points."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.db.models import Count, Max
from django.utils import timezone
from django.utils.translation import gettext as _

from carbet.audit import services as audit
from carbet.core.tenancy import Actor
from carbet.crisis.choices import (
    ActivityMode,
    AssetState,
    EntryKind,
    Phase,
    Priority,
    SitrepStatus,
    TaskStatus,
    Workstream,
)
from carbet.crisis.models import ChecklistItem, CrisisCase, Decision, LogEntry, Sitrep, Task
from carbet.crisis.notifications import cell_recipients, send
from carbet.crisis.service import CrisisPerm
from carbet.crisis.services import actor_label, require_case
from carbet.crisis.services_log import append_entry
from carbet.engines.crisis import sitrep as engine

MAX_OPTIONS = 10


def record_decision(
    actor: Actor,
    case: CrisisCase,
    *,
    title: str,
    options: list[str],
    chosen: str,
    rationale: str,
    decided_by: str,
    decided_at: dt.datetime | None = None,
    now: dt.datetime | None = None,
) -> Decision:
    """A decision with the options considered and why; it is also a line of the log."""
    require_case(actor, case, CrisisPerm.CONTRIBUTE)
    options = [o.strip() for o in options if o and o.strip()][:MAX_OPTIONS]
    if not title.strip() or not chosen.strip() or not decided_by.strip():
        raise ValueError(_("Indiquez l'objet, la décision et qui l'a prise."))
    now = now or timezone.now()
    decided_at = decided_at or now
    with transaction.atomic():
        entry = append_entry(
            actor,
            case,
            kind=EntryKind.DECISION,
            text=_("Décision : %(title)s — %(chosen)s (par %(who)s). Motif : %(why)s")
            % {
                "title": title.strip(),
                "chosen": chosen.strip(),
                "who": decided_by.strip(),
                "why": rationale.strip() or "—",
            },
            event_at=decided_at,
            source=decided_by.strip(),
            verified=True,
            now=now,
        )
        decision = Decision.objects.create(
            case=case,
            title=title.strip()[:200],
            options=options,
            chosen=chosen.strip(),
            rationale=rationale.strip(),
            decided_by=decided_by.strip()[:200],
            decided_at=decided_at,
            log_entry=entry,
        )
    return decision


def add_task(
    actor: Actor,
    case: CrisisCase,
    *,
    workstream: str,
    title: str,
    owner: str = "",
    priority: int = Priority.NORMAL,
    due_at: dt.datetime | None = None,
    detail: str = "",
    phase: str = "",
    now: dt.datetime | None = None,
) -> Task:
    require_case(actor, case, CrisisPerm.CONTRIBUTE)
    if workstream not in Workstream.values:
        raise ValueError(_("Chantier inconnu."))
    if not title.strip():
        raise ValueError(_("Indiquez la tâche."))
    now = now or timezone.now()
    return Task.objects.create(
        case=case,
        workstream=workstream,
        title=title.strip()[:300],
        owner=owner.strip()[:200],
        priority=int(priority),
        due_at=due_at,
        detail=detail.strip(),
        phase=phase or case.phase,
        created_at=now,
        updated_at=now,
    )


def update_task(
    actor: Actor,
    task: Task,
    *,
    status: str | None = None,
    owner: str | None = None,
    priority: int | None = None,
    due_at: dt.datetime | None = None,
    now: dt.datetime | None = None,
) -> Task:
    """Change a task; finishing or dropping one is written in the log."""
    require_case(actor, task.case, CrisisPerm.CONTRIBUTE)
    now = now or timezone.now()
    if status is not None and status not in TaskStatus.values:
        raise ValueError(_("État inconnu."))
    previous = task.status
    if owner is not None:
        task.owner = owner.strip()[:200]
    if priority is not None:
        task.priority = int(priority)
    if due_at is not None:
        task.due_at = due_at
    if status is not None:
        task.status = status
        task.done_at = now if status == TaskStatus.DONE else None
    task.updated_at = now
    with transaction.atomic():
        task.save()
        if (
            status is not None
            and status != previous
            and status
            in (
                TaskStatus.DONE,
                TaskStatus.CANCELLED,
            )
        ):
            append_entry(
                actor,
                task.case,
                kind=EntryKind.ACTION,
                text=_("Tâche « %(t)s » : %(s)s.")
                % {"t": task.title, "s": TaskStatus(status).label.lower()},
                event_at=now,
                now=now,
            )
    return task


def tick_checklist(
    actor: Actor, item: ChecklistItem, *, done: bool, now: dt.datetime | None = None
) -> ChecklistItem:
    require_case(actor, item.case, CrisisPerm.CONTRIBUTE)
    now = now or timezone.now()
    item.done = done
    item.done_at = now if done else None
    item.done_by = actor_label(actor)[:255] if done else ""
    item.save(update_fields=["done", "done_at", "done_by"])
    if item.checklist == "exit":
        audit.record(
            actor, "crisis.exit_criterion", item.case, changes={"item": item.label, "done": done}
        )
    return item


def _headings() -> dict[str, str]:
    return {
        "header": _("Point de situation — {title}\nPhase : {phase}\nPériode : du {start} au {end}"),
        "situation": _("SITUATION"),
        "decisions": _("DÉCISIONS"),
        "care": _("CONTINUITÉ DES SOINS (activités non normales)"),
        "systems": _("SYSTÈMES"),
        "overdue": _("TÂCHES EN RETARD"),
        "obligations": _("DÉCLARATIONS À FAIRE"),
        "done": _("FAIT DEPUIS LE DERNIER POINT"),
        "facts": _("AUTRES ÉLÉMENTS DE LA MAIN COURANTE"),
        "empty": _("rien à signaler"),
    }


def _superseded_ids(case: CrisisCase) -> set[int]:
    return set(
        LogEntry.objects.filter(case=case, supersedes__isnull=False).values_list(
            "supersedes_id", flat=True
        )
    )


def sitrep_input(
    case: CrisisCase, start: dt.datetime | None, end: dt.datetime
) -> engine.SitrepInput:
    """Gather what changed in (start, end]: log entries, tasks, board, declarations."""
    data = engine.SitrepInput(
        title=f"{case.reference} — {case.title}",
        phase=str(Phase(case.phase).label),
        period_start=start,
        period_end=end,
    )
    entries = LogEntry.objects.filter(case=case, recorded_at__lte=end)
    if start is not None:
        entries = entries.filter(recorded_at__gt=start)
    hidden = _superseded_ids(case)
    for entry in entries.order_by("event_at", "sequence"):
        if entry.pk in hidden:
            continue
        line = engine.Line(
            entry.event_at, entry.text + ("" if entry.verified else _(" (non vérifié)"))
        )
        if entry.kind == EntryKind.DECISION:
            data.decisions.append(line)
        elif entry.kind == EntryKind.SITUATION or (entry.kind == EntryKind.FACT and entry.verified):
            data.situation.append(line)
        else:
            data.facts.append(line)
    for activity in case.activities.exclude(mode=ActivityMode.NORMAL):
        data.care.append(
            engine.Line(
                activity.since,
                f"{activity.name} : {activity.get_mode_display().lower()}"
                + (f" — {activity.procedure}" if activity.procedure else ""),
            )
        )
    counts = dict(
        case.assets.values_list("state").annotate(n=Count("pk")).values_list("state", "n")
    )
    for state in AssetState:
        if counts.get(state.value):
            data.systems.append(engine.Line(None, f"{state.label} : {counts[state.value]}"))
    open_tasks = case.tasks.filter(status__in=[TaskStatus.TODO, TaskStatus.DOING])
    for task in open_tasks.filter(due_at__lt=end).order_by("due_at"):
        data.overdue.append(engine.Line(task.due_at, f"{task.title} ({task.owner or '—'})"))
    done = case.tasks.filter(status=TaskStatus.DONE, done_at__lte=end)
    if start is not None:
        done = done.filter(done_at__gt=start)
    for task in done.order_by("done_at"):
        data.done.append(engine.Line(task.done_at, task.title))
    for obligation in case.obligations.filter(applicable=True, sent_at__isnull=True):
        data.obligations.append(engine.Line(obligation.due_at, obligation.get_kind_display()))
    return data


def draft_sitrep(actor: Actor, case: CrisisCase, *, now: dt.datetime | None = None) -> Sitrep:
    """A new draft covering everything since the last situation point."""
    require_case(actor, case, CrisisPerm.CONTRIBUTE)
    now = now or timezone.now()
    with transaction.atomic():
        previous = case.sitreps.order_by("-number").first()
        start = previous.period_end if previous else None
        data = sitrep_input(case, start, now)
        body = engine.draft(data, _headings(), tz=timezone.get_current_timezone())
        number = (case.sitreps.aggregate(m=Max("number"))["m"] or 0) + 1
        return Sitrep.objects.create(
            case=case,
            number=number,
            period_start=start,
            period_end=now,
            body=body,
            drafted_at=now,
        )


def edit_sitrep(actor: Actor, sitrep: Sitrep, *, body: str) -> Sitrep:
    require_case(actor, sitrep.case, CrisisPerm.CONTRIBUTE)
    if sitrep.status == SitrepStatus.SENT:
        raise ValueError(_("Un point de situation envoyé ne se modifie plus."))
    if not body.strip():
        raise ValueError(_("Le point de situation est vide."))
    sitrep.body = body
    sitrep.save(update_fields=["body"])
    return sitrep


def send_sitrep(actor: Actor, sitrep: Sitrep, *, now: dt.datetime | None = None) -> list[str]:
    """E-mail the point to the cell (members who receive notifications); logged."""
    case = sitrep.case
    require_case(actor, case, CrisisPerm.CONTRIBUTE)
    if sitrep.status == SitrepStatus.SENT:
        raise ValueError(_("Ce point de situation a déjà été envoyé."))
    now = now or timezone.now()
    recipients = cell_recipients(case)
    if not recipients:
        raise ValueError(_("Aucun membre de la cellule n'a d'adresse e-mail."))
    subject = _("[Carbet] %(ref)s : point de situation n° %(n)d") % {
        "ref": case.reference,
        "n": sitrep.number,
    }
    delivered = send(subject, sitrep.body, recipients)
    if not delivered:
        raise ValueError(_("Le message n'a pu être remis à personne ; réessayez."))
    with transaction.atomic():
        sitrep.status = SitrepStatus.SENT
        sitrep.sent_at = now
        sitrep.sent_to = delivered
        sitrep.sent_by = actor_label(actor)[:255]
        sitrep.save()
        append_entry(
            actor,
            case,
            kind=EntryKind.SITUATION,
            text=_("Point de situation n° %(n)d envoyé à %(k)d membre(s) de la cellule.")
            % {"n": sitrep.number, "k": len(delivered)},
            event_at=now,
            now=now,
        )
        audit.record(actor, "crisis.sitrep_send", case, changes={"number": sitrep.number})
    return delivered


def tasks_by_workstream(case: CrisisCase) -> dict[str, dict[str, Any]]:
    """Open/done counts per workstream (the director's view, the API)."""
    result: dict[str, dict[str, Any]] = {
        w.value: {"label": str(w.label), "open": 0, "done": 0} for w in Workstream
    }
    for workstream, status, n in case.tasks.values_list("workstream", "status").annotate(
        n=Count("pk")
    ):
        bucket = result.setdefault(workstream, {"label": workstream, "open": 0, "done": 0})
        if status in (TaskStatus.TODO, TaskStatus.DOING):
            bucket["open"] += n
        elif status == TaskStatus.DONE:
            bucket["done"] += n
    return result

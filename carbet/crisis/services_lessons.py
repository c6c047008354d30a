"""After the crisis: lessons learned become findings and action items, the roadmap gets a fact,
and the case can seed next year's exercise scenario.

Findings only through ``carbet.findings.ingest.ingest`` (source ``crisis``, one stream per case);
the actions through the plans' own service; the roadmap through ``record_evidence``.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from carbet.audit import services as audit
from carbet.core.choices import MEDICO_SOCIAL_CATEGORIES
from carbet.core.contract import record_evidence
from carbet.core.tenancy import Actor
from carbet.crisis.choices import EntryKind, LessonKind, Phase, Workstream
from carbet.crisis.models import CrisisCase, Lesson, LogEntry
from carbet.crisis.service import CRISIS_SOURCE, LESSONS_EVIDENCE, CrisisPerm
from carbet.crisis.services import actor_label, phase_durations, require_case
from carbet.engines.exercises import jsonformat
from carbet.engines.exercises import model as scenario_model
from carbet.findings.choices import Severity
from carbet.findings.ingest import FindingInput, ingest

_SEVERITY = {1: Severity.LOW, 2: Severity.MEDIUM, 3: Severity.HIGH, 4: Severity.CRITICAL}


def add_lesson(
    actor: Actor,
    case: CrisisCase,
    *,
    kind: str,
    text: str,
    recommendation: str = "",
    workstream: str = "",
    severity: int = 2,
) -> Lesson:
    require_case(actor, case, CrisisPerm.CONTRIBUTE)
    if kind not in LessonKind.values:
        raise ValueError(_("Nature inconnue."))
    if workstream and workstream not in Workstream.values:
        raise ValueError(_("Chantier inconnu."))
    if not text.strip():
        raise ValueError(_("Indiquez le constat."))
    if int(severity) not in _SEVERITY:
        raise ValueError(_("Importance de 1 à 4."))
    return Lesson.objects.create(
        case=case,
        kind=kind,
        workstream=workstream,
        text=text.strip(),
        recommendation=recommendation.strip(),
        severity=int(severity),
        added_by=actor_label(actor)[:255],
    )


def _finding(case: CrisisCase, lesson: Lesson) -> FindingInput:
    return FindingInput(
        title=lesson.text.splitlines()[0][:200],
        severity=_SEVERITY[lesson.severity],
        fingerprint=f"crisis:{case.reference}:lesson:{lesson.pk}",
        rule="crisis.lesson",
        description=lesson.text,
        remediation=lesson.recommendation,
        evidence={
            "case": case.reference,
            "workstream": lesson.workstream,
            "category": case.category,
        },
    )


def publish_lessons(
    actor: Actor, case: CrisisCase, *, now: dt.datetime | None = None
) -> dict[str, int]:
    """The "to improve" lessons become findings (and one action each, the first time); the
    roadmap records that the case's lessons were drawn. Running it again updates, never
    duplicates (stable fingerprints, one stream per case)."""
    require_case(actor, case, CrisisPerm.MANAGE)
    from carbet.findings.models import ActionItem, Finding
    from carbet.findings.plans.services import create_action

    now = now or timezone.now()
    lessons = list(case.lessons.filter(kind=LessonKind.IMPROVE).order_by("pk"))
    with transaction.atomic():
        report = ingest(
            case.structure,
            CRISIS_SOURCE,
            [_finding(case, lesson) for lesson in lessons],
            complete=True,
            scope=case.reference,
            label=_("Retour d'expérience %(ref)s") % {"ref": case.reference},
            actor=actor,
            now=now,
        )
        actions = 0
        for lesson in lessons:
            fingerprint = f"crisis:{case.reference}:lesson:{lesson.pk}"
            if lesson.finding_fingerprint == fingerprint:
                continue
            finding = Finding.objects.filter(
                structure=case.structure, fingerprint=fingerprint
            ).first()
            action = ActionItem(
                structure=case.structure,
                title=(lesson.recommendation or lesson.text).splitlines()[0][:200],
                why=lesson.text[:4000],
                how=lesson.recommendation[:4000],
            )
            create_action(actor, action, [finding] if finding else [], now=now)
            lesson.finding_fingerprint = fingerprint
            lesson.save(update_fields=["finding_fingerprint"])
            actions += 1
        durations = phase_durations(case, now=now)
        record_evidence(
            case.structure,
            LESSONS_EVIDENCE,
            at=now,
            reference=case.reference,
            value={
                "category": case.category,
                "lessons": len(lessons),
                "days": round(sum(d.total_seconds() for d in durations.values()) / 86400, 1),
            },
        )
        audit.record(
            actor,
            "crisis.lessons",
            case,
            changes={"findings": report.created + report.updated, "actions": actions},
        )
    return {
        "findings_created": report.created,
        "findings_updated": report.updated,
        "actions": actions,
    }


def _code(case: CrisisCase) -> str:
    return re.sub(r"[^a-z0-9-]", "-", f"retex-{case.reference.lower()}")[:60]


def exercise_scenario(case: CrisisCase) -> str:
    """A scenario in the exercises' JSON format, drawn from the case: its key facts become
    timed injects (compressed to a three-hour exercise), its lessons to improve the
    objectives and the observation grid. The centre then edits it in the exercises service."""
    entries = list(
        LogEntry.objects.filter(
            case=case, kind__in=[EntryKind.FACT, EntryKind.SITUATION, EntryKind.DECISION]
        )
        .order_by("event_at", "sequence")
        .values_list("event_at", "text")[:400]
    )
    lessons = list(case.lessons.filter(kind=LessonKind.IMPROVE).order_by("pk")[:12])
    clean = _anonymiser(case)
    entries = [(at, clean(text)) for at, text in entries]
    for lesson in lessons:
        lesson.text, lesson.recommendation = clean(lesson.text), clean(lesson.recommendation)
    duration = 180
    start = entries[0][0] if entries else case.opened_at
    span = max(((entries[-1][0] - start).total_seconds() if entries else 0), 1.0)
    picked = entries[:: max(1, len(entries) // 12)][:12]
    injects = tuple(
        scenario_model.Inject(
            code=f"I{n + 1}",
            offset_minutes=min(
                duration - 10, int((at - start).total_seconds() / span * (duration - 10))
            ),
            title=text.splitlines()[0][:120] or _("Événement"),
            channel="message",
            body=text[:2000],
        )
        for n, (at, text) in enumerate(picked)
    )
    objectives = tuple(
        scenario_model.Objective(code=f"O{n + 1}", title=lesson.text.splitlines()[0][:200])
        for n, lesson in enumerate(lessons)
    ) or (scenario_model.Objective(code="O1", title=_("Appliquer les fiches réflexes")),)
    grid = tuple(
        scenario_model.Criterion(
            code=f"C{n + 1}",
            criterion=(lesson.recommendation or lesson.text).splitlines()[0][:200],
            objective=f"O{n + 1}",
            scale=(
                scenario_model.ScaleLevel(1, _("Non fait")),
                scenario_model.ScaleLevel(2, _("Fait en partie")),
                scenario_model.ScaleLevel(3, _("Fait")),
            ),
        )
        for n, lesson in enumerate(lessons)
    )
    audience = (
        "medico_social" if case.structure.category in MEDICO_SOCIAL_CATEGORIES else "sanitaire"
    )
    scenario = scenario_model.Scenario(
        code=_code(case),
        version="1",
        title=(_("Rejouer : %(t)s") % {"t": case.template_title})[:150],
        level="intermediaire",
        audience=audience,
        summary=_(
            "Scénario tiré du dossier %(ref)s (anonymisé : aucun nom de personne ni de "
            "structure ; relisez les textes avant usage)."
        )
        % {"ref": case.reference},
        duration_minutes=duration,
        situation=(
            scenario_model.Section(
                title=_("Situation de départ"),
                text=case.template_title,
            ),
        ),
        cells=(scenario_model.Cell(code="cellule", name=_("Cellule de crise"), role="decision"),),
        injects=injects,
        objectives=objectives,
        observation_grid=grid,
    )
    text = jsonformat.export(scenario)
    _parsed, problems = jsonformat.parse(text)
    if problems:
        raise ValueError("; ".join(str(p) for p in problems[:5]))
    return text


def _anonymiser(case: CrisisCase) -> Any:
    """Removes the structure's name and the cell's names from a text."""
    names = [case.structure.name, *case.members.values_list("name", flat=True)]
    names = sorted({n for n in names if n and len(n) > 2}, key=len, reverse=True)

    def clean(text: str) -> str:
        for name in names:
            text = text.replace(name, "[…]")
        return text

    return clean


def closing_summary(case: CrisisCase, *, now: dt.datetime | None = None) -> dict[str, Any]:
    """Durations and counts for the lessons-learned meeting form."""
    durations = phase_durations(case, now=now)
    return {
        "phases": {
            Phase(k).label: round(v.total_seconds() / 86400, 1) for k, v in durations.items()
        },
        "entries": case.log.count(),
        "decisions": case.decisions.count(),
        "tasks_done": case.tasks.filter(status="done").count(),
    }

"""Demo data of the crisis service (``carbet demo load``): one ransomware crisis closed ten days
ago with its whole history (report, qualification, every phase, main courante, decisions, tasks,
declarations, care continuity, indicators, lessons turned into findings and actions), and one
compromised-IT-provider crisis under way at the Anse-Bleue hospital (its director sits in the
cell, so his one-page view has something to show).

Everything goes through the service's own functions, dated in the past with their ``now``
arguments. Nothing is sent: situation points stay drafts (sending mails the cell). Idempotent: a
structure that already has a crisis case is left alone.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.utils import timezone

from carbet.core.tenancy import SYSTEM
from carbet.crisis import (
    services,
    services_board,
    services_clock,
    services_evidence,
    services_lessons,
    services_log,
    services_work,
)
from carbet.crisis.choices import ActivityMode, EntryKind, Phase, TaskStatus
from carbet.crisis.models import Activity, CrisisCase, Obligation, Task

CLOSED, ONGOING = "ch-saint-ilet", "ch-anse-bleue"
CENTRE = "Centre régional de ressources cyber (démonstration)"


def _at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, minute)))


def _director(structure: Any, users: list[Any]) -> Any | None:
    from carbet.core.tenancy import can
    from carbet.crisis.service import CrisisPerm

    for user in users:
        if not getattr(user, "centre_role", "") and can(user, CrisisPerm.REPORT, structure):
            return user
    return None


def _log(case: CrisisCase, when: dt.datetime, kind: str, text: str, **extra: Any) -> Any:
    return services_log.append_entry(
        SYSTEM,
        case,
        text=text,
        kind=kind,
        event_at=when,
        author_label=extra.pop("author", CENTRE),
        now=when + dt.timedelta(minutes=4),
        **extra,
    )


def _phase(case: CrisisCase, target: str, when: dt.datetime, reason: str) -> None:
    services.change_phase(SYSTEM, case, target, reason=reason, now=when)


def _open(structure: Any, users: list[Any], start: dt.datetime, **spec: Any) -> CrisisCase:
    reporter = _director(structure, users) or SYSTEM
    report = services.report_incident(
        reporter,
        structure,
        what=spec["what"],
        since=start - dt.timedelta(minutes=50),
        affected=spec["affected"],
        contact_name=spec["contact"],
        contact_phone="06 39 98 00 42",
        now=start,
    )
    case = services.qualify_report(
        SYSTEM,
        report,
        qualification="crisis",
        severity=4,
        personal_data=spec["personal_data"],
        category=spec["category"],
        note=spec["note"],
        now=start + dt.timedelta(minutes=40),
    )
    assert case is not None
    return case


def _board(case: CrisisCase, when: dt.datetime, modes: dict[str, tuple[str, str]]) -> None:
    for activity in Activity.objects.filter(case=case):
        mode, procedure = modes.get(activity.name, (ActivityMode.NORMAL, ""))
        if mode != activity.mode:
            services_board.set_activity_mode(
                SYSTEM, activity, mode=mode, procedure=procedure, since=when, now=when
            )


def _tasks_done(case: CrisisCase, when: dt.datetime, share: float) -> None:
    tasks = list(Task.objects.filter(case=case).order_by("priority", "pk"))
    for task in tasks[: int(len(tasks) * share)]:
        services_work.update_task(SYSTEM, task, status=TaskStatus.DONE, now=when)


def _declare(case: CrisisCase, kind: str, when: dt.datetime, reference: str) -> None:
    obligation = Obligation.objects.filter(case=case, kind=kind, applicable=True).first()
    if obligation is not None:
        services_clock.mark_obligation_sent(
            SYSTEM, obligation, sent_at=when, reference=reference, now=when
        )


def _closed(structure: Any, users: list[Any], today: dt.date) -> int:
    day0 = today - dt.timedelta(days=104)
    start = _at(day0, 6, 40)
    case = _open(
        structure,
        users,
        start,
        what=(
            "Les postes des urgences affichent un message de rançon ; "
            "le dossier patient ne répond plus."
        ),
        affected="Urgences, admissions, laboratoire, messagerie",
        contact="Administrateur de garde",
        personal_data=True,
        category="ransomware",
        note="Rançongiciel confirmé par le prestataire informatique : crise",
    )
    t = start + dt.timedelta(minutes=45)
    _log(
        case,
        t,
        EntryKind.FACT,
        "Chiffrement constaté sur 2 serveurs de fichiers et 40 postes.",
        source="DSI",
        verified=True,
    )
    _log(
        case,
        t + dt.timedelta(minutes=10),
        EntryKind.ACTION,
        "Coupure des accès internet et des liens avec le GHT.",
        source="DSI",
        verified=True,
    )
    services_work.record_decision(
        SYSTEM,
        case,
        title="Déclenchement du plan blanc numérique",
        options=[
            "Rester en fonctionnement normal surveillé",
            "Plan blanc numérique, procédures papier",
        ],
        chosen="Plan blanc numérique, procédures papier pour toutes les unités",
        rationale="Dossier patient indisponible, durée de l'arrêt inconnue.",
        decided_by="Directeur de garde",
        decided_at=t + dt.timedelta(minutes=30),
        now=t + dt.timedelta(minutes=35),
    )
    _board(
        case,
        t + dt.timedelta(minutes=40),
        {
            "Admissions": (ActivityMode.DEGRADED, "Admissions sur formulaire papier"),
            "Urgences": (ActivityMode.DEGRADED, "Dossiers papier, régulation SAMU prévenue"),
            "Laboratoire": (ActivityMode.STOPPED, "Analyses urgentes envoyées au CHU"),
        },
    )
    _declare(case, "ars", t + dt.timedelta(hours=2), "SIG-DEMO-0412")
    pris = services_board.add_stakeholder(
        SYSTEM,
        case,
        kind="pris",
        name="Équipe de réponse",
        organisation="Réponse Incident Démo",
        phone="06 39 98 00 77",
        qualification_ref="PRIS-DEMO-2025-12",
    )
    services_board.record_call(
        SYSTEM,
        pris,
        text="Intervention sur site confirmée pour 14 h ; collecte des journaux.",
        event_at=t + dt.timedelta(hours=3),
        now=t + dt.timedelta(hours=3),
    )
    for value, kind in (("203.0.113.45", "ipv4"), ("update-check.example.net", "domain")):
        services_evidence.add_indicator(
            SYSTEM, case, type=kind, value=value, tlp="amber", source="PRIS", author_label=CENTRE
        )
    _declare(case, "cnil", t + dt.timedelta(hours=40), "CNIL-DEMO-7781")
    _declare(case, "police", t + dt.timedelta(hours=30), "PV-DEMO-2291")
    _declare(case, "insurer", t + dt.timedelta(days=2), "SIN-DEMO-5520")
    _phase(
        case, Phase.CONTAINMENT, t + dt.timedelta(hours=5), "Périmètre connu, isolement en cours"
    )
    wrong = _log(
        case,
        t + dt.timedelta(hours=8),
        EntryKind.FACT,
        "Sauvegardes chiffrées elles aussi.",
        source="PRIS",
    )
    services_log.correct_entry(
        SYSTEM,
        wrong,
        text="Sauvegardes intactes (copie hors ligne du dimanche) : vérifié par le PRIS.",
        verified=True,
        source="PRIS",
        now=t + dt.timedelta(hours=11),
    )
    _tasks_done(case, t + dt.timedelta(days=6), 0.5)
    _phase(
        case, Phase.REMEDIATION, t + dt.timedelta(days=6), "Attaquant évincé, comptes réinitialisés"
    )
    _board(
        case,
        t + dt.timedelta(days=21),
        {"Admissions": (ActivityMode.DEGRADED, "Admissions papier, saisie différée")},
    )
    _phase(
        case,
        Phase.REBUILD,
        t + dt.timedelta(days=24),
        "Reconstruction de l'annuaire et des serveurs",
    )
    _board(case, t + dt.timedelta(days=60), {})
    _tasks_done(case, t + dt.timedelta(days=80), 1.0)
    _phase(
        case, Phase.EXIT, t + dt.timedelta(days=85), "Soins revenus à la normale, systèmes vérifiés"
    )
    for kind, text, recommendation, workstream in (
        ("worked", "Cellule de crise réunie en 40 minutes", "", "care"),
        (
            "improve",
            "Annuaire de crise introuvable sans la messagerie",
            "Imprimer le kit de crise et le ranger en salle de crise",
            "communication",
        ),
        (
            "improve",
            "Comptes d'administration partagés avec le prestataire",
            "Comptes nominatifs et double authentification pour les accès du prestataire",
            "technical",
        ),
    ):
        services_lessons.add_lesson(
            SYSTEM,
            case,
            kind=kind,
            text=text,
            recommendation=recommendation,
            workstream=workstream,
            severity=3 if kind == "improve" else 2,
        )
    _phase(
        case, Phase.LESSONS, t + dt.timedelta(days=90), "Retour d'expérience tenu avec la cellule"
    )
    services_lessons.publish_lessons(SYSTEM, case, now=t + dt.timedelta(days=92))
    services_work.draft_sitrep(SYSTEM, case, now=t + dt.timedelta(days=93))
    _phase(
        case,
        Phase.CLOSED,
        t + dt.timedelta(days=94),
        "Actions du retour d'expérience inscrites au plan",
    )
    return 1


def _ongoing(structure: Any, users: list[Any], today: dt.date) -> int:
    start = _at(today - dt.timedelta(days=9), 22, 15)
    case = _open(
        structure,
        users,
        start,
        what=(
            "Le prestataire informatique signale que son outil de prise en main à distance "
            "a été compromis."
        ),
        affected="Postes administratifs, serveur de facturation",
        contact="Rémi Demo-Bellerose",
        personal_data=False,
        category="prestataire",
        note="Compromission du prestataire confirmée : crise, gravité critique",
    )
    t = start + dt.timedelta(minutes=45)
    _log(
        case,
        t,
        EntryKind.FACT,
        "Connexions à distance inhabituelles la nuit sur 6 postes.",
        source="Prestataire",
        verified=True,
    )
    _log(
        case,
        t + dt.timedelta(minutes=20),
        EntryKind.ACTION,
        "Coupure de l'accès distant du prestataire.",
        source="Direction",
        verified=True,
    )
    services_work.record_decision(
        SYSTEM,
        case,
        title="Facturation en mode dégradé",
        options=["Arrêter la facturation", "Facturation différée sur papier"],
        chosen="Facturation différée, saisie à la reprise",
        rationale="Pas d'impact sur les soins ; éviter une saisie sur des postes non vérifiés.",
        decided_by="Directeur",
        decided_at=t + dt.timedelta(hours=1),
        now=t + dt.timedelta(hours=1),
    )
    _board(
        case,
        t + dt.timedelta(hours=1),
        {
            "Facturation": (ActivityMode.STOPPED, "Facturation différée"),
            "Admissions": (ActivityMode.DEGRADED, "Admissions sur formulaire papier"),
        },
    )
    _declare(case, "ars", t + dt.timedelta(hours=3), "SIG-DEMO-0977")
    _phase(
        case,
        Phase.CONTAINMENT,
        t + dt.timedelta(hours=6),
        "Accès du prestataire coupés, postes isolés",
    )
    _tasks_done(case, t + dt.timedelta(days=3), 0.3)
    services_evidence.add_indicator(
        SYSTEM,
        case,
        type="ipv4",
        value="198.51.100.23",
        tlp="amber",
        source="Prestataire",
        author_label=CENTRE,
    )
    _phase(case, Phase.REMEDIATION, t + dt.timedelta(days=4), "Outil d'accès distant remplacé")
    services_work.draft_sitrep(SYSTEM, case, now=timezone.now() - dt.timedelta(hours=2))
    return 1


def load(structures: dict[str, Any], users: list[Any], today: dt.date | None = None) -> int:
    """Add the two demo crises; returns how many cases were created."""
    today = today or timezone.localdate()
    created = 0
    for key, build in ((CLOSED, _closed), (ONGOING, _ongoing)):
        structure = structures.get(key)
        if structure is None or CrisisCase.objects.filter(structure=structure).exists():
            continue
        with transaction.atomic():
            created += build(structure, users, today)
    return created


def wipe() -> int:
    """Remove every crisis row, for ``carbet demo reset`` on a database that holds only the demo
    (the kernel checks that first). Cases protect their structure and the main courante refuses
    DELETE at the database level: the append-only triggers are lifted inside this transaction
    only, and the foreign keys (deferred) are checked at its commit. Returns the cases removed."""
    from django.apps import apps
    from django.db import connection

    from carbet.crisis import triggers

    cases = CrisisCase.objects.count()
    vendor = connection.vendor
    tables = [model._meta.db_table for model in apps.get_app_config("crisis").get_models()]
    with transaction.atomic(), connection.cursor() as cursor:
        for statement in triggers.DROP.get(vendor, []):
            cursor.execute(statement)
        for table in tables:
            cursor.execute(f"DELETE FROM {connection.ops.quote_name(table)}")  # noqa: S608
        for statement in triggers.CREATE.get(vendor, []):
            cursor.execute(statement)
    return cases

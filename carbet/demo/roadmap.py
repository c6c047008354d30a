"""The roadmap side of the demo region: diagnostics, CaRE answers, evidence, backup registers,
automatic facts, proposed roadmaps and twelve weeks of indicators — all through the services.

Call ``load_roadmap(structures, users, today=today)`` after the registry (and, ideally, after the
findings history so proposals can link findings). It is idempotent: a structure that already
has a diagnostic is left alone. Answers are derived deterministically from the structure's
position in the region, so every demo looks the same.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone

from carbet.accounts.models import User
from carbet.accounts.roles import CentreRole
from carbet.core.models import Structure
from carbet.core.tenancy import SYSTEM
from carbet.demo.pdf import mandate_pdf
from carbet.roadmap import (
    auto_evidence,
    indicators,
    services,
    services_backups,
    services_evidence,
    services_roadmap,
)
from carbet.roadmap.models import Assessment, Framework

TREND_WEEKS = 12
BACKUP_SYSTEMS = (
    ("Dossier de soins (DPI)", "critical", "image"),
    ("Messagerie", "high", "saas"),
    ("Serveur de fichiers", "high", "files"),
)


@dataclass
class RoadmapReport:
    diagnostics: int = 0
    roadmaps: int = 0
    backup_systems: int = 0
    evidence: int = 0
    indicator_days: int = 0


def _level(key: str, salt: str) -> int:
    """A stable pseudo-random 0–3 for (structure, question)."""
    return hashlib.sha256(f"{key}:{salt}".encode()).digest()[0] % 4


def _at(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(10, 0)))


def load_roadmap(
    structures: dict[str, Structure], users: list[User], *, today: date | None = None
) -> RoadmapReport:
    today = today or timezone.localdate()
    report = RoadmapReport()
    diagnostic = Framework.objects.filter(code=services.DIAGNOSTIC_CODE).first()
    d2 = Framework.objects.filter(code="care-d2").first()
    if diagnostic is None or d2 is None:
        return report  # frameworks are loaded by migrate; nothing to build on otherwise
    analyst = next(
        (u for u in users if u.centre_role in (CentreRole.ANALYST, CentreRole.ADMIN)), SYSTEM
    )
    with transaction.atomic():
        for index, (key, structure) in enumerate(sorted(structures.items())):
            if Assessment.objects.filter(structure=structure, framework=diagnostic).exists():
                continue
            _diagnostic(structure, diagnostic, key, index)
            report.diagnostics += 1
            _care(structure, d2, key)
            _facts(structure, key, index, today)
            report.backup_systems += _backups(structure, key, index, today, analyst)
            if index % 3 == 0:
                report.evidence += _evidence(structure, analyst, today)
            if index % 2 == 0:
                services_roadmap.propose_roadmap(analyst, structure)
                report.roadmaps += 1
    if report.diagnostics:
        for week in range(TREND_WEEKS, -1, -1):
            indicators.compute_all(today - timedelta(weeks=week))
            report.indicator_days += 1
    return report


def _diagnostic(structure: Structure, framework: Framework, key: str, index: int) -> None:
    assessment = services.assessment_for(structure, framework)
    choices = {}
    for question in services.requirements_of(framework):
        level = _level(key, question.code)
        if question.scored and level == 0 and index % 4 == 1:
            choices[question.code] = "unknown"
        else:
            # Hospitals are a little further along than small nursing homes.
            bonus = 1 if structure.category in ("ch", "chu", "clinique") and level < 3 else 0
            choices[question.code] = str(min(level + bonus, 3))
    services.save_theme(SYSTEM, assessment, choices)


def _care(structure: Structure, framework: Framework, key: str) -> None:
    assessment = services.assessment_for(structure, framework)
    results = ("not_met", "partial", "met", "met")
    for requirement in services.requirements_of(framework)[:6]:
        services.answer(
            SYSTEM,
            assessment,
            requirement,
            result=results[_level(key, requirement.code)],
            justification="Réponse de la démonstration",
        )


def _facts(structure: Structure, key: str, index: int, today: date) -> None:
    """Exercises: no Carbet service records them yet, so the demo writes them, once, here.

    Directory audits, exposure scans and phishing campaigns are not written here: their own
    services hand them to the roadmap when the demo runs them (``carbet.demo.directory``,
    ``exposure`` and ``awareness``), so CaRE evidence and indicators name the same audits,
    scans and campaigns as the pages of those services."""
    if index % 3 != 2:
        auto_evidence.record(
            structure,
            "exercise",
            at=_at(today - timedelta(weeks=1 + index % 9)),
            value={"continuity_test": index % 2 == 0, "level": "débutant"},
            reference="demo-exercise",
        )


def _backups(structure: Structure, key: str, index: int, today: date, actor) -> int:
    count = 0
    for name, criticality, method in BACKUP_SYSTEMS[: 1 + index % 3]:
        good = _level(key, name) >= 2
        system = services_backups.save_system(
            actor,
            structure,
            {
                "name": name,
                "criticality": criticality,
                "method": method,
                "copies": 3 if good else 1,
                "media": 2 if good else 1,
                "offsite": good,
                "immutable_offline": good,
                "supervised": good,
                "last_success_on": today - timedelta(days=1 if good else 12),
            },
        )
        count += 1
        if good:
            services_backups.record_restore_test(
                actor,
                system,
                {
                    "tested_on": today - timedelta(days=30 + index),
                    "scope": f"Restauration complète : {name}",
                    "result": "success",
                    "to_production": True,
                    "business_referent": "Cadre de santé (démo)",
                    "duration_hours": Decimal("3.5"),
                },
            )
    return count


def _evidence(structure: Structure, actor, today: date) -> int:
    pssi = services.Requirement.objects.get(framework__code="care-d2", code="d2.p1")
    document = mandate_pdf(
        [f"Politique de sécurité — {structure.name}", "Signée par la direction (démo)."]
    )
    services_evidence.upload(
        actor,
        structure,
        SimpleUploadedFile("pssi.pdf", document, content_type="application/pdf"),
        title="PSSI signée",
        issued_on=today - timedelta(days=200),
        valid_until=today + timedelta(days=20),
        requirements=[pssi],
    )
    return 1

"""Cross-tenant walk hooks of the roadmap service (see tests/walk_seeds.py)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.files.base import ContentFile

from carbet.core.tenancy import SYSTEM
from carbet.roadmap import auto_evidence, services
from carbet.roadmap.models import (
    Assessment,
    BackupSystem,
    Evidence,
    Framework,
    IndicatorValue,
    Milestone,
    RestoreTest,
    Roadmap,
    RoadmapItem,
)

SECRET = "CH Alpha-Secret"
# Key pages for the accessibility check in Chromium (see tests/walk_seeds.py).
A11Y_PAGES = [
    ("director", "/feuille-de-route/structure/{structure}/"),
    ("director", "/feuille-de-route/structure/{structure}/diagnostic/"),
    ("director", "/feuille-de-route/structure/{structure}/plan/"),
    ("director", "/feuille-de-route/structure/{structure}/indicateurs/"),
    ("director", "/feuille-de-route/structure/{structure}/sauvegardes/"),
    ("analyst", "/feuille-de-route/"),
    ("analyst", "/feuille-de-route/referentiels/"),
    ("ars", "/feuille-de-route/indicateurs/region/"),
]


def _assessment(structure: Any, code: str = "care-d2") -> Assessment:
    framework = Framework.objects.get(code=code)
    assessment = services.assessment_for(structure, framework)
    requirement = services.requirements_of(framework)[0]
    services.answer(SYSTEM, assessment, requirement, result="partial", justification=SECRET)
    return assessment


def _item(structure: Any) -> RoadmapItem:
    roadmap, _created = Roadmap.objects.get_or_create(
        structure=structure, defaults={"start_year": dt.date.today().year}
    )
    item, _created = RoadmapItem.objects.get_or_create(
        roadmap=roadmap,
        structure=structure,
        title=f"{SECRET} chantier",
        defaults={"year": roadmap.start_year},
    )
    return item


def _backup(structure: Any) -> BackupSystem:
    system, _created = BackupSystem.objects.get_or_create(
        structure=structure, name=f"{SECRET} DPI", defaults={"method": "image"}
    )
    return system


def seed(structure_a: Any) -> None:
    """One of each roadmap object for structure A, named after the secret marker."""
    _assessment(structure_a)
    diagnostic = services.assessment_for(structure_a, Framework.objects.get(code="diagnostic"))
    services.save_theme(SYSTEM, diagnostic, {"acc.mfa": "1"})
    item = _item(structure_a)
    Milestone.objects.create(item=item, title=f"{SECRET} jalon", due_on=dt.date.today())
    system = _backup(structure_a)
    RestoreTest.objects.create(
        system=system,
        structure=structure_a,
        tested_on=dt.date.today(),
        scope=SECRET,
        result="success",
        business_referent=SECRET,
    )
    evidence = Evidence(
        structure=structure_a,
        title=f"{SECRET} PSSI",
        document_sha256="0" * 64,
        issued_on=dt.date.today(),
        document_name="pssi.pdf",
    )
    evidence.document.save("pssi.pdf", ContentFile(b"%PDF-1.4 secret"), save=False)
    evidence.save()
    evidence.covered.set([structure_a])
    auto_evidence.record(structure_a, "directory_audit", value={"anssi_level": 2}, reference=SECRET)
    IndicatorValue.objects.create(
        structure=structure_a, code="directory_level", day=dt.date.today(), value=2
    )


API_OBJECT_PARAMETERS = {
    ("framework-assessments", "id"): lambda region: _assessment(region.a),
    ("plan-items", "id"): lambda region: _item(region.a),
    ("backups", "id"): lambda region: _backup(region.a),
}

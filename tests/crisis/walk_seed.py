"""Crisis objects of structure A for the cross-tenant walks (see tests/walk_seeds.py): a report,
an open case with its cell, log, decision, task, sitrep, stakeholders (a PRIS with a live
provider link), board, indicator, evidence with custody, lesson — all through the services,
each carrying "CH Alpha-Secret" so a leak on a page without ids shows."""

from __future__ import annotations

import datetime as dt

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from carbet.core.tenancy import SYSTEM
from carbet.crisis.models import CrisisCase


def _case(structure) -> CrisisCase:
    existing = CrisisCase.objects.filter(structure=structure).first()
    if existing is not None:
        return existing
    from carbet.crisis import (
        services,
        services_board,
        services_evidence,
        services_lessons,
        services_log,
        services_work,
        tokens,
    )

    now = timezone.now() - dt.timedelta(hours=3)
    report = services.report_incident(
        SYSTEM,
        structure,
        what="CH Alpha-Secret rançongiciel",
        affected="CH Alpha-Secret urgences",
        contact_name="Mme Alpha Secrète",
        contact_phone="0600000000",
        now=now,
    )
    case = services.qualify_report(
        SYSTEM,
        report,
        qualification="crisis",
        severity=4,
        personal_data=True,
        category="ransomware",
        note="CH Alpha-Secret",
        now=now + dt.timedelta(minutes=20),
    )
    assert case is not None
    services.add_cell_member(SYSTEM, case, name="Mme Alpha Secrète", role="director")
    entry = services_log.append_entry(
        SYSTEM, case, text="CH Alpha-Secret fait", kind="fact", author_label="CH Alpha-Secret"
    )
    services_log.correct_entry(SYSTEM, entry, text="CH Alpha-Secret fait corrigé")
    services_work.record_decision(
        SYSTEM,
        case,
        title="CH Alpha-Secret décision",
        options=["A", "B"],
        chosen="A",
        rationale="CH Alpha-Secret",
        decided_by="Mme Alpha Secrète",
    )
    services_work.add_task(SYSTEM, case, workstream="technical", title="CH Alpha-Secret tâche")
    services_work.draft_sitrep(SYSTEM, case)
    pris = services_board.add_stakeholder(
        SYSTEM, case, kind="pris", name="CH Alpha-Secret PRIS", qualification_ref="PRIS-1"
    )
    services_board.record_call(SYSTEM, pris, text="CH Alpha-Secret appel")
    tokens.grant_provider_access(SYSTEM, pris, days=3)
    services_board.add_asset(SYSTEM, case, label="CH Alpha-Secret serveur")
    services_evidence.add_indicator(
        SYSTEM, case, type="domain", value="secret-alpha-asset.test", tlp="amber"
    )
    evidence = services_evidence.add_evidence(
        SYSTEM,
        case,
        SimpleUploadedFile("alpha.txt", b"CH Alpha-Secret journal\n", content_type="text/plain"),
        holder="CH Alpha-Secret DSI",
        description="CH Alpha-Secret preuve",
        sensitive=False,
    )
    services_evidence.add_custody(
        SYSTEM, evidence, holder="CH Alpha-Secret PRIS", action="transferred", reason="analyse"
    )
    services_lessons.add_lesson(SYSTEM, case, kind="improve", text="CH Alpha-Secret leçon")
    return case


def seed(structure_a) -> None:
    _case(structure_a)


API_OBJECT_PARAMETERS = {
    ("reports", "id"): lambda region: _case(region.a).report,
    ("cases", "id"): lambda region: _case(region.a),
    ("log-entries", "id"): lambda region: _case(region.a).log.order_by("sequence").first(),
    ("tasks", "id"): lambda region: _case(region.a).tasks.order_by("pk").first(),
    ("obligations", "id"): lambda region: _case(region.a).obligations.order_by("pk").first(),
    ("activities", "id"): lambda region: _case(region.a).activities.order_by("pk").first(),
    ("case-assets", "id"): lambda region: _case(region.a).assets.order_by("pk").first(),
}

# Key pages for the accessibility check in Chromium (demo region accounts). The case pages need
# an id the demo does not fix; tests/crisis/test_browser.py walks them (with axe) instead.
A11Y_PAGES = [
    ("director", "/crise/"),
    ("director", "/crise/signaler/"),
    ("director", "/crise/structures/{structure}/"),
    ("analyst", "/crise/"),
    ("ars", "/crise/region/"),
]

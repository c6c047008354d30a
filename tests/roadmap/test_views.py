"""Pages of the roadmap service: every page renders for the structure's people, refuses the
others, and the main flows work end to end through the forms."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from carbet.audit.models import AuditEntry
from carbet.roadmap import auto_evidence, indicators, services_roadmap
from carbet.roadmap.models import Assessment, BackupSystem, Evidence, RoadmapItem
from tests.roadmap.conftest import pdf_upload


def _pages(rm):
    a = rm.a.pk
    return [
        reverse("roadmap:home"),
        reverse("roadmap:structure", args=[a]),
        reverse("roadmap:assessment", args=[a, "care-d2"]),
        reverse("roadmap:assessment", args=[a, "anssi-hygiene"]),
        reverse("roadmap:evidence", args=[a]),
        reverse("roadmap:plan", args=[a]),
        reverse("roadmap:care_checklist", args=[a]),
        reverse("roadmap:backups", args=[a]),
        reverse("roadmap:indicators", args=[a]),
        reverse("roadmap:frameworks"),
        reverse("roadmap:framework", args=["diagnostic"]),
    ]


def test_every_page_renders_for_the_structure_and_the_centre(rm):
    services_roadmap.propose_roadmap(rm.users["centre_admin"], rm.a)
    indicators.compute_all()
    for role in ("referent", "director", "it_provider", "centre_analyst", "ght_referent"):
        client = rm.client(role)
        for url in _pages(rm):
            response = client.get(url, follow=True)
            assert response.status_code == 200, (role, url, response.status_code)


def test_other_structures_and_the_ars_are_refused(rm):
    a = rm.a.pk
    for role in ("director_b", "ars_viewer", "nobody"):
        client = rm.client(role)
        for url in _pages(rm)[1:9]:
            assert client.get(url).status_code in (403, 404), (role, url)
    assert rm.client("ars_viewer").get(reverse("roadmap:regional")).status_code == 200
    assert rm.client("director_b").get(reverse("roadmap:regional")).status_code == 403
    # the IT provider sees but may not answer or propose
    it = rm.client("it_provider")
    assert it.get(reverse("roadmap:diagnostic", args=[a])).status_code == 403
    assert it.post(reverse("roadmap:plan_propose", args=[a])).status_code == 403


def test_diagnostic_one_theme_per_step_with_htmx(rm):
    client = rm.client("director")
    url = reverse("roadmap:diagnostic", args=[rm.a.pk])
    page = client.get(url)
    assert page.status_code == 200 and "Étape 1 sur 7" in page.content.decode()
    step = client.post(
        url, {"step": "1", "q-ctx.prestataire": "2", "q-ctx.dpi": "na"}, HTTP_HX_REQUEST="true"
    )
    assert step.status_code == 200 and "Étape 2 sur 7" in step.content.decode()
    assert "<html" not in step.content.decode()  # a fragment for htmx
    last = client.post(url, {"step": "7", "q-rea.procedure": "0"}, HTTP_HX_REQUEST="true")
    assert last.status_code == 204 and last["HX-Redirect"].endswith(f"/structure/{rm.a.pk}/")
    assessment = Assessment.objects.get(structure=rm.a, framework__code="diagnostic")
    assert assessment.answers.count() == 3
    bad = client.post(url, {"step": "2", "q-gov.referent": "9"})
    assert "Réponse inattendue" in bad.content.decode()


def test_answer_upload_share_and_delete_evidence_through_the_pages(rm):
    client = rm.client("ght_referent")
    a = rm.a.pk
    response = client.post(
        reverse("roadmap:assessment", args=[a, "care-d2"]),
        {"requirement": "d2.p1", "result": "met", "justification": "PSSI 2024"},
    )
    assert response.status_code == 302
    response = client.post(
        reverse("roadmap:evidence", args=[a]),
        {
            "title": "PSSI signée",
            "document": pdf_upload("pssi.pdf"),
            "issued_on": dt.date.today().isoformat(),
            "share_with": [rm.a2.pk],
        },
    )
    assert response.status_code == 302, response.content[:500]
    evidence = Evidence.objects.get(title="PSSI signée")
    assert set(evidence.covered.values_list("pk", flat=True)) == {rm.a.pk, rm.a2.pk}
    assert AuditEntry.objects.filter(action="evidence.upload").exists()
    download = rm.client("referent").get(reverse("roadmap:evidence_download", args=[evidence.pk]))
    assert download.status_code == 200
    assert (
        rm.client("director_b")
        .get(reverse("roadmap:evidence_download", args=[evidence.pk]))
        .status_code
        == 404
    )
    # an a2-only referent sees it but cannot delete a's document
    assert (
        rm.client("referent_a2")
        .post(reverse("roadmap:evidence_delete", args=[evidence.pk]))
        .status_code
        == 403
    )
    assert client.post(reverse("roadmap:evidence_delete", args=[evidence.pk])).status_code == 302
    assert not Evidence.objects.filter(pk=evidence.pk).exists()
    assert AuditEntry.objects.filter(action="evidence.delete").exists()


def test_roadmap_propose_edit_validate_and_backup_register_pages(rm):
    analyst, a = rm.client("centre_analyst"), rm.a.pk
    assert analyst.post(reverse("roadmap:plan_propose", args=[a])).status_code == 302
    item = RoadmapItem.objects.filter(structure=rm.a).order_by("rank").first()
    assert item.requirement.prerequisite
    response = analyst.post(
        reverse("roadmap:item", args=[item.pk]),
        {
            "title": "Faire signer la PSSI",
            "year": item.year,
            "priority": 1,
            "status": "in_progress",
            "budget": "1200",
            "funding_domain": "D2",
            "funding_amount": "1000",
        },
    )
    assert response.status_code == 302, response.content[:800]
    item.refresh_from_db()
    assert item.title == "Faire signer la PSSI" and not item.proposed
    assert (
        analyst.post(
            reverse("roadmap:milestone_add", args=[item.pk]),
            {"title": "Signature", "due_on": "2030-01-10"},
        ).status_code
        == 302
    )
    director = rm.client("director")
    assert director.post(reverse("roadmap:plan_validate", args=[a])).status_code == 302
    assert AuditEntry.objects.filter(action="roadmap.validate").exists()
    it = rm.client("it_provider")
    response = it.post(
        reverse("roadmap:backups", args=[a]),
        {
            "name": "DPI",
            "criticality": "critical",
            "method": "image",
            "frequency_days": 1,
            "copies": 3,
            "media": 2,
            "offsite": "on",
            "immutable_offline": "on",
            "last_success_on": dt.date.today().isoformat(),
        },
    )
    assert response.status_code == 302, response.content[:800]
    system = BackupSystem.objects.get(structure=rm.a)
    response = it.post(
        reverse("roadmap:restore_test", args=[system.pk]),
        {
            "tested_on": dt.date.today().isoformat(),
            "scope": "Base DPI",
            "result": "success",
            "to_production": "on",
            "business_referent": "Cadre de santé",
        },
    )
    assert response.status_code == 302
    checklist = director.get(reverse("roadmap:care_checklist", args=[a])).content.decode()
    assert "Test de restauration du" in checklist


def test_framework_upload_reports_the_line(rm):
    admin = rm.client("centre_admin")
    from django.core.files.uploadedfile import SimpleUploadedFile

    broken = SimpleUploadedFile("new.json", b'{\n "format": 1,\n "code": "X Y"\n}\n')
    response = admin.post(reverse("roadmap:frameworks"), {"file": broken})
    assert response.status_code == 200
    assert "new.json:3:" in response.content.decode()
    assert (
        rm.client("referent").post(reverse("roadmap:frameworks"), {"file": broken}).status_code
        == 403
    )


def test_framework_upload_goes_through_the_upload_checks(rm):
    """Not JSON text (a binary renamed .json), or too large: refused before any parsing."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    admin = rm.client("centre_admin")
    binary = SimpleUploadedFile("cadre.json", b"\x7fELF\x00\x01\x02" * 10)
    page = admin.post(reverse("roadmap:frameworks"), {"file": binary}).content.decode()
    assert "ne correspond pas" in page or "JSON" in page
    huge = SimpleUploadedFile("cadre.json", b"{" + b" " * (2 * 1024 * 1024 + 10) + b"}")
    page = admin.post(reverse("roadmap:frameworks"), {"file": huge}).content.decode()
    assert "2 Mo au plus" in page


def test_regional_page_shows_aggregates_only(rm):
    auto_evidence.record(rm.a, "directory_audit", value={"anssi_level": 3})
    indicators.compute_all()
    page = rm.client("ars_viewer").get(reverse("roadmap:regional")).content.decode()
    assert "Indicateurs régionaux : maturité cyber" in page
    assert rm.a.name not in page and rm.a.finess_et not in page


@pytest.mark.parametrize("role", ["director", "centre_admin"])
def test_pdf_downloads(rm, role):
    response = rm.client(role).get(reverse("roadmap:plan_pdf", args=[rm.a.pk]))
    assert response.status_code == 200 and response.content.startswith(b"%PDF")

"""Action-plan and campaign pages: what each role sees and may do, and cross-tenant refusals."""

from __future__ import annotations

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.urls import reverse

from carbet.findings.choices import Status
from carbet.findings.models import ActionEvidence, ActionItem, ActionStatus, Campaign, Finding
from carbet.findings.plans import evidence, services
from tests.findings.test_plans_support import item, seed

LOCMEM = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}


@pytest.fixture
def plans(region, settings, tmp_path):
    """A's action (with evidence carrying a document) and B's action."""
    settings.MEDIA_ROOT = tmp_path
    fa1, fa2 = seed(
        region.a,
        item("Serveur VPN vulnérable", "critical", kev=True),
        item("Certificat expiré", "medium"),
    )
    [fb] = seed(region.b, item("Mot de passe par défaut Beta", "high"))
    action_a = services.create_action(
        region.users["director"],
        ActionItem(structure=region.a, title="Mettre à jour le VPN Alpha", priority=1),
        [fa1],
    )
    other_a = services.create_action(
        region.users["director"],
        ActionItem(structure=region.a, title="Renouveler le certificat", priority=3),
        [fa2],
    )
    action_b = services.create_action(
        region.users["director_b"], ActionItem(structure=region.b, title="Changer Beta"), [fb]
    )
    proof = evidence.submit_evidence(
        region.users["director"],
        action_a,
        note="Mise à jour faite",
        document=SimpleUploadedFile("preuve.pdf", b"%PDF-1.4 alpha proof"),
    )
    return {"a": action_a, "a_other": other_a, "b": action_b, "proof": proof, "fa2": fa2, "fb": fb}


def url(name, *args):
    return reverse(f"findings:{name}", args=args)


def test_plan_lists_visible_structures_by_priority(region, plans):
    page = region.client("director").get(url("actions")).content.decode()
    assert "Mettre à jour le VPN Alpha" in page and "Changer Beta" not in page
    assert page.index("Mettre à jour le VPN Alpha") < page.index("Renouveler le certificat")
    page_b = region.client("director_b").get(url("actions")).content.decode()
    assert "Changer Beta" in page_b and "Alpha" not in page_b
    staff = region.client("centre_analyst").get(url("actions")).content.decode()
    assert "Changer Beta" in staff and "Mettre à jour le VPN Alpha" in staff


@pytest.mark.parametrize(
    ("query", "present", "absent"),
    [
        ("priority=1", "Mettre à jour le VPN", "Renouveler"),
        ("status=todo", "Renouveler", "Mettre à jour le VPN"),  # A's VPN action is in progress
        ("owner=it_provider", None, "Renouveler"),
        ("overdue=on", None, "Renouveler"),
    ],
)
def test_plan_filters(region, plans, query, present, absent):
    services.update_progress(region.users["director"], plans["a"], progress=10)
    page = region.client("director").get(f"{url('actions')}?{query}").content.decode()
    if present:
        assert present in page
    assert absent not in page


def test_plan_page_refused_to_ars_and_people_without_membership(region, plans):
    assert region.client("ars_viewer").get(url("actions")).status_code == 403
    assert region.client("nobody").get(url("actions")).status_code == 403


def test_action_detail_and_its_forms_are_refused_across_structures(region, plans):
    client_b = region.client("director_b")
    a, proof = plans["a"], plans["proof"]
    for name in ("action_detail", "action_edit", "action_cancel", "evidence_upload"):
        assert client_b.get(url(name, a.pk)).status_code == 404, name
    assert client_b.post(url("action_progress", a.pk), {"status": "done"}).status_code == 404
    assert client_b.get(url("evidence_download", proof.pk)).status_code == 404
    assert client_b.post(url("evidence_approve", proof.pk)).status_code == 404
    assert client_b.get(url("structure_plan", region.a.pk)).status_code == 404
    assert client_b.get(f"{url('action_create')}?structure={region.a.pk}").status_code == 404
    a.refresh_from_db()
    assert a.status == ActionStatus.TODO


def test_director_creates_an_action_with_owner_and_linked_findings(region, plans):
    client = region.client("director")
    create = f"{url('action_create')}?structure={region.a.pk}"
    page = client.get(create).content.decode()
    assert "CaRE domaine 1" in page and 'list="funding-suggestions"' in page
    response = client.post(
        create,
        {
            "title": "Former le personnel",
            "why": "Le hameçonnage est la première porte d'entrée.",
            "how": "Une session de 1 h par service.",
            "owner_kind": "person",
            "owner_user": region.users["referent"].pk,
            "priority": 2,
            "effort": "days",
            "cost_estimate": "1500",
            "funding_source": "CaRE domaine 2",
            "due_date": "2030-06-30",
            "findings": [plans["fa2"].pk],
        },
    )
    assert response.status_code == 302
    action = ActionItem.objects.get(title="Former le personnel")
    assert action.owner_user == region.users["referent"]
    assert list(action.findings.all()) == [plans["fa2"]]


def test_create_form_refuses_bad_input_in_french(region, plans):
    client = region.client("director")
    create = f"{url('action_create')}?structure={region.a.pk}"
    response = client.post(
        create,
        {
            "title": "Lier Beta",
            "owner_kind": "person",
            "owner_user": region.users["director_b"].pk,
            "priority": 2,
            "findings": [plans["fb"].pk],
        },
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "Sélectionnez un choix valide" in page  # B's finding is not offered
    assert not ActionItem.objects.filter(title="Lier Beta").exists()
    response = client.post(
        create, {"title": "Prestataire", "owner_kind": "it_provider", "priority": 2}
    )
    assert "Indiquez le nom du prestataire" in response.content.decode()


def test_it_provider_reports_progress_but_cannot_edit_or_approve(region, plans):
    client = region.client("it_provider")
    a = plans["a"]
    page = client.get(url("action_detail", a.pk)).content.decode()
    assert "Mettre à jour l'avancement" in page
    assert url("action_edit", a.pk) not in page
    assert client.get(url("action_edit", a.pk)).status_code == 403
    assert client.get(url("action_cancel", a.pk)).status_code == 403
    assert client.get(url("action_create")).status_code == 403
    response = client.post(url("action_progress", a.pk), {"status": "in_progress", "progress": 60})
    assert response.status_code == 302
    a.refresh_from_db()
    assert a.progress == 60
    assert client.post(url("evidence_approve", plans["proof"].pk)).status_code == 403


def test_evidence_upload_download_and_approval(region, plans):
    a = plans["a"]
    director = region.client("director")
    response = director.post(
        url("evidence_upload", a.pk),
        {"note": "", "document": SimpleUploadedFile("x.exe", b"MZ"), "claim_done": "on"},
    )
    assert "PDF, PNG, JPEG" in response.content.decode()
    response = director.post(
        url("evidence_upload", a.pk),
        {"note": "Capture", "document": SimpleUploadedFile("c.png", b"\x89PNG\r\n\x1a\nimg")},
    )
    assert response.status_code == 302
    assert a.evidence.count() == 2
    download = director.get(url("evidence_download", plans["proof"].pk))
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == b"%PDF-1.4 alpha proof"
    response = region.client("centre_analyst").post(url("evidence_approve", plans["proof"].pk))
    assert response.status_code == 302
    a.refresh_from_db()
    assert a.status == ActionStatus.VERIFIED
    closed = Finding.objects.get(title="Serveur VPN vulnérable")
    assert closed.status == Status.VERIFIED_CLOSED and closed.status_reason == "preuve validée"


def test_actions_from_selected_findings(region, plans):
    f1, f2 = seed(region.a, item("Port RDP ouvert", "high"), item("SMBv1", "low"))
    client = region.client("referent")
    data = {"findings": [f1.pk, f2.pk], "mode": "each"}
    # the findings list posts its checkboxes as "finding": accepted too
    confirm = client.post(url("actions_from_findings"), {"finding": [f1.pk, f2.pk]})
    assert 'id="mode-grouped" name="mode" value="grouped" checked' in confirm.content.decode()
    confirm = client.post(url("actions_from_findings"), data)
    assert confirm.status_code == 200
    assert "Port RDP ouvert" in confirm.content.decode()
    assert not ActionItem.objects.filter(title="Port RDP ouvert").exists()
    response = client.post(url("actions_from_findings"), {**data, "confirm": "1"})
    assert response.status_code == 302
    assert ActionItem.objects.get(title="Port RDP ouvert").priority == 2
    assert ActionItem.objects.get(title="SMBv1").priority == 4
    # B's findings: not found for A's people; mixing structures is refused with a message
    assert (
        client.post(url("actions_from_findings"), {"findings": [plans["fb"].pk]}).status_code == 404
    )
    [other] = seed(region.a2, item("Autre site"))
    staff = region.client("centre_admin")
    response = staff.post(
        url("actions_from_findings"),
        {"findings": [f1.pk, other.pk], "mode": "grouped", "confirm": "1"},
        follow=True,
    )
    assert "une seule structure" in response.content.decode()
    it = region.client("it_provider")
    assert it.post(url("actions_from_findings"), {"findings": [f1.pk]}).status_code == 403


def test_structure_plan_for_the_director(region, plans):
    page = region.client("director").get(url("structure_plan", region.a.pk)).content.decode()
    assert page.index("À faire en priorité") < page.index("Mettre à jour le VPN Alpha")
    assert page.index("Mettre à jour le VPN Alpha") < page.index("Ensuite")
    assert page.index("Ensuite") < page.index("Renouveler le certificat")
    assert "Pourquoi" in page and "Qui" in page and "Pour quand" in page
    assert "Beta" not in page


@override_settings(MAILERS=LOCMEM)
def test_campaign_pages_for_centre_staff(region, plans, django_capture_on_commit_callbacks):
    seed(region.a, item("FortiOS SSL-VPN", "critical", cve="CVE-2024-21762", kev=True))
    seed(region.b, item("FortiOS SSL-VPN", "critical", cve="CVE-2024-21762"))
    staff = region.client("centre_analyst")
    response = staff.post(
        url("campaign_create"),
        {
            "title": "Corriger FortiOS",
            "description": "Faille exploitée.",
            "notice": "Appliquez le correctif FortiOS 7.4.3.",
            "match_cve": "CVE-2024-21762",
        },
    )
    campaign = Campaign.objects.get(title="Corriger FortiOS")
    assert response.status_code == 302
    preview = staff.get(url("campaign_detail", campaign.pk)).content.decode()
    assert "CH Alpha" in preview and "EHPAD Beta" in preview and "Lancer la campagne" in preview
    with django_capture_on_commit_callbacks(execute=True):
        assert staff.post(url("campaign_launch", campaign.pk)).status_code == 302
    assert len(mail.outbox) == 2
    detail = staff.get(url("campaign_detail", campaign.pk)).content.decode()
    assert "envoyé le" in detail
    assert "Corriger FortiOS" in staff.get(url("campaigns")).content.decode()
    empty = staff.post(url("campaign_create"), {"title": "Vide", "notice": "x"})
    assert "au moins un critère" in empty.content.decode()

    # A's director sees the notice on A's action, never the campaign pages or other structures
    director = region.client("director")
    action = ActionItem.objects.get(campaign=campaign, structure=region.a)
    page = director.get(url("action_detail", action.pk)).content.decode()
    assert "Appliquez le correctif FortiOS 7.4.3." in page and "EHPAD Beta" not in page
    for name, args in (
        ("campaigns", ()),
        ("campaign_create", ()),
        ("campaign_detail", (campaign.pk,)),
    ):
        for role in ("director", "referent", "it_provider", "director_b", "ars_viewer"):
            assert region.client(role).get(url(name, *args)).status_code == 403, (name, role)
    assert director.post(url("campaign_launch", campaign.pk)).status_code == 403


def test_cancel_page_keeps_the_reason(region, plans):
    client = region.client("director")
    a = plans["a_other"]
    assert "Expliquez" not in client.get(url("action_cancel", a.pk)).content.decode()
    response = client.post(url("action_cancel", a.pk), {"reason": ""})
    assert response.status_code == 200
    client.post(url("action_cancel", a.pk), {"reason": "Serveur retiré"})
    a.refresh_from_db()
    assert a.status == ActionStatus.CANCELLED and a.status_reason == "Serveur retiré"
    assert "Serveur retiré" in client.get(url("action_detail", a.pk)).content.decode()
    assert ActionEvidence.objects.count() == 1

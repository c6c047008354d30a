"""Staff pages and the API: who may do what, forms, the CSV import, the demo data."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from carbet.accounts.models import ApiToken
from carbet.audit.models import AuditEntry
from carbet.awareness.models import Campaign, SmtpProfile, Target
from carbet.awareness.services_targets import import_targets
from tests.awareness.conftest import draft_campaign, phishing_ready

CSV = (
    "Nom;E-mail;Service;Fonction;Groupes\n"
    "Léa Martin;lea.martin@alpha-mail.test;Soins;IDE;Nuit,Pôle A\n"
    "Sans adresse;;Soins;IDE;\n"
    "Marc Petit;pas-une-adresse;Accueil;;\n"
    "Léa Martin bis;LEA.MARTIN@alpha-mail.test;Soins;IDE;\n"
    "Inès Louis;ines.louis@alpha-mail.test;Accueil;Secrétaire;Pôle A\n"
).encode()


def test_csv_import_reports_each_bad_row_and_keeps_the_good_ones(region):
    report = import_targets(region.users["centre_analyst"], region.a, CSV)
    assert report.created == 2 and report.updated == 0
    assert sorted((e.row, e.column) for e in report.errors) == [
        (3, "email"),
        (4, "email"),
        (5, "email"),
    ]
    lea = Target.objects.get(email="lea.martin@alpha-mail.test")
    assert sorted(g.name for g in lea.groups.all()) == ["Nuit", "Pôle A"]
    assert lea.pseudonym.startswith("P-") and len(lea.pseudonym) == 10
    again = import_targets(region.users["centre_analyst"], region.a, CSV)
    assert again.created == 0 and again.updated == 2
    assert Target.objects.get(email="lea.martin@alpha-mail.test").pseudonym == lea.pseudonym


def test_csv_import_survives_garbage(region):
    for data in (b"", b"\x00\x01\x02", b"PK\x03\x04broken", "é".encode("latin-1") * 30):
        report = import_targets(region.users["centre_analyst"], region.a, data)
        assert report.created == 0 and report.errors


@pytest.mark.parametrize(
    ("role", "index", "new", "library"),
    [
        ("centre_admin", 200, 200, 200),
        ("centre_analyst", 200, 200, 200),
        ("director", 200, 403, 403),
        ("referent", 200, 403, 403),
        ("it_provider", 403, 403, 403),
        ("ars_viewer", 403, 403, 403),
        ("nobody", 403, 403, 403),
    ],
)
def test_roles_on_pages(region, role, index, new, library):
    client = region.client(role)
    assert client.get("/sensibilisation/").status_code == index
    assert client.get("/sensibilisation/campagnes/nouvelle/").status_code == new
    assert client.get("/sensibilisation/bibliotheque/").status_code == library
    assert client.get("/sensibilisation/envoi/").status_code == library


def test_director_cannot_launch_or_import(region, smtp):
    from tests.awareness.conftest import smtp_profile

    campaign = draft_campaign(region.a, smtp_profile(smtp))
    client = region.client("director")
    assert client.post(f"/sensibilisation/campagnes/{campaign.pk}/lancer/").status_code == 403
    upload = SimpleUploadedFile("p.csv", CSV, content_type="text/csv")
    url = f"/sensibilisation/structures/{region.a.pk}/import/"
    assert client.post(url, {"file": upload}).status_code == 403
    assert (
        region.client("director_b").get(f"/sensibilisation/structures/{region.a.pk}/").status_code
        == 404
    )


def test_campaign_form_and_launch_refused_without_mandate_in_the_page(region, smtp):
    from tests.awareness.conftest import smtp_profile

    profile = smtp_profile(smtp)
    client = region.client("centre_analyst")
    upload = SimpleUploadedFile("p.csv", CSV, content_type="text/csv")
    page = client.post(f"/sensibilisation/structures/{region.a.pk}/import/", {"file": upload})
    assert "2 personne(s) ajoutée(s)" in page.content.decode()
    from carbet.awareness.models import EmailTemplate

    template = EmailTemplate.objects.get(name="Document partagé dans le DMP")
    response = client.post(
        "/sensibilisation/campagnes/nouvelle/",
        {
            "structure": region.a.pk,
            "name": "Test formulaire",
            "template": template.pk,
            "smtp_profile": profile.pk,
            "privacy": "pseudonymous",
            "dpo_reference": "DPO-1",
            "representatives_informed_on": "2026-01-05",
            "launch_at": "2026-01-10T09:00",
            "day_start": "09:00",
            "day_end": "17:00",
            "retention_days": 180,
        },
    )
    campaign = Campaign.objects.get(name="Test formulaire")
    assert response.status_code == 302
    launched = client.post(f"/sensibilisation/campagnes/{campaign.pk}/lancer/", follow=True)
    assert "Lancement refusé" in launched.content.decode()
    campaign.refresh_from_db()
    assert campaign.status == "draft"


def test_smtp_profile_password_is_never_shown_back_and_changes_are_audited(region):
    client = region.client("centre_admin")
    response = client.post(
        "/sensibilisation/envoi/profils/nouveau/",
        {
            "name": "Relais",
            "host": "127.0.0.1",
            "port": 2525,
            "security": "none",
            "username": "u",
            "password": "Tres-Secret-SMTP",
            "from_address": "a@lab.test",
            "per_minute": 60,
        },
    )
    assert response.status_code == 302
    profile = SmtpProfile.objects.get(name="Relais")
    page = client.get(f"/sensibilisation/envoi/profils/{profile.pk}/").content.decode()
    assert "Tres-Secret-SMTP" not in page and "enregistré" in page
    entry = AuditEntry.objects.filter(action="awareness.smtp.save").latest("pk")
    assert "Tres-Secret-SMTP" not in str(entry.changes)


def test_eml_import_and_forbidden_lure_in_the_page(region):
    client = region.client("centre_analyst")
    good = b"From: x@y.test\r\nSubject: Mise a jour PACS\r\n\r\nInstallez {{lien}}\r\n"
    response = client.post(
        "/sensibilisation/bibliotheque/modeles/import/",
        {"name": "PACS importé", "file": SimpleUploadedFile("m.eml", good)},
    )
    assert response.status_code == 302
    bad = b"From: x@y.test\r\nSubject: Votre prime\r\n\r\nVotre prime annuelle\r\n"
    response = client.post(
        "/sensibilisation/bibliotheque/modeles/import/",
        {"name": "Prime", "file": SimpleUploadedFile("m.eml", bad)},
    )
    assert "charte régionale" in response.content.decode()


def test_api_lists_aggregates_and_refuses_launch_to_directors(region, smtp):
    from django.test import Client

    from tests.awareness.conftest import smtp_profile

    phishing_ready(region.a, "alpha-mail.test")
    campaign = draft_campaign(region.a, smtp_profile(smtp))
    _token, raw = ApiToken.issue(region.users["director"], "t")
    client = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")
    listing = client.get("/api/v1/awareness/simulations").json()
    assert [item["id"] for item in listing["results"]] == [campaign.pk]
    detail = client.get(f"/api/v1/awareness/simulations/{campaign.pk}").json()
    assert detail["funnel"]["sent"] == 0 and "recipients" not in str(detail["by_service"])
    refused = client.post(f"/api/v1/awareness/simulations/{campaign.pk}/launch")
    assert refused.status_code == 403
    trend = client.get(f"/api/v1/awareness/structures/{region.a.pk}/trend")
    assert trend.status_code == 200 and trend.json() == []


def test_demo_data(region):
    from carbet.demo import awareness as demo

    phishing_ready(region.a, "alpha-mail.test")
    created = demo.load({"ch-anse-bleue": region.a, "epsm-pointe": region.b})
    assert created == 3  # region.b has no phishing mandate: skipped
    campaigns = Campaign.objects.filter(structure=region.a).order_by("launch_at")
    rates = [c.summary["funnel"]["report_rate"] for c in campaigns]
    assert rates == sorted(rates) and all(c.summary["funnel"]["sent"] == 36 for c in campaigns)
    assert demo.load({"ch-anse-bleue": region.a}) == 0  # idempotent


CELL = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(st.tuples(CELL, CELL, CELL), max_size=15), st.sampled_from([";", ",", "\t"]))
def test_csv_import_never_raises_and_accounts_for_every_row(region, rows, sep):
    lines = [sep.join(("nom", "email", "service"))]
    lines += [sep.join(cell.replace(sep, " ").replace('"', "") for cell in row) for row in rows]
    data = "\n".join(lines).encode()
    before = Target.objects.filter(structure=region.a).count()
    report = import_targets(region.users["centre_analyst"], region.a, data)
    after = Target.objects.filter(structure=region.a).count()
    assert after - before == report.created
    assert report.created + report.updated <= len(rows)
    for target in Target.objects.filter(structure=region.a):
        assert "@" in target.email and target.full_name.strip()

"""Bulletin pages: each structure's list and page, answers, the centre's writing, publishing and
follow-up, and cross-tenant refusals on every route."""

from __future__ import annotations

import csv
import html
import io

import pytest
from django.urls import reverse

from carbet.community import services_bulletins as services
from carbet.community.models import Bulletin, BulletinDelivery
from tests.community.test_bulletins_fixtures import SECRET_A, draft, published

pytestmark = pytest.mark.django_db


def test_structure_list_shows_delivered_bulletins_unread_and_critical_first(region):
    low = published(region, title="Info basse", severity="low")
    critical = published(region, title="Alerte critique", severity="critical")
    read = published(region, title="Déjà lu", severity="critical")
    services.mark_read(region.users["director"], read.deliveries.get())
    b_only = published(region, title="Pour Beta seulement", structures=[region.b.pk])
    page = region.client("director").get(reverse("community:bulletins"))
    assert page.status_code == 200
    text = page.content.decode()
    assert text.index("Alerte critique") < text.index("Info basse") < text.index("Déjà lu")
    assert b_only.title not in text
    assert low.title in text and critical.title in text
    other = region.client("director_b").get(reverse("community:bulletins")).content.decode()
    assert "Pour Beta seulement" in other and "Alerte critique" not in other


def test_detail_marks_read_and_other_structures_get_404(region):
    bulletin = published(region)
    delivery = bulletin.deliveries.get()
    url = reverse("community:bulletin_detail", args=[bulletin.pk])
    assert region.client("director_b").get(url).status_code == 404
    assert region.client("ars_viewer").get(url).status_code == 403
    assert region.client("centre_admin").get(url).status_code == 200
    delivery.refresh_from_db()
    assert delivery.status == "unread"  # the centre's look does not count
    page = region.client("it_provider").get(url)
    assert page.status_code == 200
    text = page.content.decode()
    assert SECRET_A in text and "<strong>FortiOS</strong>" in text
    delivery.refresh_from_db()
    assert delivery.status == "read"
    # a draft is never shown to a structure, even targeted
    hidden = draft(region, structures=[region.a.pk])
    hidden_url = reverse("community:bulletin_detail", args=[hidden.pk])
    assert region.client("director").get(hidden_url).status_code == 404


def test_markdown_html_is_escaped(region):
    bulletin = published(region, body="<script>alert('x')</script> [lien](javascript:alert(1))")
    text = (
        region.client("director")
        .get(reverse("community:bulletin_detail", args=[bulletin.pk]))
        .content.decode()
    )
    assert "<script>alert" not in text and "&lt;script&gt;" in text
    assert 'href="javascript' not in text


def test_acknowledge_through_the_page(region):
    bulletin = published(region)
    delivery = bulletin.deliveries.get()
    url = reverse("community:bulletin_acknowledge", args=[delivery.pk])
    prefix = f"d{delivery.pk}"
    client = region.client("referent")
    client.post(url, {f"{prefix}-status": "not_concerned", f"{prefix}-reason": ""})
    delivery.refresh_from_db()
    assert delivery.status == "unread"  # the reason is required
    response = client.post(
        url, {f"{prefix}-status": "not_concerned", f"{prefix}-reason": "Pas de VPN"}
    )
    assert response.status_code == 302
    delivery.refresh_from_db()
    assert delivery.status == "not_concerned" and delivery.reason == "Pas de VPN"
    # B's people cannot answer for A; nor can the ARS
    assert region.client("director_b").post(url, {f"{prefix}-status": "applied"}).status_code == 404
    assert region.client("ars_viewer").post(url, {f"{prefix}-status": "applied"}).status_code in (
        403,
        404,
    )
    delivery.refresh_from_db()
    assert delivery.status == "not_concerned"


def test_centre_writes_counts_and_publishes(region):
    client = region.client("centre_analyst")
    assert client.get(reverse("community:bulletin_create")).status_code == 200
    audience = client.get(
        reverse("community:bulletin_audience"), {"categories": ["ehpad"], "departements": ["972"]}
    )
    assert "atteindra 1 structure" in audience.content.decode()
    data = {
        "title": "Hameçonnage dans les EHPAD",
        "summary": "Des faux courriels de la CAF circulent.",
        "body": "Ne cliquez pas.",
        "severity": "high",
        "tlp": "clear",
        "references": "https://www.cybermalveillance.gouv.fr/\nnot a url",
        "cves": "CVE-2024-1",
        "remind_after_days": "3",
        "categories": ["ehpad"],
    }
    page = client.post(reverse("community:bulletin_create"), data)
    assert page.status_code == 200 and not Bulletin.objects.exists()
    text = html.unescape(page.content.decode())
    assert "n'est pas une adresse web" in text and "identifiant CVE" in text
    data.update(references="https://www.cybermalveillance.gouv.fr/", cves="cve-2024-12345")
    response = client.post(reverse("community:bulletin_create"), data)
    assert response.status_code == 302
    bulletin = Bulletin.objects.get()
    assert bulletin.cves == ["CVE-2024-12345"] and bulletin.status == "draft"
    edit = reverse("community:bulletin_edit", args=[bulletin.pk])
    assert client.get(edit).status_code == 200
    publish = reverse("community:bulletin_publish", args=[bulletin.pk])
    confirm = client.get(publish).content.decode()
    assert "atteindra 2 structures" in confirm and region.b.name in confirm
    assert client.post(publish).status_code == 302
    assert set(BulletinDelivery.objects.values_list("structure_id", flat=True)) == {
        region.a2.pk,
        region.b.pk,
    }
    assert client.get(edit).status_code == 302  # no more a draft
    client.post(reverse("community:bulletin_withdraw", args=[bulletin.pk]))
    bulletin.refresh_from_db()
    assert bulletin.status == "withdrawn"


def test_followup_figures_csv_and_remind(region, smtp_inbox):
    bulletin = published(region, structures=[region.a.pk, region.a2.pk, region.b.pk])
    deliveries = {d.structure_id: d for d in bulletin.deliveries.all()}
    services.acknowledge(region.users["director_b"], deliveries[region.b.pk], "applied")
    services.acknowledge(
        region.users["director"], deliveries[region.a.pk], "not_concerned", "=cmd|' /C calc'!A0"
    )
    client = region.client("centre_analyst")
    page = client.get(reverse("community:bulletin_followup", args=[bulletin.pk]))
    text = page.content.decode()
    assert page.status_code == 200
    assert "1 (33 %)" in text  # one in three applied, one not concerned, one unread
    assert region.a2.name in text
    response = client.get(reverse("community:bulletin_followup_csv", args=[bulletin.pk]))
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))
    assert len(rows) == 4
    reasons = [row[5] for row in rows[1:]]
    assert "'=cmd|' /C calc'!A0" in reasons  # no formula reaches a spreadsheet
    client.post(reverse("community:bulletin_remind", args=[bulletin.pk]))
    assert BulletinDelivery.objects.get(pk=deliveries[region.a2.pk].pk).reminders == 1
    assert BulletinDelivery.objects.get(pk=deliveries[region.b.pk].pk).reminders == 0
    assert smtp_inbox.messages


CENTRE_ROUTES = [
    ("get", "bulletin_create", False),
    ("get", "bulletin_audience", False),
    ("get", "bulletin_edit", True),
    ("get", "bulletin_publish", True),
    ("post", "bulletin_publish", True),
    ("post", "bulletin_withdraw", True),
    ("get", "bulletin_followup", True),
    ("get", "bulletin_followup_csv", True),
    ("post", "bulletin_remind", True),
]


@pytest.mark.parametrize(("method", "name", "with_pk"), CENTRE_ROUTES)
@pytest.mark.parametrize("role", ["director", "referent", "director_b", "ars_viewer"])
def test_centre_routes_refuse_structure_people(region, method, name, with_pk, role):
    bulletin = draft(region, structures=[region.a.pk])
    url = reverse(f"community:{name}", args=[bulletin.pk] if with_pk else [])
    response = getattr(region.client(role), method)(url)
    assert response.status_code in (403, 404), (name, role, response.status_code)
    bulletin.refresh_from_db()
    assert bulletin.status == "draft"


def test_list_and_detail_refuse_people_without_the_right(region):
    assert region.client("ars_viewer").get(reverse("community:bulletins")).status_code == 403
    assert region.client("nobody").get(reverse("community:bulletins")).status_code == 403

"""Results, privacy modes, purge, findings, the dashboard score and training."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
from django.test import Client
from django.utils import timezone

from carbet.audit.models import AuditEntry
from carbet.awareness import results, tracking, training
from carbet.awareness.choices import PrivacyMode
from carbet.awareness.models import Campaign, Recipient, TrainingAssignment, TrainingModule
from carbet.engines.awareness import tokens
from carbet.findings.models import Finding
from tests.awareness.helpers import sent_campaign

pytestmark = pytest.mark.realserver


def _human_click(token: str) -> None:
    Recipient.objects.filter(token_digest=tokens.digest(token)).update(
        sent_at=timezone.now() - dt.timedelta(minutes=30)
    )
    client = Client(HTTP_USER_AGENT="Mozilla/5.0 Firefox/128.0")
    client.get(f"/s/{token}/c", follow=True)
    client.post(f"/s/{token}/b")


def test_funnel_by_service_merges_small_groups_for_non_nominative_viewers(region, smtp):
    campaign, sent = sent_campaign(region, smtp, 7)  # services alternate: 4 Soins, 3 Accueil
    emails = sorted(sent)
    _human_click(sent[emails[0]])
    tracking.record_report(sent[emails[1]])
    tracking.record_open(sent[emails[2]])
    numbers = results.funnel(campaign)
    assert (numbers.sent, numbers.opened, numbers.clicked, numbers.reported) == (7, 2, 1, 1)
    assert numbers.opened >= numbers.clicked >= numbers.submitted
    rows = {row["service"]: row for row in results.by_service(campaign)}
    assert set(rows) == {"Accueil", "Soins"} and rows["Soins"]["sent"] == 4
    Recipient.objects.filter(campaign=campaign, service="Accueil").update(service="Pharmacie")
    Recipient.objects.filter(campaign=campaign, service="Pharmacie").first()
    one = Recipient.objects.filter(campaign=campaign, service="Soins").first()
    Recipient.objects.filter(pk=one.pk).update(service="Direction")
    rows = {row["service"] for row in results.by_service(campaign)}
    assert "Direction" not in rows and "Autres services (petits effectifs)" in rows
    detailed = {row["service"] for row in results.by_service(campaign, small_groups=True)}
    assert "Direction" in detailed


def test_directors_see_aggregates_only_and_nominative_views_are_audited(region, smtp):
    campaign, _sent = sent_campaign(region, smtp, 3, privacy=PrivacyMode.NOMINATIVE)
    director = region.client("director").get(f"/sensibilisation/campagnes/{campaign.pk}/")
    assert director.status_code == 200
    body = director.content.decode()
    assert "Agent 000" not in body and "P-" not in body and "Résultats individuels" not in body
    assert not AuditEntry.objects.filter(action="awareness.results.nominative_view").exists()
    analyst = region.client("centre_analyst").get(f"/sensibilisation/campagnes/{campaign.pk}/")
    assert "Agent 000 Test" in analyst.content.decode()
    assert AuditEntry.objects.filter(action="awareness.results.nominative_view").count() == 1
    assert (
        region.client("director_b").get(f"/sensibilisation/campagnes/{campaign.pk}/").status_code
        == 404
    )


def test_pseudonymous_mode_shows_pseudonyms_not_names(region, smtp):
    campaign, _sent = sent_campaign(region, smtp, 2)
    assert campaign.privacy == PrivacyMode.PSEUDONYMOUS
    body = (
        region.client("centre_analyst")
        .get(f"/sensibilisation/campagnes/{campaign.pk}/")
        .content.decode()
    )
    assert "Agent 000" not in body and "P-" in body


def test_aggregate_mode_forgets_who_was_who_once_sending_ends(region, smtp):
    campaign, _sent = sent_campaign(region, smtp, 3, privacy=PrivacyMode.AGGREGATE)
    rows = Recipient.objects.filter(campaign=campaign)
    assert rows.count() == 3
    assert not rows.exclude(target=None).exists() and not rows.exclude(email="").exists()
    body = (
        region.client("centre_admin")
        .get(f"/sensibilisation/campagnes/{campaign.pk}/")
        .content.decode()
    )
    assert "alpha-mail.test" not in body and "Résultats individuels" not in body
    assert results.funnel(campaign).sent == 3


def test_purge_after_retention_keeps_only_aggregates(region, smtp):
    campaign, sent = sent_campaign(region, smtp, 4, retention_days=30)
    tracking.record_report(next(iter(sent.values())))
    assert results.purge_due(timezone.now()) == []  # not yet
    purged = results.purge_due(timezone.now() + dt.timedelta(days=31))
    assert purged == [campaign.pk]
    campaign = Campaign.objects.get(pk=campaign.pk)
    assert campaign.purged_at and not Recipient.objects.filter(campaign=campaign).exists()
    numbers = results.funnel(campaign)
    assert numbers.sent == 4 and numbers.reported == 1
    assert AuditEntry.objects.filter(action="awareness.campaign.purge").exists()


def test_findings_and_dashboard_score(region, smtp):
    _campaign, sent = sent_campaign(region, smtp, 5)
    for token in list(sent.values())[:2]:
        _human_click(token)
    report = results.sync_findings(region.a)
    assert report["created"] == 2
    titles = set(Finding.objects.filter(structure=region.a).values_list("rule", flat=True))
    assert titles == {"awareness.low_reporting", "awareness.high_clicking"}
    scores = results.structure_scores(timezone.localdate(), [region.a.pk, region.b.pk])
    assert region.b.pk not in scores and 0 <= scores[region.a.pk] <= 100
    from carbet.findings.models import PostureSnapshot
    from carbet.findings.posture.snapshots import take_snapshots

    take_snapshots()
    snapshot = PostureSnapshot.objects.get(structure=region.a, day=timezone.localdate())
    assert snapshot.scores["awareness"] == scores[region.a.pk]


def test_training_after_a_click_signed_link_quiz_and_certificate(region, smtp, tmp_path):
    module = TrainingModule.objects.get(slug="reconnaitre-hameconnage")
    campaign, sent = sent_campaign(region, smtp, 2, training=module)
    token = next(iter(sent.values()))
    _human_click(token)
    assignment = TrainingAssignment.objects.get(campaign=campaign)
    debrief = Client().get(f"/s/{token}/debrief").content.decode()
    link = training.link_path(assignment)
    assert link.split("/")[3] in debrief
    client = Client()
    assert client.get(link).status_code == 200
    wrong = client.post(link, {"q0": "0", "q1": "1", "q2": "0"})
    assert "Il faut 70" in wrong.content.decode()
    right = client.post(link, {"q0": "1", "q1": "0", "q2": "1"})
    assert "Module réussi" in right.content.decode()
    assignment.refresh_from_db()
    assert assignment.score == 100 and assignment.completed_at and assignment.attempts == 2
    pdf = client.get(f"{link}attestation.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    png = _first_page_png(pdf.content, tmp_path)
    assert png.stat().st_size > 5000
    assert Client().get(link[:-5] + "AAAA/").status_code == 404  # tampered signature
    expired = training.load(link.split("/")[3], now_max_age=dt.timedelta(seconds=-1))
    assert expired is None


def _first_page_png(pdf: bytes, folder: Path) -> Path:
    assert shutil.which("pdftoppm"), "install poppler-utils (apt-get install poppler-utils)"
    source = folder / "doc.pdf"
    source.write_bytes(pdf)
    subprocess.run(
        ["pdftoppm", "-png", "-r", "50", "-f", "1", "-l", "1", str(source), str(folder / "page")],
        check=True,
        timeout=60,
    )
    (png,) = folder.glob("page*.png")
    from PIL import Image

    with Image.open(png) as image:
        colours = image.convert("L").getextrema()
    assert colours[0] < 100 < colours[1]  # ink on paper, not a blank page
    return png


def test_campaign_pdf_report_has_no_names(region, smtp):
    campaign, _sent = sent_campaign(region, smtp, 3, privacy=PrivacyMode.NOMINATIVE)
    response = region.client("director").get(
        f"/sensibilisation/campagnes/{campaign.pk}/rapport.pdf"
    )
    assert response.status_code == 200 and response.content.startswith(b"%PDF")
    import io

    from pypdf import PdfReader

    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
    assert "Campagne de sensibilisation" in text and "Agent 000" not in text
    with tempfile.TemporaryDirectory() as folder:
        _first_page_png(response.content, Path(folder))

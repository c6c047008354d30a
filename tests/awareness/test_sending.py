"""Launching and sending against a real SMTP server (aiosmtpd on loopback): every message is
received and checked (headers, tokens, spacing); the mandate gate and the coverage rule refuse
before anything leaves; a rerun never sends twice."""

from __future__ import annotations

import datetime as dt
import itertools
import random
import re

import pytest
from django.utils import timezone

from carbet.audit.models import AuditEntry
from carbet.awareness import coverage, sending, services_campaigns
from carbet.awareness.choices import CampaignStatus, SendState
from carbet.awareness.models import Recipient, Target
from carbet.awareness.services_targets import new_pseudonym
from carbet.core.mandates import MandateRefused
from carbet.engines.awareness import tokens
from tests.awareness.conftest import add_targets, draft_campaign, phishing_ready, smtp_profile

pytestmark = pytest.mark.realserver
DOMAIN = "alpha-mail.test"
LINK_RE = re.compile(r"/s/([A-Za-z0-9_-]{32})/c")


def _launch(region, smtp, count=6, **overrides):
    phishing_ready(region.a, DOMAIN)
    add_targets(region.a, DOMAIN, count)
    campaign = draft_campaign(region.a, smtp_profile(smtp), **overrides)
    services_campaigns.launch(region.users["centre_analyst"], campaign, rng=random.Random(3))
    return campaign


def test_every_message_reaches_the_server_spread_over_the_window(region, smtp):
    start = timezone.now()
    campaign = _launch(region, smtp, send_by=start + dt.timedelta(seconds=3))
    counts = sending.run(campaign.pk)
    assert counts["sent"] == 6 and counts["failed"] == 0
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.DONE
    assert len(smtp.messages) == 6
    seen_tokens = set()
    for received in smtp.messages:
        message = received.message
        (to,) = received.envelope_to
        assert to.endswith("@" + DOMAIN) and message["To"] == to
        assert message["From"] == "Mon espace santé - Professionnels <support@mail-lab.test>"
        assert message["Subject"] == "Nouveau document partagé pour un de vos patients"
        assert message["X-Carbet-Campaign"] == str(campaign.pk)
        text = message.get_body(("plain",)).get_content()
        html = message.get_body(("html",)).get_content()
        # The fast path (rendered once, filled per recipient) was taken.
        assert message.get_body(("plain",))["Content-Transfer-Encoding"] == "8bit"
        target = Target.objects.get(email=to)
        assert target.full_name in text  # {{nom}} filled
        (token,) = set(LINK_RE.findall(text))
        assert f"/s/{token}/o.gif" in html and f"/s/{token}/c" in html
        recipient = Recipient.objects.get(campaign=campaign, email=to)
        assert recipient.token_digest == tokens.digest(token) and recipient.state == SendState.SENT
        assert token not in str(Recipient.objects.filter(pk=recipient.pk).values().first())
        seen_tokens.add(token)
    assert len(seen_tokens) == 6
    arrivals = sorted(r.at for r in smtp.messages)
    assert arrivals[0] >= start.timestamp() - 0.5
    assert arrivals[-1] <= start.timestamp() + 3 + 2.0  # send_by, plus a margin for the loop
    assert arrivals[-1] - arrivals[0] > 0.5  # spread, not a burst


def test_throttle_spaces_messages_on_the_wire(region, smtp):
    campaign = _launch(region, smtp, count=4, per_minute=120)
    sending.run(campaign.pk)
    arrivals = sorted(r.at for r in smtp.messages)
    assert len(arrivals) == 4
    gaps = [b - a for a, b in itertools.pairwise(arrivals)]
    assert min(gaps) >= 0.45


def test_a_rerun_never_sends_a_message_twice(region, smtp):
    campaign = _launch(region, smtp, count=5)
    # A worker claimed two messages then died before it could say whether they left.
    claimed, held = sending._claim_batch(campaign, timezone.now(), 2)
    assert held == 0
    assert len(claimed) == 2
    counts = sending.run(campaign.pk)
    assert counts == {"sent": 3, "failed": 0, "uncertain": 2, "skipped": 0, "held": 0}
    states = sorted(Recipient.objects.filter(campaign=campaign).values_list("state", flat=True))
    assert states.count(SendState.UNCERTAIN) == 2
    assert len(smtp.messages) == 3
    again = sending.run(campaign.pk)
    assert again["sent"] == 0 and len(smtp.messages) == 3


def test_without_a_phishing_mandate_nothing_is_planned_or_sent(region, smtp):
    phishing_ready(region.a, DOMAIN, mandate=False)  # region.a's mandate covers scans only
    add_targets(region.a, DOMAIN, 3)
    campaign = draft_campaign(region.a, smtp_profile(smtp))
    with pytest.raises(MandateRefused):
        services_campaigns.launch(region.users["centre_analyst"], campaign)
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.DRAFT
    assert not Recipient.objects.filter(campaign=campaign).exists()
    assert AuditEntry.objects.filter(action="mandate.refused").exists()
    assert smtp.messages == []


def test_an_address_outside_the_mandated_domains_refuses_the_whole_launch(region, smtp):
    phishing_ready(region.a, DOMAIN)
    add_targets(region.a, DOMAIN, 2)
    Target.objects.create(
        structure=region.a,
        full_name="Perso",
        email="quelquun@webmail.test",
        pseudonym=new_pseudonym(),
    )
    # A sub-domain of a covered domain is covered.
    Target.objects.create(
        structure=region.a,
        full_name="Sub",
        email="x@soins.alpha-mail.test",
        pseudonym=new_pseudonym(),
    )
    campaign = draft_campaign(region.a, smtp_profile(smtp))
    with pytest.raises(services_campaigns.CampaignError, match=r"webmail\.test"):
        services_campaigns.launch(region.users["centre_analyst"], campaign)
    assert not Recipient.objects.filter(campaign=campaign).exists()
    assert AuditEntry.objects.filter(action="awareness.campaign.refused").exists()
    cover = coverage.coverage(region.a, ["x@soins.alpha-mail.test", "a@evil.test"])
    assert cover.covered == ["x@soins.alpha-mail.test"] and cover.uncovered == ["a@evil.test"]


def test_a_validated_but_unproven_domain_asset_covers_nobody(region, smtp):
    from carbet.core.models import Asset

    phishing_ready(region.a, DOMAIN)
    assert DOMAIN in coverage.covered_domains(region.a)
    # The structure's own word ("validated") is not proof of ownership.
    Asset.objects.filter(value=DOMAIN).update(validated=True, proven_at=None)
    assert DOMAIN not in coverage.covered_domains(region.a)
    reason = coverage.coverage(region.a, [f"x@{DOMAIN}"]).reasons[f"x@{DOMAIN}"]
    assert "pas encore prouvée" in reason


def test_a_mandate_revoked_mid_campaign_stops_the_sending(region, smtp):
    from carbet.core.models import Mandate

    campaign = _launch(region, smtp, count=3, send_by=timezone.now() + dt.timedelta(hours=2))
    Mandate.objects.filter(structure=region.a).update(status="revoked")
    counts = sending.run(campaign.pk)
    assert counts["sent"] == 0 and counts["skipped"] == 3 and smtp.messages == []
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.CANCELLED


def test_lures_on_pay_are_refused_even_if_stored(region, smtp):
    from carbet.awareness.models import EmailTemplate

    template = EmailTemplate.objects.create(
        name="Mauvais", subject="Votre prime annuelle", sender_name="RH", text_body="{{lien}}"
    )
    phishing_ready(region.a, DOMAIN)
    add_targets(region.a, DOMAIN, 1)
    campaign = draft_campaign(region.a, smtp_profile(smtp), template=template)
    with pytest.raises(Exception, match="paie, les primes"):
        services_campaigns.launch(region.users["centre_analyst"], campaign)


def test_the_send_job_runs_through_the_job_system(region, smtp, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        campaign = _launch(region, smtp, count=2)
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.DONE and len(smtp.messages) == 2


def test_test_send_and_encrypted_credentials(region, smtp):
    from django.db import connection

    from carbet.awareness.models import EmailTemplate, SmtpProfile

    profile = smtp_profile(smtp)
    with connection.cursor() as cursor:
        cursor.execute("SELECT password FROM awareness_smtpprofile WHERE id = %s", [profile.pk])
        (stored,) = cursor.fetchone()
    assert stored.startswith("gAAAAA") and "smtp-secret-value" not in stored
    assert SmtpProfile.objects.get(pk=profile.pk).password == "smtp-secret-value"
    template = EmailTemplate.objects.get(name="Renouvellement du badge d'accès")
    sending.send_test(region.users["centre_analyst"], profile, "moi@centre.test", template)
    (received,) = smtp.messages
    assert received.message["Subject"].startswith("[TEST] ")
    assert AuditEntry.objects.filter(action="awareness.smtp.test").exists()


def test_the_fast_message_factory_gives_the_same_message_as_the_renderer(db):
    from email import message_from_bytes, policy

    from carbet.awareness.models import EmailTemplate, SmtpProfile

    profile = SmtpProfile(name="x", host="h", from_address="support@mail-lab.test")
    for template in EmailTemplate.objects.all():
        template.text_body += "\n{{prenom}} <{{nom}}> & co"
        factory = sending.MessageFactory(template, profile, "https://c.example", 7)
        token = tokens.new_token()
        for name in ("Éloïse D'Arc <b>", "", "Jean"):
            fast = message_from_bytes(
                factory.build("a.b@alpha.test", name, token), policy=policy.default
            )
            slow = sending.render_message(
                template, profile, "a.b@alpha.test", name, token, "https://c.example", 7
            )
            for header in ("From", "To", "Subject", "X-Carbet-Campaign", "X-Carbet-Report"):
                assert fast[header] == slow[header], header
            assert fast["Date"] and fast["Message-ID"]
            for kind in ("plain", "html"):
                # 8-bit bodies keep the wire's CRLF where a decoded QP body has LF.
                fast_text = fast.get_body((kind,)).get_content().replace("\r\n", "\n")
                assert fast_text == slow.get_body((kind,)).get_content(), (template.name, kind)


def test_the_lab_server_takes_the_fast_path(smtp):
    import smtplib

    with smtplib.SMTP(smtp.host, smtp.port) as server:
        server.ehlo()
        assert server.has_extn("8bitmime")

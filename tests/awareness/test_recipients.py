"""Who may receive a simulated phishing mail: proven, unclaimed, mandated mail domains only —
at launch and again at every sending batch, against a real SMTP server on loopback (aiosmtpd)
that counts what actually arrives.

The attacks reproduced (issue 11): a director declares and validates another hospital's mail
domain herself to have its staff phished; a campaign's mail domain is deleted, taken out of
the mandate or put in conflict after launch while messages are still to leave.
"""

from __future__ import annotations

import datetime as dt
import random

import pytest
from django.utils import timezone

from carbet.audit.models import AuditEntry
from carbet.awareness import coverage, sending, services_campaigns
from carbet.awareness.choices import CampaignStatus, SendState
from carbet.awareness.models import Campaign, Recipient
from carbet.core import ownership
from carbet.core import services as registry
from carbet.core.models import Asset, Mandate
from tests.awareness.conftest import add_targets, draft_campaign, phishing_ready, smtp_profile
from tests.conftest import make_mandate

pytestmark = pytest.mark.realserver
MAIN = "alpha-mail.test"
SECOND = "soins-alpha.test"
BETA = "beta-mail.test"


def _staff(structure, domain: str, count: int, start: int = 0) -> list[str]:
    from carbet.awareness.models import Target
    from carbet.awareness.services_targets import new_pseudonym

    emails = []
    for i in range(start, start + count):
        email = f"agent{i:03d}@{domain}"
        Target.objects.create(
            structure=structure,
            full_name=f"Agent {i:03d}",
            email=email,
            service="Soins",
            pseudonym=new_pseudonym(),
        )
        emails.append(email)
    return emails


def _received_by(smtp, emails: list[str]) -> int:
    return sum(len(smtp.to(email)) for email in emails)


# --- (a) at launch: a domain the director validated herself is not proof -------------------


def test_a_director_validating_another_hospitals_domain_gets_no_recipient(region, smtp):
    phishing_ready(region.b, BETA)  # beta's mail domain, proven by the centre's review
    phishing_ready(region.a, MAIN)
    director = region.users["director"]
    # The director of A declares beta's mail domain and validates it herself.
    claimed = Asset(structure=region.a, kind="mail_domain", value=BETA)
    registry.save_asset(director, claimed)
    registry.validate_asset(director, claimed)
    claimed.refresh_from_db()
    assert claimed.validated and not claimed.is_proven
    _staff(region.a, MAIN, 2)
    victims = _staff(region.a, BETA, 2, start=10)
    campaign = draft_campaign(region.a, smtp_profile(smtp))
    with pytest.raises(services_campaigns.CampaignError) as refused:
        services_campaigns.launch(region.users["centre_analyst"], campaign)
    message = str(refused.value)
    assert victims[0] in message and "aussi déclaré par une autre structure" in message
    assert BETA not in coverage.covered_domains(region.a)
    assert not Recipient.objects.filter(campaign=campaign).exists()
    entry = AuditEntry.objects.filter(action="awareness.campaign.refused").latest("pk")
    assert entry.changes["uncovered"] == 2
    # The conflict blocks beta too until the centre decides: nobody is mailed on a doubt.
    assert BETA not in coverage.covered_domains(region.b)
    assert campaign.status == CampaignStatus.DRAFT
    assert _received_by(smtp, victims) == 0 and smtp.messages == []


def test_a_domain_nobody_else_declares_is_still_refused_until_proven(region, smtp):
    phishing_ready(region.a, MAIN)
    director = region.users["director"]
    foreign = Asset(structure=region.a, kind="mail_domain", value="gamma-mail.test")
    registry.save_asset(director, foreign)
    registry.validate_asset(director, foreign)
    victims = _staff(region.a, "gamma-mail.test", 1)
    campaign = draft_campaign(region.a, smtp_profile(smtp))
    with pytest.raises(services_campaigns.CampaignError, match="pas encore prouvée"):
        services_campaigns.launch(region.users["centre_analyst"], campaign)
    assert not Recipient.objects.filter(campaign=campaign).exists()
    assert _received_by(smtp, victims) == 0


# --- (b) at each batch: what changed after launch is seen before the next message -----------


def _launched(region, smtp) -> tuple[Campaign, list[str], list[str]]:
    """A campaign of A over two proven domains, launched, nothing sent yet."""
    phishing_ready(region.a, MAIN)
    phishing_ready(region.a, SECOND, mandate=False)
    kept = _staff(region.a, MAIN, 2)
    cut = _staff(region.a, SECOND, 3, start=10)
    smtp.clear()
    campaign = draft_campaign(region.a, smtp_profile(smtp))
    services_campaigns.launch(region.users["centre_analyst"], campaign, rng=random.Random(5))
    assert Recipient.objects.filter(campaign=campaign, state=SendState.PENDING).count() == 5
    return campaign, kept, cut


def _assert_held(smtp, campaign, kept, cut, counts, reason_part: str) -> None:
    assert _received_by(smtp, cut) == 0  # the server counted zero messages for them
    assert _received_by(smtp, kept) == 2 and counts["sent"] == 2 and counts["held"] == 3
    held = Recipient.objects.filter(campaign=campaign, state=SendState.HELD)
    assert sorted(held.values_list("email", flat=True)) == sorted(cut)
    assert all(reason_part in r.error for r in held), [r.error for r in held]
    assert not held.filter(sent_at__isnull=False).exists()
    audits = AuditEntry.objects.filter(action="awareness.recipients.held")
    assert audits.count() == 1  # one batch, one entry
    assert audits.get().changes["count"] == 3 and SECOND in audits.get().changes["reasons"]


def test_a_domain_deleted_after_launch_holds_its_recipients(region, smtp):
    campaign, kept, cut = _launched(region, smtp)
    registry.delete_asset(region.users["director"], Asset.objects.get(value=SECOND))
    counts = sending.run(campaign.pk)
    _assert_held(smtp, campaign, kept, cut, counts, f"« {SECOND} »")
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.DONE  # the others went out; the held stay held


def test_a_domain_put_in_conflict_after_launch_holds_its_recipients(region, smtp):
    campaign, kept, cut = _launched(region, smtp)
    # Another structure declares the same domain: both are blocked until the centre decides.
    registry.save_asset(
        region.users["director_b"], Asset(structure=region.b, kind="mail_domain", value=SECOND)
    )
    assert Asset.objects.get(structure=region.a, value=SECOND).in_conflict
    counts = sending.run(campaign.pk)
    _assert_held(smtp, campaign, kept, cut, counts, "aussi déclaré par une autre structure")


def test_a_domain_taken_out_of_the_mandate_after_launch_holds_its_recipients(region, smtp):
    campaign, kept, cut = _launched(region, smtp)
    # The all-assets phishing mandate is revoked; a new one lists the main domain only.
    Mandate.objects.filter(
        pk__in=[m.pk for m in Mandate.objects.filter(structure=region.a) if m.covers("phishing")]
    ).update(status="revoked")
    narrow = make_mandate(region.a, covers_phishing=True, all_assets=False, reference="PH-2")
    narrow.assets.add(Asset.objects.get(structure=region.a, value=MAIN))
    counts = sending.run(campaign.pk)
    _assert_held(smtp, campaign, kept, cut, counts, "n'est pas dans le périmètre du mandat")


def test_held_recipients_are_shown_to_the_centre_and_released_once_covered(
    region, smtp, django_capture_on_commit_callbacks
):
    campaign, kept, cut = _launched(region, smtp)
    ours = Asset.objects.get(structure=region.a, value=SECOND)
    rival = Asset(structure=region.b, kind="mail_domain", value=SECOND)
    registry.save_asset(region.users["director_b"], rival)
    sending.run(campaign.pk)
    assert _received_by(smtp, cut) == 0

    # The campaign page tells the centre who waits and why (counts by reason, no address).
    page = region.client("centre_analyst").get(f"/sensibilisation/campagnes/{campaign.pk}/")
    text = page.content.decode()
    assert "Destinataires retenus" in text and "Relâcher les destinataires retenus" in text
    assert "aussi déclaré par une autre structure" in text.replace("&#x27;", "'")

    # Released while still in conflict: nothing moves, the reason stays.
    client = region.client("centre_analyst")
    url = f"/sensibilisation/campagnes/{campaign.pk}/relacher/"
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, follow=True)
    assert "restent retenus" in response.content.decode()
    assert Recipient.objects.filter(campaign=campaign, state=SendState.HELD).count() == 3
    assert _received_by(smtp, cut) == 0

    # The centre decides the conflict for A; the release now sends, through the job system.
    ownership.resolve_conflict(region.users["centre_admin"], ours, "owner", "registre WHOIS")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, follow=True)
    assert "3 destinataire(s) remis" in response.content.decode()
    assert _received_by(smtp, cut) == 3 and _received_by(smtp, kept) == 2
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.DONE
    assert not Recipient.objects.filter(campaign=campaign, state=SendState.HELD).exists()
    release = AuditEntry.objects.filter(action="awareness.recipients.release").latest("pk")
    assert release.changes == {"released": 3, "still_held": 0}


def test_release_respects_the_sending_window_and_a_finished_campaign_can_reopen(region, smtp):
    campaign, _kept, cut = _launched(region, smtp)
    registry.delete_asset(region.users["director"], Asset.objects.get(value=SECOND))
    sending.run(campaign.pk)
    phishing_ready(region.a, SECOND, mandate=False)  # proven again (the centre's review)
    now = timezone.now()
    outcome = coverage.release_held(
        region.users["centre_analyst"], campaign, now=now, rng=random.Random(1)
    )
    assert (outcome.released, outcome.still_held) == (3, 0)
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.SENDING and campaign.finished_at is None
    planned = Recipient.objects.filter(campaign=campaign, state=SendState.PENDING)
    assert planned.count() == 3 and all(r.scheduled_at >= now for r in planned)
    counts = sending.run(campaign.pk)
    assert counts["sent"] == 3 and _received_by(smtp, cut) == 3


def test_only_the_centre_may_release_and_other_structures_see_nothing(region, smtp):
    campaign, _kept, _cut = _launched(region, smtp)
    registry.delete_asset(region.users["director"], Asset.objects.get(value=SECOND))
    sending.run(campaign.pk)
    url = f"/sensibilisation/campagnes/{campaign.pk}/relacher/"
    assert region.client("director").post(url).status_code == 403
    assert region.client("director_b").post(url).status_code == 404
    assert region.client("it_provider").post(url).status_code in (403, 404)
    assert region.client("ars_viewer").post(url).status_code in (403, 404)
    assert region.client("director_b").get(url.replace("relacher/", "")).status_code == 404
    assert Recipient.objects.filter(campaign=campaign, state=SendState.HELD).count() == 3
    assert not AuditEntry.objects.filter(action="awareness.recipients.release").exists()


def test_a_cancelled_campaign_cannot_release(region, smtp):
    campaign, _kept, _cut = _launched(region, smtp)
    registry.delete_asset(region.users["director"], Asset.objects.get(value=SECOND))
    sending.run(campaign.pk)
    services_campaigns.cancel(region.users["centre_analyst"], campaign)
    with pytest.raises(coverage.ReleaseError):
        coverage.release_held(region.users["centre_analyst"], campaign)


def test_the_check_happens_at_each_batch_not_only_the_first(region, smtp):
    """Messages spread over time: a domain lost between two batches stops the later ones."""
    phishing_ready(region.a, MAIN)
    add_targets(region.a, MAIN, 4)
    campaign = draft_campaign(
        region.a, smtp_profile(smtp), send_by=timezone.now() + dt.timedelta(hours=2)
    )
    services_campaigns.launch(region.users["centre_analyst"], campaign, rng=random.Random(7))
    order = list(Recipient.objects.filter(campaign=campaign).order_by("scheduled_at"))
    start = timezone.now()
    # Two due now, two due later: the clock jumps to the second pair after the first batch.
    for index, recipient in enumerate(order):
        recipient.scheduled_at = start + dt.timedelta(minutes=0 if index < 2 else 30)
        recipient.save(update_fields=["scheduled_at"])
    calls = []

    def clock():
        # The first batch (one reading, then one per message sent) happens at ``start``; the
        # domain is deleted before the clock moves on to the second batch.
        calls.append(1)
        if len(calls) <= 3:
            return start
        if len(calls) == 4:
            Asset.objects.filter(structure=region.a, value=MAIN).delete()
        return start + dt.timedelta(minutes=31)

    counts = sending.run(campaign.pk, clock=clock, sleep=lambda _seconds: None)
    assert counts["sent"] == 2 and counts["held"] == 2
    late = [r.email for r in order[2:]]
    assert _received_by(smtp, late) == 0
    assert set(
        Recipient.objects.filter(campaign=campaign, state=SendState.HELD).values_list(
            "email", flat=True
        )
    ) == set(late)

"""Regional campaigns: preview, fan-out to one action per structure, one notice each, once."""

from __future__ import annotations

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import override_settings

from carbet.audit.models import AuditEntry
from carbet.core.models import Contact, Structure
from carbet.findings.choices import Status
from carbet.findings.models import ActionItem, ActionStatus, Campaign, CampaignNotice, Finding
from carbet.findings.plans import campaigns, notify, services
from carbet.jobs import services as jobs
from carbet.jobs.models import Job, JobStatus
from tests.findings.test_plans_support import item, seed

LOCMEM = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
CVE = "CVE-2024-3400"


@pytest.fixture
def fourth(region):
    """A fourth structure, with a contact address, whose finding does NOT match the CVE."""
    c = Structure.objects.create(
        finess_et="970200040",
        name="Clinique Gamma",
        organisation=region.org_b,
        category="clinique",
        departement="971",
    )
    Contact.objects.create(structure=c, role="director", name="Dir Gamma", email="dir@gamma.test")
    seed(c, item("Autre faille", cve="CVE-2023-0001", product="Other 1.0"))
    return c


@pytest.fixture
def affected(region, fourth):
    """A, A2 and B each have an open finding with the campaign's CVE (A has two)."""
    seed(
        region.a,
        item("PAN-OS GlobalProtect", "critical", cve=CVE, product="PAN-OS 10.2", kev=True),
        item("PAN-OS bis", "high", cve=CVE.lower(), product="PAN-OS 10.2", fingerprint="bis"),
    )
    seed(region.a2, item("PAN-OS GlobalProtect", "high", cve=CVE, product="PAN-OS 11"))
    seed(region.b, item("PAN-OS GlobalProtect", "medium", cve=CVE, product="PAN-OS 9"))
    closed = seed(region.b, item("Déjà corrigée", cve=CVE, fingerprint="closed"))[0]
    Finding.objects.filter(pk=closed.pk).update(status=Status.VERIFIED_CLOSED)
    return region


def make_campaign(region, **criteria) -> Campaign:
    campaign = Campaign(
        title="Mettre à jour les pare-feux PAN-OS",
        description="Une faille permet de prendre le contrôle du pare-feu.",
        notice="Votre pare-feu doit être mis à jour cette semaine.",
        **criteria,
    )
    return campaigns.save_campaign(region.users["centre_analyst"], campaign)


def run_launch(region, campaign, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        return campaigns.launch(region.users["centre_analyst"], campaign)


@override_settings(MAILERS=LOCMEM)
def test_campaign_fan_out_one_action_and_one_notice_per_structure(
    affected, fourth, django_capture_on_commit_callbacks
):
    region = affected
    campaign = make_campaign(region, match_cve=CVE.lower())
    assert campaign.match_cve == CVE  # normalised
    preview = campaigns.preview(region.users["centre_analyst"], campaign)
    assert {m.structure for m in preview} == {region.a, region.a2, region.b}
    counts = {m.structure: m.findings for m in preview}
    assert counts[region.a] == 2 and counts[region.b] == 1  # closed ones do not count
    assert preview[0].structure == region.a  # the worst first

    report = run_launch(region, campaign, django_capture_on_commit_callbacks)
    assert len(report.actions_created) == 3
    actions = ActionItem.objects.filter(campaign=campaign)
    assert {a.structure for a in actions} == {region.a, region.a2, region.b}
    action_a = actions.get(structure=region.a)
    assert action_a.findings.count() == 2
    assert action_a.priority == 1 and action_a.title == campaign.title
    assert not ActionItem.objects.filter(structure=fourth).exists()
    assert all(
        f.status == Status.IN_REMEDIATION
        for f in Finding.objects.filter(cve__iexact=CVE, actions__campaign=campaign)
    )

    assert len(mail.outbox) == 3
    by_structure = {n.structure: n for n in CampaignNotice.objects.filter(campaign=campaign)}
    assert all(n.sent_at for n in by_structure.values())
    to_a = set(by_structure[region.a].recipients)
    assert {"dir@alpha.test", "ref@alpha.test", "dg@alpha.test", "rssi@ght.test"} <= to_a
    assert "it@presta.test" not in to_a and "dir@beta.test" not in to_a
    assert by_structure[region.b].recipients == ["dir@beta.test"]
    message = next(m for m in mail.outbox if m.to == ["dir@beta.test"])
    assert campaign.title in message.subject
    assert "cette semaine" in message.body and "EHPAD Beta" in message.body
    assert "CH Alpha" not in message.body  # never the list of other structures
    campaign.refresh_from_db()
    assert campaign.launched_at and campaign.notice_sent_at

    # The job runs again (a relaunch, a worker that died): nothing is sent twice.
    with django_capture_on_commit_callbacks(execute=True):
        job = jobs.submit(campaigns.NOTIFY_JOB, params={"campaign": campaign.pk})
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED
    assert job.result == {"sent": 0, "already": 0, "no_recipient": 0}
    assert len(mail.outbox) == 3
    assert notify.send_notice(by_structure[region.a].pk) == "already"
    assert len(mail.outbox) == 3

    # Launching again creates nothing new either.
    again = run_launch(region, campaign, django_capture_on_commit_callbacks)
    assert again.actions_created == [] and again.notices_queued == []
    assert ActionItem.objects.filter(campaign=campaign).count() == 3
    assert len(mail.outbox) == 3
    assert AuditEntry.objects.filter(action="campaign.launch").count() == 2
    assert AuditEntry.objects.filter(action="campaign.notice_sent").count() == 3


@override_settings(MAILERS=LOCMEM)
def test_relaunch_picks_up_new_structures_and_findings_only(
    affected, fourth, django_capture_on_commit_callbacks
):
    region = affected
    campaign = make_campaign(region, match_cve=CVE)
    run_launch(region, campaign, django_capture_on_commit_callbacks)
    assert len(mail.outbox) == 3
    seed(fourth, item("PAN-OS", cve=CVE))
    seed(region.a, item("PAN-OS ter", cve=CVE, fingerprint="ter"))
    report = run_launch(region, campaign, django_capture_on_commit_callbacks)
    assert len(report.actions_created) == 1 and len(report.actions_extended) == 3
    assert ActionItem.objects.get(campaign=campaign, structure=region.a).findings.count() == 3
    assert len(mail.outbox) == 4
    assert mail.outbox[-1].to == ["dir@gamma.test"]


@override_settings(MAILERS=LOCMEM)
def test_structure_without_recipient_is_reported_and_sent_once_fixed(
    region, django_capture_on_commit_callbacks
):
    lonely = Structure.objects.create(
        finess_et="970200057",
        name="SSIAD Delta",
        organisation=region.org_b,
        category="ssiad",
        departement="971",
    )
    seed(lonely, item("Routeur", rule="router.default-password"))
    campaign = make_campaign(region, match_rule="router.default-password")
    run_launch(region, campaign, django_capture_on_commit_callbacks)
    notice = CampaignNotice.objects.get(campaign=campaign, structure=lonely)
    assert notice.sent_at is None and "Aucun contact" in notice.error
    assert len(mail.outbox) == 0
    Contact.objects.create(
        structure=lonely, role="cyber_referent", name="Réf", email="ref@delta.test"
    )
    assert notify.send_notice(notice.pk) == "sent"
    assert notify.send_notice(notice.pk) == "already"
    assert len(mail.outbox) == 1


def test_product_and_rule_criteria_all_must_match(affected):
    region = affected
    seed(region.b, item("Autre", product="PAN-OS 9", rule="other"))
    campaign = make_campaign(region, match_product="pan-os", match_rule="other")
    assert [m.structure for m in campaigns.preview(region.users["centre_admin"], campaign)] == [
        region.b
    ]


def test_campaign_progress_share(affected, django_capture_on_commit_callbacks):
    region = affected
    campaign = make_campaign(region, match_cve=CVE)
    run_launch(region, campaign, django_capture_on_commit_callbacks)
    action_b = ActionItem.objects.get(campaign=campaign, structure=region.b)
    services.update_progress(region.users["director_b"], action_b, status=ActionStatus.DONE)
    progress = campaigns.progress(region.users["centre_analyst"], campaign)
    assert progress.total == 3 and progress.finished == 1 and progress.share == 33
    assert [r.structure for r in progress.rows] == sorted(
        [region.a, region.a2, region.b], key=lambda s: s.name
    )


def test_only_centre_staff_manage_campaigns(affected):
    region = affected
    with pytest.raises(ValidationError, match="au moins un critère"):
        make_campaign(region)
    campaign = make_campaign(region, match_cve=CVE)
    for role in ("director", "referent", "it_provider", "ars_viewer", "nobody"):
        user = region.users[role]
        with pytest.raises(PermissionDenied):
            campaigns.launch(user, campaign)
        with pytest.raises(PermissionDenied):
            campaigns.preview(user, campaign)
        assert not campaigns.campaigns_for(user).exists()
    assert not Job.objects.filter(kind=campaigns.NOTIFY_JOB).exists()


def test_launched_campaign_keeps_its_criteria(affected, django_capture_on_commit_callbacks):
    region = affected
    campaign = make_campaign(region, match_cve=CVE)
    run_launch(region, campaign, django_capture_on_commit_callbacks)
    campaign.refresh_from_db()
    campaign.match_cve = "CVE-2020-0001"
    with pytest.raises(ValidationError, match="garde ses critères"):
        campaigns.save_campaign(region.users["centre_analyst"], campaign)

"""The demo region's findings side: written through the services, varied, idempotent, shown
only to those who may see it, drawn by the dashboards, and wiped by ``--reset``."""

from __future__ import annotations

import io
import socket
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta

import pytest
from django.core import mail
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone

from carbet.accounts.models import User
from carbet.audit.models import AuditEntry
from carbet.audit.services import verify
from carbet.bydesign.service import BYDESIGN_SOURCE
from carbet.community.service import COMMUNITY_SOURCE
from carbet.core.models import Structure
from carbet.crisis.service import CRISIS_SOURCE
from carbet.demo import findings_data
from carbet.directory.service import DIRECTORY_SOURCE
from carbet.exercises.service import EXERCISE_SOURCE
from carbet.exposure.service import EXPOSURE_SOURCE
from carbet.findings.choices import OPEN_STATUSES, Severity, Source, Status
from carbet.findings.models import (
    ActionEvidence,
    ActionItem,
    ActionStatus,
    Campaign,
    CampaignNotice,
    Finding,
    FindingEvent,
    PostureSnapshot,
    RiskAcceptance,
    Run,
)
from carbet.findings.plans.evidence import APPROVED_REASON
from carbet.findings.posture import selectors
from carbet.jobs.models import Job
from tests.conftest import login, rolled_back_at_the_end

PASSWORD = "une démo bien gardée 2024"
LOCMEM = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
FINDINGS_MODELS = (
    Finding,
    FindingEvent,
    Run,
    ActionItem,
    ActionEvidence,
    Campaign,
    CampaignNotice,
    RiskAcceptance,
    PostureSnapshot,
    Job,
)


def load(**options) -> str:
    out = io.StringIO()
    call_command("demo", stdout=out, **options)
    return out.getvalue()


def counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in (*FINDINGS_MODELS, AuditEntry)}


def structure(name: str) -> Structure:
    return Structure.objects.get(name=name)


def user(email: str) -> User:
    return User.objects.get(email=email)


@pytest.fixture(scope="module")
def demo_once(django_db_setup, django_db_blocker) -> Iterator[str]:
    """The demo loaded once for the module (it takes seconds); each test using ``demo`` runs in
    a savepoint of it and is rolled back to it (tests.conftest.rolled_back_at_the_end)."""
    with rolled_back_at_the_end(django_db_blocker):
        with django_db_blocker.unblock():
            output = load(password=PASSWORD)
        yield output


@pytest.fixture
def demo(demo_once, db) -> str:
    return demo_once


def test_most_structures_have_findings_of_every_severity_and_source(demo):
    per_structure = Counter(Finding.objects.values_list("structure__name", flat=True))
    assert len(per_structure) >= 12 and Structure.objects.count() == 16
    # Nobody may scan or audit a structure without a mandate: those two have nothing.
    without_mandate = Structure.objects.filter(mandates__isnull=True)
    assert without_mandate.count() == 2
    assert not Finding.objects.filter(structure__in=without_mandate).exists()
    # Every severity that calls for work (the demo's weaknesses are all worth fixing; the
    # informational ones came from synthetic scans that contradicted the history, now gone).
    severities = set(Finding.objects.values_list("severity", flat=True))
    assert severities == set(Severity.values) - {Severity.INFO}
    assert set(Finding.objects.values_list("source", flat=True)) == {
        EXPOSURE_SOURCE,
        DIRECTORY_SOURCE,
        Source.MANUAL,
        Source.IMPORT,
        # An exercise's RETEX, a crisis' lessons, unmet essential measures of a digital service.
        EXERCISE_SOURCE,
        CRISIS_SOURCE,
        BYDESIGN_SOURCE,
        # A vulnerability matched in a declared inventory (the community's targeted alerts).
        COMMUNITY_SOURCE,
    }
    # Structures differ: the worst has several open critical findings, others none.
    open_critical = Counter(
        Finding.objects.filter(status__in=OPEN_STATUSES, severity=Severity.CRITICAL).values_list(
            "structure__name", flat=True
        )
    )
    assert open_critical["Centre hospitalier du Fleuve"] >= 2
    assert open_critical["EHPAD Les Hibiscus"] == 0
    for finding in Finding.objects.all():
        assert finding.title and finding.description and finding.remediation
        assert finding.rule


def test_history_leaves_overdue_findings_and_fixes_closed_by_rescans(demo):
    today = timezone.localdate()
    overdue = Finding.objects.filter(status__in=OPEN_STATUSES, sla_due__lt=today)
    assert overdue.count() >= 5
    assert Finding.objects.filter(first_seen__lte=timezone.now() - timedelta(days=80)).exists()
    by_rescan = Finding.objects.filter(
        status=Status.VERIFIED_CLOSED, status_changed_by__isnull=True
    )
    assert by_rescan.count() >= 5
    assert all(f.status_reason.startswith("Plus vue") for f in by_rescan)


def test_exposure_scans_only_touched_proven_assets_their_mandate_covered(demo):
    for finding in Finding.objects.filter(source=EXPOSURE_SOURCE).select_related("asset"):
        asset = finding.asset
        assert asset is not None and asset.is_proven, finding
        assert any(
            m.covers("exposure_scan") and (m.all_assets or asset in m.assets.all())
            for m in finding.structure.mandates.all()
        ), finding
    for finding in Finding.objects.filter(source=DIRECTORY_SOURCE):
        assert any(m.covers("directory_audit") for m in finding.structure.mandates.all())
        assert finding.asset.kind == "ad_domain"


def test_the_kev_campaign_has_one_action_per_affected_structure(demo):
    campaign = Campaign.objects.get(match_cve=findings_data.KEV_CVE)
    assert campaign.launched_at is not None
    # The campaign was launched on what the scans had found; the community's matching of the
    # declared inventories, later, writes its own findings (correlated with these, not in the
    # campaign's actions).
    kev = Finding.objects.filter(cve=findings_data.KEV_CVE, kev=True).exclude(
        source=COMMUNITY_SOURCE
    )
    assert kev.values("structure").distinct().count() == 4
    # One structure patched before the launch: the campaign leaves it alone.
    affected = set(kev.filter(status__in=OPEN_STATUSES).values_list("structure", flat=True))
    assert len(affected) == 3
    actions = ActionItem.objects.filter(campaign=campaign)
    assert sorted(actions.values_list("structure", flat=True)) == sorted(affected)
    for action in actions:
        assert set(action.findings.all()) == set(kev.filter(structure=action.structure))
    notices = CampaignNotice.objects.filter(campaign=campaign)
    assert set(notices.values_list("structure", flat=True)) == affected
    assert Job.objects.filter(kind="findings.campaign_notify").count() == 1
    assert Counter(actions.values_list("status", flat=True)) == {
        ActionStatus.IN_PROGRESS: 2,
        ActionStatus.TODO: 1,
    }


def test_people_decided_through_the_services(demo):
    analyst = user("analyste@centre-demo.test")
    false_positive = Finding.objects.get(status=Status.FALSE_POSITIVE)
    assert (
        false_positive.status_changed_by == analyst and "hébergeur" in false_positive.status_reason
    )
    assert false_positive.events.filter(kind="status", to_status=Status.FALSE_POSITIVE).exists()

    accepted = RiskAcceptance.objects.get()
    assert accepted.status == "approved"
    assert accepted.requested_by == user("rssi@ght-caraibe-sud.test")
    assert accepted.decided_by == user("direction@ch-anse-bleue.test")
    assert [f.status for f in accepted.findings.all()] == [Status.RISK_ACCEPTED]
    assert accepted.expires_on > timezone.localdate()

    proof = ActionEvidence.objects.get()
    assert proof.approved_by == analyst and proof.document_sha256
    assert proof.action.status == ActionStatus.VERIFIED
    assert [(f.status, f.status_reason) for f in proof.action.findings.all()] == [
        (Status.VERIFIED_CLOSED, APPROVED_REASON)
    ]
    # The plans people made from findings (an exercise's RETEX and a crisis' lessons make
    # their own action items, checked by those services' tests).
    plans = Counter(
        ActionItem.objects.filter(campaign__isnull=True)
        .exclude(findings__source__in=[EXERCISE_SOURCE, CRISIS_SOURCE])
        .distinct()
        .values_list("structure__name", flat=True)
    )
    assert plans == {
        "EHPAD Les Hibiscus": 3,
        "Centre hospitalier de l'Anse-Bleue": 2,
        "EHPAD Les Flamboyants": 1,
    }
    assert Finding.objects.filter(status=Status.IN_REMEDIATION).exists()


def test_twelve_weeks_of_snapshots_that_move(demo):
    today = timezone.localdate()
    days = sorted(set(PostureSnapshot.objects.values_list("day", flat=True)))
    assert days[0] == today - timedelta(days=84) and days[-1] == today
    assert len(days) == len(findings_data.SNAPSHOT_DAYS)
    assert PostureSnapshot.objects.count() == len(days) * Structure.objects.count()
    trend = selectors.trend_data(user("analyste@centre-demo.test"), today=today)
    assert trend.days == days
    assert len(set(trend.open_critical)) > 2 and len(set(trend.overdue)) > 2


def test_the_summary_says_what_was_loaded(demo):
    actions = ActionItem.objects.count()
    assert (
        f"Vulnérabilités de démonstration chargées : {Finding.objects.count()} vulnérabilités"
        in demo
    )
    assert f"{actions} actions correctives" in demo


def test_a_second_run_adds_nothing(demo):
    before = counts()
    output = load(password=PASSWORD)
    assert counts() == before
    assert "rien à changer" in output and "Vulnérabilités de démonstration" not in output


def test_reset_wipes_the_findings_side_and_loads_it_again(demo):
    before = counts()
    old_campaign = Campaign.objects.get().pk
    old_document = ActionEvidence.objects.get().document.name
    assert default_storage.exists(old_document)
    output = load(password=PASSWORD, reset=True)
    assert "effacée" in output and "Vulnérabilités de démonstration chargées" in output
    after = counts()
    assert {k: v for k, v in after.items() if k != "AuditEntry"} == {
        k: v for k, v in before.items() if k != "AuditEntry"
    }
    assert not Campaign.objects.filter(pk=old_campaign).exists()
    assert not Job.objects.filter(params__campaign=old_campaign).exists()


def test_reset_refuses_when_a_real_campaign_is_there(demo):
    Campaign.objects.create(title="Campagne réelle", notice="Bonjour", match_rule="port.rdp")
    with pytest.raises(CommandError, match="1 campagne"):
        load(password=PASSWORD, reset=True)
    assert Finding.objects.exists()


def test_no_findings_are_loaded_beside_other_data(db):
    User.objects.create_user(username="vraie@ch-reel.test", email="vraie@ch-reel.test")
    output = load(password=PASSWORD)
    assert Structure.objects.count() == 16
    assert not Finding.objects.exists() and not PostureSnapshot.objects.exists()
    assert "non chargés" in output and "1 compte(s)" in output


def test_the_director_sees_only_her_structure_findings(demo):
    client = Client()
    assert client.login(username="directrice@ehpad-hibiscus.test", password=PASSWORD)
    hibiscus = structure("EHPAD Les Hibiscus")
    response = client.get(reverse("findings:list"))  # open findings by default
    assert response.status_code == 200
    shown = response.context["page"].object_list
    assert shown and {f.structure_id for f in shown} == {hibiscus.pk}
    mine = Finding.objects.filter(structure=hibiscus, status__in=OPEN_STATUSES)
    assert len(shown) == mine.count()
    assert "Centre hospitalier du Fleuve" not in response.text
    elsewhere = Finding.objects.exclude(structure=hibiscus).first()
    assert client.get(reverse("findings:detail", args=[elsewhere.pk])).status_code == 404
    dashboard = client.get(reverse("findings:dashboard"))
    assert dashboard.status_code == 200 and "EHPAD Les Hibiscus" in dashboard.text
    other = structure("Centre hospitalier du Fleuve")
    assert client.get(reverse("findings:structure_dashboard", args=[other.pk])).status_code == 404


def test_the_dashboards_draw_the_demo(demo):
    analyst = login(Client(), user("analyste@centre-demo.test"))
    centre = analyst.get(reverse("findings:centre_dashboard"))
    assert centre.status_code == 200
    assert "Centre hospitalier du Fleuve" in centre.text and findings_data.KEV_CVE in centre.text
    for name in ("Centre hospitalier du Fleuve", "EHPAD Les Hibiscus", "SSIAD du Nord"):
        page = analyst.get(reverse("findings:structure_dashboard", args=[structure(name).pk]))
        assert page.status_code == 200, name
    campaign = Campaign.objects.get()
    assert analyst.get(reverse("findings:actions")).status_code == 200
    ars = login(Client(), user("ars@ars-demo.test"))
    regional = ars.get(reverse("findings:ars_dashboard"))
    assert regional.status_code == 200
    assert "Centre hospitalier du Fleuve" not in regional.text
    assert campaign.title not in regional.text


def test_the_audit_chain_holds_every_write(demo):
    actions = Counter(AuditEntry.objects.values_list("action", flat=True))
    assert actions["findings.ingest"] == Run.objects.count()
    # One per snapshot day, plus today's point written again once every service has loaded.
    assert actions["findings.snapshot"] == len(findings_data.SNAPSHOT_DAYS) + 1
    assert actions["campaign.launch"] == 1 and actions["acceptance.approve"] == 1
    assert (
        actions["evidence.approve"] == 1 and actions["action.create"] == ActionItem.objects.count()
    )
    assert verify(check_anchor=False).ok  # the anchor file moves on commit only


@override_settings(MAILERS=LOCMEM)
def test_notices_and_the_signature_request_leave_once_the_load_commits(
    db, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        load(password=PASSWORD)
    subjects = Counter(message.subject.split(" — ")[0].split(" : ")[0] for message in mail.outbox)
    assert subjects == {
        "[Carbet] Campagne régionale": 3,
        "[Carbet] Acceptation de risque à signer": 1,
        # The crisis demo's incident reports reach the centre's staff, as a real report does.
        "[Carbet] Incident signalé": 4,
    }
    assert CampaignNotice.objects.filter(sent_at__isnull=True).count() == 0
    signer = next(m for m in mail.outbox if "signer" in m.subject)
    assert signer.to == ["direction@ch-anse-bleue.test"]


def _closed_port() -> tuple[int, socket.socket]:
    """A loopback port nobody listens on (bound, never listening: connections are refused)."""
    holder = socket.socket()
    holder.bind(("127.0.0.1", 0))
    return holder.getsockname()[1], holder


@pytest.mark.django_db(transaction=True)
def test_a_mail_server_that_refuses_does_not_fail_the_demo(settings):
    port, holder = _closed_port()
    with holder:
        settings.MAILERS = {
            "default": {
                "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
                "OPTIONS": {"host": "127.0.0.1", "port": port, "timeout": 5},
            }
        }
        output = load(password=PASSWORD)
    assert "n'a pas pu partir" in output
    assert RiskAcceptance.objects.get().status == "approved"
    assert Finding.objects.count() > 50

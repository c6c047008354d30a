"""The weekly digest, delivered to a real SMTP server (aiosmtpd) listening on loopback.

The job runs through ``carbet.jobs.services.submit`` (the test settings use the immediate task
backend) and Django's real SMTP backend connects to the server; the test reads what arrived.
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import socket

import pytest
from aiosmtpd.controller import Controller
from django.core.management import call_command
from django.test import override_settings
from django.utils import timezone

from carbet.accounts.roles import StructureRole
from carbet.audit.models import AuditEntry
from carbet.core.models import Contact, Structure
from carbet.findings.models import ActionItem, DigestSent, RiskAcceptance
from carbet.findings.models.acceptance import RiskAcceptanceStatus
from carbet.jobs import services as jobs
from carbet.jobs.models import Job, JobStatus
from tests.conftest import make_user
from tests.findings.test_posture_fixtures import A_SECRET, B_SECRET, seed_findings


class Inbox:
    """aiosmtpd handler keeping every message it receives."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], email.message.EmailMessage]] = []

    async def handle_DATA(self, server, session, envelope):
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.messages.append((list(envelope.rcpt_tos), parsed))
        return "250 Message accepted"

    def by_recipient(self) -> dict[str, list[email.message.EmailMessage]]:
        found: dict[str, list] = {}
        for recipients, message in self.messages:
            for recipient in recipients:
                found.setdefault(recipient, []).append(message)
        return found


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp_inbox():
    inbox = Inbox()
    port = _free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    mailers = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": port, "timeout": 10},
        }
    }
    with override_settings(MAILERS=mailers, DEFAULT_FROM_EMAIL="carbet@centre.test"):
        yield inbox
    controller.stop()


@pytest.fixture
def digest_region(region):
    """Findings of the shared seed, plus a late action, an ending acceptance and contacts."""
    seed_findings(region)
    today = timezone.localdate()
    ActionItem.objects.create(
        structure=region.a,
        title=f"{A_SECRET} : changer le pare-feu",
        due_date=today - dt.timedelta(days=3),
    )
    RiskAcceptance.objects.create(
        structure=region.b,
        justification="Logiciel métier ancien",
        compensating_measures="Réseau isolé",
        expires_on=today + dt.timedelta(days=10),
        status=RiskAcceptanceStatus.APPROVED,
    )
    Contact.objects.create(
        structure=region.b, role="cyber_referent", name="RSSI Beta", email="rssi@beta.test"
    )
    Contact.objects.create(structure=region.b, role="dpo", name="DPO Beta", email="dpo@beta.test")
    # A structure with nothing to say: its referent gets nothing.
    quiet = Structure.objects.create(
        finess_et="970200040",
        name="EHPAD Calme",
        organisation=region.org_b,
        category="ehpad",
        places=40,
        departement="971",
    )
    make_user("ref@calme.test", **{StructureRole.REFERENT: [quiet]})
    return region


def _run_digest(django_capture_on_commit_callbacks, today: dt.date) -> Job:
    with django_capture_on_commit_callbacks(execute=True):
        job = jobs.submit("findings.digest", params={"today": today.isoformat()})
    job.refresh_from_db()
    return job


def test_weekly_digest_reaches_each_referent_with_only_their_structure(
    digest_region, smtp_inbox, django_capture_on_commit_callbacks
):
    region = digest_region
    today = timezone.localdate()
    job = _run_digest(django_capture_on_commit_callbacks, today)
    assert job.status == JobStatus.SUCCEEDED, job.error
    inbox = smtp_inbox.by_recipient()
    # a: its referent and the GHT's referent; a2: the GHT's referent; b: its cyber contact.
    assert sorted(inbox) == ["ref@alpha.test", "rssi@beta.test", "rssi@ght.test"]
    assert len(inbox["rssi@ght.test"]) == 2 and len(inbox["ref@alpha.test"]) == 1
    assert job.result["sent"] == 4
    for recipients, message in smtp_inbox.messages:
        assert len(recipients) == 1  # one message per person: nobody sees another's address
        text = message.get_body(("plain",)).get_content()
        html = message.get_body(("html",)).get_content()
        subject = message["Subject"]
        if region.b.name in subject:
            others = (A_SECRET, "Alpha2")
            assert B_SECRET in text and "Acceptation n°" in text
        elif region.a2.name in subject:
            others = (A_SECRET, B_SECRET)
            assert "Alpha2 Fortinet VPN" in text and "NOUVELLE FAILLE CRITIQUE" in text
        else:
            assert region.a.name in subject
            others = (B_SECRET, "Alpha2")
            assert "EN RETARD" in text and "changer le pare-feu" in text
            assert f"{A_SECRET} Fortinet VPN" in html
        for other in others:
            assert other not in text and other not in html and other not in subject
        assert "/vulnerabilites/tableau-de-bord/structure/" in text
    assert "dpo@beta.test" not in inbox and "ref@calme.test" not in inbox
    assert AuditEntry.objects.filter(action="findings.digest").exists()


def test_digest_is_sent_once_per_week(
    digest_region, smtp_inbox, django_capture_on_commit_callbacks
):
    today = timezone.localdate()
    _run_digest(django_capture_on_commit_callbacks, today)
    first = len(smtp_inbox.messages)
    again = _run_digest(django_capture_on_commit_callbacks, today)
    assert len(smtp_inbox.messages) == first
    assert again.result["sent"] == 0 and again.result["skipped"] == first
    assert DigestSent.objects.count() == first
    # The next week is a new digest.
    call_command("findings", "digest", "--today", (today + dt.timedelta(days=7)).isoformat())
    assert len(smtp_inbox.messages) > first


def test_nothing_to_say_sends_nothing(region, smtp_inbox, django_capture_on_commit_callbacks):
    job = _run_digest(django_capture_on_commit_callbacks, timezone.localdate())
    assert job.status == JobStatus.SUCCEEDED
    assert smtp_inbox.messages == [] and job.result["sent"] == 0


def test_an_unreachable_server_fails_the_job_and_a_rerun_completes(
    digest_region, smtp_inbox, django_capture_on_commit_callbacks
):
    dead = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": _free_port(), "timeout": 2},
        }
    }
    with override_settings(MAILERS=dead):
        failed = _run_digest(django_capture_on_commit_callbacks, timezone.localdate())
    assert failed.status == JobStatus.FAILED
    assert DigestSent.objects.count() == 0
    retried = _run_digest(django_capture_on_commit_callbacks, timezone.localdate())
    assert retried.status == JobStatus.SUCCEEDED and retried.result["sent"] == 4

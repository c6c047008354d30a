"""Risk acceptance: request, signature, refusal, lifting, the 30-day reminder and the expiry."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.test import override_settings

from carbet.audit.models import AuditEntry
from carbet.core.models import Contact
from carbet.findings.choices import EventKind, Status
from carbet.findings.ingest import FindingInput, ingest
from carbet.findings.models import Finding, RiskAcceptance, RiskAcceptanceStatus
from carbet.findings.models.acceptance import MAX_ACCEPTANCE_DAYS
from carbet.findings.services import acceptance
from carbet.jobs import services as jobs
from carbet.jobs.models import Job
from tests.findings.findings_helpers import make_finding, make_findings

LOCMEM = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
TODAY = dt.date(2025, 3, 1)
RS = RiskAcceptanceStatus


def request(region, findings, *, days: int = 180, who: str = "referent", **overrides):
    values = {
        "justification": "Le logiciel métier ne fonctionne pas sur la version corrigée.",
        "compensating_measures": "Serveur isolé dans un réseau à part, accès surveillé.",
        "expires_on": TODAY + dt.timedelta(days=days),
        "today": TODAY,
    }
    values.update(overrides)
    return acceptance.request_acceptance(region.users[who], region.a, findings, **values)


def signed(region, findings, *, days: int = 180) -> RiskAcceptance:
    item = request(region, findings, days=days)
    now = dt.datetime.combine(TODAY, dt.time(10), tzinfo=dt.UTC)
    return acceptance.approve(region.users["director"], item, ip="127.0.0.8", now=now)


# --- Requests --------------------------------------------------------------------------------


def test_request_records_and_leaves_findings_open(region):
    findings = make_findings(region.a, "one", "two")
    item = request(region, findings)
    assert item.status == RS.REQUESTED and set(item.findings.all()) == set(findings)
    for finding in findings:
        finding.refresh_from_db()
        assert finding.status == Status.NEW
        assert finding.events.filter(kind=EventKind.COMMENT).exists()
    assert AuditEntry.objects.filter(action="acceptance.request", object_id=str(item.pk)).exists()


@pytest.mark.parametrize(
    ("days", "ok"), [(MAX_ACCEPTANCE_DAYS, True), (MAX_ACCEPTANCE_DAYS + 1, False), (0, False)]
)
def test_acceptances_last_a_year_at_most_and_end_in_the_future(region, days, ok):
    finding = make_finding(region.a)
    if ok:
        assert request(region, [finding], days=days).expires_on == TODAY + dt.timedelta(days)
    else:
        with pytest.raises(ValidationError) as caught:
            request(region, [finding], days=days)
        assert "expires_on" in caught.value.message_dict
        assert not RiskAcceptance.objects.exists()
    with pytest.raises(ValidationError):
        request(region, [finding], days=-3)


def test_request_is_refused_when_it_does_not_make_sense(region):
    open_a = make_finding(region.a, "open-a")
    closed = make_finding(region.a, "closed", status=Status.VERIFIED_CLOSED)
    of_b = make_finding(region.b, "of-b")
    for findings in ([], [open_a, of_b], [closed]):
        with pytest.raises(ValidationError):
            request(region, findings)
    with pytest.raises(ValidationError, match="Expliquez"):
        request(region, [open_a], justification="  ")
    with pytest.raises(ValidationError, match="mesures"):
        request(region, [open_a], compensating_measures="")
    request(region, [open_a])
    with pytest.raises(ValidationError, match="déjà"):
        request(region, [open_a])


@pytest.mark.parametrize("role", ["it_provider", "centre_admin", "ars_viewer", "director_b"])
def test_only_the_structures_referent_or_director_may_ask(region, role):
    with pytest.raises(PermissionDenied):
        request(region, [make_finding(region.a)], who=role)


# --- Decisions -------------------------------------------------------------------------------


def test_the_director_signs_and_the_findings_become_accepted(region):
    findings = make_findings(region.a, "one", "two")
    item = signed(region, findings)
    assert item.status == RS.APPROVED and item.decided_by == region.users["director"]
    for finding in findings:
        finding.refresh_from_db()
        assert finding.status == Status.RISK_ACCEPTED
        assert "jusqu'au" in finding.status_reason
        event = finding.events.get(kind=EventKind.STATUS)
        assert event.to_status == Status.RISK_ACCEPTED
    signature = acceptance.signature_of(item)
    assert signature.action == "acceptance.approve" and signature.source_ip == "127.0.0.8"
    assert signature.actor_id == region.users["director"].pk
    with pytest.raises(ValidationError, match="déjà"):
        acceptance.approve(region.users["director"], item)


def test_a_referent_cannot_sign_nor_can_another_director(region):
    item = request(region, [make_finding(region.a)])
    for role in ("referent", "director_b", "centre_admin"):
        with pytest.raises(PermissionDenied):
            acceptance.approve(region.users[role], item)
    assert RiskAcceptance.objects.get(pk=item.pk).status == RS.REQUESTED


def test_rejection_needs_a_note_and_leaves_findings_open(region):
    finding = make_finding(region.a)
    item = request(region, [finding])
    with pytest.raises(ValidationError):
        acceptance.reject(region.users["director"], item, note="")
    acceptance.reject(region.users["director"], item, note="Corrigez plutôt.")
    assert item.status == RS.REJECTED and item.decision_note == "Corrigez plutôt."
    finding.refresh_from_db()
    assert finding.status == Status.NEW
    request(region, [finding])  # a refused request frees the finding for a new one


def test_accepted_findings_are_left_alone_by_scans(region):
    finding = make_finding(region.a, "kept")
    signed(region, [finding])
    ingest(region.a, "exposure", [], complete=True, scope="tests")
    ingest(
        region.a,
        "exposure",
        [FindingInput(title="Finding kept", fingerprint="fp-kept", severity="critical")],
        complete=True,
        scope="tests",
    )
    finding.refresh_from_db()
    assert finding.status == Status.RISK_ACCEPTED


def test_lifting_an_acceptance_reopens_its_findings(region):
    finding = make_finding(region.a)
    item = signed(region, [finding])
    with pytest.raises(PermissionDenied):
        acceptance.revoke(region.users["referent"], item, note="x")
    acceptance.revoke(region.users["centre_analyst"], item, note="Faille désormais exploitée")
    finding.refresh_from_db()
    assert item.status == RS.REVOKED and finding.status == Status.CONFIRMED


# --- The sweep -------------------------------------------------------------------------------


@override_settings(MAILERS=LOCMEM)
def test_the_reminder_is_sent_once_thirty_days_before_the_end(region):
    Contact.objects.create(
        structure=region.a, role="cyber_referent", name="RSSI", email="rssi@alpha.test"
    )
    item = signed(region, [make_finding(region.a, "vpn")], days=100)
    day_before = item.expires_on - dt.timedelta(days=31)
    assert acceptance.sweep(today=day_before)["reminders"] == 0
    assert mail.outbox == []
    reminder_day = item.expires_on - dt.timedelta(days=30)
    assert acceptance.sweep(today=reminder_day)["reminders"] == 1
    assert acceptance.sweep(today=reminder_day + dt.timedelta(days=1))["reminders"] == 0
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert item.expires_on.strftime("%d/%m/%Y") in message.subject
    assert "Finding vpn" in message.body
    assert {"rssi@alpha.test", "dir@alpha.test", "ref@alpha.test", "dg@alpha.test"} <= set(
        message.to
    )
    assert "dir@beta.test" not in message.to
    item.refresh_from_db()
    assert item.reminder_sent_at is not None


def test_at_the_end_the_acceptance_expires_and_its_findings_reopen(region):
    findings = make_findings(region.a, "one", "two")
    item = signed(region, findings, days=60)
    Finding.objects.filter(pk=findings[1].pk).update(status=Status.VERIFIED_CLOSED)
    before = acceptance.sweep(today=item.expires_on - dt.timedelta(days=1))
    assert before["expired"] == 0
    result = acceptance.sweep(today=item.expires_on)
    assert result["expired"] == 1 and result["reopened"] == 1
    item.refresh_from_db()
    assert item.status == RS.EXPIRED
    reopened = Finding.objects.get(pk=findings[0].pk)
    assert reopened.status == Status.CONFIRMED
    assert reopened.sla_due > item.expires_on  # a new deadline, from the expiry day
    event = reopened.events.get(kind=EventKind.ACCEPTANCE_EXPIRED)
    assert (event.from_status, event.to_status) == (Status.RISK_ACCEPTED, Status.CONFIRMED)
    assert Finding.objects.get(pk=findings[1].pk).status == Status.VERIFIED_CLOSED
    assert AuditEntry.objects.filter(action="acceptance.expire", object_id=str(item.pk)).exists()
    again = acceptance.sweep(today=item.expires_on + dt.timedelta(days=1))
    assert again["expired"] == 0 and again["reopened"] == 0


def test_unsigned_requests_lapse_at_their_date(region):
    item = request(region, [make_finding(region.a)], days=10)
    result = acceptance.sweep(today=TODAY + dt.timedelta(days=10))
    item.refresh_from_db()
    assert result["stale_requests"] == 1 and item.status == RS.EXPIRED
    with pytest.raises(ValidationError):
        acceptance.approve(region.users["director"], item)


def test_the_sweep_runs_as_a_job_and_from_the_command(region, capsys):
    item = signed(region, [make_finding(region.a)], days=20)
    end = item.expires_on.isoformat()
    job = jobs.submit("findings.acceptance_sweep", params={"today": end})
    jobs.execute(str(job.pk))
    job = Job.objects.get(pk=job.pk)
    assert job.result["expired"] == 1
    call_command("findings", "sweep", "--today", end)
    assert "0 acceptation(s) expirée(s)" in capsys.readouterr().out


@override_settings(MAILERS=LOCMEM)
def test_the_director_is_told_a_request_waits_for_signature(
    region, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        item = request(region, [make_finding(region.a)])
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert f"n° {item.pk}" in message.body and region.a.name in message.subject
    # directors only (the structure's own and its organisation's), not the referent
    assert set(message.to) == {"dir@alpha.test", "dg@alpha.test"}

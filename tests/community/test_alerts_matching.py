"""Matched alerts end to end: real feed files imported into a temporary store, inventories of
structures A and B, the matching pass, findings through ingest, and the targeted e-mail through
a real SMTP server on loopback (aiosmtpd)."""

from __future__ import annotations

import datetime as dt
import socket
import sqlite3

import pytest
from django.test import override_settings
from django.utils import timezone

from carbet.audit.models import AuditEntry
from carbet.community import mail_alerts, matching, services_inventory
from carbet.community.models import MatchRun, StructureAlert, Vulnerability
from carbet.community.service import COMMUNITY_SOURCE
from carbet.core.tenancy import SYSTEM
from carbet.exposure.service import EXPOSURE_SOURCE
from carbet.findings.choices import Severity, Status
from carbet.findings.ingest import FindingInput, ingest
from carbet.findings.models import Finding
from tests.community import test_alerts_fixtures as fx
from tests.community.test_alerts_fixtures import FORTIOS_KEV, import_feeds, kev_file, openssh_kev

feeds, inventories = fx.feeds, fx.inventories  # the shared fixtures

A_PEOPLE = {"dir@alpha.test", "ref@alpha.test", "dg@alpha.test", "rssi@ght.test"}
FORTIOS = "CVE-2024-21762"
OPENSSH = "CVE-2024-6387"


def recipients(inbox) -> list[str]:
    return sorted(address for to, _message in inbox.messages for address in to)


def test_full_run_alerts_a_once_and_never_b(region, feeds, inventories, smtp_inbox):
    result = matching.run(full=True)

    assert result["matches"] == 1 and result["new_alerts"] == 1 and result["lines"] == 4
    alert = StructureAlert.objects.visible_to(SYSTEM).get()
    assert alert.structure == region.a and alert.vulnerability.vuln_id == FORTIOS
    assert alert.products == ["Fortinet FortiOS 7.0.12 — vpn.alpha.test:443"]
    assert alert.certainty == "version" and alert.sent_at is not None
    assert list(alert.lines.all()) == [inventories["fortios"]]
    vuln = alert.vulnerability
    assert vuln.kev and vuln.ransomware and vuln.cvss == 9.8
    assert set(vuln.sources) == {"nvd", "kev", "certfr"}
    assert vuln.advisories == ["CERTFR-2024-ALE-005"] and "7.0.14" in vuln.fixed_in

    # One message per person of A (referents and directors), none to B's people.
    assert recipients(smtp_inbox) == sorted(A_PEOPLE)
    assert sorted(alert.recipients) == sorted(A_PEOPLE)
    _to, message = smtp_inbox.messages[0]
    assert FORTIOS in message["Subject"] and "exploitée activement" in message["Subject"]
    text = message.get_body(preferencelist=("plain",)).get_content()
    assert "Fortinet FortiOS 7.0.12 — vpn.alpha.test:443" in text
    assert "7.0.14" in text and "Apply mitigations per vendor instructions." in text
    assert f"/communaute/alerte/{alert.pk}/" in text
    html = message.get_body(preferencelist=("html",)).get_content()
    assert "<li>Fortinet FortiOS 7.0.12 — vpn.alpha.test:443</li>" in html

    # Running again (daily or full) sends nothing more and creates nothing.
    assert matching.run(full=False)["emails"] == 0
    assert matching.run(full=True)["emails"] == 0
    assert len(smtp_inbox.messages) == len(A_PEOPLE)
    assert StructureAlert.objects.visible_to(SYSTEM).count() == 1
    assert not StructureAlert.objects.visible_to(SYSTEM).filter(structure=region.b).exists()
    sent = AuditEntry.objects.filter(action="community.alert.sent")
    assert sent.count() == 1 and sent.get().structure_id == region.a.pk

    runs = list(MatchRun.objects.order_by("started_at"))
    assert [r.kind for r in runs] == ["full", "daily", "full"]
    assert runs[0].lines == 4 and runs[0].matches == 1 and runs[0].new_alerts == 1
    assert runs[0].emails == len(A_PEOPLE) and runs[0].error == "" and runs[0].finished_at
    assert runs[1].since == timezone.localdate(runs[0].started_at).isoformat()


def test_matches_become_findings_through_ingest(region, feeds, inventories, smtp_inbox):
    matching.run(full=True)
    finding = Finding.objects.visible_to(SYSTEM).get(source=COMMUNITY_SOURCE)
    assert finding.structure == region.a and finding.cve == FORTIOS
    assert finding.severity == Severity.CRITICAL and finding.kev
    assert finding.status == Status.NEW
    assert "FortiOS 7.0.12" in finding.description and "7.0.14" in finding.remediation
    alert = StructureAlert.objects.visible_to(SYSTEM).get()
    assert alert.fingerprint == finding.fingerprint == matching.fingerprint(FORTIOS)
    assert not Finding.objects.visible_to(SYSTEM).filter(structure=region.b).exists()
    matching.run(full=True)
    assert Finding.objects.visible_to(SYSTEM).filter(source=COMMUNITY_SOURCE).count() == 1


def test_correlated_with_the_exposure_scanner_finding(region, feeds, inventories, smtp_inbox):
    """The same CVE on the same host and port, found by the exposure scanner: the findings
    kernel groups the two (same correlation key) and counts the weakness once."""
    ingest(
        region.a,
        EXPOSURE_SOURCE,
        [
            FindingInput(
                title="FortiOS vulnérable — vpn.alpha.test:443",
                severity=4,
                rule="vuln.cve",
                cve=FORTIOS,
                evidence={"cible": "vpn.alpha.test", "port": 443},
            )
        ],
        complete=False,
    )
    matching.run(full=True)
    rows = Finding.objects.visible_to(SYSTEM).filter(structure=region.a, cve=FORTIOS)
    keys = {f.source: f.correlation_key for f in rows}
    assert set(keys) == {EXPOSURE_SOURCE, COMMUNITY_SOURCE}
    assert keys[EXPOSURE_SOURCE] and keys[EXPOSURE_SOURCE] == keys[COMMUNITY_SOURCE]


def test_daily_run_after_a_newer_kev_catalogue(region, feeds, inventories, smtp_inbox):
    matching.run(full=True)
    first = len(smtp_inbox.messages)
    assert not Vulnerability.objects.filter(vuln_id=OPENSSH).exists()  # 8.1 < 9: not yet

    import_feeds(kev_file(feeds / "kev-2.json", [FORTIOS_KEV, openssh_kev()]))
    result = matching.run(full=False)

    assert result["full"] == 0 and result["new_alerts"] == 1
    alert = StructureAlert.objects.visible_to(SYSTEM).get(vulnerability__vuln_id=OPENSSH)
    assert alert.structure == region.a and alert.products == [
        "OpenBSD OpenSSH 9.4p1 — ssh.alpha.test:22"
    ]
    new = smtp_inbox.messages[first:]
    assert sorted(a for to, _m in new for a in to) == sorted(A_PEOPLE)
    assert all(OPENSSH in m["Subject"] for _to, m in new)
    run = MatchRun.objects.order_by("-started_at").first()
    assert run.kind == "daily" and run.new_alerts == 1
    # A partial run closes nothing: the FortiOS finding stays open.
    findings = Finding.objects.visible_to(SYSTEM).filter(source=COMMUNITY_SOURCE)
    assert {f.cve: f.status for f in findings} == {FORTIOS: Status.NEW, OPENSSH: Status.NEW}
    assert matching.run(full=False)["emails"] == 0


def test_a_product_declared_since_the_last_run_is_matched_against_history(
    region, feeds, inventories, smtp_inbox
):
    from tests.community.test_alerts_fixtures import declare

    matching.run(full=True)
    declare(region.b, "Fortinet", "FortiOS", "7.2.5", "fw.beta.test:443")
    result = matching.run(full=False)
    assert result["new_alerts"] == 1
    alert = StructureAlert.objects.visible_to(SYSTEM).get(structure=region.b)
    assert alert.vulnerability.vuln_id == FORTIOS
    b_messages = [m for to, m in smtp_inbox.messages if "dir@beta.test" in to]
    assert len(b_messages) == 1 and "EHPAD Beta" in b_messages[0]["Subject"]
    assert "alpha" not in b_messages[0].get_body(preferencelist=("plain",)).get_content()


def test_removed_product_is_closed_by_the_next_full_run(region, feeds, inventories, smtp_inbox):
    matching.run(full=True)
    services_inventory.delete_line(SYSTEM, inventories["fortios"])

    matching.run(full=False)
    finding = Finding.objects.visible_to(SYSTEM).get(source=COMMUNITY_SOURCE)
    assert finding.status == Status.NEW  # a daily run never closes

    matching.run(full=True)
    finding.refresh_from_db()
    assert finding.status == Status.VERIFIED_CLOSED
    alert = StructureAlert.objects.visible_to(SYSTEM).get()
    assert alert.lines.count() == 0  # history kept, no current line


def test_undelivered_alert_is_retried(region, feeds, inventories, smtp_inbox):
    """No mail server: the claim is released, the next run delivers it, once."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    down = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": closed, "timeout": 2},
        }
    }
    with override_settings(MAILERS=down):
        assert matching.run(full=True)["emails"] == 0
    assert StructureAlert.objects.visible_to(SYSTEM).get().sent_at is None
    assert matching.run(full=False)["emails"] == len(A_PEOPLE)
    assert matching.run(full=False)["emails"] == 0
    assert len(smtp_inbox.messages) == len(A_PEOPLE)


def test_never_sent_to_a_structure_that_no_longer_runs_the_product(
    region, feeds, inventories, smtp_inbox
):
    matching.record([], True, timezone.now())  # nothing matched: nothing written
    assert not StructureAlert.objects.visible_to(SYSTEM).exists()
    matching.run(full=True)
    alert = StructureAlert.objects.visible_to(SYSTEM).get()
    StructureAlert.objects.filter(pk=alert.pk).update(sent_at=None)
    services_inventory.delete_line(SYSTEM, inventories["fortios"])
    before = len(smtp_inbox.messages)
    alert.refresh_from_db()
    assert mail_alerts.send(alert) == 0
    assert len(smtp_inbox.messages) == before


def test_failed_run_is_recorded(region, feeds, inventories, smtp_inbox, monkeypatch):
    """A feed store that cannot be opened (here a directory): the run says so and fails."""
    monkeypatch.setenv("CARBET_FEEDS_DB", str(feeds))
    with pytest.raises(sqlite3.Error):
        matching.run(full=True)
    run = MatchRun.objects.get()
    assert run.error.startswith("OperationalError") and run.finished_at
    assert not StructureAlert.objects.visible_to(SYSTEM).exists()
    # A failed run is never the reference of the next daily run.
    assert matching.last_success() is None


def test_the_first_pass_of_each_day_is_full(region, feeds, inventories, smtp_inbox):
    """So a product removed yesterday has its finding closed today without anyone asking."""
    matching.run(full=True)
    MatchRun.objects.update(started_at=timezone.now() - dt.timedelta(days=1))
    services_inventory.delete_line(SYSTEM, inventories["fortios"])
    assert matching.run(full=False)["full"] == 1
    finding = Finding.objects.visible_to(SYSTEM).get(source=COMMUNITY_SOURCE)
    assert finding.status == Status.VERIFIED_CLOSED
    assert matching.run(full=False)["full"] == 0
    assert len(smtp_inbox.messages) == len(A_PEOPLE)


def test_the_command_and_the_job_run_the_pass(region, feeds, inventories, smtp_inbox):
    import io

    from django.core.management import call_command

    from carbet.jobs import services as jobs
    from carbet.jobs.models import Job, JobStatus

    out = io.StringIO()
    call_command("community", "match", "--full", stdout=out)
    assert "new_alerts: 1" in out.getvalue() and f"emails: {len(A_PEOPLE)}" in out.getvalue()
    job = jobs.submit("community.match", actor=SYSTEM, params={"full": False})
    jobs.execute(str(job.pk))
    job = Job.objects.get(pk=job.pk)
    assert job.status == JobStatus.SUCCEEDED and job.result["emails"] == 0
    assert len(smtp_inbox.messages) == len(A_PEOPLE)


def test_an_entry_known_long_ago_is_shown_and_planned_but_not_mailed(
    region, feeds, inventories, smtp_inbox
):
    """The first pass on a region (or a product declared today) meets entries that were news
    years ago: each becomes an alert on the structure's page and a finding in its plan, but
    only what became news in the last days is e-mailed (no flood of old CVEs one morning)."""
    import_feeds(kev_file(feeds / "kev-old.json", [dict(FORTIOS_KEV, dateAdded="2024-02-09")]))
    result = matching.run(full=True)
    assert result["new_alerts"] == 1 and result["emails"] == 0
    alert = StructureAlert.objects.visible_to(SYSTEM).get()
    assert alert.structure == region.a and alert.sent_at is None
    assert alert.vulnerability.published == "2024-02-09"
    assert Finding.objects.filter(structure=region.a, source=COMMUNITY_SOURCE).exists()
    assert smtp_inbox.messages == []


def test_the_nvd_threshold_is_a_setting_or_the_environment_and_a_typo_keeps_9(
    settings, monkeypatch
):
    monkeypatch.delenv("CARBET_COMMUNITY_NVD_MIN_CVSS", raising=False)
    assert matching.nvd_min_cvss() == 9.0
    monkeypatch.setenv("CARBET_COMMUNITY_NVD_MIN_CVSS", "7.5")
    assert matching.nvd_min_cvss() == 7.5
    settings.CARBET_COMMUNITY_NVD_MIN_CVSS = 8.0
    assert matching.nvd_min_cvss() == 8.0
    for typo in ("neuf", "42", "-1"):
        settings.CARBET_COMMUNITY_NVD_MIN_CVSS = typo
        assert matching.nvd_min_cvss() == 9.0

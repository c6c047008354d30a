"""End to end: a structure's loopback assets scanned, findings ingested, diff, alert, rerun."""

from __future__ import annotations

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied
from django.test import override_settings

from carbet.audit.models import AuditEntry
from carbet.core.models import Contact
from carbet.core.tenancy import SYSTEM
from carbet.exposure import services
from carbet.exposure.models import (
    ExposureAlert,
    Scan,
    ScanObservation,
    ScanProfile,
    ScanStatus,
    ScanTarget,
    TargetStatus,
)
from carbet.findings.models import Finding
from carbet.jobs import services as jobs
from carbet.roadmap.models import ServiceFact
from tests.exposure.app.conftest import EXPOSED, WEB_ONLY

pytestmark = pytest.mark.realserver
REFERENTS = ["ref@alpha.test", "rssi@alpha.test", "rssi@ght.test"]
LOCMEM = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}


def _scan(region, callbacks, actor=None, profile=None) -> Scan:
    with callbacks(execute=True):
        scan = services.request_structure_scan(
            region.a, actor or region.users["centre_analyst"], profile=profile
        )
    scan.refresh_from_db()
    assert scan.status == ScanStatus.SUCCEEDED, scan.error
    return scan


@override_settings(MAILERS=LOCMEM)
def test_a_scan_finds_the_exposed_services_and_writes_findings(
    exposed, django_capture_on_commit_callbacks
):
    Contact.objects.create(
        structure=exposed.a, role="cyber_referent", name="Réf Alpha", email="rssi@alpha.test"
    )
    scan = _scan(exposed, django_capture_on_commit_callbacks)
    assert scan.complete and scan.targets_done == 2
    rdp = ScanObservation.objects.get(scan=scan, check_id="port.rdp")
    assert rdp.target.target == EXPOSED and rdp.port == 3389 and rdp.severity == 4
    assert rdp.title  # French title from the registry
    exposed_target = ScanTarget.objects.get(scan=scan, target=EXPOSED)
    ports = {s["port"]: s["service"] for s in exposed_target.services}
    assert ports.get(3389) == "rdp" and 8080 in ports
    assert exposed_target.status == TargetStatus.DONE and exposed_target.addresses
    # Scores: per category with a grade, the reasons name what cost points.
    assert scan.scores["exposure"]["score"] < 100 and scan.scores["exposure"]["grade"]
    assert any(
        "RDP" in r or "3389" in r or EXPOSED in r for r in scan.scores["exposure"]["reasons"]
    )
    assert scan.grade and scan.score is not None
    # Findings written through the ingest, exposed, tied to the asset, remediation in French.
    finding = Finding.objects.get(structure=exposed.a, fingerprint=rdp.fingerprint)
    assert finding.source == "exposure" and finding.internet_exposed
    assert finding.asset.value == EXPOSED and finding.rule == "port.rdp"
    assert finding.remediation and finding.severity == 4
    # The first scan is a diff against nothing: everything new, the critical one alerted.
    assert scan.diff["first"] and rdp.fingerprint in scan.diff["new"]
    # One message per referent: the cyber referent contact and the referent users (on the
    # structure and through its GHT).
    assert sorted(m.to[0] for m in mail.outbox) == REFERENTS
    message = next(m for m in mail.outbox if m.to == ["rssi@alpha.test"])
    assert "urgent" in message.subject and exposed.a.name in message.subject
    assert EXPOSED in message.body and "3389" in message.body
    assert ExposureAlert.objects.filter(structure=exposed.a, fingerprint=rdp.fingerprint).exists()
    assert AuditEntry.objects.filter(action="exposure.alert.sent").count() == 1
    assert AuditEntry.objects.filter(action="exposure.scan.requested").count() == 1
    # A complete scan is the roadmap's automatic evidence (critical exposures counted).
    fact = ServiceFact.objects.get(structure=exposed.a, kind="exposure_scan")
    assert fact.value["critical"] == scan.critical_count >= 1
    # A remote desktop open to internet is a remote access without a second factor: measured
    # (the medico-social track and the roadmap read it), never assumed the other way.
    assert fact.value["mfa_remote_access"] is False


@override_settings(MAILERS=LOCMEM)
def test_diff_new_and_gone_and_the_alert_is_sent_again_only_on_a_return(
    exposed, django_capture_on_commit_callbacks
):
    Contact.objects.create(
        structure=exposed.a, role="cyber_referent", name="Réf", email="rssi@alpha.test"
    )
    first = _scan(exposed, django_capture_on_commit_callbacks)
    rdp_fp = ScanObservation.objects.get(scan=first, check_id="port.rdp").fingerprint
    assert len(mail.outbox) == len(REFERENTS)
    web_only = ScanProfile.objects.create(
        name="Web seulement", ports=[8080], connect_timeout=1, read_timeout=1.5,
        tls=False, web_paths=False, mail_dns=False,
    )  # fmt: skip
    second = _scan(exposed, django_capture_on_commit_callbacks, profile=web_only)
    assert second.previous_id == first.pk
    gone = {item["fingerprint"] for item in second.diff["gone"]}
    assert rdp_fp in gone and not second.diff["new"]
    assert {(s["target"], s["port"]) for s in second.diff["services_gone"]} == {(EXPOSED, 3389)}
    # A complete scan closes the finding it no longer sees.
    assert Finding.objects.get(fingerprint=rdp_fp).status == "verified_closed"
    third = _scan(exposed, django_capture_on_commit_callbacks)
    assert rdp_fp in third.diff["new"]
    assert Finding.objects.get(fingerprint=rdp_fp).status == "new"  # reopened
    # The critical exposure came back after a scan saw it fixed: alerted again, once
    # (issue 19; the whole story is in test_realert.py).
    assert len(mail.outbox) == 2 * len(REFERENTS)
    assert ExposureAlert.objects.filter(fingerprint=rdp_fp).count() == 2
    assert {(s["target"], s["port"]) for s in third.diff["services_new"]} == {(EXPOSED, 3389)}


def test_rerunning_a_killed_scan_resumes_and_duplicates_nothing(
    exposed, django_capture_on_commit_callbacks
):
    """As after a worker's death: one target done, the job queued again; the rerun scans only
    the other target, and a further rerun of the finished job changes nothing."""
    from carbet.exposure import services_run
    from carbet.jobs.models import Job, JobStatus

    scan = services.request_structure_scan(exposed.a, exposed.users["centre_analyst"])
    config = services_run.engine_config(scan)
    first_target = scan.targets.get(target=EXPOSED)
    [result] = services_run.run_engine([EXPOSED], config)
    services_run.save_target(scan, first_target, result)
    Scan.objects.filter(pk=scan.pk).update(status=ScanStatus.RUNNING)
    before = dict(ScanTarget.objects.filter(scan=scan).values_list("target", "scanned_at"))
    jobs.execute(str(scan.job_id))
    scan.refresh_from_db()
    assert scan.status == ScanStatus.SUCCEEDED
    after = dict(ScanTarget.objects.filter(scan=scan).values_list("target", "scanned_at"))
    assert after[EXPOSED] == before[EXPOSED]  # not scanned again
    assert after[WEB_ONLY] is not None
    counts = (
        ScanObservation.objects.filter(scan=scan).count(),
        Finding.objects.filter(structure=exposed.a).count(),
        ScanTarget.objects.filter(scan=scan).count(),
    )
    # The whole job again (as the reaper would after a death at the very end).
    Job.objects.filter(pk=scan.job_id).update(status=JobStatus.QUEUED)
    jobs.execute(str(scan.job_id))
    assert counts == (
        ScanObservation.objects.filter(scan=scan).count(),
        Finding.objects.filter(structure=exposed.a).count(),
        ScanTarget.objects.filter(scan=scan).count(),
    )
    assert Scan.objects.filter(structure=exposed.a).count() == 1


def test_a_regional_scan_fans_out_one_task_per_structure(
    exposed, django_capture_on_commit_callbacks
):
    from carbet.core.models import Asset

    # B exposes nothing scannable here; A2 has a mandate but only its unreachable domain.
    Asset.objects.filter(structure__in=[exposed.b, exposed.a2]).delete()
    with django_capture_on_commit_callbacks(execute=True):
        regional = services.request_regional_scan(exposed.users["centre_admin"])
    regional.refresh_from_db()
    scans = list(regional.scans.all())
    assert [s.structure_id for s in scans] == [exposed.a.pk]
    assert scans[0].status == ScanStatus.SUCCEEDED and scans[0].trigger == "regional"
    assert {item["structure"] for item in regional.refused} == {exposed.a2.pk, exposed.b.pk}
    # Running the fan-out again starts nothing new.
    assert services.fan_out(regional) == {"structures": 1, "refused": 2}
    assert Scan.objects.count() == 1
    with pytest.raises(PermissionDenied):
        services.request_regional_scan(exposed.users["director"])


def test_the_nightly_snapshot_keeps_the_exposure_score(exposed, django_capture_on_commit_callbacks):
    from carbet.findings.models import PostureSnapshot
    from carbet.findings.posture.snapshots import take_snapshots

    scan = _scan(exposed, django_capture_on_commit_callbacks, actor=SYSTEM)
    take_snapshots()
    snapshot = PostureSnapshot.objects.get(structure=exposed.a)
    assert snapshot.scores["exposure"] == scan.score

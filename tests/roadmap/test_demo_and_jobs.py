"""The demo's roadmap data, the nightly job and the CLI commands."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from carbet.core.tenancy import SYSTEM
from carbet.demo.roadmap import load_roadmap
from carbet.jobs import services as jobs
from carbet.roadmap.models import Assessment, BackupSystem, IndicatorValue, RegionalIndicator


def test_demo_roadmap_loads_once_through_the_services(rm):
    structures = {"a": rm.a, "a2": rm.a2, "b": rm.b}
    users = list(rm.users.values())
    report = load_roadmap(structures, users, today=rm.today)
    assert report.diagnostics == 3 and report.roadmaps == 2 and report.backup_systems >= 3
    assert Assessment.objects.filter(framework__code="diagnostic").count() == 3
    assert RegionalIndicator.objects.filter(code="directory_level").count() == 13
    again = load_roadmap(structures, users, today=rm.today)
    assert again.diagnostics == 0
    assert BackupSystem.objects.count() == report.backup_systems


def test_nightly_job_and_commands(rm, capsys, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        job = jobs.submit("roadmap.nightly", actor=SYSTEM, params={"day": rm.today.isoformat()})
    job.refresh_from_db()
    assert job.status == "succeeded", vars(job)
    assert IndicatorValue.objects.filter(day=rm.today).exists()
    call_command("indicators", "compute", "--day", rm.today.isoformat())
    call_command("roadmap", "nightly")
    call_command("frameworks", "check")
    call_command("frameworks", "list")
    out = capsys.readouterr().out
    assert "care-d2" in out and "Indicateurs du" in out


@pytest.mark.realserver
def test_nightly_reminder_reaches_a_real_smtp_server(rm, smtp_inbox):
    """The evidence reminder of the nightly job, delivered to aiosmtpd on loopback."""
    import datetime as dt

    from carbet.core.models import Contact
    from carbet.roadmap import services_evidence
    from carbet.roadmap.job_kinds import run_nightly
    from tests.roadmap.conftest import pdf_upload

    Contact.objects.filter(structure=rm.a2).update(email="direction@ehpad-alpha.test")
    services_evidence.upload(
        rm.users["ght_referent"],
        rm.a,
        pdf_upload(),
        title="PCA commun",
        issued_on=rm.today - dt.timedelta(days=400),
        valid_until=rm.today - dt.timedelta(days=2),
        share_with=[rm.a2],
    )
    result = run_nightly(rm.today)
    assert result["reminders"]["after"] == 1
    received = smtp_inbox.by_recipient()
    # the shared document's reminder reaches the structure it was shared with too
    assert (
        received["direction@ehpad-alpha.test"][0]["Subject"] == "Justificatif expiré : PCA commun"
    )
    assert not any("beta" in address for address in received)
    assert run_nightly(rm.today)["reminders"]["after"] == 0

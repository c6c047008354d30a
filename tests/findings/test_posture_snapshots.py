"""Nightly posture snapshots: one row per structure and day, idempotent, by job or command."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from carbet.core.models import Organisation, Structure
from carbet.engines.posture import PostureCounts
from carbet.findings.ingest import FindingInput, ingest
from carbet.findings.models import Finding, PostureSnapshot
from carbet.findings.posture import snapshots
from carbet.jobs import services as jobs
from carbet.jobs.models import JobStatus
from tests.findings.test_posture_fixtures import seed_findings


@pytest.fixture
def seeded(region):
    seed_findings(region)
    return region


def test_snapshot_job_writes_one_row_per_structure(seeded, django_capture_on_commit_callbacks):
    day = timezone.localdate()
    with django_capture_on_commit_callbacks(execute=True):
        job = jobs.submit("findings.snapshot", params={"day": day.isoformat()})
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert job.result == {"day": day.isoformat(), "structures": 3}
    a = PostureSnapshot.objects.get(structure=seeded.a, day=day)
    # a: 2 critical + 1 high + 1 medium + 1 low open, 3 past their deadline, 1 fixed in time.
    assert (a.open_critical, a.open_high, a.open_medium, a.open_low) == (2, 1, 1, 1)
    assert (a.overdue, a.closed_in_sla, a.closed_late) == (3, 1, 0)
    assert a.scores["posture"] == PostureCounts(2, 1, 1, 1, 3).score
    empty = PostureSnapshot.objects.get(structure=seeded.b, day=day)
    assert empty.overdue == 0 and empty.open_critical == 1


def test_snapshots_are_upserted_per_day(seeded):
    day = dt.date(2025, 3, 31)
    snapshots.take_snapshots(day)
    Finding.objects.filter(structure=seeded.a, severity=4).update(status="verified_closed")
    result = snapshots.take_snapshots(day)
    assert result.structures == 3
    assert PostureSnapshot.objects.filter(day=day).count() == 3
    assert PostureSnapshot.objects.get(structure=seeded.a, day=day).open_critical == 0
    snapshots.take_snapshots(day + dt.timedelta(days=1))
    assert PostureSnapshot.objects.count() == 6


def test_snapshot_command_takes_a_day(seeded, capsys):
    call_command("findings", "snapshot", "--day", "2025-01-02")
    assert "2025-01-02" in capsys.readouterr().out
    assert PostureSnapshot.objects.filter(day=dt.date(2025, 1, 2)).count() == 3


def test_snapshot_queries_do_not_grow_with_the_region(seeded):
    """A fixed handful of queries, whatever the number of structures (no per-structure loop)."""
    with CaptureQueriesContext(connection) as small:
        snapshots.take_snapshots(dt.date(2025, 1, 1))
    organisation = Organisation.objects.create(
        finess_ej="970000018", name="Groupe Gamma", legal_status="private"
    )
    for index in range(12):
        structure = Structure.objects.create(
            finess_et=f"97030{index:04d}",
            name=f"Structure {index}",
            organisation=organisation,
            category="ehpad",
            departement="973",
        )
        ingest(structure, "manual", [FindingInput(title=f"Constat {index}")], complete=False)
    with CaptureQueriesContext(connection) as large:
        snapshots.take_snapshots(dt.date(2025, 1, 2))
    assert len(large.captured_queries) == len(small.captured_queries)


def test_registered_scores_join_the_snapshot(seeded):
    snapshots.register_score("exposure", lambda day, ids: {seeded.a.pk: 42.0})
    try:
        snapshots.take_snapshots(dt.date(2025, 2, 1))
    finally:
        snapshots._SCORE_PROVIDERS.pop("exposure")
    a = PostureSnapshot.objects.get(structure=seeded.a, day=dt.date(2025, 2, 1))
    assert a.scores["exposure"] == 42.0 and "posture" in a.scores
    assert "exposure" not in PostureSnapshot.objects.get(structure=seeded.b).scores
    with pytest.raises(ValueError):
        snapshots.register_score("posture", lambda day, ids: {})

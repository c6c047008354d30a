"""Jobs in-process: submit, run once, fail cleanly, and the reaper's rescue rules."""

from __future__ import annotations

import os
from datetime import timedelta

import pytest
from django.utils import timezone

from carbet.core.tenancy import SYSTEM
from carbet.jobs import services
from carbet.jobs.models import Job, JobStatus
from carbet.jobs.reaper import Reaper, reaper_interval
from carbet.jobs.registry import job_kind


@job_kind("test.explodes")
def _explodes(job, report):
    report(10, "presque")
    raise RuntimeError("disque plein")


def _running(minutes_ago: float, attempts: int = 1) -> Job:
    beat = timezone.now() - timedelta(minutes=minutes_ago)
    return Job.objects.create(
        kind="platform.selftest",
        title="t",
        status=JobStatus.RUNNING,
        attempts=attempts,
        heartbeat_at=beat,
        started_at=beat,
    )


def test_submitted_job_runs_after_commit(db, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        job = services.submit("platform.selftest", actor=SYSTEM, title="Vérification")
        assert Job.objects.get(pk=job.pk).status == JobStatus.QUEUED  # not before the commit
    assert len(callbacks) == 1
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED and job.attempts == 1 and job.progress == 100
    assert job.result == {"worker_ok": True, "attempt": 1}
    assert job.worker.endswith(f":{os.getpid()}")


def test_a_job_runs_only_once(db, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        job = services.submit("platform.selftest")
    assert services.execute(str(job.pk)) is None  # already done: nothing runs twice
    job.refresh_from_db()
    assert job.attempts == 1


def test_a_failing_handler_marks_the_job_failed(db, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        job = services.submit("test.explodes")
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert "RuntimeError: disque plein" in job.error
    assert job.message == "presque" and job.finished_at is not None


def test_unknown_kind_is_refused(db):
    with pytest.raises(LookupError):
        services.submit("nope.unknown")


def test_reaper_requeues_a_silent_job_and_it_runs_again(db, settings):
    settings.CARBET_JOB_STALE_SECONDS = 60
    job = _running(minutes_ago=5)
    rescued = services.requeue_stale()
    assert rescued == [str(job.pk)]
    job.refresh_from_db()
    # The immediate test backend runs it at once: second attempt, from the start.
    assert job.status == JobStatus.SUCCEEDED and job.attempts == 2
    assert job.result["attempt"] == 2


def test_reaper_leaves_live_jobs_alone(db, settings):
    settings.CARBET_JOB_STALE_SECONDS = 600
    job = _running(minutes_ago=1)
    assert services.requeue_stale() == []
    job.refresh_from_db()
    assert job.status == JobStatus.RUNNING and job.attempts == 1


def test_reaper_fails_a_job_after_its_last_attempt(db, settings):
    settings.CARBET_JOB_STALE_SECONDS = 60
    job = _running(minutes_ago=5, attempts=3)
    assert services.requeue_stale() == []
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED and "dernier essai" in job.error


def test_reaper_thread_pass_and_interval(db, settings):
    settings.CARBET_JOB_STALE_SECONDS = 3
    assert reaper_interval() == 1.5
    settings.CARBET_JOB_STALE_SECONDS = 600
    assert reaper_interval() == 30
    settings.CARBET_JOB_STALE_SECONDS = 60
    job = _running(minutes_ago=5)
    reaper = Reaper(interval=3600)
    assert reaper.run_once() == [str(job.pk)] and reaper.passes == 1

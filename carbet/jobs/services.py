"""Submitting, running and rescuing background jobs.

A job is Carbet's own row (``Job``); the task backend (database or RQ) only carries
``run_job(job_id)``. A running job beats its heart; the reaper (``requeue_stale``, run by every
``carbet worker`` at start and then periodically) queues again the jobs whose worker died, so
handlers must be idempotent. ``Job.attempts`` counts the runs.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import close_old_connections, transaction
from django.utils import timezone

from carbet.core.tenancy import Actor
from carbet.jobs.models import Job, JobStatus
from carbet.jobs.registry import get_kind

log = logging.getLogger("carbet.jobs")
DATABASE_BACKEND = "django_tasks_db.DatabaseBackend"
RQ_BACKEND = "django_tasks_rq.RQBackend"


def worker_id() -> str:
    """Host and process that runs a job (computed at claim time: RQ forks one per job)."""
    return f"{socket.gethostname()}:{os.getpid()}"


def backend_path() -> str:
    """The dotted path of the configured task backend."""
    return settings.TASKS["default"]["BACKEND"]


def _enqueue(job: Job) -> None:
    from carbet.jobs.tasks import run_job

    result = run_job.enqueue(str(job.pk))
    Job.objects.filter(pk=job.pk, backend_id="").update(backend_id=str(result.id)[:100])


def submit(
    kind: str,
    *,
    actor: Actor = None,
    structure: Any = None,
    params: dict | None = None,
    title: str | None = None,
) -> Job:
    """Record a job and hand it to the task backend once the surrounding transaction commits."""
    spec = get_kind(kind)
    job = Job.objects.create(
        kind=kind,
        title=(title or kind)[:255],
        actor=actor if getattr(actor, "pk", None) else None,
        structure=structure,
        params=params or {},
        max_attempts=spec.max_attempts,
    )
    transaction.on_commit(lambda: _enqueue(job))
    return job


class _Heartbeat(threading.Thread):
    """Beats the job's heart while its handler runs, so long steps are not mistaken for death."""

    def __init__(self, job_id: Any, interval: float) -> None:
        super().__init__(daemon=True, name=f"heartbeat-{job_id}")
        self.job_id = job_id
        self.interval = interval
        self.stopped = threading.Event()

    def run(self) -> None:
        try:
            while not self.stopped.wait(self.interval):
                Job.objects.filter(pk=self.job_id, status=JobStatus.RUNNING).update(
                    heartbeat_at=timezone.now()
                )
        finally:
            close_old_connections()

    def stop(self) -> None:
        self.stopped.set()


def _claim(job_id: str) -> Job | None:
    """Move a queued job to running; ``None`` when someone else runs or ran it already."""
    now = timezone.now()
    with transaction.atomic():
        job = Job.objects.select_for_update().filter(pk=job_id).first()
        if job is None or job.status != JobStatus.QUEUED:
            return None
        job.status = JobStatus.RUNNING
        job.attempts += 1
        job.started_at = job.started_at or now
        job.heartbeat_at = now
        job.worker = worker_id()[:100]
        job.save(update_fields=["status", "attempts", "started_at", "heartbeat_at", "worker"])
    return job


def execute(job_id: str) -> dict | None:
    """Run one job to its end. Safe to call twice: only the first claim runs the handler."""
    job = _claim(job_id)
    if job is None:
        log.info("job already taken", extra={"job": job_id})
        return None
    spec = get_kind(job.kind)

    def report(progress: int, message: str = "") -> None:
        Job.objects.filter(pk=job.pk).update(
            progress=max(0, min(100, int(progress))),
            message=str(message)[:255],
            heartbeat_at=timezone.now(),
        )

    beat = _Heartbeat(job.pk, settings.CARBET_JOB_HEARTBEAT_SECONDS)
    beat.start()
    try:
        result = spec.handler(job, report) or {}
    except Exception as exc:
        log.exception("job failed", extra={"job": str(job.pk), "kind": job.kind})
        Job.objects.filter(pk=job.pk).update(
            status=JobStatus.FAILED,
            error=f"{type(exc).__name__}: {exc}"[:5000],
            finished_at=timezone.now(),
        )
        return None
    finally:
        beat.stop()
    Job.objects.filter(pk=job.pk).update(
        status=JobStatus.SUCCEEDED,
        progress=100,
        result=result,
        finished_at=timezone.now(),
    )
    log.info("job done", extra={"job": str(job.pk), "kind": job.kind})
    return result


def requeue_stale(now=None, stale_after: int | None = None) -> list[str]:
    """Give the jobs of dead workers another run (or fail them after their last attempt).

    A running job whose heartbeat is older than ``stale_after`` seconds lost its worker: the
    handlers are idempotent, so it is queued again and enqueued on the backend.
    """
    now = now or timezone.now()
    limit = now - timedelta(seconds=stale_after or settings.CARBET_JOB_STALE_SECONDS)
    rescued: list[Job] = []
    with transaction.atomic():
        stale = list(
            Job.objects.select_for_update().filter(status=JobStatus.RUNNING, heartbeat_at__lt=limit)
        )
        lost_backend_ids = [job.backend_id for job in stale if job.backend_id]
        for job in stale:
            if job.attempts >= job.max_attempts:
                job.status = JobStatus.FAILED
                job.error = "Le processus de travail s'est arrêté pendant la tâche (dernier essai)."
                job.finished_at = now
                job.save(update_fields=["status", "error", "finished_at"])
                continue
            job.status = JobStatus.QUEUED
            job.message = "Relancée après l'arrêt d'un processus de travail."
            job.backend_id = ""
            job.save(update_fields=["status", "message", "backend_id"])
            rescued.append(job)
    if lost_backend_ids:
        _close_lost_backend_tasks(lost_backend_ids, now)
    for job in rescued:
        log.warning("job requeued after worker loss", extra={"job": str(job.pk)})
        _enqueue(job)
    return [str(job.pk) for job in rescued]


def _close_lost_backend_tasks(backend_ids: list[str], now) -> None:
    """Mark the database backend's rows of dead runs as failed, so its own view stays true.

    RQ notices dead workers by itself (its started-job registry); the database backend would
    show those runs as "running" forever.
    """
    if backend_path() != DATABASE_BACKEND:
        return
    from django_tasks_db.models import DBTaskResult

    DBTaskResult.objects.filter(id__in=_valid_uuids(backend_ids), status="RUNNING").update(
        status="FAILED",
        finished_at=now,
        exception_class_path="carbet.jobs.WorkerLost",
        traceback="The worker running this task stopped; Carbet queued the job again.",
    )


def _valid_uuids(values: list[str]) -> list[str]:
    import uuid

    valid = []
    for value in values:
        try:
            valid.append(str(uuid.UUID(value)))
        except ValueError:
            continue
    return valid

"""Background jobs as people see them: what runs, for whom, how far it has gone.

The task backend (database or RQ) only carries ``run_job(job_id)``; the Job row is Carbet's own
record, backend-agnostic, with a heartbeat so that the work of a killed worker is noticed and
run again by the reaper (``carbet.jobs.services.requeue_stale``).
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from carbet.core.tenancy import TenantQuerySet


class JobStatus(models.TextChoices):
    QUEUED = "queued", _("En attente")
    RUNNING = "running", _("En cours")
    SUCCEEDED = "succeeded", _("Terminée")
    FAILED = "failed", _("Échouée")


class JobQuerySet(TenantQuerySet):
    def visible_to(self, actor, perm=None):
        """A job is visible to its author, and to those who may see its structure."""
        from carbet.accounts.roles import Perm
        from carbet.core.tenancy import grants

        scope = grants(actor, perm or Perm.JOB_VIEW)
        if scope.everything:
            return self
        own = models.Q(actor_id=getattr(actor, "pk", None)) if getattr(actor, "pk", None) else None
        structural = models.Q(structure__isnull=False) & scope.structure_q("structure")
        condition = structural | own if own is not None else structural
        return self.filter(condition)


class Job(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(_("type"), max_length=80, db_index=True)
    title = models.CharField(_("intitulé"), max_length=255)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="jobs",
    )
    structure = models.ForeignKey(
        "core.Structure", null=True, blank=True, on_delete=models.CASCADE, related_name="jobs"
    )
    params = models.JSONField(default=dict, blank=True)
    status = models.CharField(
        _("état"),
        max_length=10,
        choices=JobStatus.choices,
        default=JobStatus.QUEUED,
        db_index=True,
    )
    progress = models.PositiveSmallIntegerField(_("avancement"), default=0)
    message = models.CharField(_("message"), max_length=255, blank=True)
    result = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    max_attempts = models.PositiveSmallIntegerField(default=3)
    backend_id = models.CharField(max_length=100, blank=True)
    worker = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = JobQuerySet.as_manager()
    tenant_path = "structure"

    class Meta:
        verbose_name = _("tâche de fond")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "heartbeat_at"])]

    def __str__(self) -> str:
        return self.title

    @property
    def is_finished(self) -> bool:
        return self.status in (JobStatus.SUCCEEDED, JobStatus.FAILED)

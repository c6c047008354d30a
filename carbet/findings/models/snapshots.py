"""Nightly posture snapshots: the numbers trends and dashboards are drawn from."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from carbet.core.tenancy import TenantQuerySet


class PostureSnapshot(models.Model):
    structure = models.ForeignKey(
        "core.Structure", on_delete=models.CASCADE, related_name="posture_snapshots"
    )
    day = models.DateField(db_index=True)
    open_critical = models.PositiveIntegerField(default=0)
    open_high = models.PositiveIntegerField(default=0)
    open_medium = models.PositiveIntegerField(default=0)
    open_low = models.PositiveIntegerField(default=0)
    overdue = models.PositiveIntegerField(default=0)
    closed_in_sla = models.PositiveIntegerField(default=0)
    closed_late = models.PositiveIntegerField(default=0)
    scores = models.JSONField(default=dict, blank=True)

    objects = TenantQuerySet.as_manager()
    tenant_path = "structure"

    class Meta:
        verbose_name = _("instantané de posture")
        constraints = [
            models.UniqueConstraint(fields=["structure", "day"], name="snapshot_one_per_day")
        ]

    def __str__(self) -> str:
        return f"{self.structure_id} {self.day}"

    @property
    def sla_compliance(self) -> int | None:
        total = self.closed_in_sla + self.closed_late
        return round(100 * self.closed_in_sla / total) if total else None

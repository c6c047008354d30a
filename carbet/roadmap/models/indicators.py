"""Indicator values: one per structure, indicator and day (computed nightly or typed in), and
the regional aggregates the ARS reads (no structure's own figure in them)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from carbet.core.tenancy import TenantQuerySet


class IndicatorValue(models.Model):
    structure = models.ForeignKey(
        "core.Structure", on_delete=models.CASCADE, related_name="indicator_values"
    )
    code = models.CharField(_("indicateur"), max_length=60)
    day = models.DateField(_("jour"))
    value = models.FloatField(_("valeur"), null=True, blank=True)
    manual = models.BooleanField(_("saisi à la main"), default=False)
    note = models.CharField(_("commentaire"), max_length=300, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = TenantQuerySet.as_manager()
    tenant_path = "structure"

    class Meta:
        verbose_name = _("valeur d'indicateur")
        ordering = ["code", "-day"]
        constraints = [
            models.UniqueConstraint(
                fields=["structure", "code", "day"], name="indicator_value_unique_day"
            )
        ]
        indexes = [models.Index(fields=["code", "day"])]

    def __str__(self) -> str:
        return f"{self.code} {self.day}: {self.value}"


class RegionalIndicator(models.Model):
    code = models.CharField(max_length=60)
    day = models.DateField()
    data = models.JSONField(default=dict)

    class Meta:
        ordering = ["code", "-day"]
        constraints = [
            models.UniqueConstraint(fields=["code", "day"], name="regional_indicator_unique_day")
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.day}"

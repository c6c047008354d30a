"""Risk acceptance: the director's signed, time-limited decision to live with a weakness."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from carbet.core.tenancy import TenantQuerySet

MAX_ACCEPTANCE_DAYS = 366


class RiskAcceptanceStatus(models.TextChoices):
    REQUESTED = "requested", _("Demandée")
    APPROVED = "approved", _("Signée")
    REJECTED = "rejected", _("Refusée")
    EXPIRED = "expired", _("Expirée")
    REVOKED = "revoked", _("Levée")


class RiskAcceptance(models.Model):
    structure = models.ForeignKey(
        "core.Structure", on_delete=models.CASCADE, related_name="risk_acceptances"
    )
    findings = models.ManyToManyField(
        "findings.Finding", related_name="acceptances", verbose_name=_("vulnérabilités")
    )
    justification = models.TextField(_("pourquoi accepter ce risque"))
    compensating_measures = models.TextField(_("mesures compensatoires"))
    expires_on = models.DateField(_("fin de l'acceptation"))
    status = models.CharField(
        max_length=12,
        choices=RiskAcceptanceStatus.choices,
        default=RiskAcceptanceStatus.REQUESTED,
        db_index=True,
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    requested_at = models.DateTimeField(default=timezone.now)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField(_("commentaire de la décision"), blank=True)
    reminder_sent_at = models.DateTimeField(null=True, blank=True)

    objects = TenantQuerySet.as_manager()
    tenant_path = "structure"

    class Meta:
        verbose_name = _("acceptation de risque")
        ordering = ["-requested_at"]

    def __str__(self) -> str:
        return f"{_('Acceptation')} #{self.pk} ({self.get_status_display()})"

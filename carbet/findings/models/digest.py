"""The record of weekly digests sent: one row per structure, week and recipient.

It makes the digest idempotent: a rerun of the week's job (after a crash, or by hand) skips
the recipients already served.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from carbet.core.tenancy import TenantQuerySet


class DigestSent(models.Model):
    structure = models.ForeignKey(
        "core.Structure", on_delete=models.CASCADE, related_name="digests_sent"
    )
    week = models.DateField(_("semaine du"), help_text=_("Le lundi de la semaine."))
    recipient = models.EmailField(_("destinataire"))
    sent_at = models.DateTimeField(default=timezone.now)
    counts = models.JSONField(default=dict, blank=True)

    objects = TenantQuerySet.as_manager()
    tenant_path = "structure"

    class Meta:
        verbose_name = _("résumé hebdomadaire envoyé")
        ordering = ["-week", "structure_id", "recipient"]
        constraints = [
            models.UniqueConstraint(
                fields=["structure", "week", "recipient"], name="digest_once_per_week"
            )
        ]

    def __str__(self) -> str:
        return f"{self.recipient} {self.week}"

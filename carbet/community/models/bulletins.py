"""Bulletins the centre writes for the community, and each structure's acknowledgement."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from carbet.community.choices import Acknowledgement, BulletinStatus, Severity, Tlp
from carbet.community.models.targeting import Targeted
from carbet.core.tenancy import TenantQuerySet


class Bulletin(Targeted):
    """A security bulletin. Structures see it only through their delivery row."""

    title = models.CharField(_("titre"), max_length=200)
    summary = models.CharField(_("en une phrase"), max_length=300, blank=True)
    body = models.TextField(_("texte (Markdown)"), max_length=20000)
    severity = models.CharField(
        _("gravité"), max_length=8, choices=Severity.choices, default=Severity.MEDIUM
    )
    tlp = models.CharField(_("diffusion (TLP)"), max_length=12, choices=Tlp.choices,
                           default=Tlp.GREEN)  # fmt: skip
    references = models.JSONField(_("références"), default=list, blank=True)
    cves = models.JSONField(_("CVE"), default=list, blank=True)
    status = models.CharField(
        max_length=10, choices=BulletinStatus.choices, default=BulletinStatus.DRAFT
    )
    published_at = models.DateTimeField(null=True, blank=True)
    # Critical bulletins not acknowledged after this many days get a reminder (0: never).
    remind_after_days = models.PositiveSmallIntegerField(default=3)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("bulletin")
        ordering = ["-published_at", "-created_at"]

    def __str__(self) -> str:
        return self.title


class BulletinDelivery(models.Model):
    """A bulletin delivered to one structure, with its acknowledgement."""

    bulletin = models.ForeignKey(Bulletin, on_delete=models.CASCADE, related_name="deliveries")
    structure = models.ForeignKey(
        "core.Structure", on_delete=models.CASCADE, related_name="bulletin_deliveries"
    )
    delivered_at = models.DateTimeField(default=timezone.now)
    emailed_at = models.DateTimeField(null=True, blank=True)
    recipients = models.JSONField(default=list, blank=True)
    status = models.CharField(
        max_length=14, choices=Acknowledgement.choices, default=Acknowledgement.UNREAD
    )
    reason = models.CharField(_("pourquoi pas concerné"), max_length=500, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    reminders = models.PositiveSmallIntegerField(default=0)
    last_reminder_at = models.DateTimeField(null=True, blank=True)

    objects = TenantQuerySet.as_manager()
    tenant_path = "structure"

    class Meta:
        verbose_name = _("bulletin reçu")
        ordering = ["-delivered_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["bulletin", "structure"], name="community_bulletin_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.bulletin_id} → {self.structure_id}"

"""Threat information received from peers (MISP feeds) by the centre."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from carbet.community.choices import Tlp


class FeedImport(models.Model):
    name = models.CharField(_("flux"), max_length=200)
    imported_at = models.DateTimeField(default=timezone.now)
    events = models.PositiveIntegerField(default=0)
    attributes = models.PositiveIntegerField(default=0)
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-imported_at"]

    def __str__(self) -> str:
        return self.name


class SharedEvent(models.Model):
    """One MISP event received from a peer; seen by the centre only."""

    uuid = models.UUIDField(unique=True)
    info = models.CharField(_("intitulé"), max_length=500)
    date = models.DateField(null=True, blank=True)
    threat_level = models.PositiveSmallIntegerField(null=True, blank=True)
    tlp = models.CharField(max_length=12, choices=Tlp.choices, default=Tlp.AMBER)
    org = models.CharField(_("émetteur"), max_length=200, blank=True)
    attributes = models.JSONField(default=list)  # [{"type", "value", "category", "comment"}]
    cves = models.JSONField(default=list)
    feed = models.ForeignKey(FeedImport, on_delete=models.SET_NULL, null=True, related_name="+")
    imported_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("événement partagé")
        ordering = ["-date", "info"]

    def __str__(self) -> str:
        return self.info

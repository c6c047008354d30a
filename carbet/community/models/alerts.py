"""Vulnerabilities matched against the region's inventories and the alerts they raised."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from carbet.community.choices import AlertStatus, Certainty
from carbet.core.tenancy import TenantQuerySet


class Vulnerability(models.Model):
    """A CVE (or CERT-FR alert) that matched at least one structure: the regional view."""

    vuln_id = models.CharField(_("identifiant"), max_length=40, unique=True)
    title = models.CharField(_("titre"), max_length=300)
    description = models.TextField(blank=True)
    cvss = models.FloatField(null=True, blank=True)
    epss = models.FloatField(null=True, blank=True)
    kev = models.BooleanField(_("exploitée activement (KEV)"), default=False)
    ransomware = models.BooleanField(_("utilisée par des rançongiciels"), default=False)
    sources = models.JSONField(default=list)  # "nvd", "kev", "certfr"
    advisories = models.JSONField(default=list)  # CERT-FR ids
    required_action = models.TextField(blank=True)
    fixed_in = models.CharField(max_length=100, blank=True)
    published = models.CharField(max_length=20, blank=True)
    first_matched_at = models.DateTimeField(default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("vulnérabilité suivie")
        ordering = ["-first_matched_at", "vuln_id"]

    def __str__(self) -> str:
        return self.vuln_id


class StructureAlert(models.Model):
    """One vulnerability matched in one structure's inventory: sent once, acknowledged there."""

    structure = models.ForeignKey(
        "core.Structure", on_delete=models.CASCADE, related_name="community_alerts"
    )
    vulnerability = models.ForeignKey(
        Vulnerability, on_delete=models.CASCADE, related_name="structure_alerts"
    )
    lines = models.ManyToManyField("community.SoftwareLine", related_name="alerts", blank=True)
    # What matched, as shown in the message ("FortiOS 7.0.12 sur vpn.example").
    products = models.JSONField(default=list)
    certainty = models.CharField(max_length=8, choices=Certainty.choices)
    fingerprint = models.CharField(max_length=64, blank=True)  # its finding in the findings store
    status = models.CharField(max_length=14, choices=AlertStatus.choices, default=AlertStatus.NEW)
    reason = models.CharField(_("pourquoi"), max_length=500, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    matched_at = models.DateTimeField(default=timezone.now)
    # The targeted e-mail: claimed (sent_at set) before sending, so it goes once.
    sent_at = models.DateTimeField(null=True, blank=True)
    recipients = models.JSONField(default=list)

    objects = TenantQuerySet.as_manager()
    tenant_path = "structure"

    class Meta:
        verbose_name = _("alerte ciblée")
        ordering = ["-matched_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["structure", "vulnerability"], name="community_alert_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.vulnerability_id} – {self.structure_id}"


class MatchRun(models.Model):
    """One run of the matcher (full or daily), for the centre's follow-up page."""

    kind = models.CharField(max_length=12)  # "full" | "daily"
    since = models.CharField(max_length=20, blank=True)
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    lines = models.PositiveIntegerField(default=0)
    matches = models.PositiveIntegerField(default=0)
    new_alerts = models.PositiveIntegerField(default=0)
    emails = models.PositiveIntegerField(default=0)
    duration = models.FloatField(default=0)
    error = models.TextField(blank=True)

    class Meta:
        verbose_name = _("passe de rapprochement")
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"{self.kind} {self.started_at:%Y-%m-%d %H:%M}"

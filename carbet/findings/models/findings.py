"""Findings, the streams that produce them, the runs of those streams, and the SLA policy.

A *stream* is one producer's view of one structure (source + scope, e.g. the exposure scans of
asset 42): a *complete* run of a stream closes what it no longer sees. Findings are unique per
structure by fingerprint (never across structures). Their history is kept compactly: each
finding has first/last seen and the runs that saw it first and last, and an event row for every
transition (created, changed, reopened, closed, decided...), instead of one row per sighting.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from carbet.core.tenancy import TenantQuerySet
from carbet.findings.choices import EventKind, Severity, Status, source_choices


class Stream(models.Model):
    structure = models.ForeignKey(
        "core.Structure", on_delete=models.CASCADE, related_name="finding_streams"
    )
    source = models.CharField(_("source"), max_length=20, choices=source_choices)
    scope = models.CharField(_("périmètre"), max_length=255, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = TenantQuerySet.as_manager()
    tenant_path = "structure"

    class Meta:
        verbose_name = _("flux de résultats")
        constraints = [
            models.UniqueConstraint(
                fields=["structure", "source", "scope"], name="stream_unique_scope"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_source_display()} — {self.scope or '*'}"


class Run(models.Model):
    """One delivery of results into a stream (a scan, an audit, an import)."""

    stream = models.ForeignKey(Stream, on_delete=models.CASCADE, related_name="runs")
    label = models.CharField(_("libellé"), max_length=200, blank=True)
    complete = models.BooleanField(_("analyse complète"), default=False)
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    received = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    reopened = models.PositiveIntegerField(default=0)
    closed = models.PositiveIntegerField(default=0)
    duplicates_in_batch = models.PositiveIntegerField(default=0)

    objects = TenantQuerySet.as_manager()
    tenant_path = "stream__structure"

    class Meta:
        verbose_name = _("passage")
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return self.label or f"#{self.pk}"


class Finding(models.Model):
    structure = models.ForeignKey(
        "core.Structure", on_delete=models.CASCADE, related_name="findings"
    )
    stream = models.ForeignKey(Stream, on_delete=models.CASCADE, related_name="findings")
    source = models.CharField(_("source"), max_length=20, choices=source_choices)
    fingerprint = models.CharField(_("empreinte"), max_length=64)
    tool_id = models.CharField(_("identifiant de l'outil"), max_length=200, blank=True)
    rule = models.CharField(
        _("règle"),
        max_length=120,
        blank=True,
        db_index=True,
        help_text=_("Identifiant du contrôle qui a produit le constat (ex. tls.cert.expired)."),
    )
    title = models.CharField(_("titre"), max_length=300)
    description = models.TextField(_("description"), blank=True)
    remediation = models.TextField(_("comment corriger"), blank=True)
    severity = models.PositiveSmallIntegerField(
        _("gravité"), choices=Severity.choices, default=Severity.MEDIUM
    )
    cvss = models.DecimalField(_("CVSS"), max_digits=3, decimal_places=1, null=True, blank=True)
    epss = models.FloatField(_("EPSS"), null=True, blank=True)
    kev = models.BooleanField(_("exploitée activement (KEV)"), default=False)
    cve = models.CharField(_("CVE principale"), max_length=30, blank=True, db_index=True)
    references = models.JSONField(_("références"), default=list, blank=True)
    product = models.CharField(_("produit"), max_length=200, blank=True)
    asset = models.ForeignKey(
        "core.Asset", null=True, blank=True, on_delete=models.SET_NULL, related_name="findings"
    )
    internet_exposed = models.BooleanField(_("exposée sur internet"), default=False)
    evidence = models.JSONField(_("preuves"), default=dict, blank=True)
    content_hash = models.CharField(max_length=32)
    first_seen = models.DateTimeField(_("vue la première fois"), default=timezone.now)
    last_seen = models.DateTimeField(_("vue la dernière fois"), default=timezone.now)
    first_run = models.ForeignKey(
        Run, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    last_run = models.ForeignKey(
        Run, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(_("état"), max_length=20, choices=Status.choices, default=Status.NEW)
    status_reason = models.TextField(_("motif"), blank=True)
    status_changed_at = models.DateTimeField(null=True, blank=True)
    status_changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    duplicate_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="duplicates"
    )
    sla_due = models.DateField(_("échéance"), null=True, blank=True, db_index=True)
    # "The same weakness on the same asset" across sources (carbet.findings.correlation):
    # computed by ingest, NULL (not "") when the finding cannot be compared, so that keyless
    # findings never form a group.
    correlation_key = models.CharField(  # noqa: DJ001
        _("clé de corrélation"), max_length=40, null=True, blank=True
    )
    closed_at = models.DateTimeField(null=True, blank=True)

    objects = TenantQuerySet.as_manager()
    tenant_path = "structure"

    class Meta:
        verbose_name = _("vulnérabilité")
        ordering = ["-severity", "sla_due", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["structure", "fingerprint"], name="finding_unique_per_structure"
            )
        ]
        indexes = [
            models.Index(fields=["structure", "status", "severity"]),
            models.Index(fields=["stream", "status"]),
            models.Index(fields=["status", "sla_due"]),
            # Covering indexes for the dashboards' region-wide aggregates, so that they read
            # index entries and never the wide rows (carbet.findings.posture.selectors).
            # Partial indexes would be smaller, but SQLite cannot use one when the status list
            # arrives as bound parameters, which is how Django sends it.
            models.Index(
                fields=["status", "structure", "source", "severity", "sla_due"],
                name="finding_posture_idx",
            ),
            models.Index(
                fields=["status", "closed_at", "structure", "sla_due"],
                name="finding_closed_sla_idx",
            ),
            models.Index(
                fields=["status", "cve", "rule", "severity", "structure"],
                name="finding_recurring_idx",
            ),
            # The group of a finding, and "is there an older open finding in my group".
            models.Index(
                fields=["structure", "correlation_key", "status"],
                name="finding_correlation_idx",
            ),
        ]

    def __str__(self) -> str:
        return self.title


class FindingEvent(models.Model):
    """One transition in a finding's life: the compact occurrence history."""

    finding = models.ForeignKey(Finding, on_delete=models.CASCADE, related_name="events")
    run = models.ForeignKey(Run, null=True, blank=True, on_delete=models.SET_NULL)
    kind = models.CharField(max_length=24, choices=EventKind.choices)
    at = models.DateTimeField(default=timezone.now)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    from_status = models.CharField(max_length=20, blank=True)
    to_status = models.CharField(max_length=20, blank=True)
    note = models.TextField(blank=True)

    objects = TenantQuerySet.as_manager()
    tenant_path = "finding__structure"

    class Meta:
        verbose_name = _("événement")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.at:%Y-%m-%d}"


class SlaPolicy(models.Model):
    """The region's deadlines (days) per severity; shorter for known-exploited or exposed."""

    critical_days = models.PositiveSmallIntegerField(_("critique (jours)"), default=7)
    high_days = models.PositiveSmallIntegerField(_("élevée (jours)"), default=30)
    medium_days = models.PositiveSmallIntegerField(_("moyenne (jours)"), default=90)
    low_days = models.PositiveSmallIntegerField(_("faible (jours)"), default=120)
    kev_max_days = models.PositiveSmallIntegerField(
        _("exploitée activement : au plus (jours)"), default=7
    )
    exposed_factor_percent = models.PositiveSmallIntegerField(
        _("exposée sur internet : part du délai (%)"), default=50
    )
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("délais de correction")

    def __str__(self) -> str:
        return f"{self.critical_days}/{self.high_days}/{self.medium_days}/{self.low_days}"

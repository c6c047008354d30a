"""Exposure scans as the platform keeps them: profiles, schedules, scans and their results.

A ``Scan`` is one structure's pass over its mandated, proven assets. Each asset (or each
address of a declared network) gets a ``ScanTarget`` row holding what the engine learnt
(addresses, services, evidence) and the ``ScanObservation`` rows of the checks that fired; a
target row is written once, with its observations, in one transaction, which is what lets a
rerun of a killed job resume where it stopped without duplicating anything.

Profiles are regional (the centre tunes them); everything else belongs to one structure and is
reached through ``objects.visible_to(actor, perm)``.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from carbet.core.tenancy import TenantQuerySet
from carbet.engines.exposure.core import DEFAULT_PORTS


def default_ports() -> list[int]:
    return list(DEFAULT_PORTS)


class ScanTrigger(models.TextChoices):
    SCHEDULED = "scheduled", _("Planifiée")
    ON_DEMAND = "on_demand", _("À la demande")
    REGIONAL = "regional", _("Analyse régionale")


class ScanStatus(models.TextChoices):
    QUEUED = "queued", _("En attente")
    RUNNING = "running", _("En cours")
    SUCCEEDED = "succeeded", _("Terminée")
    FAILED = "failed", _("Échouée")


class TargetStatus(models.TextChoices):
    PENDING = "pending", _("À analyser")
    DONE = "done", _("Analysé")


class ScanProfile(models.Model):
    """How hard and how wide a scan looks: ports, timeouts, budgets and which probes run."""

    name = models.CharField(_("nom"), max_length=120, unique=True)
    description = models.TextField(_("description"), blank=True)
    ports = models.JSONField(_("ports"), default=default_ports)
    connect_timeout = models.FloatField(
        _("délai de connexion (s)"),
        default=3.0,
        validators=[MinValueValidator(0.1), MaxValueValidator(60)],
    )
    read_timeout = models.FloatField(
        _("délai de lecture (s)"),
        default=5.0,
        validators=[MinValueValidator(0.1), MaxValueValidator(120)],
    )
    target_timeout = models.FloatField(
        _("durée maximale par actif (s)"),
        default=180.0,
        validators=[MinValueValidator(1), MaxValueValidator(3600)],
    )
    global_concurrency = models.PositiveIntegerField(
        _("connexions simultanées au total"),
        default=256,
        validators=[MinValueValidator(1), MaxValueValidator(4096)],
    )
    per_target_concurrency = models.PositiveIntegerField(
        _("connexions simultanées par actif"),
        default=8,
        validators=[MinValueValidator(1), MaxValueValidator(64)],
    )
    per_target_budget = models.PositiveIntegerField(
        _("requêtes au plus par actif"),
        default=400,
        validators=[MinValueValidator(10), MaxValueValidator(10000)],
    )
    tls = models.BooleanField(_("analyse TLS complète"), default=True)
    web_paths = models.BooleanField(_("chemins sensibles des sites web"), default=True)
    mail_dns = models.BooleanField(_("messagerie et DNS"), default=True)
    is_default = models.BooleanField(_("profil par défaut"), default=False)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("profil d'analyse")
        ordering = ["-is_default", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"],
                condition=models.Q(is_default=True),
                name="exposure_one_default_profile",
            )
        ]

    def __str__(self) -> str:
        return self.name

    def as_config(self) -> dict:
        """The engine's ``ScanConfig`` fields this profile sets (kept on each scan as used)."""
        return {
            "ports": sorted({int(p) for p in self.ports}),
            "connect_timeout": self.connect_timeout,
            "read_timeout": self.read_timeout,
            "target_timeout": self.target_timeout,
            "global_concurrency": self.global_concurrency,
            "per_target_concurrency": self.per_target_concurrency,
            "per_target_budget": self.per_target_budget,
            "tls_full": self.tls,
            "web_paths": self.web_paths,
            "mail_dns": self.mail_dns,
        }


class ScanSchedule(models.Model):
    """When a structure is scanned each week; slots are spread over the week for the region."""

    structure = models.OneToOneField(
        "core.Structure", on_delete=models.CASCADE, related_name="exposure_schedule"
    )
    profile = models.ForeignKey(
        ScanProfile,
        verbose_name=_("profil"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="schedules",
        help_text=_("Vide : le profil par défaut."),
    )
    weekday = models.PositiveSmallIntegerField(
        _("jour"),
        validators=[MaxValueValidator(6)],
        help_text=_("0 = lundi … 6 = dimanche."),
    )
    hour = models.PositiveSmallIntegerField(_("heure"), validators=[MaxValueValidator(23)])
    enabled = models.BooleanField(_("active"), default=True)
    note = models.CharField(_("remarque"), max_length=200, blank=True)
    last_slot_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = TenantQuerySet.as_manager()
    tenant_path = "structure"

    class Meta:
        verbose_name = _("calendrier d'analyse")
        ordering = ["weekday", "hour", "structure__name"]

    def __str__(self) -> str:
        return f"{self.structure} — {self.weekday}/{self.hour}"


class RegionalScan(models.Model):
    """A scan of every structure at once, fanned out as one task per structure."""

    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    profile = models.ForeignKey(ScanProfile, null=True, on_delete=models.SET_NULL, related_name="+")
    job = models.ForeignKey(
        "jobs.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    structures = models.PositiveIntegerField(default=0)
    refused = models.JSONField(default=list, blank=True)

    class Meta:
        verbose_name = _("analyse régionale")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{_('Analyse régionale')} {self.created_at:%d/%m/%Y %H:%M}"


class Scan(models.Model):
    structure = models.ForeignKey(
        "core.Structure", on_delete=models.CASCADE, related_name="exposure_scans"
    )
    profile = models.ForeignKey(
        ScanProfile, null=True, blank=True, on_delete=models.SET_NULL, related_name="scans"
    )
    config = models.JSONField(default=dict, blank=True)
    trigger = models.CharField(_("origine"), max_length=12, choices=ScanTrigger.choices)
    regional = models.ForeignKey(
        RegionalScan, null=True, blank=True, on_delete=models.SET_NULL, related_name="scans"
    )
    status = models.CharField(
        _("état"), max_length=10, choices=ScanStatus.choices, default=ScanStatus.QUEUED
    )
    job = models.ForeignKey(
        "jobs.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    complete = models.BooleanField(_("complète"), default=False)
    score = models.PositiveSmallIntegerField(null=True, blank=True)
    grade = models.CharField(max_length=3, blank=True)
    # {category: {"score": int, "grade": str, "reasons": [str]}}
    scores = models.JSONField(default=dict, blank=True)
    targets_total = models.PositiveIntegerField(default=0)
    targets_done = models.PositiveIntegerField(default=0)
    services_count = models.PositiveIntegerField(default=0)
    observations_count = models.PositiveIntegerField(default=0)
    critical_count = models.PositiveIntegerField(default=0)
    # Assets the mandate gate refused: [{"asset": id, "value": str, "reason": str}]
    refused = models.JSONField(default=list, blank=True)
    previous = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # {"new": [observation keys], "gone": [...], "services_new": [...], "services_gone": [...]}
    diff = models.JSONField(default=dict, blank=True)
    ingest_report = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)

    objects = TenantQuerySet.as_manager()
    tenant_path = "structure"

    class Meta:
        verbose_name = _("analyse d'exposition")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["structure", "status", "-created_at"])]
        constraints = [
            models.UniqueConstraint(
                fields=["regional", "structure"],
                condition=models.Q(regional__isnull=False),
                name="exposure_one_scan_per_structure_per_regional",
            )
        ]

    def __str__(self) -> str:
        return f"{self.structure} — {self.created_at:%d/%m/%Y %H:%M}"

    @property
    def is_finished(self) -> bool:
        return self.status in (ScanStatus.SUCCEEDED, ScanStatus.FAILED)


class ScanTarget(models.Model):
    """One asset (or one address of a declared network) in one scan, with its evidence."""

    scan = models.ForeignKey(Scan, on_delete=models.CASCADE, related_name="targets")
    structure = models.ForeignKey("core.Structure", on_delete=models.CASCADE, related_name="+")
    asset = models.ForeignKey(
        "core.Asset", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    target = models.CharField(_("cible"), max_length=255)
    kind = models.CharField(max_length=12, default="host")
    status = models.CharField(
        max_length=8, choices=TargetStatus.choices, default=TargetStatus.PENDING
    )
    addresses = models.JSONField(default=list, blank=True)
    # [{"port", "service", "product", "version", "tls", "banner", ...}]
    services = models.JSONField(default=list, blank=True)
    # Banner, headers, certificate, DNS records... as the engine reported them, per topic.
    evidence = models.JSONField(default=dict, blank=True)
    errors = models.JSONField(default=list, blank=True)
    # Connections the connect-time scope policy refused: [{"address", "port", "reason", "via",
    # "name", "message"}] (carbet.engines.netpolicy.Refusal). Nothing is concluded about them.
    refused = models.JSONField(default=list, blank=True)
    complete = models.BooleanField(default=False)
    score = models.PositiveSmallIntegerField(null=True, blank=True)
    grade = models.CharField(max_length=3, blank=True)
    scores = models.JSONField(default=dict, blank=True)
    duration = models.FloatField(default=0)
    scanned_at = models.DateTimeField(null=True, blank=True)

    objects = TenantQuerySet.as_manager()
    tenant_path = "structure"

    class Meta:
        verbose_name = _("actif analysé")
        ordering = ["target", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["scan", "target"], name="exposure_target_once")
        ]

    def __str__(self) -> str:
        return self.target

    @property
    def refusal_messages(self) -> list[str]:
        """The refused connections in plain French (see ``carbet.exposure.refusals``)."""
        from carbet.exposure.refusals import messages

        return messages(self.refused)


class ScanObservation(models.Model):
    """A check that fired on a target; ``fingerprint`` is its finding's in the findings store."""

    scan = models.ForeignKey(Scan, on_delete=models.CASCADE, related_name="observations")
    target = models.ForeignKey(ScanTarget, on_delete=models.CASCADE, related_name="observations")
    structure = models.ForeignKey("core.Structure", on_delete=models.CASCADE, related_name="+")
    check_id = models.CharField(_("contrôle"), max_length=80, db_index=True)
    category = models.CharField(max_length=12)
    port = models.PositiveIntegerField(null=True, blank=True)
    severity = models.PositiveSmallIntegerField(default=2)
    title = models.CharField(max_length=300)
    detail = models.TextField(blank=True)
    evidence = models.JSONField(default=dict, blank=True)
    cve = models.CharField(max_length=30, blank=True)
    cvss = models.FloatField(null=True, blank=True)
    epss = models.FloatField(null=True, blank=True)
    kev = models.BooleanField(default=False)
    product = models.CharField(max_length=200, blank=True)
    key = models.CharField(max_length=200)
    fingerprint = models.CharField(max_length=64, db_index=True)

    objects = TenantQuerySet.as_manager()
    tenant_path = "structure"

    class Meta:
        verbose_name = _("constat d'exposition")
        ordering = ["-severity", "check_id", "port"]
        constraints = [
            models.UniqueConstraint(
                fields=["scan", "fingerprint"], name="exposure_observation_once"
            )
        ]

    def __str__(self) -> str:
        return self.title


class ExposureAlert(models.Model):
    """A same-day alert sent for a new critical exposure: one per structure, fingerprint and
    episode. An exposure a later scan showed fixed that comes back opens a new episode."""

    structure = models.ForeignKey("core.Structure", on_delete=models.CASCADE, related_name="+")
    fingerprint = models.CharField(max_length=64)
    scan = models.ForeignKey(Scan, null=True, on_delete=models.SET_NULL, related_name="alerts")
    title = models.CharField(max_length=300)
    recipients = models.JSONField(default=list)
    sent_at = models.DateTimeField(default=timezone.now)
    # 1 for the first appearance, then one more each time it comes back after being fixed.
    episode = models.PositiveIntegerField(default=1)

    objects = TenantQuerySet.as_manager()
    tenant_path = "structure"

    class Meta:
        verbose_name = _("alerte d'exposition")
        constraints = [
            models.UniqueConstraint(
                fields=["structure", "fingerprint", "episode"],
                name="exposure_alert_once_per_return",
            )
        ]

    def __str__(self) -> str:
        return self.title


class IntermediateSource(models.TextChoices):
    LEARNED = "learned", _("Appris d'une chaîne reconnue")
    IMPORTED = "imported", _("Importé par le centre")


class KnownIntermediate(models.Model):
    """An intermediate CA certificate Carbet knows offline, to tell a server that forgets its
    intermediate from an unknown authority without fetching anything from a third party
    (``carbet.engines.exposure.tls.intermediates``). Regional, like the profiles: a public
    authority's certificate belongs to no structure. Learnt only from chains OpenSSL verified
    as trusted, or imported by the centre (``carbet intermediates import``); never an anchor."""

    der = models.BinaryField(_("certificat (DER)"))
    sha256 = models.CharField(_("empreinte SHA-256"), max_length=64, unique=True)
    subject = models.CharField(_("sujet"), max_length=1000)
    subject_key_id = models.CharField(_("identifiant de clé (SKI)"), max_length=128, blank=True)
    not_after = models.DateTimeField(_("fin de validité"), db_index=True)
    source = models.CharField(_("origine"), max_length=10, choices=IntermediateSource.choices)
    first_seen = models.DateTimeField(_("vu la première fois"), default=timezone.now)
    last_seen = models.DateTimeField(_("vu la dernière fois"), default=timezone.now)
    seen_count = models.PositiveIntegerField(_("nombre de fois vu"), default=1)

    class Meta:
        verbose_name = _("certificat intermédiaire connu")
        verbose_name_plural = _("certificats intermédiaires connus")

    def __str__(self) -> str:
        return self.subject

"""Directory audits: connections to a structure's Active Directory, audits and rule exceptions.

A snapshot holds the names, groups and rights of every account of a hospital: it is stored
encrypted at rest (the platform's keys), downloadable by nobody, and kept so an audit can be
analysed again when the rules change.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from carbet.core.crypto import EncryptedTextField
from carbet.core.tenancy import TenantQuerySet


class AuditOrigin(models.TextChoices):
    ONLINE = "online", _("Collecte en ligne par le centre")
    SNAPSHOT = "snapshot", _("Instantané déposé")
    PINGCASTLE = "pingcastle", _("Rapport PingCastle importé")
    REANALYSIS = "reanalysis", _("Nouvelle analyse d'un instantané")


class AuditStatus(models.TextChoices):
    QUEUED = "queued", _("En attente")
    RUNNING = "running", _("En cours")
    DONE = "done", _("Terminé")
    FAILED = "failed", _("Échec")


class DirectoryConnection(models.Model):
    """How the centre reaches a structure's directory with a read-only account."""

    structure = models.ForeignKey(
        "core.Structure", on_delete=models.CASCADE, related_name="directory_connections"
    )
    # The mandate covers assets: the domain (kind "ad_domain") this connection audits.
    asset = models.ForeignKey(
        "core.Asset",
        on_delete=models.PROTECT,
        related_name="directory_connections",
        verbose_name=_("domaine Active Directory"),
    )
    label = models.CharField(_("libellé"), max_length=120)
    server = models.CharField(
        _("serveur"), max_length=255, help_text=_("Nom ou adresse d'un contrôleur de domaine.")
    )
    port = models.PositiveIntegerField(_("port"), null=True, blank=True)
    starttls = models.BooleanField(
        _("StartTLS sur le port 389"),
        default=False,
        help_text=_("Sinon, LDAPS (port 636)."),
    )
    ca_pem = models.TextField(
        _("certificat de l'autorité (PEM)"),
        blank=True,
        help_text=_("Pour vérifier le certificat du contrôleur de domaine."),
    )
    insecure = models.BooleanField(
        _("ne pas vérifier le certificat"),
        default=False,
        help_text=_("À éviter : seulement pour un premier essai sur un réseau maîtrisé."),
    )
    base_dn = models.CharField(_("DN de base"), max_length=255, blank=True)
    bind_user = models.CharField(_("compte de lecture"), max_length=255)
    bind_password = EncryptedTextField(_("mot de passe du compte de lecture"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)

    objects = TenantQuerySet.as_manager()
    tenant_path = "structure"

    class Meta:
        verbose_name = _("connexion à l'annuaire")
        ordering = ["label"]

    def __str__(self) -> str:
        return self.label


class DirectoryAudit(models.Model):
    """One analysis of one domain of a structure, with its scores and rule results."""

    structure = models.ForeignKey(
        "core.Structure", on_delete=models.CASCADE, related_name="directory_audits"
    )
    connection = models.ForeignKey(
        DirectoryConnection,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="audits",
    )
    origin = models.CharField(_("origine"), max_length=12, choices=AuditOrigin.choices)
    status = models.CharField(
        _("état"), max_length=8, choices=AuditStatus.choices, default=AuditStatus.QUEUED
    )
    job = models.ForeignKey(
        "jobs.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    domain = models.CharField(_("domaine"), max_length=255, blank=True)
    collected_at = models.DateTimeField(_("collecté le"), null=True, blank=True)
    analysed_at = models.DateTimeField(_("analysé le"), null=True, blank=True)
    anssi_level = models.PositiveSmallIntegerField(_("niveau ANSSI"), null=True, blank=True)
    score_global = models.PositiveSmallIntegerField(_("score global"), null=True, blank=True)
    score_stale = models.PositiveSmallIntegerField(null=True, blank=True)
    score_privileged = models.PositiveSmallIntegerField(null=True, blank=True)
    score_trusts = models.PositiveSmallIntegerField(null=True, blank=True)
    score_anomalies = models.PositiveSmallIntegerField(null=True, blank=True)
    exploitable_count = models.PositiveIntegerField(default=0)
    rule_count = models.PositiveIntegerField(default=0)
    counts = models.JSONField(default=dict, blank=True)  # users, computers, groups...
    result = models.JSONField(default=dict, blank=True)  # the analysis, rule by rule
    new_rules = models.JSONField(default=list, blank=True)
    fixed_rules = models.JSONField(default=list, blank=True)
    # The snapshot, encrypted with the platform's keys (base64 of the snapshot file).
    snapshot = EncryptedTextField(blank=True)
    snapshot_sha256 = models.CharField(max_length=64, blank=True)
    source_name = models.CharField(_("fichier déposé"), max_length=255, blank=True)
    error = models.TextField(_("erreur"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    objects = TenantQuerySet.as_manager()
    tenant_path = "structure"

    class Meta:
        verbose_name = _("audit de l'annuaire")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.domain or _('Audit')} ({self.created_at:%d/%m/%Y})"

    @property
    def category_scores(self) -> list[tuple[str, str, int | None]]:
        return [
            ("stale_objects", _("Objets obsolètes"), self.score_stale),
            ("privileged_accounts", _("Comptes à privilèges"), self.score_privileged),
            ("trusts", _("Relations d'approbation"), self.score_trusts),
            ("anomalies", _("Anomalies"), self.score_anomalies),
        ]


class RuleException(models.Model):
    """A justified, time-limited exception to a rule (e.g. a biomedical service account)."""

    structure = models.ForeignKey(
        "core.Structure", on_delete=models.CASCADE, related_name="directory_exceptions"
    )
    rule = models.CharField(_("règle"), max_length=80)
    object_name = models.CharField(
        _("objet concerné"),
        max_length=255,
        default="*",
        help_text=_("Nom du compte ou de l'objet ; « * » pour toute la règle."),
    )
    justification = models.TextField(_("justification"))
    expires_on = models.DateField(_("expire le"))
    revoked = models.BooleanField(default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    objects = TenantQuerySet.as_manager()
    tenant_path = "structure"

    class Meta:
        verbose_name = _("exception à une règle")
        ordering = ["rule", "object_name"]

    def __str__(self) -> str:
        return f"{self.rule} — {self.object_name}"

    def active(self, today=None) -> bool:
        today = today or timezone.localdate()
        return not self.revoked and self.expires_on >= today

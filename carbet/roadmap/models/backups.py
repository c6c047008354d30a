"""The backup register: critical systems, how they are backed up, and restore tests."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from carbet.core.choices import Criticality
from carbet.core.tenancy import TenantQuerySet


class BackupMethod(models.TextChoices):
    IMAGE = "image", _("Image complète des serveurs")
    FILES = "files", _("Copie des fichiers")
    DATABASE = "database", _("Sauvegarde de la base de données")
    SAAS = "saas", _("Assurée par l'éditeur (logiciel en ligne)")
    OUTSOURCED = "outsourced", _("Assurée par l'hébergeur ou le prestataire")
    NONE = "none", _("Aucune sauvegarde")


class RestoreResult(models.TextChoices):
    SUCCESS = "success", _("Réussi")
    PARTIAL = "partial", _("En partie")
    FAILURE = "failure", _("Échec")


class BackupSystem(models.Model):
    """One critical system and how its data is kept safe ("une sauvegarde assurée")."""

    structure = models.ForeignKey(
        "core.Structure", on_delete=models.CASCADE, related_name="backup_systems"
    )
    name = models.CharField(_("système"), max_length=200)
    criticality = models.CharField(
        _("criticité"), max_length=10, choices=Criticality.choices, default=Criticality.HIGH
    )
    method = models.CharField(_("méthode"), max_length=12, choices=BackupMethod.choices)
    frequency_days = models.PositiveSmallIntegerField(_("fréquence (jours)"), default=1)
    copies = models.PositiveSmallIntegerField(_("nombre de copies"), default=1)
    media = models.PositiveSmallIntegerField(_("nombre de supports différents"), default=1)
    offsite = models.BooleanField(_("une copie hors site"), default=False)
    immutable_offline = models.BooleanField(_("une copie hors ligne ou immuable"), default=False)
    supervised = models.BooleanField(_("échecs signalés par une alerte"), default=False)
    last_success_on = models.DateField(_("dernière sauvegarde réussie"), null=True, blank=True)
    notes = models.TextField(_("remarques"), blank=True)
    updated_at = models.DateTimeField(default=timezone.now)

    objects = TenantQuerySet.as_manager()
    tenant_path = "structure"

    class Meta:
        verbose_name = _("système sauvegardé")
        ordering = ["name", "pk"]

    def __str__(self) -> str:
        return self.name

    @property
    def rule_321(self) -> bool:
        """Three copies, two media, one off site."""
        return self.copies >= 3 and self.media >= 2 and self.offsite


class RestoreTest(models.Model):
    system = models.ForeignKey(BackupSystem, on_delete=models.CASCADE, related_name="tests")
    structure = models.ForeignKey(
        "core.Structure", on_delete=models.CASCADE, related_name="restore_tests"
    )
    tested_on = models.DateField(_("date du test"))
    scope = models.CharField(_("ce qui a été restauré"), max_length=300)
    result = models.CharField(_("résultat"), max_length=10, choices=RestoreResult.choices)
    to_production = models.BooleanField(_("restauré jusqu'en production"), default=False)
    business_referent = models.CharField(_("référent métier"), max_length=200, blank=True)
    duration_hours = models.DecimalField(
        _("durée (heures)"), max_digits=6, decimal_places=1, null=True, blank=True
    )
    notes = models.TextField(_("remarques"), blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    recorded_at = models.DateTimeField(default=timezone.now)

    objects = TenantQuerySet.as_manager()
    tenant_path = "structure"

    class Meta:
        verbose_name = _("test de restauration")
        ordering = ["-tested_on", "-pk"]

    def __str__(self) -> str:
        return f"{self.system} {self.tested_on:%d/%m/%Y}"

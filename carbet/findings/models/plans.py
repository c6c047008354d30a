"""Corrective action plans: action items, their evidence, and regional campaigns."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from carbet.core.tenancy import TenantQuerySet


class Priority(models.IntegerChoices):
    P1 = 1, _("P1 — immédiat")
    P2 = 2, _("P2 — ce trimestre")
    P3 = 3, _("P3 — cette année")
    P4 = 4, _("P4 — à planifier")


class ActionStatus(models.TextChoices):
    TODO = "todo", _("À faire")
    IN_PROGRESS = "in_progress", _("En cours")
    DONE = "done", _("Faite (à vérifier)")
    VERIFIED = "verified", _("Vérifiée")
    CANCELLED = "cancelled", _("Abandonnée")


class Effort(models.TextChoices):
    HOURS = "hours", _("Quelques heures")
    DAYS = "days", _("Quelques jours")
    WEEKS = "weeks", _("Quelques semaines")
    PROJECT = "project", _("Un projet")


class OwnerKind(models.TextChoices):
    PERSON = "person", _("Une personne")
    ROLE = "role", _("Un rôle")
    IT_PROVIDER = "it_provider", _("Le prestataire informatique")


class Campaign(models.Model):
    """One weakness shared by many structures, handled once for the region."""

    title = models.CharField(_("titre"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    notice = models.TextField(
        _("message aux structures"),
        help_text=_("Envoyé à chaque structure concernée, en français simple."),
    )
    match_cve = models.CharField(_("CVE"), max_length=30, blank=True)
    match_rule = models.CharField(_("règle"), max_length=120, blank=True)
    match_product = models.CharField(_("produit"), max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    notice_sent_at = models.DateTimeField(null=True, blank=True)
    launched_at = models.DateTimeField(_("lancée le"), null=True, blank=True)
    launched_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("campagne régionale")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.title


class ActionItem(models.Model):
    structure = models.ForeignKey(
        "core.Structure", on_delete=models.CASCADE, related_name="action_items"
    )
    title = models.CharField(_("action"), max_length=200)
    why = models.TextField(_("pourquoi"), blank=True)
    how = models.TextField(_("comment"), blank=True)
    owner_kind = models.CharField(
        _("responsable"), max_length=12, choices=OwnerKind.choices, default=OwnerKind.ROLE
    )
    owner_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    owner_label = models.CharField(_("nom du responsable"), max_length=200, blank=True)
    priority = models.PositiveSmallIntegerField(
        _("priorité"), choices=Priority.choices, default=Priority.P2
    )
    effort = models.CharField(_("effort"), max_length=10, choices=Effort.choices, blank=True)
    cost_estimate = models.DecimalField(
        _("coût estimé (€)"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    funding_source = models.CharField(_("financement"), max_length=200, blank=True)
    due_date = models.DateField(_("échéance"), null=True, blank=True, db_index=True)
    status = models.CharField(
        _("état"),
        max_length=12,
        choices=ActionStatus.choices,
        default=ActionStatus.TODO,
        db_index=True,
    )
    progress = models.PositiveSmallIntegerField(_("avancement (%)"), default=0)
    status_reason = models.TextField(_("motif"), blank=True)
    findings = models.ManyToManyField(
        "findings.Finding", blank=True, related_name="actions", verbose_name=_("vulnérabilités")
    )
    campaign = models.ForeignKey(
        Campaign, null=True, blank=True, on_delete=models.SET_NULL, related_name="actions"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    completed_at = models.DateTimeField(null=True, blank=True)

    objects = TenantQuerySet.as_manager()
    tenant_path = "structure"

    class Meta:
        verbose_name = _("action corrective")
        ordering = ["priority", "due_date", "id"]

    def __str__(self) -> str:
        return self.title


class ActionEvidence(models.Model):
    """Proof that an action was done; once approved, its findings close as verified."""

    action = models.ForeignKey(ActionItem, on_delete=models.CASCADE, related_name="evidence")
    note = models.TextField(_("description"), blank=True)
    document = models.FileField(_("pièce"), upload_to="evidence/%Y/", blank=True)
    document_sha256 = models.CharField(max_length=64, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    submitted_at = models.DateTimeField(default=timezone.now)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    approved_at = models.DateTimeField(null=True, blank=True)

    objects = TenantQuerySet.as_manager()
    tenant_path = "action__structure"

    class Meta:
        verbose_name = _("preuve")
        ordering = ["-submitted_at"]

    def __str__(self) -> str:
        return self.note[:60] or self.document.name


class CampaignNotice(models.Model):
    """The one notice of a campaign to one structure: recorded so it is sent exactly once."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="notices")
    structure = models.ForeignKey(
        "core.Structure", on_delete=models.CASCADE, related_name="campaign_notices"
    )
    action = models.ForeignKey(
        ActionItem, null=True, blank=True, on_delete=models.SET_NULL, related_name="notices"
    )
    recipients = models.JSONField(_("destinataires"), default=list, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(_("envoyé le"), null=True, blank=True)
    error = models.TextField(_("erreur d'envoi"), blank=True)

    objects = TenantQuerySet.as_manager()
    tenant_path = "structure"

    class Meta:
        verbose_name = _("avis de campagne")
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "structure"], name="campaign_notice_once_per_structure"
            )
        ]

    def __str__(self) -> str:
        return f"{self.campaign} — {self.structure}"

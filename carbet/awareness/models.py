"""Tables of the awareness service: targets, the regional library, campaigns and training.

What is deliberately absent: any column that could hold what a person typed on a landing page.
A submission is a timestamp (``Recipient.submitted_at``), nothing else: not a value, not even
the name of a field.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from carbet.awareness.choices import (
    CampaignStatus,
    Difficulty,
    PrivacyMode,
    ReportSource,
    Security,
    SendState,
)
from carbet.core.crypto import EncryptedTextField
from carbet.core.models import Mandate, Structure
from carbet.core.tenancy import TenantQuerySet


class SmtpProfile(models.Model):
    """A mail server the centre sends simulations through (region-wide, centre staff only)."""

    name = models.CharField(_("nom"), max_length=100, unique=True)
    host = models.CharField(_("serveur"), max_length=255)
    port = models.PositiveIntegerField(_("port"), default=587)
    security = models.CharField(
        _("chiffrement"), max_length=10, choices=Security.choices, default=Security.STARTTLS
    )
    username = models.CharField(_("identifiant"), max_length=255, blank=True)
    password = EncryptedTextField(_("mot de passe"), blank=True)
    from_address = models.EmailField(_("adresse d'expédition"))
    per_minute = models.PositiveIntegerField(
        _("messages par minute"), default=60, help_text=_("0 : sans limite.")
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("profil d'envoi")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ReportingMailbox(models.Model):
    """The mailbox staff forward suspicious mails to, polled over IMAP."""

    name = models.CharField(_("nom"), max_length=100, unique=True)
    host = models.CharField(_("serveur IMAP"), max_length=255)
    port = models.PositiveIntegerField(_("port"), default=993)
    security = models.CharField(
        _("chiffrement"), max_length=10, choices=Security.choices, default=Security.SSL
    )
    username = models.CharField(_("identifiant"), max_length=255)
    password = EncryptedTextField(_("mot de passe"), blank=True)
    folder = models.CharField(_("dossier"), max_length=100, default="INBOX")
    last_polled_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)

    class Meta:
        verbose_name = _("boîte de signalement")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class AwarenessSettings(models.Model):
    """Region-wide settings (one row): the bot-click rules and the default retention."""

    scanner_networks = models.TextField(
        _("réseaux des passerelles de messagerie (CIDR, un par ligne)"), blank=True
    )
    scanner_agents = models.TextField(
        _("agents de navigateur des robots (expressions, une par ligne)"), blank=True
    )
    fast_click_seconds = models.PositiveIntegerField(
        _("clic trop rapide après la remise (secondes)"), default=10
    )
    retention_days = models.PositiveIntegerField(_("conservation (jours)"), default=180)
    public_url = models.URLField(
        _("adresse publique des liens"),
        blank=True,
        help_text=_("Par exemple https://carbet.exemple.fr ; à défaut CARBET_PUBLIC_URL."),
    )

    class Meta:
        verbose_name = _("réglages de sensibilisation")

    def __str__(self) -> str:
        return str(_("réglages de sensibilisation"))


class TargetGroup(models.Model):
    structure = models.ForeignKey(Structure, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(_("nom"), max_length=100)

    objects = TenantQuerySet.as_manager()
    tenant_path = "structure"

    class Meta:
        verbose_name = _("groupe")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["structure", "name"], name="awareness_group_unique")
        ]

    def __str__(self) -> str:
        return self.name


class Target(models.Model):
    """A member of staff who may receive simulations (imported by CSV, per structure)."""

    structure = models.ForeignKey(Structure, on_delete=models.CASCADE, related_name="+")
    full_name = models.CharField(_("nom"), max_length=200)
    email = models.EmailField(_("e-mail"))
    service = models.CharField(_("service"), max_length=100, blank=True)
    role = models.CharField(_("fonction"), max_length=100, blank=True)
    pseudonym = models.CharField(_("pseudonyme"), max_length=20, unique=True)
    groups = models.ManyToManyField(TargetGroup, blank=True, related_name="targets")
    created_at = models.DateTimeField(default=timezone.now)

    objects = TenantQuerySet.as_manager()
    tenant_path = "structure"

    class Meta:
        verbose_name = _("destinataire")
        ordering = ["service", "full_name"]
        constraints = [
            models.UniqueConstraint(fields=["structure", "email"], name="awareness_target_unique")
        ]

    def __str__(self) -> str:
        return self.pseudonym


class LandingPage(models.Model):
    """A page shown after a click, stored only in its sanitised form."""

    name = models.CharField(_("nom"), max_length=150, unique=True)
    html = models.TextField(_("contenu (nettoyé)"))
    from_library = models.BooleanField(default=False)

    class Meta:
        verbose_name = _("page d'atterrissage")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class EmailTemplate(models.Model):
    """A lure of the regional library, with its difficulty and the clues the debrief explains."""

    name = models.CharField(_("nom"), max_length=150, unique=True)
    subject = models.CharField(_("objet"), max_length=200)
    sender_name = models.CharField(_("nom de l'expéditeur affiché"), max_length=100)
    text_body = models.TextField(_("texte"))
    html_body = models.TextField(_("HTML"), blank=True)
    landing_page = models.ForeignKey(
        LandingPage, null=True, blank=True, on_delete=models.SET_NULL, related_name="templates"
    )
    clues = models.JSONField(_("indices"), default=list, blank=True)
    cues = models.PositiveIntegerField(_("nombre d'indices observables"), default=8)
    premise_process = models.PositiveSmallIntegerField(default=0)
    premise_relevance = models.PositiveSmallIntegerField(default=0)
    premise_events = models.PositiveSmallIntegerField(default=0)
    premise_concern = models.PositiveSmallIntegerField(default=0)
    premise_training = models.PositiveSmallIntegerField(default=0)
    difficulty = models.CharField(
        _("difficulté"), max_length=10, choices=Difficulty.choices, default=Difficulty.MODERATE
    )
    from_library = models.BooleanField(default=False)
    imported = models.BooleanField(default=False)

    class Meta:
        verbose_name = _("modèle de message")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class TrainingModule(models.Model):
    slug = models.SlugField(unique=True)
    title = models.CharField(_("titre"), max_length=150)
    summary = models.TextField(_("résumé"))
    lessons = models.JSONField(default=list)
    quiz = models.JSONField(default=list)
    pass_score = models.PositiveSmallIntegerField(_("score pour réussir (%)"), default=70)
    minutes = models.PositiveSmallIntegerField(_("durée (minutes)"), default=5)
    attribution = models.CharField(max_length=300, blank=True)

    class Meta:
        verbose_name = _("module de formation")
        ordering = ["title"]

    def __str__(self) -> str:
        return self.title


class Campaign(models.Model):
    structure = models.ForeignKey(Structure, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(_("nom"), max_length=150)
    template = models.ForeignKey(EmailTemplate, on_delete=models.PROTECT, related_name="+")
    smtp_profile = models.ForeignKey(SmtpProfile, on_delete=models.PROTECT, related_name="+")
    groups = models.ManyToManyField(TargetGroup, blank=True, related_name="+")
    training = models.ForeignKey(
        TrainingModule, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(
        _("état"), max_length=10, choices=CampaignStatus.choices, default=CampaignStatus.DRAFT
    )
    privacy = models.CharField(
        _("confidentialité"),
        max_length=15,
        choices=PrivacyMode.choices,
        default=PrivacyMode.PSEUDONYMOUS,
    )
    dpo_reference = models.CharField(_("référence au registre du DPO"), max_length=100)
    representatives_informed_on = models.DateField(
        _("date d'information des représentants du personnel")
    )
    launch_at = models.DateTimeField(_("début des envois"))
    send_by = models.DateTimeField(_("envois terminés au plus tard le"), null=True, blank=True)
    business_hours_only = models.BooleanField(_("jours et heures ouvrés seulement"), default=True)
    day_start = models.TimeField(_("heure de début"), default="09:00")
    day_end = models.TimeField(_("heure de fin"), default="17:00")
    per_minute = models.PositiveIntegerField(
        _("messages par minute"), null=True, blank=True, help_text=_("Vide : celui du profil.")
    )
    retention_days = models.PositiveIntegerField(_("conservation (jours)"), default=180)
    include_bots = models.BooleanField(_("compter les clics des robots"), default=False)
    mandate = models.ForeignKey(
        Mandate, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    difficulty = models.CharField(max_length=10, choices=Difficulty.choices, blank=True)
    summary = models.JSONField(default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    launched_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    purged_at = models.DateTimeField(null=True, blank=True)

    objects = TenantQuerySet.as_manager()
    tenant_path = "structure"

    class Meta:
        verbose_name = _("campagne")
        ordering = ["-launch_at", "-id"]

    def __str__(self) -> str:
        return self.name


class Recipient(models.Model):
    """One person in one campaign. ``token_digest`` is the SHA-256 of the link token."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="recipients")
    target = models.ForeignKey(
        Target, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    email = models.EmailField(blank=True)
    pseudonym = models.CharField(max_length=20, blank=True)
    service = models.CharField(max_length=100, blank=True)
    token_digest = models.CharField(max_length=64, null=True, blank=True, unique=True)
    scheduled_at = models.DateTimeField(null=True, blank=True, db_index=True)
    state = models.CharField(max_length=10, choices=SendState.choices, default=SendState.PENDING)
    sent_at = models.DateTimeField(null=True, blank=True)
    # Why a message failed, or why the recipient is held (French, shown to the centre).
    error = models.CharField(max_length=300, blank=True)
    opened_at = models.DateTimeField(null=True, blank=True)
    open_count = models.PositiveIntegerField(default=0)
    clicked_at = models.DateTimeField(null=True, blank=True)
    human_clicked_at = models.DateTimeField(null=True, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    reported_at = models.DateTimeField(null=True, blank=True)
    report_source = models.CharField(max_length=10, choices=ReportSource.choices, blank=True)

    objects = TenantQuerySet.as_manager()
    tenant_path = "campaign__structure"

    class Meta:
        verbose_name = _("destinataire de campagne")
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "target"], name="awareness_recipient_once")
        ]

    def __str__(self) -> str:
        return self.pseudonym or f"#{self.pk}"


class ClickEvent(models.Model):
    """One request to a recipient's link; flagged (never deleted) when a robot made it."""

    recipient = models.ForeignKey(Recipient, on_delete=models.CASCADE, related_name="clicks")
    at = models.DateTimeField(default=timezone.now)
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    page_at = models.DateTimeField(null=True, blank=True)
    beacon_at = models.DateTimeField(null=True, blank=True)
    bot_reasons = models.JSONField(default=list, blank=True)
    settled = models.BooleanField(default=False)

    objects = TenantQuerySet.as_manager()
    tenant_path = "recipient__campaign__structure"

    class Meta:
        ordering = ["at"]

    def __str__(self) -> str:
        return f"{self.recipient_id}@{self.at:%Y-%m-%d %H:%M:%S}"


class TrainingAssignment(models.Model):
    """A module given to a person (after a click, or by hand), opened by a signed link."""

    structure = models.ForeignKey(Structure, on_delete=models.CASCADE, related_name="+")
    module = models.ForeignKey(TrainingModule, on_delete=models.CASCADE, related_name="+")
    target = models.ForeignKey(
        Target, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    campaign = models.ForeignKey(
        Campaign, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    assigned_at = models.DateTimeField(default=timezone.now)
    opened_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    score = models.PositiveSmallIntegerField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)

    objects = TenantQuerySet.as_manager()
    tenant_path = "structure"

    class Meta:
        verbose_name = _("formation attribuée")
        ordering = ["-assigned_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["module", "target", "campaign"], name="awareness_assignment_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.module_id}/{self.pk}"

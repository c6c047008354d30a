"""The crisis case's board and exhibits: care activities, assets, evidence with its chain of
custody, indicators of compromise, lessons learned, and the PRIS provider's narrow access.

Imported by ``models.py`` (Django registers these models with the crisis app).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from carbet.core.models import Asset
from carbet.core.tenancy import Actor, TenantQuerySet
from carbet.crisis.choices import (
    ActivityMode,
    AssetState,
    CustodyAction,
    IndicatorType,
    LessonKind,
    Tlp,
    Workstream,
)
from carbet.crisis.models import CaseChildQuerySet, CrisisCase, Stakeholder


class Activity(models.Model):
    """A care or support activity on the continuity board (admissions, pharmacy, payroll...)."""

    case = models.ForeignKey(CrisisCase, on_delete=models.CASCADE, related_name="activities")
    name = models.CharField(_("activité"), max_length=120)
    position = models.PositiveIntegerField(default=0)
    mode = models.CharField(
        _("fonctionnement"),
        max_length=10,
        choices=ActivityMode.choices,
        default=ActivityMode.NORMAL,
    )
    since = models.DateTimeField(_("depuis"), default=timezone.now)
    procedure = models.CharField(_("procédure en vigueur"), max_length=300, blank=True)
    impact = models.TextField(_("impact"), blank=True)
    updated_at = models.DateTimeField(default=timezone.now)

    objects = CaseChildQuerySet.as_manager()
    tenant_path = "case__structure"

    class Meta:
        verbose_name = _("activité")
        ordering = ["position", "name"]

    def __str__(self) -> str:
        return self.name


class CrisisAsset(models.Model):
    """A system in the crisis' perimeter and where its remediation stands."""

    case = models.ForeignKey(CrisisCase, on_delete=models.CASCADE, related_name="assets")
    asset = models.ForeignKey(
        Asset, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    label = models.CharField(_("système"), max_length=200)
    state = models.CharField(
        _("état"), max_length=12, choices=AssetState.choices, default=AssetState.COMPROMISED
    )
    since = models.DateTimeField(default=timezone.now)
    note = models.CharField(_("note"), max_length=300, blank=True)

    objects = CaseChildQuerySet.as_manager()
    tenant_path = "case__structure"

    class Meta:
        verbose_name = _("système touché")
        ordering = ["label", "pk"]
        indexes = [models.Index(fields=["case", "state"], name="crisis_asset_state")]

    def __str__(self) -> str:
        return self.label


class Evidence(models.Model):
    """An evidence file: its fingerprint never changes; who held it is the custody chain."""

    case = models.ForeignKey(CrisisCase, on_delete=models.PROTECT, related_name="evidence")
    name = models.CharField(_("nom du fichier"), max_length=255)
    description = models.TextField(_("description"), blank=True)
    sha256 = models.CharField(max_length=64)
    size = models.PositiveBigIntegerField()
    stored_name = models.CharField(max_length=255)
    encrypted = models.BooleanField(_("chiffrée sur le serveur"), default=False)
    content_kind = models.CharField(max_length=20)
    collected_at = models.DateTimeField(_("collectée le"))
    added_at = models.DateTimeField(default=timezone.now)
    added_by = models.CharField(max_length=255)

    objects = CaseChildQuerySet.as_manager()
    tenant_path = "case__structure"

    class Meta:
        verbose_name = _("preuve")
        ordering = ["-added_at"]

    def __str__(self) -> str:
        return self.name


class CustodyQuerySet(TenantQuerySet):
    def visible_to(self, actor: Actor | None, perm: object = None) -> TenantQuerySet:
        cases = CrisisCase.objects.visible_to(actor, perm)
        return self.filter(evidence__case__in=cases.values("pk"))


class CustodyEntry(models.Model):
    evidence = models.ForeignKey(Evidence, on_delete=models.PROTECT, related_name="custody")
    at = models.DateTimeField(_("le"))
    holder = models.CharField(_("détenteur"), max_length=200)
    action = models.CharField(_("acte"), max_length=12, choices=CustodyAction.choices)
    reason = models.CharField(_("motif"), max_length=300)
    recorded_by = models.CharField(max_length=255)
    recorded_at = models.DateTimeField(default=timezone.now)

    objects = CustodyQuerySet.as_manager()
    tenant_path = "evidence__case__structure"

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.get_action_display()} — {self.holder}"


class Indicator(models.Model):
    """An indicator of compromise, exported as STIX 2.1 (``carbet.crisis.stix``)."""

    case = models.ForeignKey(CrisisCase, on_delete=models.CASCADE, related_name="indicators")
    type = models.CharField(_("type"), max_length=10, choices=IndicatorType.choices)
    value = models.CharField(_("valeur"), max_length=2000)
    tlp = models.CharField(_("diffusion (TLP)"), max_length=12, choices=Tlp.choices)
    source = models.CharField(_("source"), max_length=200, blank=True)
    first_seen = models.DateTimeField(_("vu pour la première fois"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=300, blank=True)
    added_at = models.DateTimeField(default=timezone.now)
    added_by = models.CharField(max_length=255)

    objects = CaseChildQuerySet.as_manager()
    tenant_path = "case__structure"

    class Meta:
        verbose_name = _("indicateur de compromission")
        ordering = ["type", "value"]
        constraints = [
            models.UniqueConstraint(fields=["case", "type", "value"], name="crisis_ioc_unique")
        ]

    def __str__(self) -> str:
        return f"{self.type}:{self.value}"


class Lesson(models.Model):
    """An item of the lessons-learned meeting; improvements become findings and actions."""

    case = models.ForeignKey(CrisisCase, on_delete=models.CASCADE, related_name="lessons")
    kind = models.CharField(_("nature"), max_length=10, choices=LessonKind.choices)
    workstream = models.CharField(
        _("chantier"), max_length=15, choices=Workstream.choices, blank=True
    )
    text = models.TextField(_("constat"))
    recommendation = models.TextField(_("recommandation"), blank=True)
    severity = models.PositiveSmallIntegerField(_("importance"), default=2)
    added_at = models.DateTimeField(default=timezone.now)
    added_by = models.CharField(max_length=255)
    finding_fingerprint = models.CharField(max_length=128, blank=True)

    objects = CaseChildQuerySet.as_manager()
    tenant_path = "case__structure"

    class Meta:
        verbose_name = _("enseignement")
        ordering = ["kind", "pk"]

    def __str__(self) -> str:
        return self.text[:80]


class ProviderAccess(models.Model):
    """A narrow, expiring access for the PRIS provider (``carbet.crisis.tokens``): read the
    case's log and add entries and indicators; only the token's hash is kept."""

    case = models.ForeignKey(CrisisCase, on_delete=models.CASCADE, related_name="accesses")
    stakeholder = models.ForeignKey(Stakeholder, on_delete=models.CASCADE, related_name="+")
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    objects = CaseChildQuerySet.as_manager()
    tenant_path = "case__structure"

    class Meta:
        verbose_name = _("accès du prestataire")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.stakeholder} — {self.expires_at:%d/%m/%Y}"

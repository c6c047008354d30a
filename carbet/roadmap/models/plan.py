"""The roadmap: a multi-year plan per structure, its items and their milestones."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from carbet.core.tenancy import TenantQuerySet


class RoadmapStatus(models.TextChoices):
    DRAFT = "draft", _("Brouillon")
    VALIDATED = "validated", _("Validée par la direction")


class ItemStatus(models.TextChoices):
    PLANNED = "planned", _("Prévu")
    IN_PROGRESS = "in_progress", _("En cours")
    DONE = "done", _("Fait")
    CANCELLED = "cancelled", _("Abandonné")


class FundingDomain(models.TextChoices):
    NONE = "", _("Sans financement dédié")
    D1 = "D1", _("CaRE D1 — annuaires et exposition")
    D2 = "D2", _("CaRE D2 — continuité et sauvegardes")
    HOP = "HOP", _("CaRE — HospiConnect")
    ACC = "ACC", _("CaRE — accès distants")
    POS = "POS", _("CaRE — postes et détection")
    OTHER = "other", _("Autre financement")


class Roadmap(models.Model):
    structure = models.OneToOneField(
        "core.Structure", on_delete=models.CASCADE, related_name="roadmap"
    )
    start_year = models.PositiveSmallIntegerField(_("première année"))
    years = models.PositiveSmallIntegerField(_("durée (années)"), default=3)
    status = models.CharField(
        _("statut"), max_length=10, choices=RoadmapStatus.choices, default=RoadmapStatus.DRAFT
    )
    validated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    validated_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)

    objects = TenantQuerySet.as_manager()
    tenant_path = "structure"

    class Meta:
        verbose_name = _("feuille de route")

    def __str__(self) -> str:
        return f"{self.structure} {self.start_year}–{self.end_year}"

    @property
    def end_year(self) -> int:
        return self.start_year + self.years - 1

    @property
    def year_range(self) -> list[int]:
        return list(range(self.start_year, self.end_year + 1))


class RoadmapItem(models.Model):
    roadmap = models.ForeignKey(Roadmap, on_delete=models.CASCADE, related_name="items")
    structure = models.ForeignKey(
        "core.Structure", on_delete=models.CASCADE, related_name="roadmap_items"
    )
    title = models.CharField(_("chantier"), max_length=200)
    why = models.TextField(_("pourquoi"), blank=True)
    how = models.TextField(_("comment"), blank=True)
    requirement = models.ForeignKey(
        "roadmap.Requirement",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="roadmap_items",
        verbose_name=_("exigence"),
    )
    findings = models.ManyToManyField(
        "findings.Finding",
        blank=True,
        related_name="roadmap_items",
        verbose_name=_("vulnérabilités"),
    )
    action_items = models.ManyToManyField(
        "findings.ActionItem",
        blank=True,
        related_name="roadmap_items",
        verbose_name=_("actions correctives"),
    )
    year = models.PositiveSmallIntegerField(_("année"))
    rank = models.PositiveIntegerField(_("rang"), default=0)
    priority = models.PositiveSmallIntegerField(_("priorité"), default=2)
    status = models.CharField(
        _("état"), max_length=12, choices=ItemStatus.choices, default=ItemStatus.PLANNED
    )
    owner_label = models.CharField(_("responsable"), max_length=200, blank=True)
    budget = models.DecimalField(
        _("budget (€)"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    funding_domain = models.CharField(
        _("financement"), max_length=5, choices=FundingDomain.choices, blank=True
    )
    funding_amount = models.DecimalField(
        _("montant financé (€)"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    funding_deadline = models.DateField(_("échéance du financement"), null=True, blank=True)
    proposed = models.BooleanField(_("proposé par Carbet"), default=False)
    created_at = models.DateTimeField(default=timezone.now)

    objects = TenantQuerySet.as_manager()
    tenant_path = "structure"

    class Meta:
        verbose_name = _("chantier de la feuille de route")
        ordering = ["year", "rank", "pk"]

    def __str__(self) -> str:
        return self.title


class Milestone(models.Model):
    item = models.ForeignKey(RoadmapItem, on_delete=models.CASCADE, related_name="milestones")
    title = models.CharField(_("jalon"), max_length=200)
    due_on = models.DateField(_("prévu le"))
    done_on = models.DateField(_("atteint le"), null=True, blank=True)

    objects = TenantQuerySet.as_manager()
    tenant_path = "item__structure"

    class Meta:
        verbose_name = _("jalon")
        ordering = ["due_on", "pk"]

    def __str__(self) -> str:
        return self.title

"""Shared solutions: the centre's catalogue of regional offers and the demand for them."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from carbet.community.choices import InterestKind, NeedCategory, OfferKind, OfferStatus
from carbet.community.models.targeting import Targeted
from carbet.core.tenancy import TenantQuerySet


class Offer(Targeted):
    """A regional offer (group purchase, CaRE-funded service, regional contract…). The
    targeting fields say who is eligible."""

    title = models.CharField(_("titre"), max_length=200)
    kind = models.CharField(_("type d'offre"), max_length=20, choices=OfferKind.choices)
    category = models.CharField(_("domaine"), max_length=10, choices=NeedCategory.choices)
    description = models.TextField(_("description (Markdown)"), max_length=10000)
    provider = models.CharField(_("prestataire ou porteur"), max_length=200, blank=True)
    eligibility = models.TextField(_("qui peut en bénéficier"), max_length=2000, blank=True)
    how_to_join = models.TextField(_("comment y adhérer"), max_length=2000, blank=True)
    price_note = models.CharField(_("coût"), max_length=300, blank=True)
    url = models.URLField(_("lien"), blank=True)
    opens_on = models.DateField(_("ouverte le"), null=True, blank=True)
    closes_on = models.DateField(_("close le"), null=True, blank=True)
    status = models.CharField(max_length=8, choices=OfferStatus.choices, default=OfferStatus.DRAFT)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("offre mutualisée")
        ordering = ["status", "title"]

    def __str__(self) -> str:
        return self.title


class OfferInterest(models.Model):
    """A structure's interest in, need for, or membership of an offer."""

    offer = models.ForeignKey(Offer, on_delete=models.CASCADE, related_name="interests")
    structure = models.ForeignKey(
        "core.Structure", on_delete=models.CASCADE, related_name="offer_interests"
    )
    kind = models.CharField(_("votre réponse"), max_length=10, choices=InterestKind.choices)
    quantity = models.PositiveIntegerField(_("quantité (postes, licences, jours…)"), default=0)
    comment = models.CharField(_("commentaire"), max_length=1000, blank=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(default=timezone.now)

    objects = TenantQuerySet.as_manager()
    tenant_path = "structure"

    class Meta:
        verbose_name = _("intérêt pour une offre")
        constraints = [
            models.UniqueConstraint(fields=["offer", "structure"], name="community_interest_once")
        ]

    def __str__(self) -> str:
        return f"{self.offer_id} – {self.structure_id}"


class Need(models.Model):
    """A need a structure declares that no offer covers yet ("fédérer les besoins")."""

    structure = models.ForeignKey(
        "core.Structure", on_delete=models.CASCADE, related_name="community_needs"
    )
    category = models.CharField(_("domaine"), max_length=10, choices=NeedCategory.choices)
    description = models.TextField(_("votre besoin"), max_length=2000)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    objects = TenantQuerySet.as_manager()
    tenant_path = "structure"

    class Meta:
        verbose_name = _("besoin déclaré")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.get_category_display()

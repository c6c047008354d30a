"""Who a bulletin, an offer or an event is for: the same few criteria everywhere."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Targeted(models.Model):
    """Criteria combined with AND; an empty list means "any". ``structures`` names structures
    one by one (then the other criteria are ignored)."""

    categories = models.JSONField(_("catégories"), default=list, blank=True)
    departements = models.JSONField(_("départements"), default=list, blank=True)
    ghts = models.JSONField(_("GHT (identifiants)"), default=list, blank=True)
    # "small" | "medium" | "large", from beds + places (see Structure.size_label)
    sizes = models.JSONField(_("tailles"), default=list, blank=True)
    # product names: the structures whose inventory holds one of them
    products = models.JSONField(_("produits"), default=list, blank=True)
    structures = models.JSONField(_("structures désignées"), default=list, blank=True)

    class Meta:
        abstract = True

"""What each structure runs: products detected by Carbet's scans and audits, and the business
applications the structure declares."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from carbet.community.choices import Hosting, LineOrigin
from carbet.core.tenancy import TenantQuerySet


class SoftwareLine(models.Model):
    """One product (and version) a structure runs, found by a scan or declared by people."""

    structure = models.ForeignKey(
        "core.Structure", on_delete=models.CASCADE, related_name="software_lines"
    )
    origin = models.CharField(_("origine"), max_length=10, choices=LineOrigin.choices)
    # For detected lines, the provider's stable key ("exposure:vpn.example:443"); the line is
    # updated in place when the next scan sees it again. Empty for declared lines.
    source_key = models.CharField(max_length=300, blank=True)
    name = models.CharField(_("application"), max_length=200, blank=True)
    vendor = models.CharField(_("éditeur"), max_length=200, blank=True)
    product = models.CharField(_("produit"), max_length=200)
    version = models.CharField(_("version"), max_length=100, blank=True)
    cpe = models.CharField(_("nom CPE"), max_length=300, blank=True)
    hosting = models.CharField(
        _("hébergement"), max_length=10, choices=Hosting.choices, default=Hosting.UNKNOWN
    )
    maintainer = models.CharField(_("qui le maintient"), max_length=200, blank=True)
    # Where it was seen: "vpn.example:443", "12 postes de l'annuaire".
    location = models.CharField(_("où"), max_length=300, blank=True)
    asset = models.ForeignKey(
        "core.Asset", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    machines = models.PositiveIntegerField(_("nombre de machines"), default=1)
    # False once the provider's latest result no longer shows it (kept for the history).
    active = models.BooleanField(default=True)
    first_seen = models.DateTimeField(default=timezone.now)
    last_seen = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(default=timezone.now)

    objects = TenantQuerySet.as_manager()
    tenant_path = "structure"

    class Meta:
        verbose_name = _("logiciel de l'inventaire")
        ordering = ["structure__name", "vendor", "product", "version"]
        indexes = [models.Index(fields=["product", "vendor"])]
        constraints = [
            models.UniqueConstraint(
                fields=["structure", "origin", "source_key"],
                condition=~models.Q(source_key=""),
                name="community_line_once_per_source",
            )
        ]

    def __str__(self) -> str:
        return " ".join(part for part in (self.vendor, self.product, self.version) if part)

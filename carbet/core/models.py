"""The registry: GHTs, organisations (FINESS EJ), structures (FINESS ET), contacts, assets and
the mandates their directors sign.

Every tenant-owned model exposes ``objects.visible_to(actor)``; views and the API go through it
(see ``carbet.core.tenancy``) so a structure never sees another's rows.
"""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from carbet.core.choices import (
    AssetKind,
    Category,
    ContactRole,
    Criticality,
    LegalStatus,
    MandateStatus,
    Ownership,
    ProofMethod,
    mandate_kind_label,
    mandate_kinds,
    sector_of,
)
from carbet.core.tenancy import TenantQuerySet
from carbet.core.validators import validate_departement, validate_finess


class Ght(models.Model):
    """Groupement hospitalier de territoire: public hospitals sharing their IT."""

    code = models.CharField(_("code"), max_length=30, unique=True)
    name = models.CharField(_("nom"), max_length=200)

    objects = TenantQuerySet.as_manager()
    tenant_path = "ght"

    class Meta:
        verbose_name = _("GHT")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Organisation(models.Model):
    """A legal entity (entité juridique, FINESS EJ) that runs one or more structures."""

    finess_ej = models.CharField(
        _("FINESS juridique"), max_length=9, unique=True, validators=[validate_finess]
    )
    name = models.CharField(_("raison sociale"), max_length=200)
    legal_status = models.CharField(_("statut"), max_length=20, choices=LegalStatus.choices)
    ght = models.ForeignKey(
        Ght,
        verbose_name=_("GHT"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="organisations",
    )

    objects = TenantQuerySet.as_manager()
    tenant_path = "organisation"

    class Meta:
        verbose_name = _("organisation")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Structure(models.Model):
    """An establishment (entité géographique, FINESS ET): the unit everything is scoped to."""

    finess_et = models.CharField(
        _("FINESS géographique"), max_length=9, unique=True, validators=[validate_finess]
    )
    name = models.CharField(_("nom"), max_length=200)
    organisation = models.ForeignKey(
        Organisation,
        verbose_name=_("organisation"),
        on_delete=models.PROTECT,
        related_name="structures",
    )
    category = models.CharField(_("catégorie"), max_length=30, choices=Category.choices)
    beds = models.PositiveIntegerField(_("lits"), default=0)
    places = models.PositiveIntegerField(_("places"), default=0)
    activity_weight = models.DecimalField(
        _("poids d'activité"),
        max_digits=12,
        decimal_places=2,
        default=1,
        validators=[MinValueValidator(0)],
        help_text=_("Part de l'activité, utilisée pour les règles de couverture (ex. 66 %)."),
    )
    departement = models.CharField(
        _("département"), max_length=3, validators=[validate_departement], db_index=True
    )
    address = models.CharField(_("adresse"), max_length=300, blank=True)
    postal_code = models.CharField(_("code postal"), max_length=10, blank=True)
    city = models.CharField(_("commune"), max_length=100, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    # The secret a structure publishes (DNS TXT or web file) to prove that a name is its own;
    # generated on first use (``carbet.core.ownership.proof_token``), never reused elsewhere.
    proof_token = models.CharField(max_length=64, blank=True, editable=False)

    objects = TenantQuerySet.as_manager()
    tenant_path = ""

    class Meta:
        verbose_name = _("structure")
        ordering = ["name"]
        indexes = [models.Index(fields=["category", "departement"])]

    def __str__(self) -> str:
        return self.name

    @property
    def sector(self):
        return sector_of(self.category)

    @property
    def size_label(self) -> str:
        capacity = self.beds + self.places
        if capacity >= 500:
            return _("grande")
        if capacity >= 100:
            return _("moyenne")
        return _("petite")


class Contact(models.Model):
    structure = models.ForeignKey(Structure, on_delete=models.CASCADE, related_name="contacts")
    role = models.CharField(_("rôle"), max_length=20, choices=ContactRole.choices)
    name = models.CharField(_("nom"), max_length=200)
    email = models.EmailField(_("e-mail"), blank=True)
    phone = models.CharField(_("téléphone"), max_length=30, blank=True)
    organisation_name = models.CharField(
        _("société"), max_length=200, blank=True, help_text=_("Pour un prestataire.")
    )

    objects = TenantQuerySet.as_manager()
    tenant_path = "structure"

    class Meta:
        verbose_name = _("contact")
        ordering = ["role", "name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_role_display()})"


class Asset(models.Model):
    """Something of a structure's that a service may look at: a name, an address, a domain."""

    structure = models.ForeignKey(Structure, on_delete=models.CASCADE, related_name="assets")
    kind = models.CharField(_("type"), max_length=20, choices=AssetKind.choices)
    value = models.CharField(_("valeur"), max_length=255)
    label = models.CharField(_("libellé"), max_length=200, blank=True)
    criticality = models.CharField(
        _("criticité"), max_length=10, choices=Criticality.choices, default=Criticality.MEDIUM
    )
    internet_exposed = models.BooleanField(_("exposé sur internet"), default=True)
    validated = models.BooleanField(_("validé par la structure"), default=False)
    validated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    validated_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    # Ownership is proven, never declared (``carbet.core.ownership``): a DNS/web token, a proven
    # parent domain, or the centre's review. Only a proven asset that no other structure claims
    # may be contacted by a service; the structure's own "validated" is a confirmation, not proof.
    proven_at = models.DateTimeField(_("propriété prouvée le"), null=True, blank=True)
    proof_method = models.CharField(
        _("preuve"), max_length=20, choices=ProofMethod.choices, blank=True
    )
    proven_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    proof_note = models.TextField(_("détail de la preuve"), blank=True)
    in_conflict = models.BooleanField(_("en conflit"), default=False, db_index=True)
    shared = models.BooleanField(
        _("hébergement partagé"),
        default=False,
        help_text=_("Reconnu par le centre comme partagé entre plusieurs structures."),
    )
    rejected = models.BooleanField(_("écarté par le centre"), default=False)

    objects = TenantQuerySet.as_manager()
    tenant_path = "structure"

    class Meta:
        verbose_name = _("actif")
        ordering = ["kind", "value"]
        constraints = [
            models.UniqueConstraint(
                fields=["structure", "kind", "value"], name="asset_unique_per_structure"
            )
        ]

    def __str__(self) -> str:
        return self.value

    @property
    def ownership(self) -> Ownership:
        """One word for the gate and the interface: rejected, conflict, proven or to prove."""
        if self.rejected:
            return Ownership.REJECTED
        if self.in_conflict:
            return Ownership.CONFLICT
        if self.proven_at is not None:
            return Ownership.PROVEN
        return Ownership.TO_PROVE

    def get_ownership_display(self) -> str:
        return str(self.ownership.label)

    @property
    def is_proven(self) -> bool:
        return self.ownership == Ownership.PROVEN

    def clean(self) -> None:
        from carbet.core.validators import normalize_asset_value

        if self.kind and self.value:
            self.value = normalize_asset_value(self.kind, self.value, self.internet_exposed)


# A director's authorisation is renewed at least this often (the documented maximum).
MANDATE_MAX_YEARS = 3


def add_years(day: date, years: int) -> date:
    """``day`` moved ``years`` years on (29 February falls back to the 28th)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


class Mandate(models.Model):
    """A director's signed authorisation for the centre to act on the structure's assets/staff.

    No service contacts an asset or mails a person unless ``carbet.core.mandates`` finds a valid
    mandate here that covers it.
    """

    structure = models.ForeignKey(Structure, on_delete=models.CASCADE, related_name="mandates")
    reference = models.CharField(_("référence"), max_length=60, blank=True)
    # The kinds of action covered (codes declared by the services, ``mandate_kinds()``): one
    # list, so that a new service needs no new column.
    services = models.JSONField(_("services couverts"), default=list)
    all_assets = models.BooleanField(
        _("tous les actifs prouvés"),
        default=True,
        help_text=_("Sinon, seuls les actifs cochés sont couverts."),
    )
    assets = models.ManyToManyField(
        Asset, verbose_name=_("actifs couverts"), blank=True, related_name="mandates"
    )
    signed_by_name = models.CharField(_("signé par"), max_length=200)
    signed_by_title = models.CharField(_("qualité du signataire"), max_length=200, blank=True)
    signed_on = models.DateField(_("signé le"))
    valid_from = models.DateField(_("valable du"))
    valid_until = models.DateField(_("valable jusqu'au"))
    document = models.FileField(_("document signé"), upload_to="mandates/%Y/")
    document_sha256 = models.CharField(_("empreinte SHA-256"), max_length=64, editable=False)
    document_name = models.CharField(max_length=255, blank=True)
    status = models.CharField(
        _("statut"), max_length=10, choices=MandateStatus.choices, default=MandateStatus.ACTIVE
    )
    status_reason = models.TextField(_("motif"), blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    recorded_at = models.DateTimeField(default=timezone.now)

    objects = TenantQuerySet.as_manager()
    tenant_path = "structure"

    class Meta:
        verbose_name = _("mandat")
        ordering = ["-valid_until"]

    def __str__(self) -> str:
        return self.reference or f"{_('Mandat')} {self.signed_on:%d/%m/%Y}"

    def clean(self) -> None:
        if self.valid_from and self.valid_until and self.valid_until < self.valid_from:
            raise ValidationError({"valid_until": _("La fin de validité précède son début.")})
        if self.signed_on and self.valid_until and self.valid_until < self.signed_on:
            raise ValidationError({"valid_until": _("Le mandat expire avant d'être signé.")})
        if self.signed_on and self.signed_on > timezone.localdate():
            raise ValidationError(
                {"signed_on": _("La date de signature ne peut pas être dans le futur.")}
            )
        if (
            self.valid_from
            and self.valid_until
            and self.valid_until > add_years(self.valid_from, MANDATE_MAX_YEARS)
        ):
            raise ValidationError(
                {
                    "valid_until": _(
                        "Un mandat vaut %(years)d ans au plus : faites-le renouveler à "
                        "l'échéance plutôt que de le signer pour plus longtemps."
                    )
                    % {"years": MANDATE_MAX_YEARS}
                }
            )
        known = {code for code, _label in mandate_kinds()}
        if not self.services:
            raise ValidationError(_("Cochez au moins un service couvert par le mandat."))
        unknown = [code for code in self.services if code not in known]
        if unknown:
            raise ValidationError(
                _("Service de mandat inconnu : %(codes)s.") % {"codes": ", ".join(unknown)}
            )

    def covers(self, kind: str) -> bool:
        return kind in (self.services or [])

    def services_display(self) -> list[str]:
        return [mandate_kind_label(code) for code in self.services]

    def is_valid_on(self, day: date) -> bool:
        return self.status == MandateStatus.ACTIVE and self.valid_from <= day <= self.valid_until

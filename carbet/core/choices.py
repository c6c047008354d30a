"""Choice lists of the registry (categories, legal statuses, asset kinds, mandate services)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class LegalStatus(models.TextChoices):
    PUBLIC = "public", _("Public")
    PRIVATE_NON_PROFIT = "private_non_profit", _("Privé non lucratif")
    PRIVATE = "private", _("Privé commercial")


class Sector(models.TextChoices):
    SANITAIRE = "sanitaire", _("Sanitaire")
    MEDICO_SOCIAL = "medico_social", _("Médico-social")


class Category(models.TextChoices):
    # Sanitaire
    CHU = "chu", _("CHU / CHR")
    CH = "ch", _("Centre hospitalier")
    CLINIQUE = "clinique", _("Clinique MCO")
    SSR = "ssr", _("Soins médicaux et de réadaptation (SSR)")
    PSY = "psychiatrie", _("Établissement de santé mentale")
    HAD = "had", _("Hospitalisation à domicile")
    CLCC = "clcc", _("Centre de lutte contre le cancer")
    DIALYSE = "dialyse", _("Centre de dialyse")
    CENTRE_SANTE = "centre_sante", _("Centre de santé")
    # Médico-social
    EHPAD = "ehpad", _("EHPAD")
    RESIDENCE_AUTONOMIE = "residence_autonomie", _("Résidence autonomie")
    HANDICAP_ENFANT = "handicap_enfant", _("Établissement pour enfants handicapés")
    HANDICAP_ADULTE = "handicap_adulte", _("Établissement pour adultes handicapés")
    SSIAD = "ssiad", _("Service de soins infirmiers à domicile")
    AUTRE_MS = "autre_medico_social", _("Autre médico-social")


MEDICO_SOCIAL_CATEGORIES = frozenset(
    {
        Category.EHPAD,
        Category.RESIDENCE_AUTONOMIE,
        Category.HANDICAP_ENFANT,
        Category.HANDICAP_ADULTE,
        Category.SSIAD,
        Category.AUTRE_MS,
    }
)


def sector_of(category: str) -> Sector:
    return Sector.MEDICO_SOCIAL if category in MEDICO_SOCIAL_CATEGORIES else Sector.SANITAIRE


class ContactRole(models.TextChoices):
    DIRECTOR = "director", _("Direction")
    CYBER_REFERENT = "cyber_referent", _("Référent cyber / RSSI")
    IT_PROVIDER = "it_provider", _("Prestataire informatique")
    DPO = "dpo", _("Délégué à la protection des données (DPO)")


class AssetKind(models.TextChoices):
    DOMAIN = "domain", _("Nom de domaine (site web)")
    HOSTNAME = "hostname", _("Nom d'hôte")
    IPV4 = "ipv4", _("Adresse IPv4")
    IPV6 = "ipv6", _("Adresse IPv6")
    CIDR = "cidr", _("Réseau (CIDR)")
    MAIL_DOMAIN = "mail_domain", _("Domaine de messagerie")
    AD_DOMAIN = "ad_domain", _("Domaine Active Directory")
    APPLICATION = "application", _("Application")


class Ownership(models.TextChoices):
    """Whether Carbet may treat an asset as the structure's own (``carbet.core.ownership``)."""

    TO_PROVE = "to_prove", _("Propriété à prouver")
    PROVEN = "proven", _("Propriété prouvée")
    CONFLICT = "conflict", _("Déclaré aussi par une autre structure")
    REJECTED = "rejected", _("Écarté par le centre")


class ProofMethod(models.TextChoices):
    DNS_TXT = "dns_txt", _("Enregistrement DNS TXT")
    WEB_FILE = "web_file", _("Fichier sur le site web")
    PARENT_DOMAIN = "parent_domain", _("Domaine parent prouvé")
    CENTRE_REVIEW = "centre_review", _("Revue par le centre")


class Criticality(models.TextChoices):
    LOW = "low", _("Faible")
    MEDIUM = "medium", _("Moyenne")
    HIGH = "high", _("Élevée")
    CRITICAL = "critical", _("Vitale")


# What a mandate may cover: each service declares its kinds in its spec (carbet.core.contract).


def mandate_kinds() -> list[tuple[str, str]]:
    """(code, label) of every kind of mandate, as the registered services declare them."""
    from carbet.core import contract

    return [(kind.code, kind.label) for kind in contract.mandate_kinds()]


def mandate_kind_label(code: str) -> str:
    return str(dict(mandate_kinds()).get(code, code))


class MandateStatus(models.TextChoices):
    ACTIVE = "active", _("En vigueur")
    REVOKED = "revoked", _("Révoqué")

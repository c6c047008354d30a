"""Choices of the community service: what people pick in its forms, with plain French labels."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class LineOrigin(models.TextChoices):
    EXPOSURE = "exposure", _("Détecté sur internet (analyse d'exposition)")
    DIRECTORY = "directory", _("Détecté dans l'annuaire (audit Active Directory)")
    DECLARED = "declared", _("Déclaré par la structure")


class Hosting(models.TextChoices):
    ON_SITE = "on_site", _("Sur place")
    PROVIDER = "provider", _("Chez le prestataire informatique")
    SAAS = "saas", _("En ligne chez l'éditeur (SaaS)")
    UNKNOWN = "unknown", _("Je ne sais pas")


class Certainty(models.TextChoices):
    VERSION = "version", _("Version concernée")
    PRODUCT = "product", _("Produit concerné, version à vérifier")


class AlertStatus(models.TextChoices):
    NEW = "new", _("À traiter")
    ACKNOWLEDGED = "acknowledged", _("Pris en compte")
    FIXED = "fixed", _("Corrigé")
    NOT_CONCERNED = "not_concerned", _("Pas concerné")


class Severity(models.TextChoices):
    INFO = "info", _("Information")
    LOW = "low", _("Faible")
    MEDIUM = "medium", _("Moyenne")
    HIGH = "high", _("Élevée")
    CRITICAL = "critical", _("Critique")


class Tlp(models.TextChoices):
    """Traffic Light Protocol 2.0: how far a reader may pass the information on."""

    CLEAR = "clear", _("TLP:CLEAR — diffusion libre")
    GREEN = "green", _("TLP:GREEN — communauté")
    AMBER = "amber", _("TLP:AMBER — structure et ses prestataires")
    AMBER_STRICT = "amber+strict", _("TLP:AMBER+STRICT — structure seulement")
    RED = "red", _("TLP:RED — destinataires nommés seulement")


class BulletinStatus(models.TextChoices):
    DRAFT = "draft", _("Brouillon")
    PUBLISHED = "published", _("Publié")
    WITHDRAWN = "withdrawn", _("Retiré")


class Acknowledgement(models.TextChoices):
    UNREAD = "unread", _("Non lu")
    READ = "read", _("Lu")
    APPLIED = "applied", _("Appliqué")
    NOT_CONCERNED = "not_concerned", _("Pas concerné")


class ArticleKind(models.TextChoices):
    ARTICLE = "article", _("Article")
    REFLEX = "reflex", _("Fiche réflexe")
    PROCEDURE = "procedure", _("Procédure")


class ArticleStatus(models.TextChoices):
    DRAFT = "draft", _("Brouillon")
    PUBLISHED = "published", _("Publié")
    ARCHIVED = "archived", _("Archivé")


class PostKind(models.TextChoices):
    REQUEST = "request", _("Demande d'aide")
    OFFER = "offer", _("Offre d'aide")


class PostTopic(models.TextChoices):
    EQUIPMENT = "equipment", _("Matériel à prêter ou à emprunter")
    SKILLS = "skills", _("Compétence ou savoir-faire")
    STAFF = "staff", _("Personne partagée (DPO, technicien…)")
    INCIDENT = "incident", _("Aide après un incident")
    DOCUMENTS = "documents", _("Modèles et documents")
    OTHER = "other", _("Autre")


class Audience(models.TextChoices):
    """Who in the community sees a mutual-aid post."""

    COMMUNITY = "community", _("Toute la communauté de la région")
    DEPARTEMENT = "departement", _("Les structures de mon département")
    GHT = "ght", _("Les structures de mon GHT")
    SECTOR = "sector", _("Les structures de même type (sanitaire ou médico-social)")


class PostStatus(models.TextChoices):
    OPEN = "open", _("Ouverte")
    FULFILLED = "fulfilled", _("Satisfaite")
    CLOSED = "closed", _("Fermée")


class OfferKind(models.TextChoices):
    GROUP_PURCHASE = "group_purchase", _("Achat groupé")
    CARE_FUNDED = "care_funded", _("Service financé par le programme CaRE")
    REGIONAL_CONTRACT = "regional_contract", _("Marché régional")
    SHARED_RESOURCE = "shared_resource", _("Ressource partagée")


class OfferStatus(models.TextChoices):
    DRAFT = "draft", _("Brouillon")
    OPEN = "open", _("Ouverte")
    CLOSED = "closed", _("Close")


class InterestKind(models.TextChoices):
    INTERESTED = "interested", _("Intéressée")
    NEED = "need", _("En a besoin")
    JOINED = "joined", _("A adhéré")


class NeedCategory(models.TextChoices):
    BACKUP = "backup", _("Sauvegardes")
    MFA = "mfa", _("Double authentification")
    EDR = "edr", _("Antivirus et détection (EDR)")
    MAIL = "mail", _("Messagerie sécurisée")
    TRAINING = "training", _("Formation et sensibilisation")
    AUDIT = "audit", _("Audit et tests d'intrusion")
    SOC = "soc", _("Surveillance (SOC)")
    NETWORK = "network", _("Réseau et pare-feu")
    DPO = "dpo", _("Délégué à la protection des données")
    OTHER = "other", _("Autre")


class EventKind(models.TextChoices):
    TRAINING = "training", _("Formation")
    WEBINAR = "webinar", _("Webinaire")
    EXERCISE = "exercise", _("Exercice")
    MEETING = "meeting", _("Rencontre de la communauté")


class EventStatus(models.TextChoices):
    SCHEDULED = "scheduled", _("Programmé")
    CANCELLED = "cancelled", _("Annulé")


class RegistrationStatus(models.TextChoices):
    REGISTERED = "registered", _("Inscrit")
    WAITLIST = "waitlist", _("Liste d'attente")
    CANCELLED = "cancelled", _("Désinscrit")

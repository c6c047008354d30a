"""Choices of the security-by-design service (codes shared with the pure engine)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class ServiceKind(models.TextChoices):
    CARE_RECORD = "care_record", _("Dossier de soins (DUI)")
    EMAIL = "email", _("Messagerie")
    TELEMEDICINE = "telemedicine", _("Télémédecine")
    BILLING = "billing", _("Facturation")
    REMOTE_ACCESS = "remote_access", _("Outil d'accès à distance du prestataire")
    WEBSITE = "website", _("Site web")
    OTHER = "other", _("Autre")


class DataKind(models.TextChoices):
    HEALTH = "health", _("Données de santé")
    PERSONAL = "personal", _("Données personnelles (hors santé)")
    NONE = "none", _("Aucune donnée personnelle")


class Hosting(models.TextChoices):
    ON_SITE = "on_site", _("Dans la structure")
    IT_PROVIDER = "it_provider", _("Chez le prestataire informatique")
    SAAS = "saas", _("En ligne chez l'éditeur (SaaS)")


class Availability(models.TextChoices):
    HOURS = "hours", _("Quelques heures au plus")
    DAY = "day", _("Une journée")
    WEEK = "week", _("Plusieurs jours")


class MeasureStatus(models.TextChoices):
    DONE = "done", _("Fait")
    IN_PROGRESS = "in_progress", _("En cours")
    NOT_DONE = "not_done", _("Pas fait")
    NA = "na", _("Sans objet")


class DecisionOutcome(models.TextChoices):
    ACCEPT = "accept", _("Accepté")
    CONDITIONS = "conditions", _("Accepté sous conditions")
    REFUSE = "refuse", _("Refusé")


class Category(models.TextChoices):
    GOUVERNANCE = "gouvernance", _("Gouvernance")
    PROTECTION = "protection", _("Protection")
    DEFENSE = "defense", _("Défense")
    RESILIENCE = "resilience", _("Résilience")

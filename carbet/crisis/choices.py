"""Choices of the crisis service (codes are stable: the engine and the templates use them)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class ReportStatus(models.TextChoices):
    NEW = "new", _("À qualifier")
    QUALIFIED = "qualified", _("Qualifié, dossier ouvert")
    DISMISSED = "dismissed", _("Sans suite")


class Qualification(models.TextChoices):
    INCIDENT = "incident", _("Incident")
    CRISIS = "crisis", _("Crise")


class Severity(models.IntegerChoices):
    LOW = 1, _("Faible")
    MEDIUM = 2, _("Moyenne")
    HIGH = 3, _("Élevée")
    CRITICAL = 4, _("Critique")


class Phase(models.TextChoices):
    """The order matters: ``carbet.engines.crisis.phases`` holds the same codes in order."""

    ALERT = "alert", _("Alerte")
    QUALIFICATION = "qualification", _("Qualification")
    CONTAINMENT = "containment", _("Endiguement")
    REMEDIATION = "remediation", _("Remédiation")
    REBUILD = "rebuild", _("Reconstruction")
    EXIT = "exit", _("Sortie de crise")
    LESSONS = "lessons", _("Retour d'expérience")
    CLOSED = "closed", _("Clos")


class CellRole(models.TextChoices):
    DIRECTOR = "director", _("Direction (pilote de la cellule)")
    REFERENT = "referent", _("Référent cyber / RSSI")
    MEDICAL = "medical", _("Représentant médical / soins")
    COMMUNICATION = "communication", _("Communication")
    IT = "it", _("Informatique")
    CENTRE = "centre", _("Centre de ressources cyber")
    OTHER = "other", _("Autre")


class Cell(models.TextChoices):
    STRATEGIC = "strategic", _("Cellule stratégique")
    OPERATIONAL = "operational", _("Cellule opérationnelle")


class EntryKind(models.TextChoices):
    FACT = "fact", _("Fait (constat)")
    DECISION = "decision", _("Décision")
    ACTION = "action", _("Action")
    COMMUNICATION = "communication", _("Communication")
    SITUATION = "situation", _("Point de situation")


class Workstream(models.TextChoices):
    TECHNICAL = "technical", _("Technique")
    CARE = "care", _("Continuité des soins")
    COMMUNICATION = "communication", _("Communication")
    LEGAL = "legal", _("Juridique et réglementaire")
    HR = "hr", _("Ressources humaines")
    SUPPLIERS = "suppliers", _("Fournisseurs")


class TaskStatus(models.TextChoices):
    TODO = "todo", _("À faire")
    DOING = "doing", _("En cours")
    DONE = "done", _("Fait")
    CANCELLED = "cancelled", _("Abandonné")


class Priority(models.IntegerChoices):
    URGENT = 1, _("Urgente")
    HIGH = 2, _("Haute")
    NORMAL = 3, _("Normale")


class SitrepStatus(models.TextChoices):
    DRAFT = "draft", _("Brouillon")
    SENT = "sent", _("Envoyé")


class ObligationKind(models.TextChoices):
    """Same codes as ``carbet.engines.crisis.clock.Obligation``."""

    ARS = "ars", _("Déclaration ARS / CERT Santé")
    CNIL = "cnil", _("Notification à la CNIL")
    POLICE = "police", _("Plainte (police ou gendarmerie)")
    INSURER = "insurer", _("Déclaration à l'assureur")


class StakeholderKind(models.TextChoices):
    PRIS = "pris", _("Prestataire de réponse aux incidents (PRIS)")
    CERT_SANTE = "cert_sante", _("CERT Santé")
    ARS = "ars", _("ARS")
    CNIL = "cnil", _("CNIL")
    INSURER = "insurer", _("Assureur")
    VENDOR = "vendor", _("Éditeur de logiciel")
    IT_PROVIDER = "it_provider", _("Prestataire informatique")
    POLICE = "police", _("Police ou gendarmerie")
    OTHER = "other", _("Autre")


class ActivityMode(models.TextChoices):
    NORMAL = "normal", _("Normal")
    DEGRADED = "degraded", _("Dégradé")
    STOPPED = "stopped", _("Arrêté")


class AssetState(models.TextChoices):
    """In order: an asset goes forward through these states (the board shows the step)."""

    COMPROMISED = "compromised", _("Compromis")
    ISOLATED = "isolated", _("Isolé")
    CLEANED = "cleaned", _("Nettoyé")
    RESTORED = "restored", _("Restauré")
    VERIFIED = "verified", _("Vérifié")


class CustodyAction(models.TextChoices):
    COLLECTED = "collected", _("Collectée")
    TRANSFERRED = "transferred", _("Remise à un tiers")
    ANALYSED = "analysed", _("Analysée")
    STORED = "stored", _("Mise sous scellé / stockée")
    RETURNED = "returned", _("Restituée")
    DESTROYED = "destroyed", _("Détruite")


class IndicatorType(models.TextChoices):
    IPV4 = "ipv4", _("Adresse IPv4")
    IPV6 = "ipv6", _("Adresse IPv6")
    DOMAIN = "domain", _("Nom de domaine")
    URL = "url", _("URL")
    EMAIL = "email", _("Adresse e-mail")
    MD5 = "md5", _("Empreinte MD5")
    SHA1 = "sha1", _("Empreinte SHA-1")
    SHA256 = "sha256", _("Empreinte SHA-256")
    FILENAME = "filename", _("Nom de fichier")


class Tlp(models.TextChoices):
    CLEAR = "clear", "TLP:CLEAR"
    GREEN = "green", "TLP:GREEN"
    AMBER = "amber", "TLP:AMBER"
    AMBER_STRICT = "amber+strict", "TLP:AMBER+STRICT"
    RED = "red", "TLP:RED"


class LessonKind(models.TextChoices):
    WORKED = "worked", _("Ce qui a bien fonctionné")
    IMPROVE = "improve", _("À améliorer")

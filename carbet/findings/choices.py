"""Vocabularies of the findings store: sources, severities, the one status and its groups."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Source(models.TextChoices):
    EXPOSURE = "exposure", _("Exposition internet")
    DIRECTORY = "directory", _("Annuaire (Active Directory)")
    MANUAL = "manual", _("Constat d'audit")
    IMPORT = "import", _("Rapport importé")
    EXERCISE = "exercise", _("Exercice de crise")
    AWARENESS = "awareness", _("Sensibilisation")
    ROADMAP = "roadmap", _("Feuille de route")
    CRISIS = "crisis", _("Gestion de crise")


class Severity(models.IntegerChoices):
    INFO = 0, _("Information")
    LOW = 1, _("Faible")
    MEDIUM = 2, _("Moyenne")
    HIGH = 3, _("Élevée")
    CRITICAL = 4, _("Critique")

    @classmethod
    def parse(cls, value: object) -> "Severity":
        """Accept 0-4, English or French names (any case); raise ValueError otherwise."""
        if isinstance(value, bool):
            raise ValueError(value)
        if isinstance(value, int) and value in cls.values:
            return cls(value)
        text = str(value).strip().lower()
        aliases = {
            "info": 0,
            "informational": 0,
            "information": 0,
            "none": 0,
            "low": 1,
            "faible": 1,
            "basse": 1,
            "medium": 2,
            "moderate": 2,
            "moyenne": 2,
            "modérée": 2,
            "high": 3,
            "élevée": 3,
            "elevee": 3,
            "haute": 3,
            "important": 3,
            "critical": 4,
            "critique": 4,
        }
        if text in aliases:
            return cls(aliases[text])
        if text.isdigit() and int(text) in cls.values:
            return cls(int(text))
        raise ValueError(value)


class Status(models.TextChoices):
    NEW = "new", _("Nouvelle")
    CONFIRMED = "confirmed", _("Confirmée")
    IN_REMEDIATION = "in_remediation", _("En cours de correction")
    MITIGATION_CLAIMED = "mitigation_claimed", _("Correction déclarée")
    VERIFIED_CLOSED = "verified_closed", _("Corrigée (vérifiée)")
    FALSE_POSITIVE = "false_positive", _("Faux positif")
    DUPLICATE = "duplicate", _("Doublon")
    OUT_OF_SCOPE = "out_of_scope", _("Hors périmètre")
    RISK_ACCEPTED = "risk_accepted", _("Risque accepté")


OPEN_STATUSES = frozenset(
    {Status.NEW, Status.CONFIRMED, Status.IN_REMEDIATION, Status.MITIGATION_CLAIMED}
)
# Decisions people took: a scan never overrides them, it only records that it saw the finding.
DECIDED_STATUSES = frozenset(
    {Status.FALSE_POSITIVE, Status.DUPLICATE, Status.OUT_OF_SCOPE, Status.RISK_ACCEPTED}
)
CLOSED_STATUSES = frozenset({Status.VERIFIED_CLOSED})


class EventKind(models.TextChoices):
    CREATED = "created", _("Détectée")
    CHANGED = "changed", _("Modifiée par une nouvelle analyse")
    REOPENED = "reopened", _("Réapparue")
    CLOSED_NOT_SEEN = "closed_not_seen", _("Fermée : plus vue lors d'une analyse complète")
    SEEN_WHILE_DECIDED = "seen_while_decided", _("Revue alors qu'une décision s'applique")
    STATUS = "status", _("Changement d'état")
    ACCEPTANCE_EXPIRED = "acceptance_expired", _("Fin de l'acceptation du risque")
    COMMENT = "comment", _("Commentaire")

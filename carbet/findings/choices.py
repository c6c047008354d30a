"""Vocabularies of the findings store: sources, severities, the one status and its groups."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from carbet.engines import severity as severity_scale


class Source(models.TextChoices):
    """The kernel's own sources of findings; each service declares its own in its spec
    (``findings_sources``, ``carbet.core.contract``), so a new service needs no migration here."""

    MANUAL = "manual", _("Constat d'audit")
    IMPORT = "import", _("Rapport importé")


def source_choices() -> list[tuple[str, str]]:
    """(code, label) of every source: the services', then the kernel's."""
    from carbet.core import contract

    return [(s.code, s.label) for s in contract.findings_sources()] + list(Source.choices)


def source_codes() -> set[str]:
    return {code for code, _label in source_choices()}


class Severity(models.IntegerChoices):
    """The findings store's severities: values and aliases from ``carbet.engines.severity``
    (the one scale the engines and the `carbet scan` contract share); labels translatable."""

    INFO = severity_scale.INFO, _("Information")
    LOW = severity_scale.LOW, _("Faible")
    MEDIUM = severity_scale.MEDIUM, _("Moyenne")
    HIGH = severity_scale.HIGH, _("Élevée")
    CRITICAL = severity_scale.CRITICAL, _("Critique")

    @classmethod
    def parse(cls, value: object) -> "Severity":
        """Accept 0-4, English or French names (any case); raise ValueError otherwise."""
        return cls(severity_scale.parse(value))


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

"""Choice lists of the awareness service."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Security(models.TextChoices):
    NONE = "none", _("Aucune (réseau interne seulement)")
    STARTTLS = "starttls", _("STARTTLS")
    SSL = "ssl", _("TLS dès la connexion (SMTPS/IMAPS)")


class CampaignStatus(models.TextChoices):
    DRAFT = "draft", _("Brouillon")
    SCHEDULED = "scheduled", _("Programmée")
    SENDING = "sending", _("Envoi en cours")
    DONE = "done", _("Terminée")
    CANCELLED = "cancelled", _("Annulée")


ACTIVE_STATUSES = (CampaignStatus.SCHEDULED, CampaignStatus.SENDING)


class PrivacyMode(models.TextChoices):
    NOMINATIVE = "nominative", _("Nominatif (le centre voit les noms)")
    PSEUDONYMOUS = "pseudonymous", _("Pseudonyme (identifiants anonymisés)")
    AGGREGATE = "aggregate", _("Agrégé seulement (aucun résultat individuel)")


class SendState(models.TextChoices):
    PENDING = "pending", _("À envoyer")
    SENDING = "sending", _("Envoi commencé")
    SENT = "sent", _("Envoyé")
    FAILED = "failed", _("Échec")
    UNCERTAIN = "uncertain", _("Incertain (envoi interrompu, jamais renvoyé)")
    SKIPPED = "skipped", _("Non envoyé (hors mandat)")
    # Not sent because, at the moment of the batch, the address's domain was no longer a
    # proven mail domain covered by the mandate; the reason is kept in ``Recipient.error``.
    HELD = "held", _("Retenu (domaine non couvert)")


class ReportSource(models.TextChoices):
    MAILBOX = "mailbox", _("Boîte de signalement")
    LINK = "link", _("Lien de signalement")
    MANUAL = "manual", _("Saisie manuelle")


class Difficulty(models.TextChoices):
    LEAST = "least", _("Facile à repérer")
    MODERATE = "moderate", _("Moyennement difficile")
    VERY = "very", _("Très difficile")

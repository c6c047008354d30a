"""Vocabularies of the exercises service."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Level(models.TextChoices):
    """The national kits' three levels (codes of ``carbet.engines.exercises.model.LEVELS``)."""

    BEGINNER = "debutant", _("Débutant")
    INTERMEDIATE = "intermediaire", _("Intermédiaire")
    CONFIRMED = "confirme", _("Confirmé")


class ExerciseStatus(models.TextChoices):
    DRAFT = "draft", _("En préparation")
    SCHEDULED = "scheduled", _("Programmé")
    RUNNING = "running", _("En cours")
    PAUSED = "paused", _("En pause")
    FINISHED = "finished", _("Terminé")
    CANCELLED = "cancelled", _("Annulé")


# States in which the clock may still have something to do.
LIVE_STATUSES = (ExerciseStatus.RUNNING, ExerciseStatus.PAUSED)


class ParticipantRole(models.TextChoices):
    DIRECTOR = "director", _("Directeur d'exercice")
    ANIMATOR = "animator", _("Animateur")
    PLAYER = "player", _("Joueur")
    OBSERVER = "observer", _("Observateur")


class Channel(models.TextChoices):
    EMAIL = "email", _("Courriel")
    PRESS = "press", _("Article de presse simulé")
    SOCIAL = "social", _("Publication sur un réseau social simulé")
    DOCUMENT = "document", _("Document")
    PHONE = "phone", _("Appel téléphonique à passer")
    MESSAGE = "message", _("Message dans l'espace des joueurs")


PUBLISHED_CHANNELS = (Channel.PRESS, Channel.SOCIAL, Channel.DOCUMENT, Channel.MESSAGE)


class InjectState(models.TextChoices):
    PENDING = "pending", _("À venir")
    SENDING = "sending", _("En cours d'envoi")
    SENT = "sent", _("Envoyé")
    SKIPPED = "skipped", _("Sauté")
    FAILED = "failed", _("Échec")


class InjectScope(models.TextChoices):
    LOCAL = "local", _("Local (propre à la structure)")
    REGIONAL = "regional", _("Régional (envoyé à toutes les structures)")


class Outcome(models.TextChoices):
    """Codes of the engine's ``InjectOutcome.expectations`` values."""

    MET = "met", _("Atteint")
    PARTIAL = "partial", _("Partiellement atteint")
    NOT_MET = "not_met", _("Non atteint")


class LogKind(models.TextChoices):
    SENT = "sent", _("Inject envoyé")
    PUBLISHED = "published", _("Inject publié")
    PHONE = "phone", _("Appel à passer")
    SKIPPED = "skipped", _("Inject sauté")
    FAILED = "failed", _("Échec d'envoi")
    REPLY = "reply", _("Réponse d'un joueur")
    CONSOLE = "console", _("Action de la console")
    EXPECTATION = "expectation", _("Attendu évalué")
    OBSERVATION = "observation", _("Observation")


class ReplySource(models.TextChoices):
    IMAP = "imap", _("Courriel (boîte de réponses)")
    FORM = "form", _("Formulaire de l'espace joueur")


class LinkPurpose(models.TextChoices):
    SPACE = "space", _("Espace du participant")
    RETEX = "retex", _("Questionnaire de retour à chaud")


class Security(models.TextChoices):
    NONE = "none", _("Aucune (réseau interne seulement)")
    STARTTLS = "starttls", _("STARTTLS")
    SSL = "ssl", _("TLS dès la connexion (SMTPS/IMAPS)")


class ItemKind(models.TextChoices):
    STRENGTH = "strength", _("Point fort")
    IMPROVEMENT = "improvement", _("Axe d'amélioration")

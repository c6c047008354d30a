"""Tables of the exercises service.

An exercise is a *copy*: the scenario's JSON is snapshotted into ``Exercise.scenario`` and its
injects, expectations and cells are copied into rows of that exercise, so editing the exercise
(or re-importing the library) never changes anything else. A regional exercise is one parent
row and one ``Exercise`` per structure, all started by the same clock.

Participants have no account: they open their space through signed links (``AccessLink``), of
which only the SHA-256 digest is stored. The RETEX answers carry no link to a person.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from carbet.core.crypto import EncryptedTextField
from carbet.core.models import Mandate, Structure
from carbet.core.tenancy import TenantQuerySet, grants
from carbet.exercises.choices import (
    Channel,
    ExerciseStatus,
    InjectScope,
    InjectState,
    ItemKind,
    Level,
    LinkPurpose,
    LogKind,
    Outcome,
    ParticipantRole,
    ReplySource,
    Security,
)


class SendingProfile(models.Model):
    """The mail server injects leave through and the mailbox players' replies come back to
    (region-wide, centre staff only). Simulated senders use ``sender_domain``, a domain the
    centre keeps for exercises, so no real organisation is ever impersonated."""

    name = models.CharField(_("nom"), max_length=100, unique=True)
    smtp_host = models.CharField(_("serveur SMTP"), max_length=255)
    smtp_port = models.PositiveIntegerField(_("port SMTP"), default=587)
    smtp_security = models.CharField(
        _("chiffrement SMTP"), max_length=10, choices=Security.choices, default=Security.STARTTLS
    )
    smtp_username = models.CharField(_("identifiant SMTP"), max_length=255, blank=True)
    smtp_password = EncryptedTextField(_("mot de passe SMTP"), blank=True)
    sender_domain = models.CharField(
        _("domaine des expéditeurs simulés"),
        max_length=255,
        help_text=_("Par exemple exercice.cyber-sante.example : jamais le domaine d'un tiers."),
    )
    reply_address = models.EmailField(
        _("adresse des réponses"),
        help_text=_("Boîte relevée par IMAP ; les réponses y arrivent par sous-adresse (+)."),
    )
    imap_host = models.CharField(_("serveur IMAP"), max_length=255, blank=True)
    imap_port = models.PositiveIntegerField(_("port IMAP"), default=993)
    imap_security = models.CharField(
        _("chiffrement IMAP"), max_length=10, choices=Security.choices, default=Security.SSL
    )
    imap_username = models.CharField(_("identifiant IMAP"), max_length=255, blank=True)
    imap_password = EncryptedTextField(_("mot de passe IMAP"), blank=True)
    imap_folder = models.CharField(_("dossier IMAP"), max_length=100, default="INBOX")
    last_polled_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)

    class Meta:
        verbose_name = _("profil d'envoi des exercices")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ScenarioVersion(models.Model):
    """One version of a scenario: the library's (installed from ``library/``) or one the
    centre imported. Exercises copy it; nothing ever writes back into it."""

    code = models.SlugField(_("code"), max_length=80)
    version = models.CharField(_("version"), max_length=20)
    title = models.CharField(_("titre"), max_length=200)
    level = models.CharField(_("niveau"), max_length=15, choices=Level.choices)
    summary = models.TextField(_("résumé"), blank=True)
    data = models.JSONField(_("scénario (JSON)"))
    from_library = models.BooleanField(default=False)
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("scénario")
        ordering = ["level", "title", "-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["code", "version"], name="exercises_scenario_version")
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.version})"


class _ClockFields(models.Model):
    """What the clock needs, shared by an exercise and a regional exercise."""

    title = models.CharField(_("titre"), max_length=200)
    level = models.CharField(_("niveau"), max_length=15, choices=Level.choices)
    scenario_version = models.ForeignKey(
        ScenarioVersion, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    scenario = models.JSONField(_("copie du scénario"), default=dict)
    planned_start = models.DateTimeField(_("début prévu"))
    duration_minutes = models.PositiveIntegerField(_("durée (minutes)"), default=180)
    compression = models.FloatField(
        _("facteur d'accélération"),
        default=1.0,
        help_text=_("1 : temps réel ; 60 : une heure du scénario passe en une minute."),
    )
    status = models.CharField(
        _("état"), max_length=10, choices=ExerciseStatus.choices, default=ExerciseStatus.DRAFT
    )
    started_at = models.DateTimeField(null=True, blank=True)
    paused_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # [[start ISO, end ISO or null], ...]: the pauses, in order.
    pauses = models.JSONField(default=list, blank=True)
    objectives = models.JSONField(_("objectifs retenus"), default=list, blank=True)
    profile = models.ForeignKey(
        SendingProfile, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # The background job running the clock (``exercises.clock``), for the console.
    clock_job = models.CharField(max_length=40, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        abstract = True


class RegionalQuerySet(models.QuerySet):
    """Regional exercises belong to the centre: visible to whoever holds the permission on the
    whole region (a structure role never sees the other structures taking part)."""

    def visible_to(self, actor, perm) -> RegionalQuerySet:
        return self if grants(actor, perm).everything else self.none()


class RegionalExercise(_ClockFields):
    """One scenario played by N structures at once, from one console."""

    objects = RegionalQuerySet.as_manager()

    class Meta:
        verbose_name = _("exercice régional")
        ordering = ["-planned_start", "-id"]

    def __str__(self) -> str:
        return self.title


class Exercise(_ClockFields):
    """An exercise of one structure: a copy of a scenario, its people, its injects, its log."""

    structure = models.ForeignKey(Structure, on_delete=models.CASCADE, related_name="+")
    regional = models.ForeignKey(
        RegionalExercise, null=True, blank=True, on_delete=models.CASCADE, related_name="children"
    )
    variables = models.JSONField(_("variables"), default=dict, blank=True)
    continuity_test = models.BooleanField(
        _("teste la continuité d'activité"),
        default=False,
        help_text=_("Coché si l'exercice a mis en œuvre le plan de continuité (mode dégradé)."),
    )
    mandate = models.ForeignKey(
        Mandate, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Part of every reply address (reply+<key>-<inject>@...): matches a reply to its exercise.
    reply_key = models.CharField(max_length=16, unique=True)
    report_summary = models.TextField(_("synthèse"), blank=True)
    retex_ingested_at = models.DateTimeField(null=True, blank=True)

    objects = TenantQuerySet.as_manager()
    tenant_path = "structure"

    class Meta:
        verbose_name = _("exercice")
        ordering = ["-planned_start", "-id"]
        indexes = [models.Index(fields=["status"], name="exercises_status")]

    def __str__(self) -> str:
        return self.title


class Cell(models.Model):
    """A team of the exercise (crisis cell, IT, communication...)."""

    exercise = models.ForeignKey(Exercise, on_delete=models.CASCADE, related_name="cells")
    code = models.SlugField(max_length=40)
    name = models.CharField(_("nom"), max_length=150)
    description = models.TextField(_("rôle"), blank=True)

    objects = TenantQuerySet.as_manager()
    tenant_path = "exercise__structure"

    class Meta:
        verbose_name = _("cellule")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["exercise", "code"], name="exercises_cell_unique")
        ]

    def __str__(self) -> str:
        return self.name


class Participant(models.Model):
    exercise = models.ForeignKey(Exercise, on_delete=models.CASCADE, related_name="participants")
    name = models.CharField(_("nom"), max_length=200)
    email = models.EmailField(_("e-mail"), blank=True)
    role = models.CharField(_("rôle"), max_length=10, choices=ParticipantRole.choices)
    cell = models.ForeignKey(
        Cell, null=True, blank=True, on_delete=models.SET_NULL, related_name="participants"
    )
    phone = models.CharField(_("téléphone"), max_length=40, blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    objects = TenantQuerySet.as_manager()
    tenant_path = "exercise__structure"

    class Meta:
        verbose_name = _("participant")
        ordering = ["role", "name"]

    def __str__(self) -> str:
        return self.name


class AccessLink(models.Model):
    """A signed link of a participant (space) or of the hot RETEX questionnaire.

    Only ``token_digest`` (SHA-256 of the random token) is stored: the database cannot give a
    link back. Revoked (``revoked_at``) or past ``expires_at``, the link opens nothing."""

    exercise = models.ForeignKey(Exercise, on_delete=models.CASCADE, related_name="links")
    participant = models.ForeignKey(
        Participant, null=True, blank=True, on_delete=models.CASCADE, related_name="links"
    )
    purpose = models.CharField(max_length=10, choices=LinkPurpose.choices)
    token_digest = models.CharField(max_length=64, unique=True)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    used_at = models.DateTimeField(null=True, blank=True)
    last_seen_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = TenantQuerySet.as_manager()
    tenant_path = "exercise__structure"

    class Meta:
        verbose_name = _("lien signé")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.purpose}#{self.pk}"


class Inject(models.Model):
    """One stimulus of the chronogram, copied into the exercise (or added live: ``adhoc``).

    ``offset_seconds`` is scenario time from the start; ``due_at`` is wall-clock time, set at
    start (offset ÷ compression) and pushed back by every pause. ``claim_id`` is written by the
    worker that claims it (``pending`` → ``sending``): see ``carbet.exercises.dispatch``.
    """

    exercise = models.ForeignKey(Exercise, on_delete=models.CASCADE, related_name="injects")
    ref = models.CharField(_("repère"), max_length=40)
    title = models.CharField(_("titre"), max_length=200)
    channel = models.CharField(_("canal"), max_length=10, choices=Channel.choices)
    scope = models.CharField(max_length=10, choices=InjectScope.choices, default=InjectScope.LOCAL)
    offset_seconds = models.PositiveIntegerField(_("décalage (secondes de scénario)"))
    due_at = models.DateTimeField(null=True, blank=True, db_index=True)
    state = models.CharField(
        max_length=10, choices=InjectState.choices, default=InjectState.PENDING
    )
    # Who sends it in the story, and to whom: {"cells": [codes], "roles": [...], "all": bool,
    # "participants": [ids]}.
    sender_name = models.CharField(_("expéditeur simulé"), max_length=150, blank=True)
    sender_local = models.CharField(max_length=64, blank=True)
    audience = models.JSONField(default=dict, blank=True)
    subject = models.CharField(_("objet"), max_length=250, blank=True)
    body = models.TextField(_("contenu"), blank=True)
    # Press/social: the outlet or account shown; phone: who to call and the script.
    outlet = models.CharField(max_length=150, blank=True)
    script = models.TextField(_("script de l'appel"), blank=True)
    # Conditions on earlier injects / expectations (ex-engine's dependency format).
    depends_on = models.JSONField(default=list, blank=True)
    adhoc = models.BooleanField(default=False)
    claim_id = models.CharField(max_length=40, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    message_id = models.CharField(max_length=250, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    error = models.CharField(max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = TenantQuerySet.as_manager()
    tenant_path = "exercise__structure"

    class Meta:
        verbose_name = _("inject")
        ordering = ["offset_seconds", "id"]
        indexes = [models.Index(fields=["state", "due_at"], name="exercises_inject_due")]

    def __str__(self) -> str:
        return f"{self.ref} {self.title}"


class Expectation(models.Model):
    """A reaction the animators expect from the players (after an inject, for an objective)."""

    exercise = models.ForeignKey(Exercise, on_delete=models.CASCADE, related_name="expectations")
    inject = models.ForeignKey(
        Inject, null=True, blank=True, on_delete=models.SET_NULL, related_name="expectations"
    )
    ref = models.CharField(max_length=40)
    text = models.TextField(_("réaction attendue"))
    objective = models.CharField(_("objectif"), max_length=40, blank=True)
    cell = models.ForeignKey(
        Cell, null=True, blank=True, on_delete=models.SET_NULL, related_name="expectations"
    )

    objects = TenantQuerySet.as_manager()
    tenant_path = "exercise__structure"

    class Meta:
        verbose_name = _("attendu")
        ordering = ["id"]

    def __str__(self) -> str:
        return self.ref


class ExpectationResult(models.Model):
    """An animator's judgement of an expectation (the last one counts; the log keeps all)."""

    expectation = models.OneToOneField(Expectation, on_delete=models.CASCADE, related_name="result")
    outcome = models.CharField(_("résultat"), max_length=10, choices=Outcome.choices)
    comment = models.TextField(_("commentaire"), blank=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    by_label = models.CharField(max_length=200, blank=True)
    at = models.DateTimeField(default=timezone.now)

    objects = TenantQuerySet.as_manager()
    tenant_path = "expectation__exercise__structure"

    class Meta:
        verbose_name = _("évaluation d'un attendu")

    def __str__(self) -> str:
        return f"{self.expectation_id}: {self.outcome}"


class Observation(models.Model):
    """A line of the observation grid, filled by an observer (often from a phone)."""

    exercise = models.ForeignKey(Exercise, on_delete=models.CASCADE, related_name="observations")
    observer = models.ForeignKey(
        Participant, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    criterion = models.CharField(_("critère"), max_length=200)
    rating = models.PositiveSmallIntegerField(_("note (1 à 4)"))
    note = models.TextField(_("remarque"), blank=True)
    at = models.DateTimeField(default=timezone.now)

    objects = TenantQuerySet.as_manager()
    tenant_path = "exercise__structure"

    class Meta:
        verbose_name = _("observation")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return self.criterion


class LogEntry(models.Model):
    """The exercise log: what was sent or published, replies, console actions."""

    exercise = models.ForeignKey(Exercise, on_delete=models.CASCADE, related_name="log")
    at = models.DateTimeField(default=timezone.now, db_index=True)
    kind = models.CharField(max_length=12, choices=LogKind.choices)
    inject = models.ForeignKey(
        Inject, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_label = models.CharField(max_length=200, blank=True)
    text = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)

    objects = TenantQuerySet.as_manager()
    tenant_path = "exercise__structure"

    class Meta:
        verbose_name = _("entrée du journal")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.kind} {self.at:%H:%M:%S}"


class Reply(models.Model):
    """A player's reply: an e-mail read from the replies mailbox, or the space's form."""

    exercise = models.ForeignKey(Exercise, on_delete=models.CASCADE, related_name="replies")
    inject = models.ForeignKey(
        Inject, null=True, blank=True, on_delete=models.SET_NULL, related_name="replies"
    )
    participant = models.ForeignKey(
        Participant, null=True, blank=True, on_delete=models.SET_NULL, related_name="replies"
    )
    source = models.CharField(max_length=5, choices=ReplySource.choices)
    from_address = models.CharField(max_length=254, blank=True)
    subject = models.CharField(max_length=250, blank=True)
    body = models.TextField(blank=True)
    message_id = models.CharField(max_length=250, null=True, blank=True, unique=True)
    received_at = models.DateTimeField(default=timezone.now)

    objects = TenantQuerySet.as_manager()
    tenant_path = "exercise__structure"

    class Meta:
        verbose_name = _("réponse")
        ordering = ["received_at", "id"]

    def __str__(self) -> str:
        return self.subject or f"#{self.pk}"


class PressItem(models.Model):
    """A simulated article or post, visible in the players' space once its inject is out."""

    exercise = models.ForeignKey(Exercise, on_delete=models.CASCADE, related_name="press")
    inject = models.OneToOneField(Inject, on_delete=models.CASCADE, related_name="press_item")
    channel = models.CharField(max_length=10, choices=Channel.choices)
    outlet = models.CharField(max_length=150, blank=True)
    headline = models.CharField(max_length=250)
    body = models.TextField(blank=True)
    published_at = models.DateTimeField(default=timezone.now)

    objects = TenantQuerySet.as_manager()
    tenant_path = "exercise__structure"

    class Meta:
        verbose_name = _("publication simulée")
        ordering = ["-published_at", "-id"]

    def __str__(self) -> str:
        return self.headline


class PhoneReminder(models.Model):
    """A call an animator must make now (the inject's script), until marked done."""

    exercise = models.ForeignKey(Exercise, on_delete=models.CASCADE, related_name="calls")
    inject = models.OneToOneField(Inject, on_delete=models.CASCADE, related_name="call")
    callee = models.CharField(max_length=200, blank=True)
    script = models.TextField(blank=True)
    due_at = models.DateTimeField(default=timezone.now)
    done_at = models.DateTimeField(null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = TenantQuerySet.as_manager()
    tenant_path = "exercise__structure"

    class Meta:
        verbose_name = _("appel à passer")
        ordering = ["due_at", "id"]

    def __str__(self) -> str:
        return self.callee or f"#{self.pk}"


class RetexAnswer(models.Model):
    """One anonymous hot RETEX questionnaire: no participant, no link, no address."""

    exercise = models.ForeignKey(Exercise, on_delete=models.CASCADE, related_name="retex")
    role = models.CharField(max_length=10, choices=ParticipantRole.choices, blank=True)
    answers = models.JSONField(default=dict)
    submitted_at = models.DateField(default=timezone.localdate)

    objects = TenantQuerySet.as_manager()
    tenant_path = "exercise__structure"

    class Meta:
        verbose_name = _("réponse au retour à chaud")
        ordering = ["id"]

    def __str__(self) -> str:
        return f"#{self.pk}"


class Evaluation(models.Model):
    """The evaluation of one objective after the exercise."""

    exercise = models.ForeignKey(Exercise, on_delete=models.CASCADE, related_name="evaluations")
    objective = models.CharField(_("objectif"), max_length=40)
    objective_text = models.TextField(blank=True)
    outcome = models.CharField(_("résultat"), max_length=10, choices=Outcome.choices)
    comment = models.TextField(_("commentaire"), blank=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField(default=timezone.now)

    objects = TenantQuerySet.as_manager()
    tenant_path = "exercise__structure"

    class Meta:
        verbose_name = _("évaluation d'un objectif")
        ordering = ["objective"]
        constraints = [
            models.UniqueConstraint(
                fields=["exercise", "objective"], name="exercises_evaluation_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.objective}: {self.outcome}"


class RetexItem(models.Model):
    """A strength or an improvement of the after-action report; improvements become findings
    and action items of the structure (``services_after.ingest_retex``)."""

    exercise = models.ForeignKey(Exercise, on_delete=models.CASCADE, related_name="items")
    kind = models.CharField(max_length=12, choices=ItemKind.choices)
    title = models.CharField(_("intitulé"), max_length=250)
    detail = models.TextField(_("détail"), blank=True)
    recommendation = models.TextField(_("recommandation"), blank=True)
    severity = models.PositiveSmallIntegerField(_("gravité (1 à 4)"), default=2)
    objective = models.CharField(max_length=40, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    objects = TenantQuerySet.as_manager()
    tenant_path = "exercise__structure"

    class Meta:
        verbose_name = _("enseignement")
        ordering = ["kind", "-severity", "id"]

    def __str__(self) -> str:
        return self.title


__all__ = [
    "AccessLink",
    "Cell",
    "Evaluation",
    "Exercise",
    "Expectation",
    "ExpectationResult",
    "Inject",
    "LogEntry",
    "Observation",
    "Participant",
    "PhoneReminder",
    "PressItem",
    "RegionalExercise",
    "Reply",
    "RetexAnswer",
    "RetexItem",
    "ScenarioVersion",
    "SendingProfile",
]

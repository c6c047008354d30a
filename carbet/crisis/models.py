"""Tables of the crisis service: reports, cases, their cell, phases and the main courante.

The board, evidence, indicators, lessons and provider access live in ``models_board.py``
(imported at the end so that Django registers them with this app).

Who sees a case: the centre (every case), and people of the structure who are **members of the
case's crisis cell** (``CellMember``) and hold the permission there. The kernel has no "crisis
cell" role, so the cell is kept here, per case; ``CaseQuerySet.visible_to`` adds that condition
to the kernel's structure scope, and every child table goes through it.

The main courante (``LogEntry``) is append-only: the model refuses updates and deletes, there is
no service that edits an entry (a correction is a new entry that ``supersedes`` the old one),
and the database itself refuses UPDATE and DELETE (triggers, migration 0002). Entries are
chained per case (``carbet.engines.crisis.chain``): sequence, previous seal, HMAC seal.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from carbet.core.models import Structure
from carbet.core.tenancy import Actor, TenantQuerySet, grants
from carbet.crisis.choices import (
    Cell,
    CellRole,
    EntryKind,
    ObligationKind,
    Phase,
    Priority,
    Qualification,
    ReportStatus,
    Severity,
    SitrepStatus,
    StakeholderKind,
    TaskStatus,
    Workstream,
)


class AppendOnlyError(RuntimeError):
    """The main courante is never edited nor deleted: correct by a new, superseding entry."""


class CaseQuerySet(TenantQuerySet):
    """Cases: the kernel's structure scope, narrowed to the cells the person sits in."""

    def visible_to(self, actor: Actor | None, perm: Any = None) -> TenantQuerySet:
        from carbet.crisis.service import CrisisPerm

        perm = perm or CrisisPerm.VIEW
        scoped = super().visible_to(actor, perm)
        if grants(actor, perm).everything:
            return scoped
        return scoped.filter(
            Q(members__user_id=getattr(actor, "pk", None), members__active=True)
        ).distinct()


class CaseChildQuerySet(TenantQuerySet):
    """Rows of one case: visible exactly when their case is."""

    def visible_to(self, actor: Actor | None, perm: Any = None) -> TenantQuerySet:
        cases = CrisisCase.objects.visible_to(actor, perm)
        return self.filter(case__in=cases.values("pk"))


class IncidentReport(models.Model):
    """What a structure reports, from a phone if need be; the centre qualifies it."""

    structure = models.ForeignKey(
        Structure, on_delete=models.CASCADE, related_name="crisis_reports"
    )
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    reported_at = models.DateTimeField(default=timezone.now)
    what = models.TextField(_("ce qui se passe"))
    since = models.DateTimeField(_("depuis quand"), null=True, blank=True)
    affected = models.TextField(_("ce qui est touché"), blank=True)
    contact_name = models.CharField(_("personne à rappeler"), max_length=200)
    contact_phone = models.CharField(_("téléphone"), max_length=30)
    contact_email = models.EmailField(_("e-mail"), blank=True)
    status = models.CharField(
        max_length=12, choices=ReportStatus.choices, default=ReportStatus.NEW, db_index=True
    )
    qualified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    qualified_at = models.DateTimeField(null=True, blank=True)
    qualification = models.CharField(
        _("qualification"), max_length=10, choices=Qualification.choices, blank=True
    )
    severity = models.PositiveSmallIntegerField(
        _("gravité"), choices=Severity.choices, null=True, blank=True
    )
    personal_data = models.BooleanField(_("données personnelles en cause"), null=True)
    category = models.CharField(_("type d'incident"), max_length=40, blank=True)
    qualification_note = models.TextField(_("motif de la qualification"), blank=True)

    objects = TenantQuerySet.as_manager()
    tenant_path = "structure"

    class Meta:
        verbose_name = _("signalement d'incident")
        ordering = ["-reported_at"]

    def __str__(self) -> str:
        return f"{self.structure} — {self.reported_at:%d/%m/%Y %H:%M}"


class CrisisCase(models.Model):
    """One incident or crisis of one structure, from qualification to the lessons learned."""

    structure = models.ForeignKey(Structure, on_delete=models.PROTECT, related_name="+")
    report = models.OneToOneField(
        IncidentReport, on_delete=models.PROTECT, null=True, blank=True, related_name="case"
    )
    reference = models.CharField(_("référence"), max_length=30, unique=True)
    title = models.CharField(_("intitulé"), max_length=200)
    category = models.CharField(_("type d'incident"), max_length=40)
    template_version = models.CharField(max_length=20, blank=True)
    qualification = models.CharField(
        _("qualification"), max_length=10, choices=Qualification.choices
    )
    severity = models.PositiveSmallIntegerField(_("gravité"), choices=Severity.choices)
    personal_data = models.BooleanField(_("données personnelles en cause"), default=False)
    # When the structure became aware of the incident: the CNIL's 72 hours run from here.
    aware_at = models.DateTimeField(_("connaissance de l'incident"))
    insurer_delay_hours = models.PositiveIntegerField(
        _("délai de déclaration à l'assureur (heures)"), null=True, blank=True
    )
    phase = models.CharField(
        _("phase"), max_length=15, choices=Phase.choices, default=Phase.ALERT, db_index=True
    )
    phase_since = models.DateTimeField(default=timezone.now)
    opened_at = models.DateTimeField(default=timezone.now)
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    closed_at = models.DateTimeField(null=True, blank=True)
    summary = models.TextField(_("synthèse"), blank=True)

    objects = CaseQuerySet.as_manager()
    tenant_path = "structure"

    class Meta:
        verbose_name = _("dossier de crise")
        ordering = ["-opened_at"]

    def __str__(self) -> str:
        return f"{self.reference} — {self.title}"

    @property
    def template_title(self) -> str:
        from carbet.crisis import library

        try:
            return library.get(self.category).title
        except ValueError:
            return self.category

    @property
    def is_closed(self) -> bool:
        return self.phase == Phase.CLOSED


class CellMember(models.Model):
    """A person of the crisis cell. With ``user`` set, that account sees the case."""

    case = models.ForeignKey(CrisisCase, on_delete=models.CASCADE, related_name="members")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    name = models.CharField(_("nom"), max_length=200)
    email = models.EmailField(_("e-mail"), blank=True)
    phone = models.CharField(_("téléphone"), max_length=30, blank=True)
    role = models.CharField(_("rôle"), max_length=20, choices=CellRole.choices)
    cell = models.CharField(
        _("cellule"), max_length=12, choices=Cell.choices, default=Cell.STRATEGIC
    )
    notify = models.BooleanField(_("reçoit les points de situation et rappels"), default=True)
    active = models.BooleanField(default=True)
    added_at = models.DateTimeField(default=timezone.now)

    objects = CaseChildQuerySet.as_manager()
    tenant_path = "case__structure"

    class Meta:
        verbose_name = _("membre de la cellule")
        ordering = ["cell", "role", "name"]

    def __str__(self) -> str:
        return self.name


class PhaseChange(models.Model):
    case = models.ForeignKey(CrisisCase, on_delete=models.CASCADE, related_name="phase_changes")
    from_phase = models.CharField(max_length=15, choices=Phase.choices, blank=True)
    to_phase = models.CharField(max_length=15, choices=Phase.choices)
    at = models.DateTimeField(default=timezone.now)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    by_label = models.CharField(max_length=255)
    reason = models.TextField(_("motif"))

    objects = CaseChildQuerySet.as_manager()
    tenant_path = "case__structure"

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.from_phase} → {self.to_phase}"


class Stakeholder(models.Model):
    """Someone outside the cell the crisis involves: PRIS, CERT Santé, ARS, CNIL, insurer..."""

    case = models.ForeignKey(CrisisCase, on_delete=models.CASCADE, related_name="stakeholders")
    kind = models.CharField(_("type"), max_length=15, choices=StakeholderKind.choices)
    name = models.CharField(_("nom"), max_length=200)
    organisation = models.CharField(_("organisme"), max_length=200, blank=True)
    phone = models.CharField(_("téléphone"), max_length=30, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    qualification_ref = models.CharField(
        _("référence de qualification (PRIS)"), max_length=100, blank=True
    )
    notes = models.TextField(_("notes"), blank=True)
    from_contact_id = models.BigIntegerField(null=True, blank=True, editable=False)

    objects = CaseChildQuerySet.as_manager()
    tenant_path = "case__structure"

    class Meta:
        verbose_name = _("partie prenante")
        ordering = ["kind", "name"]

    def __str__(self) -> str:
        return self.organisation or self.name


class LogEntryQuerySet(CaseChildQuerySet):
    def update(self, **kwargs: Any) -> int:
        raise AppendOnlyError("the main courante is append-only")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("the main courante is append-only")


class LogEntry(models.Model):
    """One line of the main courante, sealed and chained within its case."""

    case = models.ForeignKey(CrisisCase, on_delete=models.PROTECT, related_name="log")
    sequence = models.PositiveIntegerField()
    event_at = models.DateTimeField(_("heure de l'événement"))
    recorded_at = models.DateTimeField(_("heure d'enregistrement"))
    # No database constraint: the entry outlives accounts and is never rewritten (SET_NULL would
    # be an UPDATE, which the table refuses). ``author_label`` is what the log shows.
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        related_name="+",
    )
    author_label = models.CharField(_("auteur"), max_length=255)
    source = models.CharField(_("source"), max_length=200, blank=True)
    kind = models.CharField(_("nature"), max_length=15, choices=EntryKind.choices)
    text = models.TextField(_("texte"))
    verified = models.BooleanField(_("vérifié"), default=False)
    supersedes = models.ForeignKey(
        "self",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        blank=True,
        related_name="+",
    )
    stakeholder = models.ForeignKey(
        Stakeholder,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        blank=True,
        related_name="+",
    )
    prev_hash = models.CharField(max_length=64)
    entry_hash = models.CharField(max_length=64)
    key_id = models.CharField(max_length=32)

    objects = LogEntryQuerySet.as_manager()
    tenant_path = "case__structure"

    class Meta:
        verbose_name = _("entrée de la main courante")
        ordering = ["case", "sequence"]
        constraints = [
            models.UniqueConstraint(fields=["case", "sequence"], name="crisis_log_sequence")
        ]
        indexes = [models.Index(fields=["case", "event_at"], name="crisis_log_event")]

    def __str__(self) -> str:
        return f"#{self.sequence} {self.text[:60]}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AppendOnlyError("the main courante is append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise AppendOnlyError("the main courante is append-only")


class Decision(models.Model):
    """A decision of the cell: options considered, what was chosen, why, by whom."""

    case = models.ForeignKey(CrisisCase, on_delete=models.CASCADE, related_name="decisions")
    title = models.CharField(_("objet"), max_length=200)
    options = models.JSONField(_("options envisagées"), default=list)
    chosen = models.TextField(_("décision"))
    rationale = models.TextField(_("justification"))
    decided_by = models.CharField(_("décidé par"), max_length=200)
    decided_at = models.DateTimeField(_("décidé le"))
    log_entry = models.OneToOneField(
        LogEntry, on_delete=models.PROTECT, null=True, related_name="decision"
    )

    objects = CaseChildQuerySet.as_manager()
    tenant_path = "case__structure"

    class Meta:
        verbose_name = _("décision")
        ordering = ["-decided_at"]

    def __str__(self) -> str:
        return self.title


class Task(models.Model):
    case = models.ForeignKey(CrisisCase, on_delete=models.CASCADE, related_name="tasks")
    workstream = models.CharField(_("chantier"), max_length=15, choices=Workstream.choices)
    phase = models.CharField(_("phase"), max_length=15, choices=Phase.choices, blank=True)
    title = models.CharField(_("tâche"), max_length=300)
    detail = models.TextField(_("précisions"), blank=True)
    owner = models.CharField(_("responsable"), max_length=200, blank=True)
    priority = models.PositiveSmallIntegerField(
        _("priorité"), choices=Priority.choices, default=Priority.NORMAL
    )
    due_at = models.DateTimeField(_("échéance"), null=True, blank=True)
    status = models.CharField(
        _("état"), max_length=10, choices=TaskStatus.choices, default=TaskStatus.TODO
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    done_at = models.DateTimeField(null=True, blank=True)

    objects = CaseChildQuerySet.as_manager()
    tenant_path = "case__structure"

    class Meta:
        verbose_name = _("tâche")
        ordering = ["status", "priority", "due_at", "pk"]
        indexes = [models.Index(fields=["case", "status"], name="crisis_task_status")]

    def __str__(self) -> str:
        return self.title


class ChecklistItem(models.Model):
    """A line of a checklist of the template (``checklist`` names it; ``exit`` is the exit
    criteria)."""

    case = models.ForeignKey(CrisisCase, on_delete=models.CASCADE, related_name="checklist")
    checklist = models.CharField(max_length=40)
    checklist_title = models.CharField(max_length=200)
    position = models.PositiveIntegerField(default=0)
    label = models.CharField(_("point"), max_length=300)
    done = models.BooleanField(default=False)
    done_at = models.DateTimeField(null=True, blank=True)
    done_by = models.CharField(max_length=255, blank=True)

    objects = CaseChildQuerySet.as_manager()
    tenant_path = "case__structure"

    class Meta:
        ordering = ["checklist", "position", "pk"]

    def __str__(self) -> str:
        return self.label


class Sitrep(models.Model):
    """A situation point: drafted from the log, tasks and board, edited, then sent."""

    case = models.ForeignKey(CrisisCase, on_delete=models.CASCADE, related_name="sitreps")
    number = models.PositiveIntegerField()
    period_start = models.DateTimeField(null=True, blank=True)
    period_end = models.DateTimeField()
    body = models.TextField(_("contenu"))
    status = models.CharField(
        max_length=6, choices=SitrepStatus.choices, default=SitrepStatus.DRAFT
    )
    drafted_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    sent_to = models.JSONField(default=list)
    sent_by = models.CharField(max_length=255, blank=True)

    objects = CaseChildQuerySet.as_manager()
    tenant_path = "case__structure"

    class Meta:
        verbose_name = _("point de situation")
        ordering = ["-number"]
        constraints = [
            models.UniqueConstraint(fields=["case", "number"], name="crisis_sitrep_number")
        ]

    def __str__(self) -> str:
        return f"#{self.number}"


class Obligation(models.Model):
    """A declaration the structure owes (ARS/CERT Santé, CNIL, police, insurer)."""

    case = models.ForeignKey(CrisisCase, on_delete=models.CASCADE, related_name="obligations")
    kind = models.CharField(max_length=10, choices=ObligationKind.choices)
    applicable = models.BooleanField(default=True)
    due_at = models.DateTimeField(_("échéance"), null=True, blank=True)
    basis = models.CharField(_("fondement"), max_length=300, blank=True)
    reminders_sent = models.JSONField(default=list)  # the stages already reminded
    sent_at = models.DateTimeField(_("envoyée le"), null=True, blank=True)
    sent_by = models.CharField(max_length=255, blank=True)
    reference = models.CharField(_("référence reçue"), max_length=200, blank=True)
    content = models.JSONField(_("contenu préparé"), default=dict)
    note = models.TextField(blank=True)

    objects = CaseChildQuerySet.as_manager()
    tenant_path = "case__structure"

    class Meta:
        verbose_name = _("obligation de déclaration")
        ordering = ["due_at", "kind"]
        constraints = [
            models.UniqueConstraint(fields=["case", "kind"], name="crisis_obligation_kind")
        ]

    def __str__(self) -> str:
        return self.get_kind_display()


from carbet.crisis.models_board import (  # noqa: E402 - registered with this app
    Activity,
    CrisisAsset,
    CustodyEntry,
    Evidence,
    Indicator,
    Lesson,
    ProviderAccess,
)

__all__ = [
    "Activity",
    "AppendOnlyError",
    "CellMember",
    "ChecklistItem",
    "CrisisAsset",
    "CrisisCase",
    "CustodyEntry",
    "Decision",
    "Evidence",
    "IncidentReport",
    "Indicator",
    "Lesson",
    "LogEntry",
    "Obligation",
    "PhaseChange",
    "ProviderAccess",
    "Sitrep",
    "Stakeholder",
    "Task",
]

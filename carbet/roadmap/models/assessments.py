"""Assessments, their answers, evidence files (possibly shared) and automatic evidence."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from carbet.core.tenancy import TenantQuerySet
from carbet.roadmap.service import RoadmapPerm


class Result(models.TextChoices):
    MET = "met", _("Atteint")
    PARTIAL = "partial", _("En partie")
    NOT_MET = "not_met", _("Pas atteint")
    UNKNOWN = "unknown", _("Je ne sais pas")
    NOT_APPLICABLE = "na", _("Non concerné")


UNSCORED_RESULTS = frozenset({Result.UNKNOWN, Result.NOT_APPLICABLE})
RESULT_SCORES = {Result.MET: 3, Result.PARTIAL: 1, Result.NOT_MET: 0}


class Assessment(models.Model):
    """One structure's answers to one framework (the diagnostic is a framework too)."""

    structure = models.ForeignKey(
        "core.Structure", on_delete=models.CASCADE, related_name="assessments"
    )
    framework = models.ForeignKey(
        "roadmap.Framework", on_delete=models.PROTECT, related_name="assessments"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    completed_at = models.DateTimeField(null=True, blank=True)

    objects = TenantQuerySet.as_manager()
    tenant_path = "structure"

    class Meta:
        verbose_name = _("évaluation")
        constraints = [
            models.UniqueConstraint(
                fields=["structure", "framework"], name="assessment_one_per_framework"
            )
        ]

    def __str__(self) -> str:
        return f"{self.framework} — {self.structure}"


class Answer(models.Model):
    assessment = models.ForeignKey(Assessment, on_delete=models.CASCADE, related_name="answers")
    requirement = models.ForeignKey(
        "roadmap.Requirement", on_delete=models.CASCADE, related_name="given_answers"
    )
    result = models.CharField(_("résultat"), max_length=10, choices=Result.choices, blank=True)
    score = models.PositiveSmallIntegerField(_("note (0 à 3)"), null=True, blank=True)
    justification = models.TextField(_("justification"), blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    answered_at = models.DateTimeField(default=timezone.now)

    objects = TenantQuerySet.as_manager()
    tenant_path = "assessment__structure"

    class Meta:
        verbose_name = _("réponse")
        constraints = [
            models.UniqueConstraint(fields=["assessment", "requirement"], name="answer_unique")
        ]

    def __str__(self) -> str:
        return f"{self.requirement.label}: {self.result or self.score}"


class EvidenceQuerySet(TenantQuerySet):
    """Evidence is visible to every structure it covers (its owner is always covered)."""

    def visible_to(self, actor, perm=None):  # type: ignore[override]

        return super().visible_to(actor, perm or RoadmapPerm.VIEW).distinct()


class Evidence(models.Model):
    """A file proving a requirement: one PCA shared by the structures of a GHT, a signed PSSI.

    ``structure`` uploaded it; ``covered`` lists every structure it counts for (the owner
    included), which is also exactly who may see it.
    """

    structure = models.ForeignKey(
        "core.Structure", on_delete=models.CASCADE, related_name="owned_evidence"
    )
    covered = models.ManyToManyField(
        "core.Structure", related_name="shared_evidence", verbose_name=_("structures couvertes")
    )
    requirements = models.ManyToManyField(
        "roadmap.Requirement", blank=True, related_name="evidence", verbose_name=_("exigences")
    )
    title = models.CharField(_("titre"), max_length=200)
    note = models.TextField(_("commentaire"), blank=True)
    document = models.FileField(_("fichier"), upload_to="roadmap/evidence/%Y/")
    document_name = models.CharField(max_length=255, blank=True)
    document_sha256 = models.CharField(_("empreinte SHA-256"), max_length=64)
    size = models.PositiveBigIntegerField(default=0)
    issued_on = models.DateField(_("date du document"))
    valid_until = models.DateField(_("valable jusqu'au"), null=True, blank=True, db_index=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    uploaded_at = models.DateTimeField(default=timezone.now)
    reminder_before_at = models.DateTimeField(null=True, blank=True)
    reminder_after_at = models.DateTimeField(null=True, blank=True)

    objects = EvidenceQuerySet.as_manager()
    tenant_path = "covered"

    class Meta:
        verbose_name = _("justificatif")
        ordering = ["-issued_on", "-pk"]

    def __str__(self) -> str:
        return self.title

    def is_valid_on(self, day) -> bool:
        return self.valid_until is None or self.valid_until >= day


class ServiceFact(models.Model):
    """A fact another Carbet service reported (``carbet.roadmap.auto_evidence.record``)."""

    structure = models.ForeignKey(
        "core.Structure", on_delete=models.CASCADE, related_name="roadmap_facts"
    )
    kind = models.CharField(_("type"), max_length=30)
    at = models.DateTimeField(_("date"))
    value = models.JSONField(default=dict)
    reference = models.CharField(_("référence"), max_length=200, blank=True)
    recorded_at = models.DateTimeField(default=timezone.now)

    objects = TenantQuerySet.as_manager()
    tenant_path = "structure"

    class Meta:
        verbose_name = _("fait automatique")
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["structure", "kind", "at"])]
        constraints = [
            models.UniqueConstraint(
                fields=["structure", "kind", "reference", "at"], name="fact_unique_event"
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.at:%Y-%m-%d}"


class AutoEvidence(models.Model):
    """The current automatic evidence of one requirement for one structure."""

    structure = models.ForeignKey(
        "core.Structure", on_delete=models.CASCADE, related_name="auto_evidence"
    )
    requirement = models.ForeignKey(
        "roadmap.Requirement", on_delete=models.CASCADE, related_name="auto_evidence"
    )
    fact = models.ForeignKey(ServiceFact, null=True, blank=True, on_delete=models.SET_NULL)
    satisfied = models.BooleanField(default=False)
    valid_until = models.DateField(null=True, blank=True)
    refreshed_at = models.DateTimeField(default=timezone.now)

    objects = TenantQuerySet.as_manager()
    tenant_path = "structure"

    class Meta:
        verbose_name = _("preuve automatique")
        constraints = [
            models.UniqueConstraint(
                fields=["structure", "requirement"], name="auto_evidence_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.requirement.label}: {'ok' if self.satisfied else '-'}"

"""Assessments and the diagnostic: answering, scoring, and each requirement's state.

A requirement's *effective* state combines what people answered and what Carbet saw: a manual
answer wins; without one, satisfied automatic evidence counts as "atteint". Scores are on the
0–3 scale everywhere (the diagnostic answers it directly; a framework's result maps to it:
atteint 3, en partie 1, pas atteint 0, "je ne sais pas" and "non concerné" unscored).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from carbet.audit import services as audit
from carbet.core.models import Structure
from carbet.core.tenancy import Actor, can
from carbet.engines.roadmap.scoring import DiagnosticResult, Question, score_diagnostic
from carbet.roadmap.models import (
    Answer,
    Assessment,
    AutoEvidence,
    Evidence,
    Framework,
    Requirement,
    Result,
)
from carbet.roadmap.models.assessments import RESULT_SCORES, UNSCORED_RESULTS
from carbet.roadmap.service import RoadmapPerm

DIAGNOSTIC_CODE = "diagnostic"
MAX_JUSTIFICATION = 4000
# Choices of a diagnostic answer as posted by the questionnaire.
UNKNOWN, NOT_APPLICABLE = "unknown", "na"


def assessment_for(structure: Structure, framework: Framework) -> Assessment:
    assessment, _created = Assessment.objects.get_or_create(
        structure=structure, framework=framework
    )
    return assessment


def requirements_of(framework: Framework) -> list[Requirement]:
    return list(framework.requirements.filter(retired=False).order_by("order"))


def _check_answer(requirement: Requirement, result: str, score: int | None) -> tuple[str, Any]:
    framework = requirement.framework
    if framework.scale == "score":
        if result in (UNKNOWN, NOT_APPLICABLE):
            return result, None
        if score is None or isinstance(score, bool) or not 0 <= int(score) <= 3:
            raise ValidationError(_("Choisissez une réponse de 0 à 3."))
        return "", int(score)
    if result not in Result.values:
        raise ValidationError(_("Choisissez un résultat."))
    return result, RESULT_SCORES.get(result)


def answer(
    actor: Actor,
    assessment: Assessment,
    requirement: Requirement,
    *,
    result: str = "",
    score: int | None = None,
    justification: str = "",
) -> Answer:
    """Record (or replace) one answer; needs ``ROADMAP_ANSWER`` on the structure."""
    if not can(actor, RoadmapPerm.ANSWER, assessment.structure):
        raise PermissionDenied
    if requirement.framework_id != assessment.framework_id or requirement.retired:
        raise ValidationError(_("Cette exigence n'appartient pas à ce référentiel."))
    justification = (justification or "").strip()
    if len(justification) > MAX_JUSTIFICATION:
        raise ValidationError(_("La justification est trop longue (4 000 caractères au plus)."))
    result, score = _check_answer(requirement, result, score)
    now = timezone.now()
    with transaction.atomic():
        row, _created = Answer.objects.update_or_create(
            assessment=assessment,
            requirement=requirement,
            defaults={
                "result": result,
                "score": score,
                "justification": justification,
                "answered_by": actor if getattr(actor, "pk", None) else None,
                "answered_at": now,
            },
        )
        Assessment.objects.filter(pk=assessment.pk).update(updated_at=now)
    return row


def parse_diagnostic_choice(value: str) -> tuple[str, int | None]:
    """A questionnaire radio value ("0"–"3", "unknown", "na") → (result, score)."""
    value = (value or "").strip()
    if value in (UNKNOWN, NOT_APPLICABLE):
        return value, None
    if value in ("0", "1", "2", "3"):
        return "", int(value)
    raise ValidationError(_("Réponse inattendue : %(value)s") % {"value": value[:20]})


def save_theme(actor: Actor, assessment: Assessment, choices: dict[str, str]) -> int:
    """Save a questionnaire step: ``{question code: choice}``; unanswered questions stay."""
    if not can(actor, RoadmapPerm.ANSWER, assessment.structure):
        raise PermissionDenied
    questions = {r.code: r for r in requirements_of(assessment.framework)}
    saved = 0
    with transaction.atomic():
        for code, value in choices.items():
            requirement = questions.get(code)
            if requirement is None or not value:
                continue
            result, score = parse_diagnostic_choice(value)
            answer(actor, assessment, requirement, result=result, score=score)
            saved += 1
        if saved and _all_answered(assessment, questions.values()):
            Assessment.objects.filter(pk=assessment.pk, completed_at__isnull=True).update(
                completed_at=timezone.now()
            )
    return saved


def _all_answered(assessment: Assessment, questions) -> bool:
    answered = set(assessment.answers.values_list("requirement_id", flat=True))
    return all(q.pk in answered for q in questions if q.scored)


# --- Scoring ---------------------------------------------------------------------------------


def _answer_value(row: Answer) -> int | None:
    if row.result in UNSCORED_RESULTS:
        return None
    return row.score


def diagnostic_result(assessment: Assessment) -> DiagnosticResult:
    requirements = requirements_of(assessment.framework)
    answers = {row.requirement_id: row for row in assessment.answers.all()}
    questions = [Question(r.code, r.theme, r.priority, r.order, r.scored) for r in requirements]
    values = {r.code: _answer_value(answers[r.pk]) for r in requirements if r.pk in answers}
    return score_diagnostic(questions, values)


@dataclass
class RequirementState:
    requirement: Requirement
    answer: Answer | None = None
    auto: AutoEvidence | None = None
    evidence: list[Evidence] = field(default_factory=list)

    @property
    def score(self) -> int | None:
        """0–3, or None when unknown, not applicable or not answered (and nothing seen)."""
        if self.answer is not None:
            return _answer_value(self.answer)
        if self.auto is not None and self.auto.satisfied:
            return 3
        return None

    @property
    def result(self) -> str:
        if self.answer is not None and self.answer.result:
            return self.answer.result
        if self.answer is not None and self.answer.score is not None:
            return Result.MET if self.answer.score == 3 else Result.PARTIAL
        if self.auto is not None and self.auto.satisfied:
            return Result.MET
        return ""

    @property
    def result_label(self) -> str:
        return Result(self.result).label if self.result else _("Pas encore évalué")

    @property
    def not_applicable(self) -> bool:
        return self.answer is not None and self.answer.result == Result.NOT_APPLICABLE

    @property
    def met(self) -> bool:
        return self.result == Result.MET or self.not_applicable

    @property
    def auto_satisfied(self) -> bool:
        return self.auto is not None and self.auto.satisfied


def requirement_states(
    actor: Actor, structure: Structure, framework: Framework, today: date | None = None
) -> list[RequirementState]:
    """Every live requirement of ``framework`` with the structure's answer, automatic evidence
    and the evidence files ``actor`` may see that cover the structure."""
    today = today or timezone.localdate()
    assessment = Assessment.objects.filter(structure=structure, framework=framework).first()
    answers = (
        {a.requirement_id: a for a in assessment.answers.all()} if assessment is not None else {}
    )
    autos = {
        a.requirement_id: a
        for a in AutoEvidence.objects.filter(
            structure=structure, requirement__framework=framework
        ).select_related("fact")
    }
    files: dict[int, list[Evidence]] = {}
    visible = evidence_covering(actor, structure).filter(requirements__framework=framework)
    for item in visible.prefetch_related("requirements"):
        for requirement in item.requirements.all():
            files.setdefault(requirement.pk, []).append(item)
    return [
        RequirementState(r, answers.get(r.pk), autos.get(r.pk), files.get(r.pk, []))
        for r in requirements_of(framework)
    ]


def evidence_covering(actor: Actor, structure: Structure):
    """Evidence ``actor`` may see that counts for ``structure`` (its own or shared with it)."""
    return Evidence.objects.visible_to(actor, RoadmapPerm.VIEW).filter(covered=structure)


def framework_progress(states: list[RequirementState]) -> dict[str, int]:
    applicable = [s for s in states if not s.not_applicable]
    met = sum(1 for s in applicable if s.result == Result.MET)
    answered = sum(1 for s in states if s.result)
    total = len(applicable)
    return {
        "total": total,
        "met": met,
        "answered": answered,
        "percent": round(met * 100 / total) if total else 0,
    }


def record_validation(actor: Actor, assessment: Assessment, ip: str | None = None) -> None:
    audit.record(actor, "roadmap.assessment_complete", assessment, ip=ip)

"""After the exercise: evaluation per objective, lessons (strengths and improvements), the
improvements turned into findings and action items, and the roadmap's fact "exercise held".

Findings are written only through ``carbet.findings.ingest.ingest`` (source ``exercise``, one
stream per exercise, so an exercise's lessons never close another's); the roadmap hears of the
exercise through ``carbet.core.contract.record_evidence`` (kind ``exercise``).
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from carbet.audit import services as audit
from carbet.core import contract
from carbet.core.access import require
from carbet.core.tenancy import Actor
from carbet.exercises.choices import ExerciseStatus, ItemKind, Outcome
from carbet.exercises.models import Evaluation, Exercise, RetexItem
from carbet.exercises.service import EXERCISE_EVIDENCE, EXERCISE_SOURCE, ExercisePerm
from carbet.exercises.services import ExerciseError, scenario_of

SEVERITIES = {1: "low", 2: "medium", 3: "high", 4: "critical"}


def record_held(exercise: Exercise) -> None:
    """Tell the roadmap an exercise was held (``{"continuity_test", "level", "structures"}``).
    A regional exercise names every structure that took part."""
    structures = [exercise.structure_id]
    if exercise.regional_id:
        structures = list(
            Exercise.objects.filter(regional_id=exercise.regional_id).values_list(
                "structure_id", flat=True
            )
        )
    contract.record_evidence(
        exercise.structure,
        EXERCISE_EVIDENCE,
        at=exercise.finished_at or timezone.now(),
        value={
            "continuity_test": bool(exercise.continuity_test),
            "level": exercise.level,
            "structures": sorted(structures),
        },
        reference=f"exercise:{exercise.pk}",
    )


def _closed(exercise: Exercise) -> None:
    if exercise.status != ExerciseStatus.FINISHED:
        raise ExerciseError(_("L'évaluation se fait une fois l'exercice terminé."))


def evaluate_objective(
    actor: Actor,
    exercise: Exercise,
    objective: str,
    outcome: str,
    comment: str = "",
    *,
    ip: str | None = None,
) -> Evaluation:
    require(actor, ExercisePerm.RUN, exercise.structure)
    _closed(exercise)
    titles = {o.code: o.title for o in scenario_of(exercise.scenario).objectives}
    if objective not in titles:
        raise ExerciseError(_("Objectif inconnu : %(o)s") % {"o": objective})
    if outcome not in Outcome.values:
        raise ExerciseError(_("Résultat inconnu : %(o)s") % {"o": outcome})
    evaluation, _created = Evaluation.objects.update_or_create(
        exercise=exercise,
        objective=objective,
        defaults={
            "objective_text": titles[objective],
            "outcome": outcome,
            "comment": comment[:20_000],
            "by": actor if getattr(actor, "pk", None) else None,
            "at": timezone.now(),
        },
    )
    audit.record(
        actor,
        "exercise.evaluate",
        exercise,
        changes={"objective": objective, "outcome": outcome},
        ip=ip,
    )
    return evaluation


def add_item(
    actor: Actor,
    exercise: Exercise,
    *,
    kind: str,
    title: str,
    detail: str = "",
    recommendation: str = "",
    severity: int = 2,
    objective: str = "",
    ip: str | None = None,
) -> RetexItem:
    require(actor, ExercisePerm.RUN, exercise.structure)
    _closed(exercise)
    if kind not in ItemKind.values:
        raise ExerciseError(_("Type d'enseignement inconnu."))
    if not title.strip():
        raise ExerciseError(_("Donnez un intitulé."))
    item = RetexItem.objects.create(
        exercise=exercise,
        kind=kind,
        title=title.strip()[:250],
        detail=detail[:20_000],
        recommendation=recommendation[:20_000],
        severity=max(1, min(int(severity), 4)),
        objective=objective[:40],
        created_by=actor if getattr(actor, "pk", None) else None,
    )
    audit.record(actor, "exercise.item_add", item, structure=exercise.structure, ip=ip)
    return item


def delete_item(actor: Actor, item: RetexItem, *, ip: str | None = None) -> None:
    require(actor, ExercisePerm.RUN, item.exercise.structure)
    audit.record(actor, "exercise.item_delete", item, structure=item.exercise.structure, ip=ip)
    item.delete()


def ingest_retex(actor: Actor, exercise: Exercise, *, ip: str | None = None):
    """The improvements of the after-action report as findings of the structure (source
    ``exercise``, a stream per exercise, a complete run: an improvement removed from the report
    is closed), and an action item for each new finding without one."""
    from carbet.findings.choices import OPEN_STATUSES
    from carbet.findings.ingest import FindingInput, ingest
    from carbet.findings.models import Finding
    from carbet.findings.plans.services import create_from_findings

    require(actor, ExercisePerm.RUN, exercise.structure)
    _closed(exercise)
    items = [
        FindingInput(
            title=item.title,
            severity=SEVERITIES.get(item.severity, "medium"),
            fingerprint=f"exercise:{exercise.pk}:item:{item.pk}",
            rule="exercise.retex",
            description=item.detail
            or _("Enseignement de l'exercice « %(t)s ».") % {"t": exercise.title},
            remediation=item.recommendation,
            evidence={"exercise": exercise.pk, "objective": item.objective},
        )
        for item in exercise.items.filter(kind=ItemKind.IMPROVEMENT)
    ]
    report = ingest(
        exercise.structure,
        EXERCISE_SOURCE,
        items,
        complete=True,
        scope=f"exercise-{exercise.pk}",
        label=_("Retour d'expérience : %(t)s") % {"t": exercise.title},
        actor=actor,
    )
    fresh = list(
        Finding.objects.filter(
            stream_id=report.stream_id,
            structure=exercise.structure,
            status__in=OPEN_STATUSES,
            actions__isnull=True,
        ).values_list("pk", flat=True)
    )
    actions = []
    if fresh:
        with transaction.atomic():
            actions = create_from_findings(actor, fresh, grouped=False, ip=ip)
    Exercise.objects.filter(pk=exercise.pk).update(retex_ingested_at=timezone.now())
    audit.record(
        actor,
        "exercise.retex_ingest",
        exercise,
        changes={**report.as_dict(), "actions": len(actions)},
        ip=ip,
    )
    return report

"""Training: short modules opened by a signed link, without an account, with a certificate.

A link carries the assignment's id signed with Django's signing (salted, timestamped): it
cannot be forged, and it expires (``LINK_DAYS``). Modules are assigned automatically after a
person's click (when the campaign names a module), or by hand to a group.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core import signing
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from carbet.audit import services as audit
from carbet.awareness.models import Recipient, Target, TrainingAssignment, TrainingModule
from carbet.core.tenancy import SYSTEM, Actor

SALT = "carbet.awareness.training"
LINK_DAYS = 60


def assign(module: TrainingModule, target: Target, campaign: Any = None) -> TrainingAssignment:
    assignment, _created = TrainingAssignment.objects.get_or_create(
        module=module,
        target=target,
        campaign=campaign,
        defaults={"structure_id": target.structure_id},
    )
    return assignment


def assign_after_click(recipient: Recipient) -> TrainingAssignment | None:
    campaign = recipient.campaign
    if campaign.training_id is None or recipient.target_id is None:
        return None
    target = Target.objects.visible_to(SYSTEM).filter(pk=recipient.target_id).first()
    if target is None:
        return None
    return assign(campaign.training, target, campaign)


def assign_group(
    actor: Actor, module: TrainingModule, targets: list[Target], *, ip: str | None = None
) -> int:
    created = 0
    for target in targets:
        before = TrainingAssignment.objects.filter(module=module, target=target, campaign=None)
        if not before.exists():
            assign(module, target)
            created += 1
    if targets:
        audit.record(
            actor,
            "awareness.training.assign",
            module,
            structure=targets[0].structure,
            changes={"assigned": created},
            ip=ip,
        )
    return created


def signed_token(assignment: TrainingAssignment) -> str:
    return signing.dumps({"a": assignment.pk}, salt=SALT, compress=True)


def link_path(assignment: TrainingAssignment) -> str:
    return reverse("awareness_public:training", args=[signed_token(assignment)])


def load(signed: str, now_max_age: timedelta | None = None) -> TrainingAssignment | None:
    try:
        data = signing.loads(signed, salt=SALT, max_age=now_max_age or timedelta(days=LINK_DAYS))
    except (signing.BadSignature, ValueError, TypeError):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("a"), int):
        return None
    return (
        TrainingAssignment.objects.visible_to(SYSTEM)
        .select_related("module", "target", "structure")
        .filter(pk=data["a"])
        .first()
    )


def opened(assignment: TrainingAssignment) -> None:
    TrainingAssignment.objects.filter(pk=assignment.pk, opened_at__isnull=True).update(
        opened_at=timezone.now()
    )


def grade(module: TrainingModule, answers: dict[str, str]) -> tuple[int, list[bool]]:
    """The score in percent and, per question, whether the answer was right."""
    marks = []
    for index, question in enumerate(module.quiz):
        given = answers.get(f"q{index}", "")
        marks.append(given.isdigit() and int(given) == int(question.get("answer", -1)))
    score = round(100 * sum(marks) / len(marks)) if marks else 100
    return score, marks


def record_attempt(assignment: TrainingAssignment, score: int) -> bool:
    """Store the best score; completion once the module's pass mark is reached."""
    passed = score >= assignment.module.pass_score
    fields = {"attempts": assignment.attempts + 1}
    if assignment.score is None or score > assignment.score:
        fields["score"] = score
    if passed and assignment.completed_at is None:
        fields["completed_at"] = timezone.now()
    TrainingAssignment.objects.filter(pk=assignment.pk).update(**fields)
    for key, value in fields.items():
        setattr(assignment, key, value)
    return passed


def certificate_pdf(assignment: TrainingAssignment) -> bytes:
    from carbet.core.pdf import html_to_pdf

    name = assignment.target.full_name if assignment.target else ""
    html = render_to_string(
        "awareness/public/certificate_pdf.html",
        {"assignment": assignment, "module": assignment.module, "name": name},
    )
    return html_to_pdf(html)

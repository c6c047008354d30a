"""The roadmap: Carbet's proposal from the gaps, the centre's edits, the director's validation.

The proposal reads the structure's CaRE and ANSSI assessments (a diagnostic answer counts for
the ANSSI measures its question maps to, when the measure itself was not assessed), keeps what
is not met, and orders it with ``carbet.engines.roadmap.proposal``: prerequisites first, then
the largest gaps weighted by priority and — for exposure-related requirements — by how exposed
the structure is. Proposing again refreshes Carbet's untouched proposals and never overwrites
an item someone edited.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from carbet.audit import services as audit
from carbet.core.models import Structure
from carbet.core.tenancy import SYSTEM, Actor, can
from carbet.directory.service import DIRECTORY_SOURCE
from carbet.engines.roadmap.proposal import Gap, propose
from carbet.findings.choices import OPEN_STATUSES
from carbet.findings.models import ActionItem, Finding
from carbet.roadmap import services
from carbet.roadmap.models import (
    Framework,
    ItemStatus,
    Milestone,
    Requirement,
    Roadmap,
    RoadmapItem,
    RoadmapStatus,
)
from carbet.roadmap.service import ROADMAP_SOURCE, RoadmapPerm

PROPOSAL_FRAMEWORKS = ("objectives", "measures")
MAX_LINKED_FINDINGS = 20
ITEM_FIELDS = (
    "title",
    "why",
    "how",
    "year",
    "priority",
    "status",
    "owner_label",
    "budget",
    "funding_domain",
    "funding_amount",
    "funding_deadline",
)


def roadmap_for(structure: Structure, today=None) -> Roadmap:
    today = today or timezone.localdate()
    roadmap, _created = Roadmap.objects.get_or_create(
        structure=structure, defaults={"start_year": today.year}
    )
    return roadmap


def exposure_factor(structure: Structure) -> float:
    """0–1: open critical/high findings on internet-exposed services (5 or more → 1)."""
    count = Finding.objects.filter(
        structure=structure, status__in=OPEN_STATUSES, internet_exposed=True, severity__gte=3
    ).count()
    return min(count / 5, 1.0)


def _diagnostic_scores(structure: Structure) -> dict[str, int]:
    """Mapped requirement ("framework:code") → the lowest diagnostic score pointing at it."""
    framework = Framework.objects.filter(code=services.DIAGNOSTIC_CODE).first()
    if framework is None:
        return {}
    found: dict[str, int] = {}
    answers = services.Answer.objects.filter(
        assessment__structure=structure, assessment__framework=framework, score__isnull=False
    ).select_related("requirement")
    for row in answers:
        for target in row.requirement.maps_to:
            found[target] = min(found.get(target, 3), row.score)
    return found


def gaps(structure: Structure) -> list[tuple[Requirement, Gap]]:
    """Requirements not met, as engine gaps (key = requirement pk)."""
    diagnostic = _diagnostic_scores(structure)
    found = []
    order = 0
    for framework in Framework.objects.filter(kind__in=PROPOSAL_FRAMEWORKS).order_by("code"):
        states = services.requirement_states(SYSTEM, structure, framework)
        codes = {s.requirement.code: s.requirement.pk for s in states}
        for state in states:
            order += 1
            requirement = state.requirement
            if state.met:
                continue
            score = state.score
            mapped = diagnostic.get(f"{framework.code}:{requirement.code}")
            if score is None and mapped is not None:
                score = mapped
            unanswered = state.answer is None and not state.auto_satisfied
            if framework.kind == "measures" and unanswered and mapped is None:
                continue  # 42 measures: only those the diagnostic or an answer flagged
            found.append(
                (
                    requirement,
                    Gap(
                        key=str(requirement.pk),
                        score=None if score is None else float(score),
                        priority=requirement.priority,
                        prerequisite=requirement.prerequisite,
                        exposure=requirement.exposure,
                        requires=tuple(str(codes[c]) for c in requirement.requires if c in codes),
                        order=order,
                    ),
                )
            )
    return found


def _linked_findings(structure: Structure, requirement: Requirement) -> list[Finding]:
    kinds = {rule.get("kind") for rule in requirement.auto}
    condition = Q(pk__in=[])
    if requirement.exposure:
        condition |= Q(internet_exposed=True, severity__gte=3)
    if "directory_audit" in kinds:
        condition |= Q(source=DIRECTORY_SOURCE, severity__gte=3)
    if "restore_test" in kinds:
        condition |= Q(source=ROADMAP_SOURCE, stream__scope="backups")
    return list(
        Finding.objects.filter(condition, structure=structure, status__in=OPEN_STATUSES).order_by(
            "-severity", "pk"
        )[:MAX_LINKED_FINDINGS]
    )


def propose_roadmap(actor: Actor, structure: Structure, ip: str | None = None) -> Roadmap:
    """(Re)build Carbet's proposal; keeps every item a person created or edited."""
    if not can(actor, RoadmapPerm.EDIT, structure):
        raise PermissionDenied
    with transaction.atomic():
        roadmap = roadmap_for(structure)
        found = gaps(structure)
        by_key = {gap.key: requirement for requirement, gap in found}
        ordered = propose(
            [gap for _r, gap in found], exposure=exposure_factor(structure), years=roadmap.years
        )
        kept = roadmap.items.filter(proposed=False)
        taken = set(kept.exclude(requirement=None).values_list("requirement_id", flat=True))
        roadmap.items.filter(proposed=True, status=ItemStatus.PLANNED).delete()
        taken |= set(
            roadmap.items.exclude(requirement=None).values_list("requirement_id", flat=True)
        )
        created = 0
        for proposal in ordered:
            requirement = by_key[proposal.key]
            if requirement.pk in taken:
                continue
            item = RoadmapItem.objects.create(
                roadmap=roadmap,
                structure=structure,
                title=requirement.title[:200],
                why=requirement.description,
                how=requirement.how or requirement.evidence_hint,
                requirement=requirement,
                year=roadmap.start_year + proposal.year_offset,
                rank=proposal.rank,
                priority=requirement.priority,
                funding_domain=requirement.care_domain
                if requirement.care_domain in ("D1", "D2")
                else "",
                proposed=True,
            )
            findings = _linked_findings(structure, requirement)
            if findings:
                item.findings.set(findings)
                actions = ActionItem.objects.filter(
                    structure=structure, findings__in=findings
                ).distinct()
                item.action_items.set(actions)
            created += 1
        roadmap.status = RoadmapStatus.DRAFT
        roadmap.updated_at = timezone.now()
        roadmap.save(update_fields=["status", "updated_at"])
        audit.record(actor, "roadmap.propose", roadmap, ip=ip, changes={"items": created})
    return roadmap


def _check_values(roadmap: Roadmap, values: dict[str, Any]) -> None:
    year = values.get("year")
    if year is not None and not roadmap.start_year <= year <= roadmap.end_year + 5:
        raise ValidationError(
            {
                "year": _("Choisissez une année entre %(a)s et %(b)s.")
                % {"a": roadmap.start_year, "b": roadmap.end_year + 5}
            }
        )
    for name in ("budget", "funding_amount"):
        amount = values.get(name)
        if amount is not None and Decimal(amount) < 0:
            raise ValidationError({name: _("Un montant ne peut pas être négatif.")})


def save_item(
    actor: Actor,
    roadmap: Roadmap,
    values: dict[str, Any],
    item: RoadmapItem | None = None,
    *,
    findings: list[Finding] | None = None,
    actions: list[ActionItem] | None = None,
    ip: str | None = None,
) -> RoadmapItem:
    """Create or edit an item; an edited proposal becomes the centre's own (kept on re-proposal)."""
    if not can(actor, RoadmapPerm.EDIT, roadmap.structure):
        raise PermissionDenied
    _check_values(roadmap, values)
    created = item is None
    item = item or RoadmapItem(roadmap=roadmap, structure=roadmap.structure)
    if item.roadmap_id != roadmap.pk:
        raise PermissionDenied
    for name in ITEM_FIELDS:
        if name in values and values[name] is not None:
            setattr(item, name, values[name])
    if "requirement" in values:
        item.requirement = values["requirement"]
    if created and not item.rank:
        item.rank = roadmap.items.count() + 1
    item.proposed = False
    with transaction.atomic():
        item.save()
        if findings is not None:
            item.findings.set([f for f in findings if f.structure_id == roadmap.structure_id])
        if actions is not None:
            item.action_items.set([a for a in actions if a.structure_id == roadmap.structure_id])
        Roadmap.objects.filter(pk=roadmap.pk).update(
            updated_at=timezone.now(), status=RoadmapStatus.DRAFT
        )
        audit.record(
            actor,
            "roadmap.item_create" if created else "roadmap.item_update",
            item,
            ip=ip,
            changes={k: str(values[k]) for k in values if k in ITEM_FIELDS},
        )
    return item


def delete_item(actor: Actor, item: RoadmapItem, ip: str | None = None) -> None:
    if not can(actor, RoadmapPerm.EDIT, item.structure):
        raise PermissionDenied
    with transaction.atomic():
        audit.record(actor, "roadmap.item_delete", item, ip=ip, changes={"title": item.title})
        item.delete()


def add_milestone(actor: Actor, item: RoadmapItem, title: str, due_on, ip=None) -> Milestone:
    if not can(actor, RoadmapPerm.EDIT, item.structure):
        raise PermissionDenied
    title = (title or "").strip()
    if not title:
        raise ValidationError({"title": _("Nommez le jalon.")})
    milestone = Milestone.objects.create(item=item, title=title[:200], due_on=due_on)
    audit.record(actor, "roadmap.milestone", item, ip=ip, changes={"title": title})
    return milestone


def toggle_milestone(actor: Actor, milestone: Milestone, ip=None) -> Milestone:
    if not can(actor, RoadmapPerm.EDIT, milestone.item.structure):
        raise PermissionDenied
    milestone.done_on = None if milestone.done_on else timezone.localdate()
    milestone.save(update_fields=["done_on"])
    return milestone


def validate(actor: Actor, roadmap: Roadmap, ip: str | None = None) -> Roadmap:
    """The director (or the centre for them) validates the plan: recorded and audited."""
    if not can(actor, RoadmapPerm.ANSWER, roadmap.structure):
        raise PermissionDenied
    if not roadmap.items.exists():
        raise ValidationError(_("La feuille de route est vide : proposez-la d'abord."))
    with transaction.atomic():
        roadmap.status = RoadmapStatus.VALIDATED
        roadmap.validated_by = actor if getattr(actor, "pk", None) else None
        roadmap.validated_at = timezone.now()
        roadmap.save(update_fields=["status", "validated_by", "validated_at"])
        audit.record(
            actor,
            "roadmap.validate",
            roadmap,
            ip=ip,
            changes={"items": roadmap.items.count()},
        )
    return roadmap


def items_by_year(roadmap: Roadmap) -> list[tuple[int, list[RoadmapItem]]]:
    items = list(
        roadmap.items.select_related("requirement__framework").prefetch_related("milestones")
    )
    years: dict[int, list[RoadmapItem]] = {}
    for item in items:
        years.setdefault(item.year, []).append(item)
    return sorted(years.items())


def funding_summary(roadmap: Roadmap) -> list[dict[str, Any]]:
    totals: dict[str, dict[str, Any]] = {}
    for item in roadmap.items.exclude(status=ItemStatus.CANCELLED):
        key = item.funding_domain or ""
        row = totals.setdefault(
            key,
            {
                "domain": item.get_funding_domain_display(),
                "budget": Decimal(0),
                "funded": Decimal(0),
                "items": 0,
            },
        )
        row["budget"] += item.budget or 0
        row["funded"] += item.funding_amount or 0
        row["items"] += 1
    return [totals[k] for k in sorted(totals)]

"""Reading action plans: the filtered plan of the visible structures, grouped for display.

Everything starts from ``ActionItem.objects.visible_to(actor, ACTION_VIEW)``, so a structure's
people only ever read their own plan.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from itertools import groupby

from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from carbet.accounts.roles import Perm
from carbet.core.models import Structure
from carbet.core.tenancy import Actor
from carbet.findings.models import ActionItem, ActionStatus, Priority
from carbet.findings.models.plans import OwnerKind
from carbet.findings.plans.services import LIVE_STATUSES

# Status filter values beyond the statuses themselves.
STATUS_OPEN, STATUS_ALL = "", "all"
STATUS_FILTER_CHOICES = [
    (STATUS_OPEN, _("À mener (à faire, en cours, faites)")),
    *ActionStatus.choices,
    (STATUS_ALL, _("Toutes")),
]
OWNER_ME = "me"
OWNER_FILTER_CHOICES = [
    ("", _("Tous")),
    (OWNER_ME, _("Moi")),
    *OwnerKind.choices,
]


@dataclass(frozen=True)
class PlanFilters:
    structure: int | None = None
    status: str = STATUS_OPEN
    priority: int | None = None
    owner: str = ""
    overdue: bool = False


def visible_actions(actor: Actor) -> QuerySet[ActionItem]:
    return ActionItem.objects.visible_to(actor, Perm.ACTION_VIEW).select_related(
        "structure", "owner_user", "campaign"
    )


def plan_structures(actor: Actor) -> QuerySet[Structure]:
    """Structures whose plan the actor may read (for the structure filter)."""
    return Structure.objects.visible_to(actor, Perm.ACTION_VIEW).order_by("name")


def overdue_q(today: date) -> Q:
    return Q(due_date__lt=today, status__in=LIVE_STATUSES - {ActionStatus.DONE})


def filtered_actions(actor: Actor, filters: PlanFilters, today: date) -> QuerySet[ActionItem]:
    actions = visible_actions(actor)
    if filters.structure:
        actions = actions.filter(structure_id=filters.structure)
    if filters.status == STATUS_OPEN:
        actions = actions.filter(status__in=LIVE_STATUSES)
    elif filters.status != STATUS_ALL:
        actions = actions.filter(status=filters.status)
    if filters.priority:
        actions = actions.filter(priority=filters.priority)
    if filters.owner == OWNER_ME:
        actions = actions.filter(owner_kind=OwnerKind.PERSON, owner_user_id=actor.pk)
    elif filters.owner:
        actions = actions.filter(owner_kind=filters.owner)
    if filters.overdue:
        actions = actions.filter(overdue_q(today))
    return actions.order_by("structure__name", "structure_id", "priority", "due_date", "id")


def is_overdue(action: ActionItem, today: date) -> bool:
    return (
        action.due_date is not None
        and action.due_date < today
        and action.status in (ActionStatus.TODO, ActionStatus.IN_PROGRESS)
    )


@dataclass
class PriorityGroup:
    priority: int
    label: str
    actions: list[ActionItem] = field(default_factory=list)


@dataclass
class StructurePlan:
    structure: Structure
    groups: list[PriorityGroup]

    @property
    def count(self) -> int:
        return sum(len(g.actions) for g in self.groups)


def group_by_structure(actions: list[ActionItem], today: date) -> list[StructurePlan]:
    """Actions (already ordered by structure then priority) as structure → priority groups."""
    plans = []
    for _structure_id, rows in groupby(actions, key=lambda a: a.structure_id):
        items = list(rows)
        groups = []
        for priority, in_priority in groupby(items, key=lambda a: a.priority):
            members = list(in_priority)
            for action in members:
                action.overdue = is_overdue(action, today)  # type: ignore[attr-defined]
            groups.append(PriorityGroup(priority, Priority(priority).label, members))
        plans.append(StructurePlan(items[0].structure, groups))
    return plans


@dataclass(frozen=True)
class PlanSummary:
    live: int
    p1: int
    overdue: int
    done_share: int


def summary(actions: QuerySet[ActionItem], today: date) -> PlanSummary:
    """Figures of a structure's plan for its director: what is left, what is urgent."""
    counted = actions.exclude(status=ActionStatus.CANCELLED)
    total = counted.count()
    finished = counted.filter(status__in=[ActionStatus.DONE, ActionStatus.VERIFIED]).count()
    live = counted.filter(status__in=[ActionStatus.TODO, ActionStatus.IN_PROGRESS])
    return PlanSummary(
        live=live.count(),
        p1=live.filter(priority=Priority.P1).count(),
        overdue=live.filter(due_date__lt=today).count(),
        done_share=round(100 * finished / total) if total else 0,
    )

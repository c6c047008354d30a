"""Action items of a corrective action plan: create, change, cancel, report progress.

Each function checks the actor's right on the action's structure (ACTION_EDIT to define or
cancel an action, ACTION_PROGRESS to report its progress — the IT provider may), validates,
writes, moves the linked findings along (see ``finding_status``) and appends to the audit trail.
Pages and the API call these; they never write action items themselves.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from carbet.accounts.models import User
from carbet.accounts.roles import Perm
from carbet.audit import services as audit
from carbet.core.access import require
from carbet.core.models import Structure
from carbet.core.tenancy import Actor
from carbet.findings.choices import Status
from carbet.findings.models import ActionItem, ActionStatus, Finding
from carbet.findings.models.plans import OwnerKind
from carbet.findings.plans import finding_status
from carbet.findings.plans.priority import FindingTraits, action_priority, earliest_due

FUNDING_SUGGESTIONS = ["CaRE domaine 1", "CaRE domaine 2", "budget propre", "GHT"]
ROLE_SUGGESTIONS = [
    gettext_lazy("Direction"),
    gettext_lazy("Référent cyber / RSSI"),
    gettext_lazy("Service informatique"),
    gettext_lazy("Cadre de santé"),
    gettext_lazy("Services techniques"),
]
# Statuses of an action that still carries its findings (a cancelled one releases them).
LIVE_STATUSES = frozenset({ActionStatus.TODO, ActionStatus.IN_PROGRESS, ActionStatus.DONE})
FINISHED_STATUSES = frozenset({ActionStatus.VERIFIED, ActionStatus.CANCELLED})
# What ACTION_PROGRESS may set; ``verified`` comes only from approved evidence.
PROGRESS_STATUSES = (ActionStatus.TODO, ActionStatus.IN_PROGRESS, ActionStatus.DONE)
# What a person may edit on an action item: the form's fields, the API's PATCH fields (with
# "findings") and the changes written to the audit trail all come from this one list.
EDITABLE = (
    "title",
    "why",
    "how",
    "owner_kind",
    "owner_user",
    "owner_label",
    "priority",
    "effort",
    "cost_estimate",
    "funding_source",
    "due_date",
)
# The same as stored columns (the owner compared by id, without loading the user).
EDITABLE_FIELDS = [f"{name}_id" if name == "owner_user" else name for name in EDITABLE]
MAX_TEXT = 4000


def owner_candidates(structure: Structure) -> QuerySet[User]:
    """Active people holding a membership that covers ``structure`` (possible owners)."""
    scope = Q(memberships__structure=structure) | Q(
        memberships__organisation_id=structure.organisation_id
    )
    ght_id = structure.organisation.ght_id
    if ght_id is not None:
        scope |= Q(memberships__ght_id=ght_id)
    return User.objects.filter(scope, is_active=True).distinct().order_by("full_name", "email")


def owner_display(action: ActionItem) -> str:
    """Who carries the action, in words."""
    if action.owner_kind == OwnerKind.PERSON and action.owner_user is not None:
        return str(action.owner_user)
    if action.owner_kind == OwnerKind.IT_PROVIDER:
        name = action.owner_label or _("nom à préciser")
        return _("Prestataire informatique : %(name)s") % {"name": name}
    return action.owner_label or _("À désigner")


def _check_owner(action: ActionItem) -> None:
    if action.owner_kind == OwnerKind.PERSON:
        if action.owner_user_id is None:
            raise ValidationError({"owner_user": _("Choisissez la personne responsable.")})
        if not owner_candidates(action.structure).filter(pk=action.owner_user_id).exists():
            raise ValidationError(
                {"owner_user": _("Cette personne n'a pas de rattachement à cette structure.")}
            )
        return
    action.owner_user = None
    if action.owner_kind == OwnerKind.IT_PROVIDER and not action.owner_label.strip():
        raise ValidationError(
            {"owner_label": _("Indiquez le nom du prestataire informatique.")}, code="required"
        )


def _check_values(action: ActionItem) -> None:
    errors: dict[str, str] = {}
    if not action.title.strip():
        errors["title"] = _("Donnez un titre à l'action.")
    if action.cost_estimate is not None and action.cost_estimate < 0:
        errors["cost_estimate"] = _("Le coût ne peut pas être négatif.")
    if not 0 <= int(action.progress) <= 100:
        errors["progress"] = _("L'avancement est un pourcentage entre 0 et 100.")
    for name in ("why", "how"):
        if len(getattr(action, name)) > MAX_TEXT:
            errors[name] = _("Texte trop long : %(max)s caractères au plus.") % {"max": MAX_TEXT}
    if errors:
        raise ValidationError(errors)
    action.full_clean(exclude=["structure", "campaign", "created_by", "owner_user"])
    _check_owner(action)


def check_same_structure(structure: Structure, findings: Sequence[Finding]) -> None:
    """Refuse any finding that belongs to another structure than the action's."""
    if any(f.structure_id != structure.pk for f in findings):
        raise ValidationError(
            {"findings": _("Une action ne peut porter que sur les vulnérabilités de sa structure.")}
        )


def _snapshot(action: ActionItem) -> dict[str, Any]:
    return {name: getattr(action, name) for name in EDITABLE_FIELDS}


def _diff(action: ActionItem, before: dict[str, Any]) -> dict[str, list[Any]]:
    return {
        name: [before.get(name), getattr(action, name)]
        for name in EDITABLE_FIELDS
        if before.get(name) != getattr(action, name)
    }


def _status_for_linked(action: ActionItem) -> tuple[str, frozenset[str], str]:
    """Target status, allowed sources and reason for findings joining ``action``."""
    if action.status == ActionStatus.DONE:
        return (
            Status.MITIGATION_CLAIMED,
            finding_status.TO_CLAIMED_FROM,
            _("Correction déclarée par l'action « %(title)s ».") % {"title": action.title},
        )
    return (
        Status.IN_REMEDIATION,
        finding_status.TO_REMEDIATION_FROM,
        _("Prise en charge par l'action « %(title)s ».") % {"title": action.title},
    )


def _take_findings(
    actor: Actor, action: ActionItem, findings: Iterable[Finding], ip: str | None, now: datetime
) -> None:
    to_status, allowed, reason = _status_for_linked(action)
    finding_status.move(actor, findings, to_status, reason, allowed_from=allowed, ip=ip, now=now)


def _release_findings(
    actor: Actor,
    action: ActionItem,
    findings: Iterable[Finding],
    reason: str,
    ip: str | None,
    now: datetime,
) -> None:
    """Findings no live action carries any more go back to *confirmed*."""
    candidates = [f for f in findings if f.status in finding_status.BACK_TO_CONFIRMED_FROM]
    if not candidates:
        return
    still_carried = set(
        ActionItem.findings.through.objects.filter(
            finding_id__in=[f.pk for f in candidates],
            actionitem__status__in=LIVE_STATUSES,
        )
        .exclude(actionitem_id=action.pk)
        .values_list("finding_id", flat=True)
    )
    released = [f for f in candidates if f.pk not in still_carried]
    finding_status.move(
        actor,
        released,
        Status.CONFIRMED,
        reason,
        allowed_from=finding_status.BACK_TO_CONFIRMED_FROM,
        ip=ip,
        now=now,
    )


@transaction.atomic
def create_action(
    actor: Actor,
    action: ActionItem,
    findings: Sequence[Finding] = (),
    *,
    ip: str | None = None,
    now: datetime | None = None,
) -> ActionItem:
    """Record a new action on its structure, linked to ``findings`` (put in remediation)."""
    require(actor, Perm.ACTION_EDIT, action.structure)
    now = now or timezone.now()
    findings = list(findings)
    check_same_structure(action.structure, findings)
    action.status = ActionStatus.TODO
    action.created_by = actor if getattr(actor, "pk", None) else None
    action.created_at = now
    _check_values(action)
    action.save()
    action.findings.set(findings)
    _take_findings(actor, action, findings, ip, now)
    audit.record(
        actor,
        "action.create",
        action,
        changes={
            **{name: [None, value] for name, value in _snapshot(action).items() if value},
            "findings": [f.pk for f in findings],
            "campaign": action.campaign_id,
        },
        ip=ip,
    )
    return action


@transaction.atomic
def update_action(
    actor: Actor,
    action: ActionItem,
    findings: Sequence[Finding] | None = None,
    *,
    ip: str | None = None,
    now: datetime | None = None,
) -> ActionItem:
    """Save the edited fields of ``action`` (and its findings when given); audited with a diff."""
    require(actor, Perm.ACTION_EDIT, action.structure)
    if action.status in FINISHED_STATUSES:
        raise ValidationError(_("Une action vérifiée ou abandonnée ne se modifie plus."))
    now = now or timezone.now()
    before = _snapshot(ActionItem.objects.get(pk=action.pk))
    _check_values(action)
    action.save()
    changes: dict[str, Any] = _diff(action, before)
    if findings is not None:
        findings = list(findings)
        check_same_structure(action.structure, findings)
        current = {f.pk: f for f in action.findings.all()}
        wanted = {f.pk: f for f in findings}
        added = [f for pk, f in wanted.items() if pk not in current]
        removed = [f for pk, f in current.items() if pk not in wanted]
        if added or removed:
            action.findings.set(findings)
            _take_findings(actor, action, added, ip, now)
            _release_findings(
                actor,
                action,
                removed,
                _("Retirée de l'action « %(title)s ».") % {"title": action.title},
                ip,
                now,
            )
            changes["findings"] = {
                "added": sorted(f.pk for f in added),
                "removed": sorted(f.pk for f in removed),
            }
    if changes:
        audit.record(actor, "action.update", action, changes=changes, ip=ip)
    return action


@transaction.atomic
def cancel_action(
    actor: Actor,
    action: ActionItem,
    reason: str,
    *,
    ip: str | None = None,
    now: datetime | None = None,
) -> ActionItem:
    """Abandon an action, with the reason; its findings no other action carries are released."""
    require(actor, Perm.ACTION_EDIT, action.structure)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Expliquez pourquoi l'action est abandonnée.")})
    if action.status in FINISHED_STATUSES:
        raise ValidationError(_("Cette action est déjà vérifiée ou abandonnée."))
    now = now or timezone.now()
    previous = action.status
    action.status = ActionStatus.CANCELLED
    action.status_reason = reason[:MAX_TEXT]
    action.save(update_fields=["status", "status_reason"])
    _release_findings(
        actor,
        action,
        list(action.findings.all()),
        _("L'action « %(title)s » est abandonnée : %(reason)s")
        % {"title": action.title, "reason": reason},
        ip,
        now,
    )
    audit.record(
        actor,
        "action.cancel",
        action,
        changes={"status": [previous, action.status], "reason": reason},
        ip=ip,
    )
    return action


@transaction.atomic
def update_progress(
    actor: Actor,
    action: ActionItem,
    *,
    progress: int | None = None,
    status: str | None = None,
    note: str = "",
    ip: str | None = None,
    now: datetime | None = None,
) -> ActionItem:
    """Report progress (ACTION_PROGRESS: the IT provider may). Claiming *done* marks the linked
    findings *mitigation claimed*; going back from *done* puts them in remediation again."""
    require(actor, Perm.ACTION_PROGRESS, action.structure)
    if action.status in FINISHED_STATUSES:
        raise ValidationError(_("Cette action est déjà vérifiée ou abandonnée."))
    if status is not None and status not in PROGRESS_STATUSES:
        raise ValidationError(
            {"status": _("Seule la validation d'une preuve rend une action « vérifiée ».")}
        )
    if progress is not None and not 0 <= int(progress) <= 100:
        raise ValidationError({"progress": _("L'avancement est un pourcentage entre 0 et 100.")})
    now = now or timezone.now()
    before = {"status": action.status, "progress": action.progress}
    new_status = status or action.status
    new_progress = action.progress if progress is None else int(progress)
    if status is None and new_status == ActionStatus.TODO and new_progress > 0:
        new_status = ActionStatus.IN_PROGRESS
    if new_status == ActionStatus.DONE:
        new_progress = 100
    elif new_status == ActionStatus.TODO:
        new_progress = 0
    action.status, action.progress = new_status, new_progress
    claimed = new_status == ActionStatus.DONE and before["status"] != ActionStatus.DONE
    unclaimed = before["status"] == ActionStatus.DONE and new_status != ActionStatus.DONE
    if claimed:
        action.completed_at = now
    elif unclaimed:
        action.completed_at = None
    action.save(update_fields=["status", "progress", "completed_at"])
    findings = list(action.findings.all())
    if claimed:
        finding_status.move(
            actor,
            findings,
            Status.MITIGATION_CLAIMED,
            _("Correction déclarée : action « %(title)s » faite.") % {"title": action.title},
            allowed_from=finding_status.TO_CLAIMED_FROM,
            ip=ip,
            now=now,
        )
    elif unclaimed:
        finding_status.move(
            actor,
            findings,
            Status.IN_REMEDIATION,
            _("L'action « %(title)s » n'est plus déclarée faite.") % {"title": action.title},
            allowed_from=finding_status.BACK_TO_REMEDIATION_FROM,
            ip=ip,
            now=now,
        )
    changes = {
        name: [before[name], getattr(action, name)]
        for name in ("status", "progress")
        if before[name] != getattr(action, name)
    }
    if note.strip():
        changes["note"] = note.strip()[:MAX_TEXT]
    audit.record(actor, "action.progress", action, changes=changes, ip=ip)
    return action


# --- Actions built from selected findings ---------------------------------------------------


def _traits(finding: Finding) -> FindingTraits:
    return FindingTraits(
        severity=finding.severity,
        kev=finding.kev,
        internet_exposed=finding.internet_exposed,
        sla_due=finding.sla_due,
    )


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def draft_from_findings(structure: Structure, findings: Sequence[Finding]) -> ActionItem:
    """An unsaved action pre-filled from ``findings``: title, why and how from theirs, priority
    from severity, KEV and exposure, deadline the earliest of their SLA deadlines."""
    traits = [_traits(f) for f in findings]
    if len(findings) == 1:
        only = findings[0]
        title, why, how = only.title, only.description, only.remediation
    else:
        title = _("Corriger %(count)s vulnérabilités : %(first)s") % {
            "count": len(findings),
            "first": findings[0].title,
        }
        why = "\n".join(
            f"- {f.title}" + (f" : {f.description}" if f.description else "") for f in findings
        )
        remedies = list(dict.fromkeys(f.remediation.strip() for f in findings if f.remediation))
        how = "\n\n".join(remedies)
    return ActionItem(
        structure=structure,
        title=_clip(title, 200),
        why=_clip(why, MAX_TEXT),
        how=_clip(how, MAX_TEXT),
        owner_kind=OwnerKind.ROLE,
        priority=action_priority(traits),
        due_date=earliest_due(traits),
    )


def findings_for(actor: Actor, finding_ids: Iterable[int]) -> tuple[Structure, list[Finding]]:
    """The visible findings ``finding_ids``, all of ONE structure; refused otherwise."""
    ids = sorted({int(pk) for pk in finding_ids})
    if not ids:
        raise ValidationError({"findings": _("Sélectionnez au moins une vulnérabilité.")})
    findings = list(
        Finding.objects.visible_to(actor, Perm.FINDINGS_DETAIL)
        .filter(pk__in=ids)
        .select_related("structure__organisation")
        .order_by("-severity", "sla_due", "id")
    )
    if len(findings) != len(ids):
        raise ValidationError(
            {"findings": _("Une vulnérabilité choisie n'existe pas ou ne vous est pas accessible.")}
        )
    structures = {f.structure_id for f in findings}
    if len(structures) != 1:
        raise ValidationError(
            {
                "findings": _(
                    "Choisissez les vulnérabilités d'une seule structure : un plan d'action "
                    "appartient à une structure."
                )
            }
        )
    return findings[0].structure, findings


@transaction.atomic
def create_from_findings(
    actor: Actor,
    finding_ids: Iterable[int],
    *,
    grouped: bool,
    overrides: dict[str, Any] | None = None,
    ip: str | None = None,
    now: datetime | None = None,
) -> list[ActionItem]:
    """One action covering all the selected findings (``grouped``) or one per finding.

    ``overrides`` (owner, effort, funding…) apply to every action created; with ``grouped``
    they may also replace the pre-filled title, why and how.
    """
    require(actor, Perm.ACTION_EDIT)  # anywhere first: no hint about ids to those without it
    structure, findings = findings_for(actor, finding_ids)
    require(actor, Perm.ACTION_EDIT, structure)
    now = now or timezone.now()
    overrides = dict(overrides or {})
    if not grouped:
        for name in ("title", "why", "how", "priority", "due_date"):
            overrides.pop(name, None)
    groups = [findings] if grouped else [[f] for f in findings]
    created = []
    for group in groups:
        action = draft_from_findings(structure, group)
        for name, value in overrides.items():
            if value not in (None, ""):
                setattr(action, name, value)
        created.append(create_action(actor, action, group, ip=ip, now=now))
    audit.record(
        actor,
        "action.create_from_findings",
        structure,
        structure=structure,
        changes={
            "grouped": grouped,
            "findings": [f.pk for f in findings],
            "actions": [a.pk for a in created],
        },
        ip=ip,
    )
    return created

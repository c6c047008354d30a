"""Crisis service: reporting an incident, qualifying it, opening a case, its cell and phases.

Every function takes the acting person (``Actor``) first and checks the right itself, so pages,
the API and the CLI share one gate. Sensitive actions go to the audit trail.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from carbet.accounts.models import Membership
from carbet.accounts.roles import StructureRole
from carbet.audit import services as audit
from carbet.core.access import refusal, require
from carbet.core.choices import ContactRole
from carbet.core.models import Structure
from carbet.core.tenancy import Actor, SystemActor, grants
from carbet.crisis import library
from carbet.crisis.choices import (
    Cell,
    CellRole,
    EntryKind,
    ObligationKind,
    Phase,
    Qualification,
    ReportStatus,
    StakeholderKind,
)
from carbet.crisis.models import (
    Activity,
    CellMember,
    ChecklistItem,
    CrisisCase,
    IncidentReport,
    Obligation,
    PhaseChange,
    Stakeholder,
    Task,
)
from carbet.crisis.service import CrisisPerm
from carbet.engines.crisis import clock, phases

# Who to call, with the names a structure rarely has at hand (its own contacts fill the rest).
DEFAULT_STAKEHOLDERS = {
    StakeholderKind.CERT_SANTE: ("CERT Santé", "Agence du numérique en santé"),
    StakeholderKind.ARS: ("Point focal régional", "Agence régionale de santé"),
    StakeholderKind.CNIL: ("Service des notifications", "CNIL"),
    StakeholderKind.POLICE: ("Plainte", "Police ou gendarmerie"),
}


def actor_label(actor: Actor) -> str:
    if isinstance(actor, SystemActor):
        return str(actor)
    name = getattr(actor, "get_full_name", lambda: "")() or ""
    email = getattr(actor, "email", "") or str(actor)
    return f"{name} <{email}>" if name else email


def require_case(actor: Actor, case: CrisisCase, perm: Any = CrisisPerm.CONTRIBUTE) -> None:
    """403 unless ``actor`` sees ``case`` (centre, or a member of its cell) with ``perm``."""
    if grants(actor, perm).everything:  # the centre and the platform: no query needed
        return
    if not CrisisCase.objects.visible_to(actor, perm).filter(pk=case.pk).exists():
        raise refusal()


def report_incident(
    actor: Actor,
    structure: Structure,
    *,
    what: str,
    contact_name: str,
    contact_phone: str,
    since: dt.datetime | None = None,
    affected: str = "",
    contact_email: str = "",
    now: dt.datetime | None = None,
) -> IncidentReport:
    """A structure's director or referent reports an incident; the centre is told at once."""
    require(actor, CrisisPerm.REPORT, structure)
    report = IncidentReport.objects.create(
        structure=structure,
        reported_by=actor if getattr(actor, "pk", None) else None,
        reported_at=now or timezone.now(),
        what=what.strip(),
        since=since,
        affected=affected.strip(),
        contact_name=contact_name.strip(),
        contact_phone=contact_phone.strip(),
        contact_email=contact_email.strip(),
    )
    audit.record(actor, "crisis.report", report, structure=structure)
    from carbet.crisis.notifications import notify_centre_of_report

    notify_centre_of_report(report)
    return report


def qualify_report(
    actor: Actor,
    report: IncidentReport,
    *,
    qualification: str,
    severity: int,
    personal_data: bool,
    category: str,
    note: str = "",
    aware_at: dt.datetime | None = None,
    open_case: bool = True,
    insurer_delay_hours: int | None = None,
    now: dt.datetime | None = None,
) -> CrisisCase | None:
    """The centre qualifies a report; unless it is dismissed, a case opens from the template."""
    require(actor, CrisisPerm.MANAGE, report.structure)
    if report.status != ReportStatus.NEW:
        raise ValueError(_("Ce signalement a déjà été traité."))
    now = now or timezone.now()
    with transaction.atomic():
        report.qualification = qualification
        report.severity = severity
        report.personal_data = personal_data
        report.category = category
        report.qualification_note = note
        report.qualified_by = actor if getattr(actor, "pk", None) else None
        report.qualified_at = now
        report.status = ReportStatus.QUALIFIED if open_case else ReportStatus.DISMISSED
        report.save()
        audit.record(
            actor,
            "crisis.qualify",
            report,
            changes={"qualification": qualification, "severity": severity, "open": open_case},
        )
        if not open_case:
            return None
        return open_case_for(
            actor,
            report.structure,
            category=category,
            qualification=qualification,
            severity=severity,
            personal_data=personal_data,
            aware_at=aware_at or report.since or report.reported_at,
            report=report,
            reason=note or _("Qualification par le centre"),
            insurer_delay_hours=insurer_delay_hours,
            now=now,
        )


def _next_reference(now: dt.datetime) -> str:
    prefix = f"CR-{now:%Y}-"
    last = (
        CrisisCase.objects.filter(reference__startswith=prefix)
        .order_by("-reference")
        .values_list("reference", flat=True)
        .first()
    )
    number = int(last.rsplit("-", 1)[1]) + 1 if last else 1
    return f"{prefix}{number:04d}"


def open_case_for(
    actor: Actor,
    structure: Structure,
    *,
    category: str,
    qualification: str = Qualification.CRISIS,
    severity: int = 3,
    personal_data: bool = False,
    title: str = "",
    aware_at: dt.datetime | None = None,
    report: IncidentReport | None = None,
    reason: str = "",
    insurer_delay_hours: int | None = None,
    now: dt.datetime | None = None,
) -> CrisisCase:
    """Open a case from the template ``category``: tasks, checklists, contacts, board,
    declarations. With a report, the alert phase ran from the report to now."""
    require(actor, CrisisPerm.MANAGE, structure)
    template = library.get(category)
    now = now or timezone.now()
    opened_at = report.reported_at if report else now
    for _attempt in range(3):
        try:
            with transaction.atomic():
                case = CrisisCase.objects.create(
                    structure=structure,
                    report=report,
                    reference=_next_reference(now),
                    title=title or f"{template.title} — {structure.name}"[:200],
                    category=category,
                    template_version=template.version,
                    qualification=qualification,
                    severity=severity,
                    personal_data=personal_data,
                    aware_at=aware_at or opened_at,
                    insurer_delay_hours=insurer_delay_hours,
                    opened_at=opened_at,
                    phase_since=opened_at,
                    opened_by=actor if getattr(actor, "pk", None) else None,
                )
                break
        except IntegrityError:  # two cases opened at once took the same reference
            continue
    else:
        raise RuntimeError("could not allocate a case reference")
    with transaction.atomic():
        _seed_cell(case, report)
        _seed_from_template(case, template, now)
        _seed_stakeholders(case, template)
        refresh_obligations(case, now=now)
        audit.record(actor, "crisis.open", case, changes={"category": category})
        from carbet.crisis.services_log import append_entry

        append_entry(
            actor,
            case,
            kind=EntryKind.FACT,
            text=_("Dossier ouvert (%(kind)s, gravité %(severity)s) à partir du modèle « %(t)s ».")
            % {
                "kind": case.get_qualification_display(),
                "severity": case.get_severity_display(),
                "t": template.title,
            },
            source=_("Centre de ressources cyber"),
            event_at=now,
            now=now,
        )
        if report is not None:
            _record_phase(actor, case, Phase.QUALIFICATION, reason or _("Qualification"), now)
    return case


def _covering_users(structure: Structure) -> list[Any]:
    memberships = Membership.objects.filter(
        Q(structure=structure)
        | Q(organisation_id=structure.organisation_id)
        | Q(ght_id=structure.organisation.ght_id, ght__isnull=False),
        role__in=[StructureRole.DIRECTOR, StructureRole.REFERENT],
        user__is_active=True,
    ).select_related("user")
    return [(m.user, m.role) for m in memberships]


def _seed_cell(case: CrisisCase, report: IncidentReport | None) -> None:
    """The structure's directors and referents (accounts), its contacts, the reporter."""
    seen_users: set[int] = set()
    seen_emails: set[str] = set()
    people = _covering_users(case.structure)
    if report is not None and report.reported_by is not None:
        people.append((report.reported_by, StructureRole.REFERENT))
    for user, role in people:
        if user.pk in seen_users:
            continue
        seen_users.add(user.pk)
        seen_emails.add(user.email.lower())
        CellMember.objects.create(
            case=case,
            user=user,
            name=user.get_full_name() or user.email,
            email=user.email,
            role=CellRole.DIRECTOR if role == StructureRole.DIRECTOR else CellRole.REFERENT,
            cell=Cell.STRATEGIC if role == StructureRole.DIRECTOR else Cell.OPERATIONAL,
        )
    roles = {
        ContactRole.DIRECTOR: (CellRole.DIRECTOR, Cell.STRATEGIC),
        ContactRole.CYBER_REFERENT: (CellRole.REFERENT, Cell.OPERATIONAL),
        ContactRole.DPO: (CellRole.OTHER, Cell.OPERATIONAL),
    }
    for contact in case.structure.contacts.filter(role__in=list(roles)):
        if contact.email and contact.email.lower() in seen_emails:
            continue
        seen_emails.add(contact.email.lower())
        role, cell = roles[contact.role]
        CellMember.objects.create(
            case=case,
            name=contact.name,
            email=contact.email,
            phone=contact.phone,
            role=role,
            cell=cell,
        )


def _seed_from_template(case: CrisisCase, template: Any, now: dt.datetime) -> None:
    Task.objects.bulk_create(
        Task(
            case=case,
            workstream=spec.workstream,
            phase=spec.phase,
            title=spec.title[:300],
            detail=spec.detail,
            owner=spec.owner[:200],
            priority=spec.priority,
            due_at=now + dt.timedelta(hours=spec.due_hours) if spec.due_hours else None,
            created_at=now,
            updated_at=now,
        )
        for spec in template.tasks
    )
    ChecklistItem.objects.bulk_create(
        ChecklistItem(
            case=case,
            checklist=checklist.code,
            checklist_title=checklist.title[:200],
            position=position,
            label=label[:300],
        )
        for checklist in template.checklists
        for position, label in enumerate(checklist.items)
    )
    Activity.objects.bulk_create(
        Activity(case=case, name=name, position=position, since=now, updated_at=now)
        for position, name in enumerate(template.activities)
    )


def _seed_stakeholders(case: CrisisCase, template: Any) -> None:
    """The template's contacts, filled from the structure's own contacts where it has them."""
    contacts = {c.role: c for c in case.structure.contacts.all()}
    for spec in template.contacts:
        kind = spec.kind
        if case.stakeholders.filter(kind=kind).exists():
            continue
        contact = contacts.get(ContactRole.IT_PROVIDER) if kind == "it_provider" else None
        if contact is not None:
            name, organisation = contact.name, contact.organisation_name
        else:
            name, organisation = DEFAULT_STAKEHOLDERS.get(kind, (StakeholderKind(kind).label, ""))
        Stakeholder.objects.create(
            case=case,
            kind=kind,
            name=str(name)[:200],
            organisation=str(organisation)[:200],
            phone=contact.phone if contact else "",
            email=contact.email if contact else "",
            notes=spec.why,
            from_contact_id=contact.pk if contact else None,
        )


def clock_facts(case: CrisisCase) -> clock.Facts:
    qualified = case.report.qualified_at if case.report_id and case.report else case.opened_at
    return clock.Facts(
        aware_at=case.aware_at,
        qualified_at=qualified,
        personal_data=case.personal_data,
        insurer_delay_hours=case.insurer_delay_hours,
    )


def refresh_obligations(case: CrisisCase, *, now: dt.datetime | None = None) -> None:
    """(Re)compute the due times from the case's facts; what was sent stays as it was."""
    from carbet.crisis.services_clock import prefill

    for due in clock.obligations(clock_facts(case)):
        obligation, _created = Obligation.objects.get_or_create(
            case=case, kind=ObligationKind(due.kind)
        )
        if obligation.sent_at is None:
            obligation.due_at = due.due_at
            obligation.basis = due.basis
            obligation.applicable = (
                due.applicable if due.kind == clock.CNIL else (obligation.applicable)
            )
            obligation.content = prefill(case, due.kind)
            obligation.save()


def update_facts(
    actor: Actor,
    case: CrisisCase,
    *,
    personal_data: bool | None = None,
    aware_at: dt.datetime | None = None,
    insurer_delay_hours: int | None = None,
    severity: int | None = None,
) -> CrisisCase:
    """Correct what the clock relies on (personal data found later, the contract's delay)."""
    require_case(actor, case, CrisisPerm.MANAGE)
    changes: dict[str, Any] = {}
    for name, value in (
        ("personal_data", personal_data),
        ("aware_at", aware_at),
        ("insurer_delay_hours", insurer_delay_hours),
        ("severity", severity),
    ):
        if value is not None and getattr(case, name) != value:
            changes[name] = str(value)
            setattr(case, name, value)
    if changes:
        with transaction.atomic():
            case.save()
            refresh_obligations(case)
            audit.record(actor, "crisis.facts", case, changes=changes)
    return case


def _record_phase(
    actor: Actor, case: CrisisCase, target: str, reason: str, now: dt.datetime
) -> PhaseChange:
    from carbet.crisis.services_log import append_entry

    change = PhaseChange.objects.create(
        case=case,
        from_phase=case.phase,
        to_phase=target,
        at=now,
        by=actor if getattr(actor, "pk", None) else None,
        by_label=actor_label(actor),
        reason=reason,
    )
    case.phase = target
    case.phase_since = now
    if target == Phase.CLOSED:
        case.closed_at = now
    case.save(update_fields=["phase", "phase_since", "closed_at"])
    append_entry(
        actor,
        case,
        kind=EntryKind.SITUATION,
        text=_("Passage en phase « %(phase)s » : %(reason)s")
        % {"phase": Phase(target).label, "reason": reason},
        event_at=now,
        now=now,
    )
    audit.record(actor, "crisis.phase", case, changes={"from": change.from_phase, "to": target})
    return change


def change_phase(
    actor: Actor,
    case: CrisisCase,
    target: str,
    *,
    reason: str,
    now: dt.datetime | None = None,
) -> PhaseChange:
    """Move the case to another phase; ``ValueError`` (French) when not allowed."""
    require_case(actor, case, CrisisPerm.MANAGE)
    try:
        phases.check_change(case.phase, target, reason)
    except phases.PhaseError as exc:
        raise ValueError(_phase_message(exc.code)) from None
    with transaction.atomic():
        return _record_phase(actor, case, target, reason.strip(), now or timezone.now())


def _phase_message(code: str) -> str:
    return {
        "unknown": _("Phase inconnue."),
        "same": _("Le dossier est déjà dans cette phase."),
        "closed": _("Un dossier clos ne change plus de phase."),
        "back_to_alert": _("Un dossier ne revient pas à la phase d'alerte."),
        "reason": _("Indiquez le motif du changement de phase."),
    }.get(code, code)


def phase_durations(case: CrisisCase, *, now: dt.datetime | None = None) -> dict[str, dt.timedelta]:
    changes = [
        phases.Change(at, to)
        for at, to in case.phase_changes.order_by("at", "pk").values_list("at", "to_phase")
    ]
    return phases.durations(case.opened_at, changes, now or timezone.now())


def add_cell_member(
    actor: Actor,
    case: CrisisCase,
    *,
    name: str,
    role: str,
    cell: str = Cell.STRATEGIC,
    user: Any = None,
    email: str = "",
    phone: str = "",
    notify: bool = True,
) -> CellMember:
    """Add someone to the cell. An account must hold a role on the case's structure (or be
    centre staff): the cell never opens a case to a stranger."""
    require_case(actor, case, CrisisPerm.CONTRIBUTE)
    if user is not None and not _may_join(user, case):
        raise ValueError(_("Ce compte n'a pas de rôle sur cette structure."))
    member = CellMember.objects.create(
        case=case,
        user=user,
        name=name.strip() or (user.email if user else ""),
        email=email or (user.email if user else ""),
        phone=phone,
        role=role,
        cell=cell,
        notify=notify,
    )
    audit.record(actor, "crisis.cell_add", case, changes={"member": member.name, "role": role})
    return member


def _may_join(user: Any, case: CrisisCase) -> bool:
    from carbet.core.tenancy import can

    return can(user, CrisisPerm.VIEW, case.structure)


def deactivate_cell_member(actor: Actor, member: CellMember) -> CellMember:
    require_case(actor, member.case, CrisisPerm.CONTRIBUTE)
    member.active = False
    member.save(update_fields=["active"])
    audit.record(actor, "crisis.cell_remove", member.case, changes={"member": member.name})
    return member

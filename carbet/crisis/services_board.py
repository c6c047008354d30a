"""The care continuity board and the stakeholders: activities' modes, assets' remediation
states, who is involved and who was called when (each change is a line of the log)."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from carbet.audit import services as audit
from carbet.core.models import Asset
from carbet.core.tenancy import Actor
from carbet.crisis.choices import ActivityMode, AssetState, EntryKind, StakeholderKind
from carbet.crisis.models import Activity, CrisisAsset, CrisisCase, LogEntry, Stakeholder
from carbet.crisis.service import CrisisPerm
from carbet.crisis.services import require_case
from carbet.crisis.services_log import append_entry


def add_stakeholder(
    actor: Actor,
    case: CrisisCase,
    *,
    kind: str,
    name: str,
    organisation: str = "",
    phone: str = "",
    email: str = "",
    qualification_ref: str = "",
    notes: str = "",
) -> Stakeholder:
    require_case(actor, case, CrisisPerm.CONTRIBUTE)
    if kind not in StakeholderKind.values:
        raise ValueError(_("Type de partie prenante inconnu."))
    if not name.strip():
        raise ValueError(_("Indiquez un nom."))
    stakeholder = Stakeholder.objects.create(
        case=case,
        kind=kind,
        name=name.strip()[:200],
        organisation=organisation.strip()[:200],
        phone=phone.strip()[:30],
        email=email.strip(),
        qualification_ref=qualification_ref.strip()[:100],
        notes=notes.strip(),
    )
    audit.record(actor, "crisis.stakeholder_add", case, changes={"kind": kind})
    return stakeholder


def update_stakeholder(actor: Actor, stakeholder: Stakeholder, **fields: str) -> Stakeholder:
    require_case(actor, stakeholder.case, CrisisPerm.CONTRIBUTE)
    allowed = {"name", "organisation", "phone", "email", "qualification_ref", "notes"}
    for key, value in fields.items():
        if key not in allowed:
            raise ValueError(key)
        setattr(stakeholder, key, value.strip())
    stakeholder.save()
    return stakeholder


def record_call(
    actor: Actor,
    stakeholder: Stakeholder,
    *,
    text: str,
    event_at: dt.datetime | None = None,
    now: dt.datetime | None = None,
) -> LogEntry:
    """A call or message to or from a stakeholder: a communication line of the log."""
    label = f"{stakeholder.get_kind_display()} — {stakeholder}"
    return append_entry(
        actor,
        stakeholder.case,
        kind=EntryKind.COMMUNICATION,
        text=_("Échange avec %(who)s : %(text)s") % {"who": label, "text": text.strip()},
        event_at=event_at,
        source=str(stakeholder)[:200],
        stakeholder=stakeholder,
        verified=True,
        now=now,
    )


def add_activity(
    actor: Actor,
    case: CrisisCase,
    *,
    name: str,
    mode: str = ActivityMode.NORMAL,
    procedure: str = "",
    impact: str = "",
    now: dt.datetime | None = None,
) -> Activity:
    require_case(actor, case, CrisisPerm.CONTRIBUTE)
    if not name.strip():
        raise ValueError(_("Indiquez l'activité."))
    if mode not in ActivityMode.values:
        raise ValueError(_("Fonctionnement inconnu."))
    now = now or timezone.now()
    position = case.activities.count()
    return Activity.objects.create(
        case=case,
        name=name.strip()[:120],
        position=position,
        mode=mode,
        since=now,
        procedure=procedure.strip()[:300],
        impact=impact.strip(),
        updated_at=now,
    )


def set_activity_mode(
    actor: Actor,
    activity: Activity,
    *,
    mode: str,
    procedure: str = "",
    impact: str = "",
    since: dt.datetime | None = None,
    now: dt.datetime | None = None,
) -> Activity:
    """Normal, degraded or stopped since when, under which procedure; logged when it moves."""
    require_case(actor, activity.case, CrisisPerm.CONTRIBUTE)
    if mode not in ActivityMode.values:
        raise ValueError(_("Fonctionnement inconnu."))
    now = now or timezone.now()
    changed = mode != activity.mode
    activity.procedure = procedure.strip()[:300]
    activity.impact = impact.strip()
    activity.updated_at = now
    if changed:
        activity.mode = mode
        activity.since = since or now
    with transaction.atomic():
        activity.save()
        if changed:
            append_entry(
                actor,
                activity.case,
                kind=EntryKind.SITUATION,
                text=_("%(activity)s : fonctionnement %(mode)s%(procedure)s.")
                % {
                    "activity": activity.name,
                    "mode": ActivityMode(mode).label.lower(),
                    "procedure": (_(" (procédure : %(p)s)") % {"p": activity.procedure})
                    if activity.procedure
                    else "",
                },
                event_at=activity.since,
                verified=True,
                now=now,
            )
    return activity


def add_asset(
    actor: Actor,
    case: CrisisCase,
    *,
    label: str = "",
    asset: Asset | None = None,
    state: str = AssetState.COMPROMISED,
    note: str = "",
    now: dt.datetime | None = None,
) -> CrisisAsset:
    """A system in the perimeter; a registry asset must be the case's structure's own."""
    require_case(actor, case, CrisisPerm.CONTRIBUTE)
    if asset is not None and asset.structure_id != case.structure_id:
        raise ValueError(_("Cet actif n'appartient pas à la structure du dossier."))
    if state not in AssetState.values:
        raise ValueError(_("État inconnu."))
    label = (label or (asset.label or asset.value if asset else "")).strip()
    if not label:
        raise ValueError(_("Indiquez le système."))
    return CrisisAsset.objects.create(
        case=case,
        asset=asset,
        label=label[:200],
        state=state,
        since=now or timezone.now(),
        note=note.strip()[:300],
    )


def set_asset_state(
    actor: Actor,
    crisis_asset: CrisisAsset,
    *,
    state: str,
    note: str = "",
    now: dt.datetime | None = None,
) -> CrisisAsset:
    """compromised → isolated → cleaned → restored → verified (a step back is allowed: a
    restored system found infected again); each change is logged."""
    require_case(actor, crisis_asset.case, CrisisPerm.CONTRIBUTE)
    if state not in AssetState.values:
        raise ValueError(_("État inconnu."))
    if state == crisis_asset.state:
        return crisis_asset
    now = now or timezone.now()
    previous = AssetState(crisis_asset.state).label
    crisis_asset.state = state
    crisis_asset.since = now
    crisis_asset.note = note.strip()[:300] or crisis_asset.note
    with transaction.atomic():
        crisis_asset.save()
        append_entry(
            actor,
            crisis_asset.case,
            kind=EntryKind.ACTION,
            text=_("%(asset)s : %(before)s → %(after)s.")
            % {"asset": crisis_asset.label, "before": previous, "after": AssetState(state).label},
            event_at=now,
            verified=True,
            now=now,
        )
    return crisis_asset

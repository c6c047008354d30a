"""The medico-social track: where each EHPAD or disability care structure stands, what it
should do next and who can help; marks of the ten essentials; steps the centre pushes.

An essential is *measured* when Carbet has a recent result for it (the directory audit for
passwords, the backup register, the mail scan, the phishing simulations, the care record's
security decision here): the measure wins over the structure's own mark, like the measures of
a service. The others are marked by the structure. The state of every structure is stored
(``TrackStatus``) so the region's page reads rows, not the whole region's results.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from carbet.audit import services as audit
from carbet.bydesign.bulk import update_many
from carbet.bydesign.choices import MeasureStatus, ServiceKind
from carbet.bydesign.facts import facts_for
from carbet.bydesign.models import Decision, DigitalService, TrackMark, TrackPush, TrackStatus
from carbet.bydesign.service import BydesignPerm
from carbet.core.access import require, require_centre
from carbet.core.choices import MEDICO_SOCIAL_CATEGORIES
from carbet.core.models import Structure
from carbet.core.tenancy import Actor
from carbet.engines.bydesign import track
from carbet.engines.bydesign.auto import Facts, worst_status
from carbet.roadmap.models import Assessment, Roadmap, RoadmapStatus

# Essentials Carbet measures itself, with the automatic rules that measure them: an essential
# made of several (passwords *and* a second factor) is only as done as its weakest measure.
MEASURED: dict[str, tuple[str, ...]] = {
    "passwords_mfa": ("password_policy", "mfa_admins", "mfa_remote"),
    "backups_tested": ("backups",),
    "mail_protection": ("mail_dmarc",),
    "staff_awareness": ("phishing",),
    "exercise": ("exercise",),
}
DIAGNOSTIC = "diagnostic"
CHUNK = 500


def medico_social() -> QuerySet[Structure]:
    return Structure.objects.filter(category__in=MEDICO_SOCIAL_CATEGORIES)


def _care_record_states(ids: list[int], today: date) -> dict[int, str]:
    states: dict[int, str] = {}
    for structure_id in DigitalService.objects.filter(
        structure_id__in=ids, kind=ServiceKind.CARE_RECORD
    ).values_list("structure_id", flat=True):
        states[structure_id] = MeasureStatus.IN_PROGRESS
    in_force = Decision.objects.filter(
        service__structure_id__in=ids,
        service__kind=ServiceKind.CARE_RECORD,
        superseded_at__isnull=True,
        valid_from__lte=today,
        valid_until__gte=today,
    ).exclude(outcome="refuse")
    for structure_id in in_force.values_list("service__structure_id", flat=True):
        states[structure_id] = MeasureStatus.DONE
    return states


def _essentials(
    marks: dict[str, str], facts: Facts, care_record: str | None, today: date
) -> dict[str, str]:
    out = {code: marks.get(code, MeasureStatus.NOT_DONE) for code in track.ESSENTIALS}
    for code, rules in MEASURED.items():
        measured = worst_status(rules, facts, today)
        if measured is not None:
            out[code] = measured.status
    if care_record is not None:
        out["care_record_decision"] = care_record
    return out


def compute(structure_ids: Iterable[int], today: date | None = None) -> dict[int, TrackStatus]:
    """Compute and store the track state of ``structure_ids`` (chunked, a few queries each)."""
    today = today or timezone.localdate()
    ids = sorted(set(structure_ids))
    stored: dict[int, TrackStatus] = {}
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        stored.update(_compute_chunk(chunk, today))
    return stored


def _compute_chunk(ids: list[int], today: date) -> dict[int, TrackStatus]:
    facts = facts_for(ids)
    marks: dict[int, dict[str, str]] = defaultdict(dict)
    for structure_id, code, status in TrackMark.objects.filter(structure_id__in=ids).values_list(
        "structure_id", "code", "status"
    ):
        marks[structure_id][code] = status
    pushed: dict[int, list[str]] = defaultdict(list)
    for structure_id, code in TrackPush.objects.filter(structure_id__in=ids).values_list(
        "structure_id", "code"
    ):
        pushed[structure_id].append(code)
    diagnosed = set(
        Assessment.objects.filter(
            structure_id__in=ids, framework__code=DIAGNOSTIC, completed_at__isnull=False
        ).values_list("structure_id", flat=True)
    )
    planned = set(
        Roadmap.objects.filter(structure_id__in=ids, status=RoadmapStatus.VALIDATED).values_list(
            "structure_id", flat=True
        )
    )
    care = _care_record_states(ids, today)
    existing = {row.structure_id: row for row in TrackStatus.objects.filter(structure_id__in=ids)}
    new, changed = [], []
    now = timezone.now()
    for structure_id in ids:
        essentials = _essentials(
            marks[structure_id], facts[structure_id], care.get(structure_id), today
        )
        state = track.state(
            track.TrackInput(
                diagnostic_done=structure_id in diagnosed,
                essentials=essentials,
                roadmap_done=structure_id in planned,
                pushed=pushed[structure_id],
            )
        )
        values = (state.step, state.progress, state.next_step, essentials, state.essentials_done)
        row = existing.get(structure_id)
        if row is None:
            row = TrackStatus(structure_id=structure_id)
            new.append(row)
        elif values == (row.step, row.progress, row.next_step, row.essentials, row.essentials_done):
            continue
        else:
            changed.append(row)
        row.step, row.progress, row.next_step, row.essentials, row.essentials_done = values
        row.computed_at = now
        existing[structure_id] = row
    with transaction.atomic():
        TrackStatus.objects.bulk_create(new, batch_size=1000)
        update_many(
            changed,
            ["step", "progress", "next_step", "essentials", "essentials_done", "computed_at"],
        )
    return existing


def status_of(structure: Structure) -> TrackStatus:
    return compute([structure.pk])[structure.pk]


def mark(
    actor: Actor,
    structure: Structure,
    code: str,
    status: str,
    note: str = "",
    ip: str | None = None,
) -> TrackStatus:
    """The structure says where it is on one essential (a measured one keeps Carbet's result)."""
    require(actor, BydesignPerm.EDIT, structure)
    if code not in track.ESSENTIALS:
        raise ValidationError({"code": _("Étape inconnue.")})
    if status not in (MeasureStatus.DONE, MeasureStatus.IN_PROGRESS, MeasureStatus.NOT_DONE):
        raise ValidationError({"status": _("Choisissez fait, en cours ou pas fait.")})
    with transaction.atomic():
        row, _created = TrackMark.objects.get_or_create(structure=structure, code=code)
        old = row.status
        row.status, row.note = status, note.strip()[:500]
        row.updated_by = actor if getattr(actor, "pk", None) else None
        row.updated_at = timezone.now()
        row.save()
        audit.record(
            actor,
            "bydesign.track.mark",
            structure,
            ip=ip,
            changes={"essential": code, "status": [old, status]},
        )
    return status_of(structure)


def push(
    actor: Actor,
    code: str,
    structures: QuerySet[Structure],
    message: str = "",
    ip: str | None = None,
) -> int:
    """The centre pushes one step to a group of medico-social structures (their next step)."""
    require_centre(actor, BydesignPerm.REGION)
    if code not in track.ESSENTIALS:
        raise ValidationError({"code": _("Étape inconnue.")})
    targets = list(
        structures.filter(category__in=MEDICO_SOCIAL_CATEGORIES).values_list("pk", flat=True)
    )
    if not targets:
        raise ValidationError({"categories": _("Aucune structure médico-sociale dans ce groupe.")})
    now = timezone.now()
    user = actor if getattr(actor, "pk", None) else None
    with transaction.atomic():
        TrackPush.objects.bulk_create(
            [
                TrackPush(
                    structure_id=pk, code=code, message=message[:500], pushed_by=user, pushed_at=now
                )
                for pk in targets
            ],
            batch_size=1000,
        )
        audit.record(
            actor,
            "bydesign.track.push",
            ip=ip,
            changes={"essential": code, "structures": len(targets), "message": message[:500]},
        )
    compute(targets)
    return len(targets)

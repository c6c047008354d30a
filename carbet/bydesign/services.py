"""Digital services and their measures: describe, set a status, recompute.

Every write checks the actor's right (``require``), is audited, and recomputes what depends on
it: the measures that apply, the statuses Carbet can measure, the cyber index, and the
findings for essential measures left undone. ``recompute`` is also the nightly job's work,
done in bulk for the whole region.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from carbet.audit import services as audit
from carbet.bydesign import catalogue
from carbet.bydesign.bulk import update_many
from carbet.bydesign.choices import DataKind, Hosting, MeasureStatus
from carbet.bydesign.facts import facts_for
from carbet.bydesign.models import Decision, DigitalService, MeasureState
from carbet.bydesign.service import BYDESIGN_SOURCE, BydesignPerm
from carbet.core.access import require
from carbet.core.models import Structure
from carbet.core.tenancy import SYSTEM, Actor
from carbet.engines.bydesign import index as index_engine
from carbet.engines.bydesign.auto import Facts, auto_status
from carbet.engines.bydesign.catalogue import Applicable
from carbet.findings.ingest import FindingInput, ingest

DESCRIPTION_FIELDS = (
    "name",
    "kind",
    "description",
    "users",
    "data_kind",
    "hosting",
    "hds_certified",
    "internet_exposed",
    "availability",
    "vendor_name",
    "vendor_email",
)
# A change of any of these means the decision signed before no longer speaks for the service.
DECISIVE_FIELDS = ("data_kind", "hosting", "hds_certified", "internet_exposed")
MAX_REASON = 500
MAX_EVIDENCE = 4000


def _clean_description(values: dict[str, Any]) -> dict[str, Any]:
    cleaned = {name: values[name] for name in DESCRIPTION_FIELDS if name in values}
    if not str(cleaned.get("name", "x")).strip():
        raise ValidationError({"name": _("Donnez un nom au service.")})
    email = str(cleaned.get("vendor_email") or "").strip()
    if email:
        try:
            validate_email(email)
        except ValidationError:
            raise ValidationError({"vendor_email": _("Adresse e-mail invalide.")}) from None
    if cleaned.get("hosting") == Hosting.ON_SITE:
        cleaned["hds_certified"] = None  # HDS is a third party's certificate
    if (
        cleaned.get("data_kind") == DataKind.HEALTH
        and cleaned.get("hosting") in (Hosting.IT_PROVIDER, Hosting.SAAS)
        and cleaned.get("hds_certified") is None
    ):
        raise ValidationError(
            {
                "hds_certified": _(
                    "Des données de santé chez un tiers : dites si l'hébergeur est certifié HDS "
                    "(demandez-le au fournisseur si vous ne savez pas)."
                )
            }
        )
    return cleaned


def snapshot_of(service: DigitalService) -> dict[str, Any]:
    return {name: getattr(service, name) for name in DECISIVE_FIELDS}


def create_service(
    actor: Actor, structure: Structure, values: dict[str, Any], ip: str | None = None
) -> DigitalService:
    require(actor, BydesignPerm.EDIT, structure)
    cleaned = _clean_description(values)
    with transaction.atomic():
        service = DigitalService.objects.create(structure=structure, **cleaned)
        audit.record(
            actor,
            "bydesign.service.create",
            service,
            ip=ip,
            changes={k: v for k, v in cleaned.items() if k != "description"},
        )
    recompute([service], findings="always")
    return service


def update_service(
    actor: Actor, service: DigitalService, values: dict[str, Any], ip: str | None = None
) -> DigitalService:
    """Save a new description; a change of data, hosting or exposure asks for a new decision."""
    require(actor, BydesignPerm.EDIT, service.structure)
    merged = {name: getattr(service, name) for name in DESCRIPTION_FIELDS}
    merged.update(values)
    cleaned = _clean_description(merged)
    before = snapshot_of(service)
    changes = {
        k: [getattr(service, k), v]
        for k, v in cleaned.items()
        if getattr(service, k) != v and k != "description"
    }
    with transaction.atomic():
        for name, value in cleaned.items():
            setattr(service, name, value)
        service.updated_at = timezone.now()
        changed = [k for k in DECISIVE_FIELDS if before[k] != getattr(service, k)]
        current = (
            Decision.objects.filter(service=service, superseded_at__isnull=True)
            .exclude(outcome="refuse")
            .first()
        )
        if changed and current is not None:
            current.superseded_at = timezone.now()
            current.save(update_fields=["superseded_at"])
            service.review_reason = ",".join(changed)
        service.save()
        audit.record(actor, "bydesign.service.update", service, ip=ip, changes=changes)
    recompute([service], findings="always")
    return service


def delete_service(actor: Actor, service: DigitalService, ip: str | None = None) -> None:
    require(actor, BydesignPerm.EDIT, service.structure)
    structure = service.structure
    with transaction.atomic():
        audit.record(actor, "bydesign.service.delete", service, ip=ip, structure=structure)
        service.delete()
    write_findings([structure.pk])


def set_status(
    actor: Actor,
    service: DigitalService,
    code: str,
    status: str,
    *,
    reason: str = "",
    evidence: str = "",
    ip: str | None = None,
) -> MeasureState:
    """Record what the structure says about one measure (not applicable needs a reason)."""
    require(actor, BydesignPerm.EDIT, service.structure)
    if code not in {a.code for a in catalogue.applicable(service)}:
        raise ValidationError({"code": _("Cette mesure ne s'applique pas à ce service.")})
    if status not in MeasureStatus.values:
        raise ValidationError({"status": _("Choisissez un état.")})
    reason, evidence = reason.strip()[:MAX_REASON], evidence.strip()[:MAX_EVIDENCE]
    if status == MeasureStatus.NA and not reason:
        raise ValidationError({"reason": _("Dites pourquoi la mesure est sans objet ici.")})
    with transaction.atomic():
        state, _created = MeasureState.objects.get_or_create(service=service, code=code)
        old = state.status
        state.status, state.reason, state.evidence = status, reason, evidence
        state.updated_by = actor if getattr(actor, "pk", None) else None
        state.updated_at = timezone.now()
        state.save()
        audit.record(
            actor,
            "bydesign.measure.status",
            service,
            ip=ip,
            changes={"measure": code, "status": [old, status], "reason": reason},
        )
    recompute([service], findings="always")
    return state


# --- Recomputation -----------------------------------------------------------------------------


@dataclass
class RecomputeReport:
    services: int = 0
    states_written: int = 0
    indexes_changed: int = 0
    structures_with_findings: int = 0

    def as_dict(self) -> dict[str, int]:
        return dict(vars(self))


def _effective(state: MeasureState | None) -> str:
    return state.effective if state else MeasureStatus.NOT_DONE


def _refresh_states(
    service: DigitalService,
    items: list[Applicable],
    states: dict[str, MeasureState],
    facts: Facts,
    today: date,
) -> tuple[list[MeasureState], list[MeasureState]]:
    """(new rows, changed rows) of the service's automatic statuses."""
    new, changed = [], []
    for item in items:
        measured = auto_status(item.measure.auto, facts, today) if item.measure.auto else None
        values = (
            (measured.status, measured.source, measured.reason, measured.on)
            if measured
            else ("", "", "", None)
        )
        state = states.get(item.code)
        if state is None:
            if measured is None:
                continue
            state = MeasureState(service=service, code=item.code)
            new.append(state)
            states[item.code] = state
        elif (state.auto_status, state.auto_source, state.auto_reason, state.auto_on) == values:
            continue
        else:
            changed.append(state)
        state.auto_status, state.auto_source, state.auto_reason, state.auto_on = values
    return new, changed


def _unmet(items: list[Applicable], states: dict[str, MeasureState]) -> frozenset[str]:
    return frozenset(
        item.code
        for item in items
        if item.essential
        and _effective(states.get(item.code)) not in (MeasureStatus.DONE, MeasureStatus.NA)
    )


def evaluate(
    service: DigitalService, states: dict[str, MeasureState], items: list[Applicable] | None = None
) -> index_engine.IndexResult:
    items = items if items is not None else catalogue.applicable(service)
    statuses = {item.code: _effective(states.get(item.code)) for item in items}
    return index_engine.compute(
        items, statuses, catalogue.description_of(service), service.hds_certified
    )


def recompute(
    services: Iterable[DigitalService],
    *,
    today: date | None = None,
    findings: str = "changed",
) -> RecomputeReport:
    """Refresh automatic statuses and the cyber index of ``services``, and their findings.

    ``findings``: ``"changed"`` rewrites the findings of the structures whose unmet essential
    measures changed (or that were never computed), ``"always"`` those of every structure
    touched (after a person's change: a new name or a new status), ``"never"`` none."""
    today = today or timezone.localdate()
    services = list(services)
    report = RecomputeReport(services=len(services))
    facts = facts_for(s.structure_id for s in services)
    states: dict[int, dict[str, MeasureState]] = defaultdict(dict)
    for state in MeasureState.objects.filter(service__in=[s.pk for s in services]):
        states[state.service_id][state.code] = state
    new: list[MeasureState] = []
    changed: list[MeasureState] = []
    touched_services: list[DigitalService] = []
    dirty: set[int] = set()
    now = timezone.now()
    for service in services:
        items = catalogue.applicable(service)
        before = _unmet(items, states[service.pk])
        added, updated = _refresh_states(
            service, items, states[service.pk], facts[service.structure_id], today
        )
        new += added
        changed += updated
        result = evaluate(service, states[service.pk], items)
        value = Decimal(str(result.value))
        missing = len(result.missing_essentials)
        if (
            findings == "always"
            or service.computed_at is None
            or before != frozenset(result.missing_essentials)
        ):
            dirty.add(service.structure_id)
        if service.index_value != value or service.essentials_missing != missing:
            dirty.add(service.structure_id)
            report.indexes_changed += 1
            service.index_value, service.essentials_missing = value, missing
            service.computed_at = now
            touched_services.append(service)
    with transaction.atomic():
        MeasureState.objects.bulk_create(new, batch_size=1000)
        update_many(changed, ["auto_status", "auto_source", "auto_reason", "auto_on"])
        update_many(touched_services, ["index_value", "essentials_missing", "computed_at"])
    report.states_written = len(new) + len(changed)
    if findings != "never" and dirty:
        report.structures_with_findings = write_findings(sorted(dirty))
    return report


def recompute_structure(actor: Actor, structure: Structure) -> RecomputeReport:
    """On demand, from the structure's page: the same work as the night's, for one structure."""
    require(actor, BydesignPerm.EDIT, structure)
    return recompute(DigitalService.objects.filter(structure=structure), findings="always")


# --- Findings --------------------------------------------------------------------------------


def _finding(service: DigitalService, code: str) -> FindingInput:
    measure = catalogue.by_code()[code]
    health = service.data_kind == DataKind.HEALTH
    return FindingInput(
        title=f"{service.name} : {measure.title}"[:300],
        # A declared gap, not an exploitable flaw seen from outside: high when the service
        # holds health data, medium otherwise; critical stays for what scans and audits prove.
        severity=3 if health else 2,
        fingerprint=f"bydesign:{service.pk}:{code}",
        rule=code,
        description=measure.why,
        remediation=measure.how,
        references=[f"ANSSI hygiène {n}" for n in measure.hygiene]
        + [f"CaRE {c.upper()}" for c in measure.care],
        product=service.name[:200],
        evidence={"service": service.pk, "measure": code, "kind": service.kind},
    )


def write_findings(structure_ids: list[int]) -> int:
    """One finding per essential measure left undone, per structure (a complete run: what got
    done, or a deleted service, closes its finding)."""
    by_structure: dict[int, list[FindingInput]] = defaultdict(list)
    services = DigitalService.objects.filter(structure_id__in=structure_ids)
    states: dict[int, dict[str, MeasureState]] = defaultdict(dict)
    for state in MeasureState.objects.filter(service__structure_id__in=structure_ids):
        states[state.service_id][state.code] = state
    for service in services:
        for item in catalogue.applicable(service):
            if (
                item.essential
                and _effective(states[service.pk].get(item.code)) != MeasureStatus.DONE
            ):
                if _effective(states[service.pk].get(item.code)) != MeasureStatus.NA:
                    by_structure[service.structure_id].append(_finding(service, item.code))
    count = 0
    for structure in Structure.objects.filter(pk__in=structure_ids):
        ingest(
            structure,
            BYDESIGN_SOURCE,
            by_structure.get(structure.pk, []),
            complete=True,
            label=_("Mesures essentielles des services numériques"),
            actor=SYSTEM,
        )
        count += 1
    return count

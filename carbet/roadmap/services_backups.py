"""The backup register: "une sauvegarde assurée".

People describe each critical system's backups and record restore tests. A restore test is a
fact for CaRE D2 (``auto_evidence.record("restore_test", ...)``). Each night, and after every
change, the register is checked: missing, stale or failed backups, systems never restored in a
year, and critical systems without 3-2-1 or an offline copy become findings of the structure
(source ``roadmap``, stream ``backups``, complete run: what is fixed gets closed).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from carbet.audit import services as audit
from carbet.core.access import require
from carbet.core.choices import Criticality
from carbet.core.models import Structure
from carbet.core.tenancy import SYSTEM, Actor
from carbet.findings.choices import Severity
from carbet.findings.ingest import FindingInput, ingest
from carbet.roadmap import auto_evidence
from carbet.roadmap.models import BackupMethod, BackupSystem, RestoreResult, RestoreTest
from carbet.roadmap.service import ROADMAP_SOURCE, RoadmapPerm

SCOPE = "backups"
RESTORE_TEST_MAX_AGE_DAYS = 365
IMPORTANT = (Criticality.CRITICAL, Criticality.HIGH)
SYSTEM_FIELDS = (
    "name",
    "criticality",
    "method",
    "frequency_days",
    "copies",
    "media",
    "offsite",
    "immutable_offline",
    "supervised",
    "last_success_on",
    "notes",
)


def save_system(
    actor: Actor,
    structure: Structure,
    values: dict[str, Any],
    system: BackupSystem | None = None,
    ip: str | None = None,
) -> BackupSystem:
    require(actor, RoadmapPerm.BACKUP, structure)
    if system is not None and system.structure_id != structure.pk:
        raise PermissionDenied
    if values.get("copies", 1) < 1 and values.get("method") != BackupMethod.NONE:
        raise ValidationError({"copies": _("Une sauvegarde compte au moins une copie.")})
    created = system is None
    system = system or BackupSystem(structure=structure)
    for name in SYSTEM_FIELDS:
        if name in values:
            setattr(system, name, values[name])
    system.full_clean()
    system.updated_at = timezone.now()
    with transaction.atomic():
        system.save()
        audit.record(
            actor,
            "backup.create" if created else "backup.update",
            system,
            ip=ip,
            changes={k: str(values[k]) for k in values if k in SYSTEM_FIELDS},
        )
        transaction.on_commit(lambda: sweep_structure(structure))
    return system


def delete_system(actor: Actor, system: BackupSystem, ip: str | None = None) -> None:
    require(actor, RoadmapPerm.BACKUP, system.structure)
    structure = system.structure
    with transaction.atomic():
        audit.record(actor, "backup.delete", system, ip=ip, changes={"name": system.name})
        system.delete()
        transaction.on_commit(lambda: sweep_structure(structure))


def restore_fact_value(test: RestoreTest) -> dict[str, Any]:
    system = test.system
    return {
        "result": test.result,
        "to_production": test.to_production,
        "business_referent": bool(test.business_referent.strip()),
        "rule_321": system.rule_321,
        "immutable_offline": system.immutable_offline,
        "supervised": system.supervised,
        "system": system.name,
        "criticality": system.criticality,
    }


def record_restore_test(
    actor: Actor, system: BackupSystem, values: dict[str, Any], ip: str | None = None
) -> RestoreTest:
    """Record a restore test; it becomes automatic evidence for CaRE D2 and the ANSSI measure."""
    require(actor, RoadmapPerm.BACKUP, system.structure)
    tested_on = values["tested_on"]
    if tested_on > timezone.localdate():
        raise ValidationError({"tested_on": _("Le test ne peut pas être dans le futur.")})
    if values.get("result") not in RestoreResult.values:
        raise ValidationError({"result": _("Choisissez le résultat du test.")})
    test = RestoreTest(
        system=system,
        structure=system.structure,
        tested_on=tested_on,
        scope=(values.get("scope") or "").strip()[:300],
        result=values["result"],
        to_production=bool(values.get("to_production")),
        business_referent=(values.get("business_referent") or "").strip()[:200],
        duration_hours=values.get("duration_hours"),
        notes=(values.get("notes") or "").strip(),
        recorded_by=actor if getattr(actor, "pk", None) else None,
    )
    if not test.scope:
        raise ValidationError({"scope": _("Dites ce qui a été restauré.")})
    with transaction.atomic():
        test.save()
        audit.record(
            actor,
            "backup.restore_test",
            test,
            ip=ip,
            changes={"system": system.name, "result": test.result, "day": tested_on.isoformat()},
        )
        auto_evidence.record(
            system.structure,
            "restore_test",
            at=timezone.make_aware(datetime.combine(tested_on, time(12, 0))),
            value=restore_fact_value(test),
            reference=f"restore_test:{test.pk}",
        )
        transaction.on_commit(lambda: sweep_structure(system.structure))
    return test


# --- Checks that turn into findings ----------------------------------------------------------


@dataclass(frozen=True)
class BackupIssue:
    rule: str
    severity: int
    title: str
    why: str
    how: str


def _stale_after(system: BackupSystem) -> int:
    return max(system.frequency_days * 3, 7)


def issues_of(
    system: BackupSystem, last_test: RestoreTest | None, today: date
) -> list[BackupIssue]:
    """What is wrong with one system's backups today (pure reading of the register)."""
    important = system.criticality in IMPORTANT
    high = Severity.HIGH if important else Severity.MEDIUM
    name = system.name
    if system.method == BackupMethod.NONE:
        return [
            BackupIssue(
                "none",
                Severity.CRITICAL if important else Severity.HIGH,
                _("Aucune sauvegarde : %(name)s") % {"name": name},
                _("Sans sauvegarde, une panne ou un rançongiciel fait perdre ces données."),
                _("Mettez en place une sauvegarde quotidienne avec une copie hors ligne."),
            )
        ]
    found = []
    if system.last_success_on is None or (today - system.last_success_on).days > _stale_after(
        system
    ):
        found.append(
            BackupIssue(
                "stale",
                high,
                _("Sauvegarde en retard : %(name)s") % {"name": name},
                _("La dernière sauvegarde réussie est trop ancienne ou inconnue."),
                _("Vérifiez les journaux de sauvegarde et relancez-la ; notez la date ici."),
            )
        )
    if last_test is not None and last_test.result == RestoreResult.FAILURE:
        found.append(
            BackupIssue(
                "restore_failed",
                high,
                _("Dernier test de restauration en échec : %(name)s") % {"name": name},
                _("Une sauvegarde qui ne se restaure pas ne protège de rien."),
                _("Corrigez la cause avec le prestataire puis refaites un test."),
            )
        )
    if last_test is None or (today - last_test.tested_on).days > RESTORE_TEST_MAX_AGE_DAYS:
        found.append(
            BackupIssue(
                "untested",
                Severity.MEDIUM,
                _("Restauration non testée depuis un an : %(name)s") % {"name": name},
                _("On ne sait pas si les données pourraient être récupérées."),
                _("Restaurez un jeu de données avec un référent métier et notez le résultat."),
            )
        )
    if important and not (system.rule_321 and system.immutable_offline):
        found.append(
            BackupIssue(
                "not_321",
                Severity.MEDIUM,
                _("Pas de copie hors ligne selon la règle 3-2-1 : %(name)s") % {"name": name},
                _("Un rançongiciel chiffre aussi les sauvegardes qu'il peut atteindre."),
                _("Gardez trois copies sur deux supports, dont une hors site et hors ligne."),
            )
        )
    return found


def sweep_structure(structure: Structure, today: date | None = None, actor: Actor = SYSTEM):
    """Turn the register's problems into findings (complete run of the ``backups`` stream)."""
    today = today or timezone.localdate()
    items = []
    for system in BackupSystem.objects.filter(structure=structure):
        last = system.tests.order_by("-tested_on", "-pk").first()
        for issue in issues_of(system, last, today):
            items.append(
                FindingInput(
                    title=issue.title,
                    severity=issue.severity,
                    fingerprint=f"backup:{system.pk}:{issue.rule}",
                    rule=f"backup.{issue.rule}",
                    description=issue.why,
                    remediation=issue.how,
                    evidence={"system": system.name, "checked_on": today.isoformat()},
                )
            )
    if not items and not _open_in_stream(structure):
        return None  # nothing to report and nothing to close: no run to record
    return ingest(
        structure,
        ROADMAP_SOURCE,
        items,
        complete=True,
        scope=SCOPE,
        label=_("Registre des sauvegardes"),
        actor=actor,
    )


def _open_in_stream(structure: Structure) -> bool:
    from carbet.findings.choices import OPEN_STATUSES
    from carbet.findings.models import Finding

    return Finding.objects.filter(
        structure=structure,
        source=ROADMAP_SOURCE,
        stream__scope=SCOPE,
        status__in=OPEN_STATUSES,
    ).exists()


def sweep_all(today: date | None = None) -> dict[str, int]:
    """Nightly: every structure with a register (and those whose register was emptied)."""
    from carbet.findings.models import Stream

    ids = set(BackupSystem.objects.values_list("structure_id", flat=True).distinct())
    ids |= set(
        Stream.objects.filter(source=ROADMAP_SOURCE, scope=SCOPE).values_list(
            "structure_id", flat=True
        )
    )
    created = closed = 0
    for structure in Structure.objects.filter(pk__in=ids):
        report = sweep_structure(structure, today)
        if report is not None:
            created += report.created
            closed += report.closed
    return {"structures": len(ids), "created": created, "closed": closed}


def tested_within(structure_ids: list[int], since: date) -> set[int]:
    """Structures with a successful restore test since ``since``."""
    return set(
        RestoreTest.objects.filter(
            structure_id__in=structure_ids, tested_on__gte=since, result=RestoreResult.SUCCESS
        ).values_list("structure_id", flat=True)
    )


def age_in_days(system: BackupSystem, today: date) -> int | None:
    return None if system.last_success_on is None else (today - system.last_success_on).days

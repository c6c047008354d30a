"""Automatic evidence: the one entry point other Carbet services call when something happens.

    from carbet.roadmap import auto_evidence
    auto_evidence.record(structure, "directory_audit", at=finished_at,
                         value={"anssi_level": 3, "score": 72}, reference=f"audit:{audit.pk}")

Kinds and the values they carry (extra keys are kept and may be used by framework rules):

* ``directory_audit``: ``{"anssi_level": int 0–5, "score": number}``
* ``exposure_scan``: ``{"critical": int, "high": int, "dmarc_reject": bool | None,
  "mfa_remote_access": bool | None}`` (a complete scan of the structure's assets)
* ``phishing_campaign``: ``{"reporting_rate": 0–1, "click_rate": 0–1}``
* ``restore_test``: written by the backup register itself (``{"result", "to_production",
  "business_referent": bool, "rule_321": bool, "immutable_offline": bool, "supervised": bool}``)
* ``exercise``: ``{"continuity_test": bool, "level": str, "structures": [ids]}``

``record`` stores the fact (idempotent: the same structure, kind, reference and time is one fact,
so a job that is run again does not double it), then refreshes the automatic evidence of every
requirement whose framework rule (``auto`` in the framework file) names that kind: the latest
fact within the rule's ``within_days`` that satisfies its condition wins. Indicators read the
facts at night. Call it inside or outside a transaction; it never raises on a value it does not
understand (the rule simply is not satisfied).
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from carbet.core.models import Structure
from carbet.engines.roadmap.scoring import condition_holds
from carbet.roadmap.models import AutoEvidence, Requirement, ServiceFact

KINDS = ("directory_audit", "exposure_scan", "phishing_campaign", "restore_test", "exercise")
MAX_VALUE_BYTES = 20_000


def _clean_value(value: dict[str, Any] | None) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise TypeError("value must be a dict")
    encoded = json.dumps(value, default=str)
    if len(encoded) > MAX_VALUE_BYTES:
        raise ValueError("value too large")
    return json.loads(encoded)


def record(
    structure: Structure,
    kind: str,
    *,
    at: datetime | None = None,
    value: dict[str, Any] | None = None,
    reference: str = "",
) -> ServiceFact:
    """Store one fact about ``structure`` and refresh its automatic evidence."""
    if kind not in KINDS:
        raise ValueError(f"unknown automatic evidence kind {kind!r} (known: {', '.join(KINDS)})")
    at = at or timezone.now()
    if timezone.is_naive(at):
        at = timezone.make_aware(at)
    with transaction.atomic():
        fact, _created = ServiceFact.objects.update_or_create(
            structure=structure,
            kind=kind,
            reference=(reference or "")[:200],
            at=at,
            defaults={"value": _clean_value(value)},
        )
        refresh(structure, kinds=[kind])
    return fact


def _rules(kinds: list[str] | None) -> list[tuple[Requirement, dict[str, Any]]]:
    found = []
    for requirement in Requirement.objects.filter(retired=False).exclude(auto=[]):
        for rule in requirement.auto:
            if kinds is None or rule.get("kind") in kinds:
                found.append((requirement, rule))
    return found


def refresh(structure: Structure, *, kinds: list[str] | None = None, today: date | None = None):
    """Recompute the automatic evidence of ``structure`` for the rules of ``kinds``."""
    today = today or timezone.localdate()
    rules = _rules(kinds)
    if not rules:
        return
    oldest = max(rule.get("within_days", 365) for _r, rule in rules)
    facts = list(
        ServiceFact.objects.filter(
            structure=structure,
            kind__in={rule["kind"] for _r, rule in rules},
            at__date__gte=today - timedelta(days=oldest),
        ).order_by("-at", "-pk")
    )
    by_requirement: dict[int, tuple[Requirement, ServiceFact | None, bool, date | None]] = {}
    for requirement, rule in rules:
        window_start = today - timedelta(days=rule.get("within_days", 365))
        candidates = [
            f for f in facts if f.kind == rule["kind"] and timezone.localdate(f.at) >= window_start
        ]
        satisfying = next(
            (f for f in candidates if condition_holds(rule.get("when", {}), f.value)), None
        )
        chosen = satisfying or (candidates[0] if candidates else None)
        valid_until = (
            timezone.localdate(satisfying.at) + timedelta(days=rule.get("within_days", 365))
            if satisfying
            else None
        )
        previous = by_requirement.get(requirement.pk)
        # Several rules on one requirement: any satisfied rule is enough.
        if previous is None or (satisfying and not previous[2]):
            by_requirement[requirement.pk] = (requirement, chosen, bool(satisfying), valid_until)
    now = timezone.now()
    for requirement, fact, satisfied, valid_until in by_requirement.values():
        if fact is None:
            AutoEvidence.objects.filter(structure=structure, requirement=requirement).delete()
            continue
        AutoEvidence.objects.update_or_create(
            structure=structure,
            requirement=requirement,
            defaults={
                "fact": fact,
                "satisfied": satisfied,
                "valid_until": valid_until,
                "refreshed_at": now,
            },
        )


def refresh_all(today: date | None = None) -> int:
    """Nightly: expire automatic evidence whose window has passed (every structure)."""
    structure_ids = set(ServiceFact.objects.values_list("structure_id", flat=True).distinct())
    structure_ids |= set(AutoEvidence.objects.values_list("structure_id", flat=True).distinct())
    for structure in Structure.objects.filter(pk__in=structure_ids):
        refresh(structure, today=today)
    return len(structure_ids)


def describe(fact: ServiceFact | None) -> str:
    """A short French description of a fact for pages and the PDF."""
    from django.utils.translation import gettext as _

    if fact is None:
        return ""
    value = fact.value or {}
    day = timezone.localdate(fact.at).strftime("%d/%m/%Y")
    if fact.kind == "directory_audit":
        return _("Audit de l'annuaire du %(day)s : niveau ANSSI %(level)s") % {
            "day": day,
            "level": value.get("anssi_level", "?"),
        }
    if fact.kind == "exposure_scan":
        return _("Analyse d'exposition du %(day)s : %(n)s faille(s) critique(s)") % {
            "day": day,
            "n": value.get("critical", "?"),
        }
    if fact.kind == "phishing_campaign":
        return _("Campagne d'hameçonnage simulé du %(day)s") % {"day": day}
    if fact.kind == "restore_test":
        return _("Test de restauration du %(day)s") % {"day": day}
    if fact.kind == "exercise":
        return _("Exercice de crise du %(day)s") % {"day": day}
    return day

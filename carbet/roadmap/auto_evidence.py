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

A fact may carry ``"scope"`` (a string: the AD domain an audit covered, the asset set a scan
covered); without one, the structure's whole estate is its scope.

``record`` stores the fact (idempotent: the same structure, kind, reference and time is one fact,
so a job that is run again does not double it), then refreshes the automatic evidence of every
requirement whose framework rule (``auto`` in the framework file) names that kind.

**Latest state, not any past one.** For each (structure, kind, scope) only the *latest* fact
counts (``current_facts``): a level-4 audit followed by a level-2 audit of the same domain is
level 2, even though a level-4 audit exists. A rule is satisfied when that latest fact is within
the rule's ``within_days`` and meets its condition, for *every* scope that has a fact within the
window (a structure with two AD domains is at level 3 only if both are). The evidence lasts
``within_days`` from the date of the oldest fact it rests on. Indicators read the same latest
facts at night (``carbet.roadmap.indicators``). Call ``record`` inside or outside a
transaction; it never raises on a value it does not understand (the rule simply is not
satisfied).
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


def kinds() -> tuple[str, ...]:
    """Every kind of fact a service may record, as the services' specs declare them."""
    from carbet.core import contract

    return tuple(kind.code for kind in contract.evidence_kinds())


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
    known = kinds()
    if kind not in known:
        raise ValueError(f"unknown automatic evidence kind {kind!r} (known: {', '.join(known)})")
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


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, datetime.min.time()))


def _rules(kinds: list[str] | None) -> list[tuple[Requirement, dict[str, Any]]]:
    found = []
    for requirement in Requirement.objects.filter(retired=False).exclude(auto=[]):
        for rule in requirement.auto:
            if kinds is None or rule.get("kind") in kinds:
                found.append((requirement, rule))
    return found


def scope_of(fact: ServiceFact) -> str:
    """The part of the structure a fact speaks for ("" = all of it)."""
    scope = (fact.value or {}).get("scope")
    return scope.strip().lower() if isinstance(scope, str) else ""


def current_facts(facts: list[ServiceFact]) -> list[ServiceFact]:
    """The latest fact of each (structure, kind, scope), newest first: the current state.

    ``facts`` may come in any order; ties on the date go to the later row."""
    latest: dict[tuple[int, str, str], ServiceFact] = {}
    for fact in facts:
        key = (fact.structure_id, fact.kind, scope_of(fact))
        kept = latest.get(key)
        if kept is None or (fact.at, fact.pk or 0) > (kept.at, kept.pk or 0):
            latest[key] = fact
    return sorted(latest.values(), key=lambda f: (f.at, f.pk or 0), reverse=True)


def _wanted(
    rules: list[tuple[Requirement, dict[str, Any]]], facts: list[ServiceFact], today: date
) -> dict[int, tuple[ServiceFact | None, bool, date | None]]:
    """Requirement id → (fact shown, satisfied, valid until), from the current facts only."""
    wanted: dict[int, tuple[ServiceFact | None, bool, date | None]] = {}
    current = current_facts(facts)
    for requirement, rule in rules:
        days = rule.get("within_days", 365)
        window_start = today - timedelta(days=days)
        # The latest fact of each scope, if still recent enough: an older fact of the same
        # scope never stands in for a newer one that fails the condition.
        candidates = [
            f
            for f in current
            if f.kind == rule["kind"] and timezone.localdate(f.at) >= window_start
        ]
        failing = [f for f in candidates if not condition_holds(rule.get("when", {}), f.value)]
        satisfied = bool(candidates) and not failing
        # Shown: the failing fact (what to fix), else the oldest one the evidence rests on.
        chosen = failing[0] if failing else (candidates[-1] if candidates else None)
        valid_until = (
            timezone.localdate(candidates[-1].at) + timedelta(days=days) if satisfied else None
        )
        state = (chosen, satisfied, valid_until)
        previous = wanted.get(requirement.pk)
        # Several rules on one requirement: a satisfied rule wins, then one with a fact.
        if previous is None or (state[1], chosen is not None) > (
            previous[1],
            previous[0] is not None,
        ):
            wanted[requirement.pk] = state
    return wanted


def _apply(
    structure_id: int,
    wanted: dict[int, tuple[ServiceFact | None, bool, date | None]],
    existing: dict[int, AutoEvidence],
) -> None:
    """Write only what changed (a night where nothing moved writes nothing)."""
    now = timezone.now()
    gone = [row.pk for rid, row in existing.items() if rid not in wanted or wanted[rid][0] is None]
    if gone:
        AutoEvidence.objects.filter(pk__in=gone).delete()
    for requirement_id, (fact, satisfied, valid_until) in wanted.items():
        if fact is None:
            continue
        row = existing.get(requirement_id)
        if row is None:
            AutoEvidence.objects.create(
                structure_id=structure_id,
                requirement_id=requirement_id,
                fact=fact,
                satisfied=satisfied,
                valid_until=valid_until,
                refreshed_at=now,
            )
        elif (row.fact_id, row.satisfied, row.valid_until) != (fact.pk, satisfied, valid_until):
            AutoEvidence.objects.filter(pk=row.pk).update(
                fact=fact, satisfied=satisfied, valid_until=valid_until, refreshed_at=now
            )


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
            at__gte=_day_start(today - timedelta(days=oldest)),
        ).order_by("-at", "-pk")
    )
    requirement_ids = {r.pk for r, _rule in rules}
    existing = {
        row.requirement_id: row
        for row in AutoEvidence.objects.filter(
            structure=structure, requirement_id__in=requirement_ids
        )
    }
    _apply(structure.pk, _wanted(rules, facts, today), existing)


def refresh_all(today: date | None = None) -> int:
    """Nightly: move every structure's windows (evidence older than its rule allows lapses).

    One pass: the rules once, the facts of the longest window and the current rows in two
    queries, then only the rows that changed are written.
    """
    today = today or timezone.localdate()
    rules = _rules(None)
    if not rules:
        return 0
    oldest = max(rule.get("within_days", 365) for _r, rule in rules)
    facts: dict[int, list[ServiceFact]] = {}
    for fact in (
        ServiceFact.objects.filter(
            kind__in={rule["kind"] for _r, rule in rules},
            at__gte=_day_start(today - timedelta(days=oldest)),
        )
        .order_by("structure_id", "-at", "-pk")
        .iterator(chunk_size=5000)
    ):
        facts.setdefault(fact.structure_id, []).append(fact)
    existing: dict[int, dict[int, AutoEvidence]] = {}
    for row in AutoEvidence.objects.all().iterator(chunk_size=5000):
        existing.setdefault(row.structure_id, {})[row.requirement_id] = row
    structure_ids = set(facts) | set(existing)
    with transaction.atomic():
        for structure_id in structure_ids:
            wanted = _wanted(rules, facts.get(structure_id, []), today)
            _apply(structure_id, wanted, existing.get(structure_id, {}))
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

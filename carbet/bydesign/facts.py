"""What the other services measured, read-only, for many structures at once.

* the directory audit (``carbet.directory``): the latest finished audit of each structure and
  the password rules it triggered;
* exposure scans, phishing campaigns, restore tests of the backup register and crisis
  exercises held: the facts those
  services handed to the roadmap (``contract.record_evidence``), read through the roadmap's
  ``current_facts`` (the latest of each kind: an older, better result never stands in).

Nothing here writes; the nightly recomputation reads a few thousand structures in chunks.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from django.utils import timezone

from carbet.core.models import Structure
from carbet.directory import selectors as directory
from carbet.directory.models import AuditOrigin, DirectoryAudit
from carbet.engines.bydesign.auto import Facts
from carbet.engines.directory.rules.common import PASSWORD_ONLY_RULE
from carbet.roadmap.auto_evidence import current_facts
from carbet.roadmap.models import ServiceFact

CHUNK = 500
# "exercise" is the exercises service's fact: a crisis exercise held (and finished).
KINDS = ("exposure_scan", "phishing_campaign", "restore_test", "exercise")


def _chunks(ids: list[int]) -> Iterable[list[int]]:
    for start in range(0, len(ids), CHUNK):
        yield ids[start : start + CHUNK]


def _admin_mfa(origin: str, result: dict[str, Any]) -> bool | None:
    """Do all everyday administrators need a second factor (smart card required)? Only a
    Carbet analysis that ran the rule knows: a PingCastle report, an audit analysed before
    the rule existed, or a domain without named administrators says nothing (None). An
    exception on the rule accepts the risk; it does not make the second factor exist."""
    evaluated = result.get("evaluated")
    if origin == AuditOrigin.PINGCASTLE or not isinstance(evaluated, list):
        return None
    if PASSWORD_ONLY_RULE not in evaluated:
        return None
    findings = result.get("findings", [])
    return not any(isinstance(f, dict) and f.get("rule") == PASSWORD_ONLY_RULE for f in findings)


def _directory(ids: list[int]) -> dict[int, dict[str, Any]]:
    latest = directory.latest_by_structure(Structure.objects.filter(pk__in=ids))
    audit_ids = [row["audit"].pk for row in latest if row["audit"]]
    found: dict[int, dict[str, Any]] = {}
    rows = DirectoryAudit.objects.filter(pk__in=audit_ids).values_list(
        "structure_id", "origin", "analysed_at", "created_at", "result"
    )
    for structure_id, origin, analysed_at, created_at, result in rows:
        result = result if isinstance(result, dict) else {}
        rules = frozenset(
            str(f.get("rule"))
            for f in result.get("findings", [])
            if isinstance(f, dict) and not f.get("fully_excepted")
        )
        found[structure_id] = {
            "directory_on": timezone.localdate(analysed_at or created_at),
            "directory_rules": rules,
            "admin_mfa": _admin_mfa(origin, result),
        }
    return found


def _number(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _from_fact(fact: ServiceFact) -> dict[str, Any]:
    value = fact.value or {}
    day: date = timezone.localdate(fact.at)
    if fact.kind == "exposure_scan":
        dmarc, mfa = value.get("dmarc_reject"), value.get("mfa_remote_access")
        return {
            "exposure_on": day,
            "exposure_critical": _number(value.get("critical")),
            "exposure_high": _number(value.get("high")),
            "dmarc_reject": dmarc if isinstance(dmarc, bool) else None,
            "mfa_remote_access": mfa if isinstance(mfa, bool) else None,
        }
    if fact.kind == "phishing_campaign":
        rate = value.get("reporting_rate")
        ok = isinstance(rate, int | float) and not isinstance(rate, bool)
        return {"phishing_on": day, "reporting_rate": float(rate) if ok else None}
    if fact.kind == "exercise":
        return {"exercise_on": day}
    return {"restore_on": day, "restore_result": str(value.get("result") or "")}


def facts_for(structure_ids: Iterable[int]) -> dict[int, Facts]:
    """Structure id → its latest facts (structures without any get empty ``Facts``)."""
    ids = sorted(set(structure_ids))
    values: dict[int, dict[str, Any]] = {pk: {} for pk in ids}
    for chunk in _chunks(ids):
        for pk, found in _directory(chunk).items():
            values[pk].update(found)
        rows = ServiceFact.objects.filter(structure_id__in=chunk, kind__in=KINDS).only(
            "structure_id", "kind", "at", "value"
        )
        seen: set[tuple[int, str]] = set()
        for fact in current_facts(list(rows)):  # newest first
            key = (fact.structure_id, fact.kind)
            if key not in seen:
                seen.add(key)
                values[fact.structure_id].update(_from_fact(fact))
    return {pk: Facts(**found) for pk, found in values.items()}

"""Running one structure's scan (the ``exposure.scan`` job) and turning it into findings.

The job is safe to run again at any point: targets already written are skipped (each is saved
with its observations in one transaction), the findings ingest is idempotent, and alerts are
recorded per fingerprint so none is sent twice. Before contacting a target, the mandate is
checked again: a mandate revoked between the request and the run stops the scan of its assets.
What the engine then connects to is bound by the structure's connect-time scope policy
(``carbet.core.ownership.connect_policy``), rebuilt for every chunk of targets; the connections
it refused are kept on each target (``ScanTarget.refused``) and make the scan partial.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from dataclasses import asdict, replace
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from carbet.audit import services as audit
from carbet.core import mandates, ownership
from carbet.core.tenancy import SYSTEM, Actor
from carbet.engines import severity as severities
from carbet.engines.exposure import checks
from carbet.engines.exposure.core import Observation, ScanConfig, TargetResult, refusal_text
from carbet.exposure import intermediates
from carbet.exposure import services_scores as scoring
from carbet.exposure.models import (
    Scan,
    ScanObservation,
    ScanStatus,
    ScanTarget,
    TargetStatus,
)
from carbet.exposure.service import EXPOSURE_MANDATE, EXPOSURE_SOURCE
from carbet.findings.ingest import FindingInput, ingest
from carbet.jobs.registry import Reporter

log = logging.getLogger("carbet.exposure")
# Targets handed to the engine at once: large enough for its concurrency to pay, small enough
# for a killed worker to lose little and for the progress bar to move.
CHUNK = 16
MAX_EVIDENCE_CHARS = 200_000
MAX_BANNER = 1000


def engine_config(scan: Scan) -> ScanConfig:
    """The engine's settings from the scan's profile, plus the installation's resolver/trust,
    the connect-time scope policy of the scan's structure, built from the registry *now*
    (a scan's job only carries the scan's id: the worker builds this, never the request), and
    the known intermediate certificates (``carbet.exposure.intermediates``)."""
    values = dict(scan.config)
    if "ports" in values:
        values["ports"] = tuple(int(p) for p in values["ports"])
    nameserver = getattr(settings, "CARBET_EXPOSURE_NAMESERVER", None) or os.environ.get(
        "CARBET_EXPOSURE_NAMESERVER"
    )
    ca_file = getattr(settings, "CARBET_EXPOSURE_CA_FILE", None) or os.environ.get(
        "CARBET_EXPOSURE_CA_FILE"
    )
    if nameserver:
        values["nameserver"] = nameserver
    if ca_file:
        values["ca_file"] = ca_file
    # The policy and the known intermediates come from the platform, never from a stored
    # profile: the intermediates are loaded once here, for the whole run.
    known = set(ScanConfig.__dataclass_fields__) - {"policy", "known_intermediates"}
    values = {k: v for k, v in values.items() if k in known}
    return ScanConfig(
        **values,
        policy=ownership.connect_policy(scan.structure),
        known_intermediates=intermediates.load_store(),
    )


def run_engine(targets: list[str], config: ScanConfig) -> list[TargetResult]:
    """The engine's runner (imported late: the app must load even while it is being built)."""
    from carbet.engines.exposure import runner

    return runner.scan(targets, config)


def fingerprint(asset_id: int | None, target: str, observation: Observation) -> str:
    key = "\x1f".join(["exposure", str(asset_id or ""), target.lower(), observation.key()])
    return hashlib.sha256(key.encode()).hexdigest()[:40]


def _json_safe(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str, ensure_ascii=False))


def _bounded(value: Any) -> Any:
    safe = _json_safe(value)
    text = json.dumps(safe, ensure_ascii=False)
    if len(text) <= MAX_EVIDENCE_CHARS:
        return safe
    return {"tronqué": True, "extrait": text[:MAX_EVIDENCE_CHARS]}


def _services(result: TargetResult) -> list[dict[str, Any]]:
    rows = []
    for service in sorted(result.services, key=lambda s: s.port):
        row = asdict(service)
        row["banner"] = (row.get("banner") or "")[:MAX_BANNER]
        rows.append(row)
    return _bounded(rows)


def definition(check_id: str) -> checks.Check | None:
    """The registry entry of a stored check id (None for an id this version no longer has)."""
    try:
        return checks.get(check_id)
    except checks.UnknownCheck:
        return None


def _observation_row(scan: Scan, row: ScanTarget, observation: Observation) -> ScanObservation:
    # Observations only carry registered ids (the engine refuses unknown ones).
    known = checks.get(observation.check)
    severity = severities.clamp(observation.severity, default=known.severity)
    title = observation.title or known.title_fr
    return ScanObservation(
        scan=scan,
        target=row,
        structure_id=scan.structure_id,
        check_id=observation.check[:80],
        category=known.category,
        port=observation.port,
        severity=severity,
        title=title[:300],
        detail=observation.detail,
        evidence=_bounded(observation.evidence),
        cve=observation.cve[:30],
        cvss=observation.cvss,
        epss=observation.epss,
        kev=bool(observation.kev),
        product=observation.product[:200],
        key=observation.key()[:200],
        fingerprint=fingerprint(row.asset_id, row.target, observation),
    )


def _fill(scan: Scan, row: ScanTarget, result: TargetResult) -> list[ScanObservation]:
    observations: dict[str, ScanObservation] = {}
    for observation in result.observations:
        item = _observation_row(scan, row, observation)
        observations.setdefault(item.fingerprint, item)
    row.addresses = list(result.addresses)
    row.services = _services(result)
    row.evidence = _bounded(result.evidence)
    # Refusals are kept apart, as data (the pages word them); not twice among the errors.
    refusal_lines = {refusal_text(record) for record in result.refused}
    row.errors = [str(e)[:500] for e in result.errors if e not in refusal_lines][:100]
    row.refused = _bounded(list(result.refused)[:200])
    row.complete = bool(result.complete)
    row.scores = scoring.target_scores(result, list(observations.values()))
    row.score = row.scores.get("overall", {}).get("score")
    row.grade = row.scores.get("overall", {}).get("grade") or ""
    row.duration = float(result.duration or 0)
    row.scanned_at = timezone.now()
    row.status = TargetStatus.DONE
    return list(observations.values())


TARGET_FIELDS = [
    "addresses", "services", "evidence", "errors", "refused", "complete", "scores", "score",
    "grade", "duration", "scanned_at", "status",
]  # fmt: skip


def save_targets(scan: Scan, pairs: list[tuple[ScanTarget, TargetResult]]) -> None:
    """Write targets' results and observations at once: the unit a rerun resumes from (the
    engine hands a chunk's results back together, so nothing finer could be kept anyway)."""
    observations: list[ScanObservation] = []
    for row, result in pairs:
        observations += _fill(scan, row, result)
    rows = [row for row, _result in pairs]
    with transaction.atomic():
        ScanObservation.objects.filter(target__in=rows).delete()
        ScanObservation.objects.bulk_create(observations)
        ScanTarget.objects.bulk_update(rows, TARGET_FIELDS)
        Scan.objects.filter(pk=scan.pk).update(
            targets_done=ScanTarget.objects.filter(scan=scan, status=TargetStatus.DONE).count()
        )


def save_target(scan: Scan, row: ScanTarget, result: TargetResult) -> None:
    save_targets(scan, [(row, result)])


def _still_mandated(scan: Scan, rows: list[ScanTarget], actor: Actor) -> list[ScanTarget]:
    """Re-check the mandate now; refused targets are dropped from the scan and audited."""
    allowed, decisions = [], {}
    for row in rows:
        if row.asset is None:
            refused = _("L'actif a été supprimé du registre.")
        else:
            if row.asset_id not in decisions:
                decisions[row.asset_id] = mandates.check(
                    scan.structure, EXPOSURE_MANDATE, row.asset
                )
            decision = decisions[row.asset_id]
            if decision.allowed:
                allowed.append(row)
                continue
            try:
                mandates.require_mandate(actor, scan.structure, EXPOSURE_MANDATE, row.asset)
            except mandates.MandateRefused as exc:
                refused = str(exc)
            else:  # allowed in between: scan it
                allowed.append(row)
                continue
        scan.refused = [
            *scan.refused,
            {"asset": row.asset_id, "value": row.target, "reason": refused},
        ]
        row.delete()
    if len(allowed) != len(rows):
        scan.targets_total = ScanTarget.objects.filter(scan=scan).count()
        scan.save(update_fields=["refused", "targets_total"])
    return allowed


def _pair(chunk: list[ScanTarget], results: list[TargetResult]):
    """The engine answers in the order of the targets it was given."""
    if len(results) != len(chunk):
        lost = TargetResult(target="", complete=False, errors=[_("Aucun résultat du moteur.")])
        results = [*results, *([lost] * (len(chunk) - len(results)))][: len(chunk)]
    return list(zip(chunk, results, strict=True))


def run_scan(scan: Scan, report: Reporter | None = None) -> dict[str, Any]:
    """Scan every pending target of ``scan``, then finish it (diff, scores, findings, alerts)."""
    if scan.status == ScanStatus.SUCCEEDED:
        return summary(scan)
    actor = scan.requested_by or SYSTEM
    Scan.objects.filter(pk=scan.pk).update(
        status=ScanStatus.RUNNING, started_at=scan.started_at or timezone.now()
    )
    scan.refresh_from_db()
    config = engine_config(scan)
    pending = list(
        scan.targets.filter(status=TargetStatus.PENDING).select_related("asset").order_by("pk")
    )
    pending = _still_mandated(scan, pending, actor)
    # Shared hosting is scanned once: a recent complete result of the same shared address is
    # taken over instead of contacting the server again (carbet.exposure.shared).
    from carbet.exposure.shared import reuse_shared

    pending = reuse_shared(scan, pending)
    total = max(1, scan.targets_total)
    for start in range(0, len(pending), CHUNK):
        chunk = pending[start : start + CHUNK]
        done = scan.targets_total - len(pending) + start
        if report is not None:
            report(
                int(90 * done / total),
                _("Analyse de %(target)s (%(done)d/%(total)d)")
                % {"target": chunk[0].target, "done": done + 1, "total": scan.targets_total},
            )
        if start:
            # Each chunk under the registry as it stands now: an asset another structure
            # declared (or a conflict) since the scan started binds the rest of the scan.
            config = replace(config, policy=ownership.connect_policy(scan.structure))
        results = run_engine([row.target for row in chunk], config)
        # Intermediates of chains verified as trusted: known to the next scans (idempotent).
        intermediates.learn(results)
        save_targets(scan, _pair(chunk, results))
    if report is not None:
        report(92, _("Comparaison avec l'analyse précédente et mise à jour des vulnérabilités"))
    from carbet.exposure.services_finish import finish

    finish(scan, actor)
    return summary(scan)


def summary(scan: Scan) -> dict[str, Any]:
    scan.refresh_from_db()
    return {
        "scan": scan.pk,
        "complete": scan.complete,
        "targets": scan.targets_total,
        "services": scan.services_count,
        "observations": scan.observations_count,
        "critical": scan.critical_count,
        "new": len(scan.diff.get("new", [])),
        "gone": len(scan.diff.get("gone", [])),
        "refused": len(scan.refused),
        "score": scan.score,
        "grade": scan.grade,
    }


def finding_inputs(scan: Scan) -> list[FindingInput]:
    """The scan's observations as findings: French title and remediation from the registry."""
    items = []
    rows = scan.observations.select_related("target").order_by("pk")
    for obs in rows:
        known = definition(obs.check_id)
        description = obs.detail
        if obs.port:
            description = _("%(detail)s (cible %(target)s, port %(port)s)") % {
                "detail": obs.detail or obs.title,
                "target": obs.target.target,
                "port": obs.port,
            }
        items.append(
            FindingInput(
                title=f"{obs.title} — {obs.target.target}" + (f":{obs.port}" if obs.port else ""),
                severity=obs.severity,
                fingerprint=obs.fingerprint,
                rule=obs.check_id,
                tool_id=obs.key[:200],
                description=description,
                remediation=known.remediation_fr if known else "",
                asset_id=obs.target.asset_id,
                cvss=obs.cvss,
                epss=obs.epss,
                kev=obs.kev,
                cve=obs.cve,
                references=list(known.references) if known else [],
                product=obs.product,
                evidence={"cible": obs.target.target, "port": obs.port, **(obs.evidence or {})},
                internet_exposed=True,
            )
        )
    return items


def write_findings(scan: Scan, actor: Actor, complete: bool | None = None) -> dict[str, Any]:
    """Ingest the scan's findings; complete (closing what is gone) only when the scan covered
    every asset of the structure's stream."""
    if complete is None:
        complete = bool(scan.complete and not scan.refused)
    report = ingest(
        scan.structure,
        EXPOSURE_SOURCE,
        finding_inputs(scan),
        complete=complete,
        label=_("Analyse d'exposition du %(day)s")
        % {"day": timezone.localtime(scan.created_at).strftime("%d/%m/%Y %H:%M")},
        actor=actor,
    )
    return report.as_dict()


def log_failure(scan: Scan, exc: Exception) -> None:
    log.exception("exposure scan failed", extra={"scan": scan.pk})
    Scan.objects.filter(pk=scan.pk).update(
        status=ScanStatus.FAILED, finished_at=timezone.now(), error=f"{type(exc).__name__}: {exc}"
    )
    audit.record(
        SYSTEM,
        "exposure.scan.failed",
        scan,
        structure=scan.structure,
        changes={"error": f"{type(exc).__name__}: {exc}"[:500]},
    )

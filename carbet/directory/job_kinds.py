"""Job kinds of directory audits (autodiscovered by the jobs registry).

Both are idempotent: a rerun of a killed worker's job starts the collection or the analysis
over and replaces the audit's result; findings dedupe by fingerprint.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError

from carbet.core.mandates import MandateRefused
from carbet.directory import services
from carbet.directory.models import AuditStatus, DirectoryAudit
from carbet.jobs.registry import Reporter, job_kind

# Collection progress: the collector reports its steps; the bar stops at 80 %, analysis ends it.
COLLECT_SHARE = 80


def _audit(job: Any) -> DirectoryAudit:
    return DirectoryAudit.objects.select_related("structure", "connection__asset").get(
        pk=job.params["audit"]
    )


def _run(audit_row: DirectoryAudit, report: Reporter, collect: bool) -> dict:
    audit_row.status = AuditStatus.RUNNING
    audit_row.save(update_fields=["status"])
    try:
        if collect:
            steps = {"n": 0}

            def progress(step: str, count: int) -> None:
                steps["n"] += 1
                report(min(COLLECT_SHARE, 5 + steps["n"] * 5), f"{step} ({count})")

            snap = services.collect_online(audit_row, progress)
            services._keep_snapshot(audit_row, snap)
            audit_row.collected_at = snap.collected_at
            audit_row.save()
        report(COLLECT_SHARE + 5, "analyse")
        result = services.analyse_kept(audit_row)
        services.finish(audit_row, result)
    except (MandateRefused, ValidationError) as exc:
        services.fail(audit_row, str(getattr(exc, "message", exc)))
        raise
    except Exception as exc:
        # Collector and snapshot errors carry a readable message; anything else is a bug.
        services.fail(audit_row, str(exc) or exc.__class__.__name__)
        raise
    report(100, "terminé")
    return {
        "audit": audit_row.pk,
        "anssi_level": audit_row.anssi_level,
        "score": audit_row.score_global,
    }


@job_kind("directory.audit", max_attempts=2)
def run_online_audit(job: Any, report: Reporter) -> dict:
    return _run(_audit(job), report, collect=True)


@job_kind("directory.analyse", max_attempts=2)
def run_analysis(job: Any, report: Reporter) -> dict:
    return _run(_audit(job), report, collect=False)

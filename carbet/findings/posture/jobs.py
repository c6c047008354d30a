"""Job kinds of the dashboards: the nightly snapshot and the weekly digest.

Both are idempotent, as the job runner requires: a snapshot upserts its day's rows, the digest
skips the recipients already served that week.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from carbet.core.tenancy import SYSTEM
from carbet.findings.posture import digest, snapshots
from carbet.jobs.registry import Reporter, job_kind


def _day(value: Any) -> date | None:
    return date.fromisoformat(value) if value else None


@job_kind("findings.snapshot")
def snapshot_job(job: Any, report: Reporter) -> dict:
    """Params: ``day`` (ISO date, default today)."""
    report(10, "Calcul de la posture de chaque structure")
    result = snapshots.take_snapshots(_day(job.params.get("day")), actor=job.actor or SYSTEM)
    return result.as_dict()


@job_kind("findings.digest", max_attempts=2)
def digest_job(job: Any, report: Reporter) -> dict:
    """Params: ``today`` (ISO date, default today)."""
    report(10, "Préparation des résumés de la semaine")
    return digest.send_weekly_digests(_day(job.params.get("today")), actor=job.actor or SYSTEM)

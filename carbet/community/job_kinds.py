"""Job kinds of the community service (found by the jobs registry's autodiscovery)."""

from __future__ import annotations

from typing import Any

from carbet.jobs.registry import Reporter, job_kind


@job_kind("community.match")
def match_job(job: Any, report: Reporter) -> dict:
    """Params: ``full`` (bool, default false): every feed entry, not only the new ones."""
    from carbet.community import matching

    report(5, "Inventaires mis à jour, vulnérabilités rapprochées, alertes du jour")
    return matching.run(full=bool(job.params.get("full", False)))

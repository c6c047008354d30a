"""Job kinds of the exposure service (imported by the jobs registry's autodiscovery)."""

from __future__ import annotations

from typing import Any

from carbet.exposure.models import RegionalScan, Scan
from carbet.exposure.services import fan_out
from carbet.exposure.services_run import log_failure, run_scan
from carbet.jobs.registry import Reporter, job_kind


@job_kind("exposure.scan")
def scan_job(job: Any, report: Reporter) -> dict:
    """Params: ``scan`` (id). Resumes per target after a killed worker; nothing is duplicated."""
    scan = Scan.objects.select_related("structure", "requested_by").get(pk=job.params["scan"])
    try:
        return run_scan(scan, report)
    except Exception as exc:  # the job runner fails the job; the scan says so too
        log_failure(scan, exc)
        raise


@job_kind("exposure.regional")
def regional_job(job: Any, report: Reporter) -> dict:
    """Params: ``regional`` (id). Starts one ``exposure.scan`` job per structure, once each."""
    regional = RegionalScan.objects.select_related("requested_by", "profile").get(
        pk=job.params["regional"]
    )
    return fan_out(regional, report)

"""Background jobs of the registry: ``core.import`` runs an uploaded import file."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from carbet.core import imports, uploads
from carbet.jobs.registry import Reporter, job_kind


def _refusal(params: dict, message: str) -> dict:
    report = imports.ImportReport(kind=params.get("kind", ""), filename=params.get("filename", ""))
    report.errors.append(imports.CellError(imports.FILE_ROW, "", message))
    return report.as_result()


@job_kind("core.import", max_attempts=2)
def run_import(job: Any, report: Reporter) -> dict:
    """Import the stored file named in ``job.params``; the result carries the row report.

    Idempotent: the writes happen in one transaction, so a run cut short left nothing, and a
    second full run finds the rows already there (counted as unchanged). The stored file is
    deleted once read to the end, whatever the outcome.
    """
    params = job.params
    path = uploads.upload_path(params["file"], strict=True)
    # An import acts with the rights of whoever uploaded it, never with the system's: if that
    # account is gone (the job's actor was cleared), the import does not run.
    if job.actor is None:
        path.unlink(missing_ok=True)
        return _refusal(params, _("Le compte qui a déposé ce fichier n'existe plus."))
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return _refusal(
            params, _("Le fichier déposé n'est plus disponible : déposez-le à nouveau.")
        )
    actor = job.actor
    try:
        outcome = imports.run_import(
            actor,
            params["kind"],
            data,
            filename=params.get("filename", ""),
            dry_run=bool(params.get("dry_run")),
            ip=params.get("ip"),
            progress=report,
        )
    finally:
        path.unlink(missing_ok=True)
    return outcome.as_result()

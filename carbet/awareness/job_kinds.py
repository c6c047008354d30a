"""Background jobs of the awareness service; each is safe to run again (see each docstring)."""

from __future__ import annotations

from typing import Any

from carbet.jobs.registry import Reporter, job_kind


@job_kind("awareness.send", max_attempts=5)
def send_campaign(job: Any, report: Reporter) -> dict:
    """Send a campaign's due messages until none is left. A rerun never sends a message twice
    (``carbet.awareness.sending``)."""
    from carbet.awareness import sending

    return sending.run(int(job.params["campaign"]), report)


@job_kind("awareness.poll")
def poll_mailboxes(job: Any, report: Reporter) -> dict:
    """Read the reporting mailboxes. Rerunning it finds the handled mails already seen."""
    from carbet.awareness import imap_reporting

    return imap_reporting.poll_all()


@job_kind("awareness.maintenance")
def maintenance(job: Any, report: Reporter) -> dict:
    """Settle bot flags, refresh aggregates and findings, purge what is past its retention.
    Every step converges: a rerun finds nothing more to do."""
    from carbet.awareness import maintenance as steps

    return steps.run(report)

"""Background jobs of the exercises service; each is safe to run again (see each docstring)."""

from __future__ import annotations

from typing import Any

from carbet.jobs.registry import Reporter, job_kind


# A clock may be restarted by the reaper many times during a long exercise (worker restarts):
# each run starts by resolving what a dead run left (``dispatch.recover``).
@job_kind("exercises.clock", max_attempts=50)
def clock(job: Any, report: Reporter) -> dict:
    """Send the injects of one exercise (``exercise``) or of one regional exercise
    (``regional``) on time, until none is left. Never sends an inject twice
    (``carbet.exercises.dispatch``)."""
    from carbet.exercises import dispatch
    from carbet.jobs.services import backend_path

    # The immediate backend (development, tests) runs a job inside the request that submitted
    # it: there the clock does one pass and returns instead of sleeping through the exercise.
    once = backend_path().endswith("ImmediateBackend")
    return dispatch.run_clock(dict(job.params), report, claim=f"{job.pk}:{job.attempts}", once=once)


@job_kind("exercises.poll")
def poll(job: Any, report: Reporter) -> dict:
    """Read the replies mailboxes; a mail already handled is flagged and never counted twice."""
    from carbet.exercises import replies

    return replies.poll_all()

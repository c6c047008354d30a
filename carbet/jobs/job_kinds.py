"""Built-in job kinds of the platform itself."""

from __future__ import annotations

import time

from carbet.jobs.registry import job_kind


@job_kind("platform.selftest")
def selftest(job, report) -> dict:
    """Proves that a worker picks up and finishes work; optionally waits (for tests/ops)."""
    seconds = float(job.params.get("seconds", 0))
    steps = max(1, int(seconds * 4))
    for step in range(steps):
        report(int(100 * step / steps), "Vérification du processus de travail")
        if seconds:
            time.sleep(seconds / steps)
    return {"worker_ok": True, "attempt": job.attempts}

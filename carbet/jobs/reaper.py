"""The reaper thread: every worker rescues the jobs of workers that died.

It runs ``requeue_stale`` once at start (a worker that restarts after a crash picks its own
lost job up again) and then periodically. Several reapers may run at once (one per worker):
``requeue_stale`` locks the rows it changes, so a stale job is requeued only once.
"""

from __future__ import annotations

import logging
import threading

from django.conf import settings
from django.db import close_old_connections, connections

from carbet.jobs.services import requeue_stale

log = logging.getLogger("carbet.jobs.reaper")


def reaper_interval() -> float:
    """Seconds between two passes: at most 30 s, and often enough for the stale limit."""
    configured = getattr(settings, "CARBET_JOB_REAPER_SECONDS", None)
    if configured:
        return float(configured)
    return float(min(30.0, max(1.0, settings.CARBET_JOB_STALE_SECONDS / 2)))


class Reaper(threading.Thread):
    """Daemon thread calling ``requeue_stale`` every ``interval`` seconds until stopped."""

    def __init__(self, interval: float | None = None) -> None:
        super().__init__(daemon=True, name="carbet-reaper")
        self.interval = interval if interval is not None else reaper_interval()
        self.stopped = threading.Event()
        self.passes = 0

    def run_once(self) -> list[str]:
        try:
            rescued = requeue_stale()
        except Exception:  # a database hiccup must not kill the thread: retry next pass
            log.exception("reaper pass failed")
            rescued = []
        finally:
            close_old_connections()
        self.passes += 1
        if rescued:
            log.warning("reaper requeued jobs", extra={"jobs": ",".join(rescued)})
        return rescued

    def run(self) -> None:
        try:
            self.run_once()
            while not self.stopped.wait(self.interval):
                self.run_once()
        finally:
            connections.close_all()

    def stop(self) -> None:
        self.stopped.set()

"""A small process supervisor for ``carbet serve``: the web server and the task worker.

Why not systemd or supervisord? Many structures run Carbet on one small machine without an
administrator; ``carbet serve`` must be the one command that keeps everything up. A service
manager can still run ``carbet serve`` itself (one unit), and larger setups run ``carbet serve
--no-worker`` and ``carbet worker`` as separate units.

Rules:
- children run in their own session, so a Ctrl+C in the terminal reaches the supervisor only,
  which forwards SIGTERM to each child and waits for a graceful stop (then SIGKILL);
- on Linux each child also gets SIGTERM if the supervisor dies abruptly (PR_SET_PDEATHSIG), so
  no orphan keeps the port or the queue;
- a child marked ``restart`` (the task worker) is restarted when it dies, with a back-off that
  grows while it keeps failing; a child that may not restart (the web server, whose own
  master already restarts its workers) stops everything and its exit code is returned.
"""

from __future__ import annotations

import ctypes
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from django.utils.translation import gettext as _

log = logging.getLogger("carbet.serve")

PR_SET_PDEATHSIG = 1
# A child that stayed up this long is considered healthy again: its back-off resets.
HEALTHY_AFTER_SECONDS = 60.0
MAX_BACKOFF_SECONDS = 30.0


def _die_with_parent() -> None:  # pragma: no cover - runs in the forked child
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):
        pass


@dataclass
class Child:
    name: str
    argv: list[str]
    env: dict[str, str]
    restart: bool
    process: subprocess.Popen | None = None
    started_at: float = 0.0
    failures: int = 0
    restart_at: float | None = None
    restarts: int = 0

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None


@dataclass
class Supervisor:
    children: list[Child]
    stop_timeout: float = 30.0
    poll_interval: float = 0.2
    on_event: Callable[[str], None] = field(default=lambda message: None)
    stopping: bool = False
    exit_code: int = 0

    # --- lifecycle ---------------------------------------------------------------------------
    def start(self, child: Child) -> None:
        child.process = subprocess.Popen(
            child.argv,
            env=child.env,
            start_new_session=True,
            preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None,
        )
        child.started_at = time.monotonic()
        child.restart_at = None
        log.info("child started", extra={"child": child.name, "pid": child.process.pid})

    def start_all(self) -> None:
        for child in self.children:
            self.start(child)

    def install_signal_handlers(self) -> None:
        signal.signal(signal.SIGTERM, self._on_stop_signal)
        signal.signal(signal.SIGINT, self._on_stop_signal)
        signal.signal(signal.SIGHUP, self._on_hangup)

    def _on_stop_signal(self, signum: int, frame) -> None:
        if not self.stopping:
            log.info("stopping", extra={"signal": signal.Signals(signum).name})
            self.on_event(
                _("Arrêt demandé (%(signal)s) : arrêt en douceur…")
                % {"signal": signal.Signals(signum).name}
            )
        self.stopping = True

    def _on_hangup(self, signum: int, frame) -> None:
        # Gunicorn reloads its workers gracefully on SIGHUP: new code, no dropped request.
        for child in self.children:
            if child.alive():
                os.kill(child.pid, signal.SIGHUP if child.name == "web" else signal.SIGTERM)

    # --- the loop ----------------------------------------------------------------------------
    def run(self) -> int:
        """Watch the children until asked to stop or until a non-restartable child exits."""
        while not self.stopping:
            self.check_children()
            time.sleep(self.poll_interval)
        self.stop_all()
        return self.exit_code

    def check_children(self) -> None:
        now = time.monotonic()
        for child in self.children:
            if child.process is None:
                continue
            code = child.process.poll()
            if code is None:
                if now - child.started_at > HEALTHY_AFTER_SECONDS:
                    child.failures = 0
                continue
            if child.restart_at is not None:
                if now >= child.restart_at and not self.stopping:
                    child.restarts += 1
                    self.start(child)
                    self.on_event(
                        _("Processus « %(name)s » relancé (pid %(pid)s).")
                        % {"name": child.name, "pid": child.pid}
                    )
                continue
            log.warning("child exited", extra={"child": child.name, "exit_code": code})
            if not child.restart:
                self.on_event(
                    _("Le processus « %(name)s » s'est arrêté (code %(code)s).")
                    % {"name": child.name, "code": code}
                )
                self.exit_code = code if code else 1
                self.stopping = True
                return
            child.failures += 1
            delay = min(MAX_BACKOFF_SECONDS, 2.0 ** (child.failures - 1))
            child.restart_at = now + delay
            self.on_event(
                _(
                    "Le processus « %(name)s » s'est arrêté (code %(code)s) ; "
                    "relance dans %(delay)s s."
                )
                % {"name": child.name, "code": code, "delay": f"{delay:g}"}
            )

    def stop_all(self) -> None:
        running = [child for child in self.children if child.alive()]
        for child in running:
            try:
                os.kill(child.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + self.stop_timeout
        for child in running:
            remaining = max(0.1, deadline - time.monotonic())
            try:
                child.process.wait(timeout=remaining)
            except subprocess.TimeoutExpired:
                log.warning("child killed after timeout", extra={"child": child.name})
                try:
                    os.killpg(child.pid, signal.SIGKILL)  # its whole group: no stray grandchild
                except ProcessLookupError:
                    pass
                child.process.wait()

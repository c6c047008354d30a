"""Rendered HTML of a live fragment, kept per process and refreshed off the request path.

The regional console's live part is polled by every animator (20 of them during a regional
exercise) and costs a few hundred milliseconds to compute for 200 structures. Each process
keeps its last rendering: younger than ``FRESH`` it is served as is; older (up to ``STALE``)
it is still served at once while **one** background thread renders the next one, so no
request waits for the board and the board is computed about once a second per process
whatever the number of animators. A key seen for the first time (or left unread longer than
``STALE``) is rendered by the request itself, one thread at a time per key: the others wait
for that rendering instead of computing it again.

Only HTML that is the same for every reader may be kept here (rights are checked by the view
before asking, and the key holds what must never be served stale, such as a status).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.db import connection, connections
from django.utils import translation

log = logging.getLogger("carbet.exercises")
FRESH = 1.0
STALE = 10.0


@dataclass
class _Entry:
    at: float
    html: str


class LiveFragments:
    def __init__(
        self,
        fresh: float = FRESH,
        stale: float = STALE,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.fresh, self.stale, self.clock = fresh, stale, clock
        self.threads: list[threading.Thread] = []
        self.entries: dict[str, _Entry] = {}
        self.refreshing: set[str] = set()
        self.lock = threading.Lock()
        self.key_locks: dict[str, threading.Lock] = {}

    def get(self, key: str, render: Callable[[], str]) -> str:
        now = self.clock()
        with self.lock:
            entry = self.entries.get(key)
            # Another thread sees only committed rows: a caller inside a transaction (that may
            # have changed what the fragment shows) renders it itself.
            background = not connection.in_atomic_block
            if entry is not None and now - entry.at < self.stale and background:
                if now - entry.at >= self.fresh and key not in self.refreshing:
                    self.refreshing.add(key)
                    language = translation.get_language()
                    thread = threading.Thread(
                        target=self._refresh, args=(key, render, language), daemon=True
                    )
                    thread.start()
                    self.threads = [t for t in self.threads if t.is_alive()] + [thread]
                return entry.html
            key_lock = self.key_locks.setdefault(key, threading.Lock())
        with key_lock:  # one rendering per key at a time; the others take its result
            with self.lock:
                entry = self.entries.get(key)
            if entry is not None and self.clock() - entry.at < self.fresh:
                return entry.html
            html = render()
            self._store(key, html)
        return html

    def forget(self, keys: list[str]) -> None:
        with self.lock:
            for key in keys:
                self.entries.pop(key, None)

    def _store(self, key: str, html: str) -> None:
        now = self.clock()
        with self.lock:
            self.entries[key] = _Entry(now, html)
            for old in [k for k, e in self.entries.items() if now - e.at >= self.stale]:
                del self.entries[old]
                if old not in self.refreshing:
                    self.key_locks.pop(old, None)

    def _refresh(self, key: str, render: Callable[[], str], language: str | None) -> None:
        try:
            with translation.override(language):
                self._store(key, render())
        except Exception:  # the stale rendering stays; the next reader tries again
            log.exception("live fragment refresh failed: %s", key)
        finally:
            with self.lock:
                self.refreshing.discard(key)
            connections.close_all()  # this thread's own database connection

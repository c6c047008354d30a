"""The live fragments' cache (regional console): served fresh, then stale while one background
thread renders the next one; a caller inside a transaction renders itself. A fake clock, no
timing."""

from __future__ import annotations

import threading

import pytest
from django.db import transaction
from django.utils import translation

from carbet.exercises.livecache import LiveFragments


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Renderer:
    def __init__(self) -> None:
        self.calls = 0
        self.languages: list[str | None] = []
        self.release = threading.Event()
        self.release.set()

    def __call__(self) -> str:
        self.release.wait(10)
        self.calls += 1
        self.languages.append(translation.get_language())
        return f"board {self.calls}"


def _settle(cache: LiveFragments) -> None:
    for thread in cache.threads:
        thread.join(10)


def test_fresh_then_stale_while_one_thread_renders_the_next():
    clock, render = Clock(), Renderer()
    cache = LiveFragments(fresh=1.0, stale=10.0, clock=clock)
    assert cache.get("k", render) == "board 1"  # first reader renders
    clock.now += 0.5
    assert cache.get("k", render) == "board 1" and render.calls == 1  # fresh: kept
    clock.now += 1.0
    render.release.clear()  # the refresh is slow: readers keep getting the last board
    with translation.override("en"):
        assert cache.get("k", render) == "board 1"
        assert cache.get("k", render) == "board 1"
    assert len(cache.threads) == 1  # one refresh at a time, however many readers
    render.release.set()
    _settle(cache)
    assert render.calls == 2 and render.languages[-1] == "en"  # the reader's language
    assert cache.get("k", render) == "board 2"


def test_too_old_or_forgotten_is_rendered_by_the_reader():
    clock, render = Clock(), Renderer()
    cache = LiveFragments(fresh=1.0, stale=10.0, clock=clock)
    cache.get("k", render)
    clock.now += 30
    assert cache.get("k", render) == "board 2" and cache.threads == []
    cache.forget(["k"])
    assert cache.get("k", render) == "board 3"


def test_a_failed_refresh_keeps_the_last_board():
    clock = Clock()
    cache = LiveFragments(fresh=1.0, stale=10.0, clock=clock)
    cache.get("k", lambda: "board")
    clock.now += 2

    def broken() -> str:
        raise RuntimeError("database gone")

    assert cache.get("k", broken) == "board"
    _settle(cache)
    assert cache.get("k", lambda: "new") == "board"  # a new refresh is started, not awaited
    _settle(cache)
    assert cache.get("k", lambda: "newer") == "new"


@pytest.mark.django_db
def test_inside_a_transaction_the_reader_renders_itself():
    # Another thread would not see this transaction's rows: no background refresh.
    clock, render = Clock(), Renderer()
    cache = LiveFragments(fresh=1.0, stale=10.0, clock=clock)
    with transaction.atomic():
        cache.get("k", render)
        clock.now += 2
        assert cache.get("k", render) == "board 2"
    assert cache.threads == []

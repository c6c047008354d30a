"""Headless Chromium for the browser tests, with an accessibility check on every page visited.

Chromium is Debian's (/usr/bin/chromium) driven by the Playwright package; Playwright's own
browser download is never used. On a developer machine without Chromium the tests skip; in CI
(``CI`` set) that is a failure.

Every page a test visits is checked with axe-core (``tests/browser/a11y.py``): when the page's
main frame has navigated, the next call the test makes on the page (``goto``, ``get_by_*``,
``locator``, ``screenshot``, a key press, or the end of the test) first waits for the page to
load and runs axe on it. Serious and critical violations land in ``page.problems`` with the
console errors and failed requests, which every test asserts empty. Playwright's event
handlers cannot call the page themselves (the sync API would deadlock), hence this "check at
the next step" design.
"""

from __future__ import annotations

import functools
import os
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from tests.browser import a11y

CHROMIUM = os.environ.get("CARBET_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# The page calls that trigger the pending accessibility check.
CHECKPOINTS = (
    "goto",
    "get_by_label",
    "get_by_role",
    "get_by_text",
    "get_by_placeholder",
    "locator",
    "screenshot",
    "content",
    "inner_text",
)


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in {"", "0", "false", "no"}


def missing(reason: str) -> None:
    if in_ci():
        pytest.fail(f"{reason}: the browser test cannot be skipped in CI")
    pytest.skip(reason)


def _note_console(page: Any, message: Any) -> None:
    # A failed load is reported by _note_response with its address; anything else logged as an
    # error (a CSP violation, a script failure) is a problem.
    if message.type == "error" and not message.text.startswith("Failed to load resource"):
        page.problems.append(f"console: {message.text}")


def _note_response(page: Any, response: Any) -> None:
    if response.status >= 400 and not getattr(page, "allow_errors", False):
        page.problems.append(f"HTTP {response.status}: {response.url}")


def _note_navigation(page: Any, frame: Any) -> None:
    if frame == page.main_frame:
        page.a11y_pending = True


def run_pending_check(page: Any) -> None:
    """Run axe on the page if it has navigated since the last check (see module docstring)."""
    if not getattr(page, "a11y_pending", False) or page.is_closed():
        return
    page.a11y_pending = False
    page.wait_for_load_state("load")
    url = page.url
    if not url.startswith("http"):
        return
    try:
        violations = a11y.axe_violations(page)
    except Exception as exc:  # the page navigated again while axe ran: check the new one
        if "context was destroyed" in str(exc) or "navigation" in str(exc).lower():
            page.a11y_pending = True
            return run_pending_check(page)
        raise
    page.a11y_checked.append(url)
    page.problems.extend(f"axe on {url}: {line}" for line in a11y.describe(violations))


def _checkpoint(page: Any, method: Callable) -> Callable:
    @functools.wraps(method)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        run_pending_check(page)
        return method(*args, **kwargs)

    return wrapper


@contextmanager
def chromium_page(*, viewport: dict | None = None, check: bool = True) -> Iterator:
    """A fresh Chromium page (1280×800 unless told, French), checked with axe on every page.

    Playwright's sync API keeps an event loop in this thread, where Django then refuses ORM
    calls: the database is read before the page opens or after it closes, never while open.
    """
    if not (os.path.exists(CHROMIUM) or shutil.which(CHROMIUM)):
        missing(f"Chromium not found at {CHROMIUM}")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing("the playwright Python package is not installed")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        context = browser.new_context(
            viewport=viewport or {"width": 1280, "height": 800}, locale="fr-FR"
        )
        page = context.new_page()
        page.set_default_timeout(15_000)
        page.problems = []
        page.a11y_checked = []
        page.a11y_pending = False
        page.on("console", lambda msg: _note_console(page, msg))
        page.on("pageerror", lambda exc: page.problems.append(f"script error: {exc}"))
        page.on("response", lambda response: _note_response(page, response))
        if check:
            page.on("framenavigated", lambda frame: _note_navigation(page, frame))
            for name in CHECKPOINTS:
                setattr(page, name, _checkpoint(page, getattr(page, name)))
            page.keyboard.press = _checkpoint(page, page.keyboard.press)
        try:
            yield page
            if check:
                run_pending_check(page)  # the last page visited
        finally:
            context.close()
            browser.close()


def session_cookie(live_server_url: str, session_key: str) -> dict:
    """The cookie that makes Chromium an already logged-in user (set before the first page)."""
    from django.conf import settings

    return {
        "name": settings.SESSION_COOKIE_NAME,
        "value": session_key,
        "url": live_server_url,
    }

"""Accessibility checks run inside headless Chromium (RGAA 4.1 / WCAG 2.1 AA, issue 18).

- ``axe_violations``: axe-core (vendored, pinned: ``vendor/axe.min.js``) on the page as it is,
  keeping only the violations of impact "serious" or "critical";
- ``reflow_overflow``: at a given viewport width (320 CSS px = 1280 px at 400 % zoom; 640 =
  200 %), the page must not scroll sideways. Wide content may scroll inside its own box only;
- ``focus_problems``: every element reached with the Tab key shows a focus indicator (outline
  or box-shadow ring at least 2 px) whose colour contrasts at least 3:1 with the background
  behind it (WCAG 1.4.11 and 2.4.7; a two-colour ring passes when one of its colours does);
- ``aria_current_problems``: at most one link of a navigation carries ``aria-current="page"``.

axe is injected with ``page.evaluate``: the DevTools protocol runs it outside the page's
Content-Security-Policy, so the pages keep their real CSP while being checked.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

VENDOR = Path(__file__).resolve().parent / "vendor"
AXE_JS = VENDOR / "axe.min.js"
AXE_VERSION = "4.14.1"
BLOCKING_IMPACTS = ("serious", "critical")
# What axe checks: WCAG 2.0/2.1 A and AA, the base of RGAA 4.1 (plus axe's best practices,
# reported but only blocking at serious/critical like the rest).
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]


@cache
def _axe_source() -> str:
    return AXE_JS.read_text(encoding="utf-8")


@cache
def _js(name: str) -> str:
    """A check's JavaScript function, kept in tests/browser/js/ (readable, lintable as JS)."""
    text = (Path(__file__).resolve().parent / "js" / name).read_text(encoding="utf-8")
    # Playwright recognises a function by its first characters: drop the leading comment.
    return "\n".join(line for line in text.splitlines() if not line.startswith("//")).strip()


def axe_results(page: Any) -> list[dict]:
    """Every axe violation on the page (all impacts), as axe reports them."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(_axe_source())
    return page.evaluate(
        """async (tags) => {
            const result = await axe.run(document, {
                runOnly: {type: 'tag', values: tags}, resultTypes: ['violations'],
            });
            return result.violations.map(v => ({
                id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 5),
                count: v.nodes.length,
            }));
        }""",
        AXE_TAGS,
    )


def axe_violations(page: Any) -> list[dict]:
    """The serious and critical axe violations (what fails the tests)."""
    return [v for v in axe_results(page) if v["impact"] in BLOCKING_IMPACTS]


def describe(violations: list[dict]) -> list[str]:
    return [f"{v['impact']} {v['id']} ({v['count']}×: {', '.join(v['nodes'])})" for v in violations]


def reflow_overflow(page: Any, width: int, height: int = 800) -> list[str]:
    """Elements that make the page scroll sideways at ``width`` CSS px (empty when it fits)."""
    previous = page.viewport_size
    page.set_viewport_size({"width": width, "height": height})
    try:
        return page.evaluate(_js("reflow.js"))
    finally:
        page.set_viewport_size(previous)




def focus_problems_here(page: Any, *, minimum: float = 3.0) -> list[str]:
    """The focused element's ring: present (2 px or more) and at least 3:1 on its background."""
    state = page.evaluate(_js("focus_ring.js"))
    if state is None or state["best"] >= minimum:
        return []
    return [f"{state['label']}: focus ring contrast {state['best']:.2f}:1"]


def focus_problems(page: Any, *, max_tabs: int = 60, minimum: float = 3.0) -> list[str]:
    """Tab through the page from the top: every focused element must show a ring ≥ 3:1."""
    page.evaluate("() => { document.activeElement && document.activeElement.blur(); }")
    page.evaluate("() => window.scrollTo(0, 0)")
    problems: list[str] = []
    seen: set[str] = set()
    for _ in range(max_tabs):
        page.keyboard.press("Tab")
        state = page.evaluate(_js("focus_ring.js"))
        if state is None:
            break
        if state["label"] in seen:
            continue
        seen.add(state["label"])
        if state["best"] < minimum:
            problems.append(f"{state['label']}: focus ring contrast {state['best']:.2f}:1")
    return problems


def aria_current_problems(page: Any) -> list[str]:
    """More than one ``aria-current="page"`` link in one navigation is a lie to screen readers."""
    counts = page.evaluate(
        """() => [...document.querySelectorAll('nav')].map(nav => [
            nav.getAttribute('aria-label') || '(nav)',
            nav.querySelectorAll('[aria-current="page"]').length,
        ])"""
    )
    return [f"{label}: {n} links carry aria-current" for label, n in counts if n > 1]


def check_page(page: Any, *, reflow_widths: tuple[int, ...] = (320,)) -> list[str]:
    """Every automated check on the page as it stands; an empty list means it passes."""
    problems = [f"axe {line}" for line in describe(axe_violations(page))]
    for width in reflow_widths:
        problems += [f"reflow {width}px: {line}" for line in reflow_overflow(page, width)]
    problems += aria_current_problems(page)
    return problems

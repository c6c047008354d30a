"""Each demo role lands on its security view, in headless Chromium against a live server.

A director of one structure lands on its dashboard (score, first priorities, what to sign); one
who covers two structures on the chooser with each one's score; the ARS on the regional
indicators. The pages' screenshots refresh docs/screenshots/landing-*.png. Centre staff land on
the regional dashboard (tests/browser/test_walkthrough.py, through the second factor).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.browser.chromium import chromium_page, session_cookie
from tests.browser.conftest import DEMO_PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.realserver]

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
PASSWORD = DEMO_PASSWORD
DIRECTOR = "directrice@ehpad-hibiscus.test"  # one structure, several open findings
ORGANISATION_DIRECTOR = "direction@flamboyants.test"


def _login(page, url: str, email: str) -> None:
    page.goto(f"{url}/")
    page.get_by_label("Adresse e-mail").fill(email)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()


def _menu(page) -> list[str]:
    nav = page.get_by_role("navigation", name="Navigation principale")
    return [text.strip() for text in nav.get_by_role("link").all_inner_texts()]


def test_a_director_lands_on_the_dashboard_with_three_priorities(shared_demo):
    from playwright.sync_api import expect

    with chromium_page() as page:
        _login(page, shared_demo.url, DIRECTOR)
        expect(page.get_by_role("heading", level=1)).to_have_text("EHPAD Les Hibiscus")
        assert "/tableau-de-bord" in page.url or "/vulnerabilites/" in page.url, page.url
        priorities = page.locator("ol.priorities > li")
        assert priorities.count() >= 3
        first = [priorities.nth(i).inner_text() for i in range(3)]
        # Worst first: the EHPAD's worst open findings are high (no critical one).
        assert all(text.lower().startswith("élevée") for text in first), first
        expect(page.locator(".kpi").first).to_contain_text("/ 100")
        menu = _menu(page)
        assert "Tâches" not in menu and "Journal d'audit" not in menu, menu
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "landing-director.png"), full_page=False)

        # The structure's own page starts with its score and three priorities too, and its
        # "what to do now" puts the critical findings before any paperwork.
        page.get_by_role("link", name="Fiche de la structure (contacts, actifs, mandats)").click()
        posture = page.locator("#posture")
        expect(posture).to_contain_text("/ 100")
        assert posture.locator("ol.priorities > li").count() == 3
        step = page.locator("#next-title ~ div.why strong").first.inner_text()
        assert "vulnérabilité" in step, step  # findings first, before contacts or assets
        page.screenshot(path=str(SCREENSHOTS / "landing-structure-page.png"), full_page=False)
        problems = page.problems
    assert problems == []


def test_a_director_of_two_structures_chooses_by_score(shared_demo):
    from playwright.sync_api import expect

    with chromium_page() as page:
        _login(page, shared_demo.url, ORGANISATION_DIRECTOR)
        expect(page.get_by_role("heading", level=1)).to_have_text(
            "Tableau de bord de mes structures"
        )
        body = page.locator("main").inner_text()
        assert "EHPAD Les Flamboyants" in body and "Score" in body, body[:400]
        page.screenshot(path=str(SCREENSHOTS / "landing-chooser.png"), full_page=False)
        problems = page.problems
    assert problems == []


def test_the_ars_lands_on_the_indicators_with_one_menu_entry(shared_demo):
    from playwright.sync_api import expect

    # The ARS needs a second factor: a session already past it (tests.conftest.login).
    key = shared_demo.session("ars@ars-demo.test")
    with chromium_page() as page:
        page.context.add_cookies([session_cookie(shared_demo.url, key)])
        page.goto(f"{shared_demo.url}/")
        expect(page.get_by_role("heading", level=1)).to_contain_text("Indicateurs régionaux")
        menu = _menu(page)
        assert menu.count("Indicateurs régionaux") == 1, menu
        tabs = page.get_by_role("navigation", name="Les indicateurs régionaux")
        expect(tabs.get_by_role("link")).to_have_count(3)
        page.screenshot(path=str(SCREENSHOTS / "landing-ars.png"), full_page=False)
        # The maturity tab: its charts (the directory levels among them) fit their boxes.
        tabs.get_by_role("link", name="Maturité cyber", exact=False).click()
        expect(page.get_by_role("heading", level=1)).to_contain_text("maturité cyber")
        clipped = page.evaluate(
            """() => [...document.querySelectorAll('main svg')].filter(svg => {
                const box = svg.getBoundingClientRect();
                const main = document.querySelector('main').getBoundingClientRect();
                return box.right > main.right + 1 || box.width < 50;
            }).length"""
        )
        assert clipped == 0
        page.screenshot(path=str(SCREENSHOTS / "ars-maturity.png"), full_page=True)
        problems = page.problems
    assert problems == []

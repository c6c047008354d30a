"""Headless Chromium on a phone-sized screen (390 × 844): a director reports an incident, then
reads the director's one page of an open case — with axe-core on every page (no serious or
critical violation), no horizontal scrolling, targets large enough for a thumb, and the print
version without menus.

Chromium is Debian's, driven by Playwright (tests/browser/chromium.py). The database is read
before the browser opens and after it closes (Playwright's loop forbids ORM calls meanwhile).
"""

from __future__ import annotations

import pytest
from django.test import Client

from carbet.crisis.models import IncidentReport
from tests.browser.chromium import chromium_page, session_cookie
from tests.conftest import login

pytestmark = [pytest.mark.browser, pytest.mark.realserver]
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def insecure_cookies(settings):
    settings.SESSION_COOKIE_SECURE = False
    settings.CSRF_COOKIE_SECURE = False
    settings.CARBET_CRISIS_HOTLINE = "05 90 00 00 00"


def _session(user) -> str:
    client = login(Client(), user)
    return client.session.session_key


def _horizontal_overflow(page) -> int:
    return page.evaluate(
        "() => document.scrollingElement.scrollWidth - document.documentElement.clientWidth"
    )


def test_a_director_reports_an_incident_from_a_phone(
    transactional_db, live_server, insecure_cookies, region, keys
):
    key = _session(region.users["director"])
    with chromium_page(viewport=PHONE) as page:
        page.context.add_cookies([session_cookie(live_server.url, key)])
        page.goto(f"{live_server.url}/crise/signaler/")
        assert _horizontal_overflow(page) <= 0
        call = page.get_by_role("link", name="Appeler le centre : 05 90 00 00 00")
        assert call.get_attribute("href") == "tel:0590000000"
        page.get_by_label("Que se passe-t-il ?").fill("Écrans noirs et message de rançon")
        page.get_by_label("Qu'est-ce qui est touché ?").fill("Urgences")
        page.get_by_label("Qui rappeler ?").fill("Dr Alpha")
        page.get_by_label("À quel numéro ?").fill("06 39 98 00 01")
        button = page.get_by_role("button", name="Envoyer le signalement")
        box = button.bounding_box()
        assert box is not None and box["height"] >= 44 and box["width"] >= 300
        button.click()
        page.wait_for_url("**/crise/signalements/*/")
        heading = page.get_by_role("heading", level=1).inner_text()
        assert heading == "Signalement reçu par le centre"
        body = page.locator("main").inner_text()
        assert "Le centre rappelle Dr Alpha au 06 39 98 00 01" in body
        assert "Ce qui va se passer" in body
        assert _horizontal_overflow(page) <= 0
        problems = page.problems
        checked = list(page.a11y_checked)
    assert problems == []
    assert len(checked) >= 2
    report = IncidentReport.objects.get()
    assert report.what == "Écrans noirs et message de rançon" and report.structure == region.a


def test_the_directors_one_page_on_a_phone_and_on_paper(
    transactional_db, live_server, insecure_cookies, region, case
):
    from carbet.crisis import services_board, services_clock

    activity = case.activities.order_by("pk").first()
    services_board.set_activity_mode(
        region.users["director"], activity, mode="stopped", procedure="Procédure papier"
    )
    ars = case.obligations.get(kind="ars")
    services_clock.mark_obligation_sent(region.users["director"], ars, reference="SIG-77")
    key = _session(region.users["director"])
    with chromium_page(viewport=PHONE) as page:
        page.context.add_cookies([session_cookie(live_server.url, key)])
        page.goto(f"{live_server.url}/crise/dossiers/{case.pk}/direction/")
        main = page.locator("main")
        text = main.inner_text()
        for heading in (
            "Où en est-on ?",
            "Les soins",
            "Les prochaines déclarations",
            "Ce qui a été déclaré, et quand",
            "Les dernières décisions",
            "Les tâches prioritaires",
            "Le dernier point de situation",
        ):
            assert heading in text, heading
        assert "Arrêté" in text and activity.name in text and "SIG-77" in text
        assert _horizontal_overflow(page) <= 0
        page.emulate_media(media="print")
        assert not page.locator("nav.cr-noprint, header.topbar").first.is_visible()
        assert page.get_by_role("heading", name="Les soins").is_visible()
        page.emulate_media(media="screen")
        # Every tab of the case passes the same checks on the phone.
        for tab in ("main-courante/", "continuite/", "declarations/", "taches/"):
            page.goto(f"{live_server.url}/crise/dossiers/{case.pk}/{tab}")
            assert _horizontal_overflow(page) <= 0, tab
        problems = page.problems
    assert problems == []

"""A centre analyst's first steps, in headless Chromium against a live server.

Log in with e-mail and password, type the real TOTP code, filter the region overview, open a
structure, add an asset through its form and see it listed. The screenshots taken on the way
are the ones in docs/screenshots (see docs/index.md). The page's JavaScript must run without a
single console error: a Content-Security-Policy violation would show up there.

Chromium is Debian's (/usr/bin/chromium) driven by the Playwright package, through
``tests/browser/chromium.py``, which also runs axe-core on every page visited (zero serious or
critical accessibility violations, RGAA 4.1). On a developer machine without Chromium the test
skips; in CI (``CI`` set) that is a failure.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.core.management import call_command
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from carbet.accounts.models import User
from carbet.core.models import Asset
from carbet.demo import region
from tests.browser.chromium import chromium_page  # also imported by other services' tests

pytestmark = [pytest.mark.browser, pytest.mark.realserver]
__all__ = ["chromium_page"]

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
PASSWORD = "une démo bien gardée 2024"
ANALYST = "analyste@centre-demo.test"
NEW_ASSET = "portail-familles.ehpad-flamboyants.test"


@pytest.fixture
def analyst_key(transactional_db, settings) -> bytes:
    """The demo region, and an analyst whose authenticator app holds the returned TOTP key."""
    # The live server speaks plain HTTP: Secure cookies would never come back from Chromium.
    settings.SESSION_COOKIE_SECURE = False
    settings.CSRF_COOKIE_SECURE = False
    settings.CARBET_REGION_NAME = region.REGION_NAME
    call_command("demo", password=PASSWORD, stdout=io.StringIO())
    user = User.objects.get(email=ANALYST)
    device = TOTPDevice.objects.create(user=user, name="Téléphone", confirmed=True)
    return device.bin_key


def _shot(page, name: str, *, full_page: bool = False) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / name), full_page=full_page)


def test_analyst_logs_in_with_totp_filters_the_region_and_adds_an_asset(live_server, analyst_key):
    from playwright.sync_api import expect

    with chromium_page() as page:
        page.goto(f"{live_server.url}/")

        # 1. Password stage.
        expect(page.get_by_role("heading", name="Connexion à Carbet")).to_be_visible()
        page.get_by_label("Adresse e-mail").fill(ANALYST)
        page.get_by_label("Mot de passe").fill(PASSWORD)
        _shot(page, "01-login.png")
        page.get_by_role("button", name="Se connecter").click()

        # 2. Second factor: the code the analyst's phone would show right now.
        expect(page.get_by_role("heading", name="Code de double authentification")).to_be_visible()
        # The screenshot shows a fixed code so that docs/screenshots does not change every run.
        page.get_by_label("Code").fill("123456")
        _shot(page, "02-totp.png")
        page.get_by_label("Code").fill(f"{totp(analyst_key):06d}")
        page.get_by_role("button", name="Valider").click()

        # 3. The analyst lands on the regional dashboard; the menu's "Région" lists the
        # structures, filtered here on the EHPAD of Guadeloupe (971).
        landing = page.get_by_role("heading", level=1, name="Tableau de bord régional")
        expect(landing).to_be_visible()
        page.get_by_role("navigation", name="Navigation principale").get_by_role(
            "link", name="Région", exact=True
        ).click()
        expect(page.get_by_role("heading", name="Structures de la région")).to_be_visible()
        table = page.locator("#structures-table")
        expect(table).to_contain_text("CHU de Morne-Vert")
        page.get_by_label("Catégorie").select_option("ehpad")
        page.get_by_label("Département").select_option("971")
        page.get_by_role("button", name="Filtrer").click()
        expect(table).not_to_contain_text("CHU de Morne-Vert")
        expect(table).to_contain_text("EHPAD Les Flamboyants")
        expect(table).to_contain_text("EHPAD Résidence Corossol")
        expect(table).not_to_contain_text("EHPAD Les Hibiscus")  # in 972
        _shot(page, "03-region.png", full_page=True)

        # 4. One structure's page.
        table.get_by_role("link", name="EHPAD Les Flamboyants").click()
        expect(page.get_by_role("heading", level=1, name="EHPAD Les Flamboyants")).to_be_visible()
        expect(page.locator("#assets")).to_contain_text("ehpad-flamboyants.test")
        _shot(page, "04-structure.png", full_page=True)

        # 5. Add an asset through the form; it is listed on the structure's page.
        page.get_by_role("link", name="Ajouter un actif").click()
        page.get_by_label("Type").select_option("hostname")
        page.get_by_label("Valeur").fill(NEW_ASSET.upper())  # the form normalises the case
        page.get_by_label("Libellé").fill("Portail des familles")
        page.get_by_label("Criticité").select_option("high")
        page.get_by_label("Exposé sur internet").check()
        page.get_by_role("button", name="Enregistrer").click()
        assets = page.locator("#assets")
        expect(assets).to_contain_text(NEW_ASSET)
        expect(assets).to_contain_text("Portail des familles")
        page.locator("#assets").scroll_into_view_if_needed()
        _shot(page, "05-asset-added.png")

        problems = page.problems
        checked = page.a11y_checked

    assert problems == []
    # Login, code, region (twice: before and after filtering), structure, asset form, structure.
    assert len(checked) >= 6, checked
    asset = Asset.objects.get(value=NEW_ASSET)
    assert asset.structure.name == "EHPAD Les Flamboyants"
    assert asset.criticality == "high" and asset.internet_exposed and not asset.validated

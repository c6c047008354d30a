"""A hospital director's journey with the keyboard only, in headless Chromium (RGAA 4.1, 7.3
and 12.x: everything usable without a mouse, focus always visible and in a sensible order).

Log in (e-mail, password, then the TOTP code of her phone), answer the cyber diagnostic from
its first step to the last, open a finding, then sign the risk acceptance her security officer
asked for. Only the Tab, Shift+Tab, Space and Enter keys and typed text are used: no click, no
``fill``. Each page is also checked with axe-core (tests/browser/chromium.py). Screenshots of
the focus on the way are written to docs/screenshots/keyboard-*.png (docs/accessibility.md).
"""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import pytest
from django.core.management import call_command
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from carbet.accounts.models import User
from carbet.core.models import Structure
from carbet.demo import region
from carbet.findings.choices import OPEN_STATUSES
from carbet.findings.models import Finding, RiskAcceptance
from carbet.findings.models.acceptance import RiskAcceptanceStatus
from carbet.findings.services import acceptance
from carbet.roadmap.models import Assessment
from tests.browser import a11y
from tests.browser.chromium import chromium_page

pytestmark = [pytest.mark.browser, pytest.mark.realserver]

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
PASSWORD = "une démo bien gardée 2024"
DIRECTOR = "direction@ch-anse-bleue.test"
REFERENT = "rssi@ght-caraibe-sud.test"
STRUCTURE = "Centre hospitalier de l'Anse-Bleue"
MAX_TABS = 250
# What the focused element is: tag, type, href, text (for failure messages and matching).
_FOCUSED = """() => {
    const el = document.activeElement;
    if (!el || el === document.body) return null;
    return {tag: el.tagName.toLowerCase(), type: el.type || '', id: el.id || '',
            href: el.getAttribute('href') || '', name: el.getAttribute('name') || '',
            text: (el.innerText || el.value || '').trim().slice(0, 80),
            in_step: !!el.closest('#diagnostic-step')};
}"""


@pytest.fixture
def journey(transactional_db, settings) -> dict:
    """The demo region, the director's phone (TOTP) and a pending acceptance request."""
    settings.SESSION_COOKIE_SECURE = False
    settings.CSRF_COOKIE_SECURE = False
    settings.CARBET_REGION_NAME = region.REGION_NAME
    call_command("demo", password=PASSWORD, stdout=io.StringIO())
    director = User.objects.get(email=DIRECTOR)
    device = TOTPDevice.objects.create(user=director, name="Téléphone", confirmed=True)
    structure = Structure.objects.get(name=STRUCTURE)
    finding = (
        Finding.objects.filter(structure=structure, status__in=sorted(OPEN_STATUSES))
        .order_by("-severity", "pk")
        .first()
    )
    request = acceptance.request_acceptance(
        User.objects.get(email=REFERENT),
        structure,
        [finding],
        justification="Le fournisseur corrige ce serveur à la prochaine version.",
        compensating_measures="Le serveur n'est joignable que depuis le réseau d'imagerie.",
        expires_on=dt.date.today() + dt.timedelta(days=90),
    )
    return {"key": device.bin_key, "structure": structure, "request": request}


def _focused(page) -> dict | None:
    return page.evaluate(_FOCUSED)


def _tab_to(page, *, tag: str = "", href: str = "", text: str = "", kind: str = "") -> dict:
    """Press Tab until the focused element matches; fail if it never comes (a keyboard trap
    or an element out of the Tab order)."""
    seen = []
    for _ in range(MAX_TABS):
        page.keyboard.press("Tab")
        state = _focused(page)
        if state is None:
            continue
        seen.append(f"{state['tag']} {state['href'] or state['text'][:30]}")
        if (
            (not tag or state["tag"] == tag)
            and (not href or href in state["href"])
            and (not text or text in state["text"])
            and (not kind or state["type"] == kind)
        ):
            problems = a11y.focus_problems_here(page)
            assert not problems, problems
            return state
    raise AssertionError(f"never reached {tag} {href} {text!r} with Tab; went through {seen}")


def _shot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / name))


def _activate(page) -> None:
    """Enter on the focused link or button, then wait for the next page."""
    with page.expect_navigation():
        page.keyboard.press("Enter")


def test_a_director_logs_in_answers_the_diagnostic_and_signs_an_acceptance_by_keyboard(
    live_server, journey
):
    structure_id = journey["structure"].pk
    request_id = journey["request"].pk
    with chromium_page() as page:
        page.goto(f"{live_server.url}/")

        # 1. The e-mail field has the focus on arrival; Tab leads to the password, Enter sends.
        page.get_by_role("heading", name="Connexion à Carbet").wait_for()
        assert _focused(page)["id"] == "id_login"
        page.keyboard.type(DIRECTOR)
        page.keyboard.press("Tab")
        assert _focused(page)["type"] == "password"
        page.keyboard.type(PASSWORD)
        _shot(page, "keyboard-01-password.png")
        _activate(page)

        # 2. The second factor: the code field, typed, then Enter.
        page.get_by_role("heading", name="Code de double authentification").wait_for()
        _tab_to(page, tag="input")
        page.keyboard.type(f"{totp(journey['key']):06d}")
        _activate(page)

        # 3. On the structure's page the first Tab reaches the skip link; Enter jumps over the
        # menu to the content, where the roadmap link is, then the diagnostic.
        page.get_by_role("heading", level=1, name=STRUCTURE).wait_for()
        page.keyboard.press("Tab")
        assert _focused(page)["href"] == "#main"
        _shot(page, "keyboard-02-skip-link.png")
        page.keyboard.press("Enter")
        state = _tab_to(page, tag="a")
        assert "/registre/mes-structures/" not in state["href"], "the skip link did not skip"
        if f"/feuille-de-route/structure/{structure_id}/" not in state["href"]:
            _tab_to(page, href=f"/feuille-de-route/structure/{structure_id}/", tag="a")
        _activate(page)
        _tab_to(page, href=f"/feuille-de-route/structure/{structure_id}/diagnostic/")
        _activate(page)

        # 4. Every step: Space on the first choice of each question (or keep the one already
        # checked), then the step's button. htmx swaps the next step in and moves the focus to
        # its heading (carbet.js), so Tab carries on from there.
        steps = 0
        while True:
            steps += 1
            assert steps < 30, "the diagnostic never ends"
            page.locator("#diagnostic-step .rm-stepcount").wait_for()
            heading = page.locator("#diagnostic-step .rm-stepcount").inner_text()
            while True:
                page.keyboard.press("Tab")
                state = _focused(page)
                if not state or not state["in_step"]:
                    continue  # the menu, before the questionnaire (first step only)
                if state["type"] == "radio":
                    page.keyboard.press("Space")
                    if steps == 1:
                        _shot(page, "keyboard-03-diagnostic-choice.png")
                elif state["tag"] == "button":
                    break
            last = state["text"] == "Terminer"
            if last:
                _activate(page)
                break
            page.keyboard.press("Enter")
            page.wait_for_function(
                "(before) => { const h = document.querySelector('#diagnostic-step .rm-stepcount');"
                " const moved = document.activeElement !== document.body;"
                " return (h && h.innerText !== before && moved)"
                " || document.querySelector('#diagnostic-step .msg-error'); }",
                arg=heading,
            )
            assert not page.locator("#diagnostic-step .msg-error").count(), page.locator(
                "#diagnostic-step"
            ).inner_text()
            moved = _focused(page)
            assert moved is not None and moved["tag"] in {"h2", "legend", "form"}, moved

        # 5. A finding: the menu's "Vulnérabilités", then the first finding of the list.
        _tab_to(page, tag="a", href="/vulnerabilites/", text="Vulnérabilités")
        _activate(page)
        state = _tab_to(page, tag="a", href="/vulnerabilites/")
        while not state["href"].rstrip("/").split("/")[-1].isdigit():
            state = _tab_to(page, tag="a", href="/vulnerabilites/")
        _shot(page, "keyboard-04-finding-link.png")
        _activate(page)
        page.get_by_role("heading", level=1).wait_for()

        # 6. The acceptance: back to the list, its acceptances, the pending one, then sign.
        _tab_to(page, tag="a", text="Toutes les vulnérabilités")
        _activate(page)
        _tab_to(page, tag="a", href="/vulnerabilites/acceptations/")
        _activate(page)
        _tab_to(page, tag="a", href=f"/vulnerabilites/acceptations/{request_id}/")
        _activate(page)
        _tab_to(page, tag="textarea")
        page.keyboard.type("Signé au clavier, d'accord pour trois mois.")
        _tab_to(page, tag="input", kind="checkbox")
        page.keyboard.press("Space")
        _tab_to(page, tag="button", text="Signer")
        _shot(page, "keyboard-05-sign.png")
        _activate(page)
        page.get_by_text("L'acceptation du risque est signée.").wait_for()

        problems = page.problems
        checked = page.a11y_checked

    assert problems == []
    assert len(checked) >= 8, checked
    signed = RiskAcceptance.objects.get(pk=request_id)
    assert signed.status == RiskAcceptanceStatus.APPROVED
    assert signed.decided_by.email == DIRECTOR
    assert "clavier" in signed.decision_note
    diagnostic = Assessment.objects.filter(
        structure=journey["structure"], framework__code="diagnostic"
    ).first()
    assert diagnostic is not None

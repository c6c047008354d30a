"""Headless Chromium plays two people at once during a running exercise: a player (signed
link, no account) replies from their space while an animator, on the live console, is typing
the comment of an expectation. The console's live region shows the reply without a reload and
without taking the focus from the animator's comment; the animator then validates the
expectation. axe-core checks every page both of them see.

Chromium is Debian's, driven by Playwright (tests/browser/chromium.py); the database is read
before the pages open and after they close (Playwright's loop forbids ORM calls meanwhile).
"""

from __future__ import annotations

import pytest
from django.test import Client

from carbet.core.tenancy import SYSTEM
from carbet.exercises import dispatch, services, services_console
from carbet.exercises.models import Expectation, ExpectationResult, Participant, Reply
from tests.browser import a11y
from tests.browser.chromium import chromium_page, session_cookie
from tests.conftest import login

pytestmark = [pytest.mark.browser, pytest.mark.realserver]
REPLY = "Cellule de crise réunie, urgences en procédure papier."


def test_player_replies_while_animator_validates(live_server, transactional_db, region, exercise):
    from playwright.sync_api import expect

    services_console.start(SYSTEM, exercise)
    dispatch.run_clock({"exercise": exercise.pk})  # 3600x: the chronogram is out in 1.5 s
    player = Participant.objects.get(exercise=exercise, name="Joueur Crise")
    token = services.issue_link(SYSTEM, player)
    expectation = Expectation.objects.get(exercise=exercise, ref="E1")
    session = login(Client(), region.users["centre_analyst"]).session.session_key
    base = live_server.url

    with chromium_page() as animator:
        animator.context.add_cookies([session_cookie(base, session)])
        animator.goto(f"{base}/exercices/{exercise.pk}/console/")
        live = animator.locator("#console-live")
        expect(live).to_have_attribute("aria-live", "polite")
        expect(live).to_contain_text("Alerte du DSI")  # the first e-mail is out
        comment = animator.locator(f"#comment-{expectation.pk}")
        comment.click()
        comment.type("Cellule réunie après 20 min")

        # The player, in another browser context (no cookie, only the link), at the same time.
        player_context = animator.context.browser.new_context(locale="fr-FR")
        space = player_context.new_page()
        space.goto(f"{base}/x/{token}/")
        expect(space.get_by_role("heading", level=1)).to_contain_text("Espace joueur")
        expect(space.locator("#messages")).to_contain_text("Écrans noirs sur Hopital Manager")
        space.get_by_label("Votre réponse").fill(REPLY)
        space.get_by_role("button", name="Envoyer ma réponse").click()
        expect(space.get_by_role("status")).to_contain_text("Réponse envoyée")
        player_problems = a11y.describe(a11y.axe_violations(space))
        space.goto(f"{base}/x/{token}/presse/")
        expect(space.locator("main")).to_contain_text("Panne au")
        player_problems += a11y.describe(a11y.axe_violations(space))
        player_context.close()

        # The console shows the reply by itself (htmx polling), the page was not reloaded and
        # the animator's focus and half-typed comment are untouched.
        marker = animator.evaluate("() => (window.__noReload = 'still-here')")
        expect(live).to_contain_text(REPLY, timeout=20_000)
        assert animator.evaluate("() => window.__noReload") == marker
        assert animator.evaluate("() => document.activeElement.id") == f"comment-{expectation.pk}"
        expect(comment).to_have_value("Cellule réunie après 20 min")
        form = animator.locator(f"#attendu-{expectation.pk}")
        form.get_by_label("Partiellement atteint").check()
        form.get_by_role("button", name="Enregistrer").click()
        expect(animator.get_by_role("status").first).to_contain_text("Attendu E1 évalué")
        expect(live).to_contain_text("Attendus évalués : 1 sur 1")
        problems = animator.problems

    assert problems == [] and player_problems == []
    reply = Reply.objects.get(exercise=exercise)
    assert reply.participant == player and reply.body == REPLY and reply.source == "form"
    result = ExpectationResult.objects.get(expectation=expectation)
    assert result.outcome == "partial" and result.comment == "Cellule réunie après 20 min"

"""Every page of the exercises in Chromium, for the roles that see it: axe-core (no serious or
critical violation), no sideways scrolling at 320 px (the observer's phone), one
``aria-current`` per menu. The public spaces are checked without any session, as a player or
an observer opens them from their link."""

from __future__ import annotations

import pytest
from django.test import Client

from carbet.core.tenancy import SYSTEM
from carbet.exercises import dispatch, services, services_after, services_console
from carbet.exercises.models import Participant
from tests.browser import a11y
from tests.browser.chromium import chromium_page, session_cookie
from tests.conftest import login

pytestmark = [pytest.mark.browser, pytest.mark.realserver]


def _paths(exercise, version, region) -> dict[str, list[str]]:
    e = exercise.pk
    return {
        "centre_analyst": [
            "/exercices/",
            "/exercices/bibliotheque/",
            f"/exercices/bibliotheque/{version.pk}/",
            "/exercices/bibliotheque/import/",
            f"/exercices/bibliotheque/{version.pk}/exercice/",
            f"/exercices/bibliotheque/{version.pk}/regional/",
            f"/exercices/{e}/",
            f"/exercices/{e}/console/",
            f"/exercices/{e}/evaluation/",
            "/exercices/couverture/",
            "/exercices/regional/",
        ],
        "director": [f"/exercices/structures/{region.a.pk}/", f"/exercices/{e}/evaluation/"],
        "ars_viewer": ["/exercices/ars/"],
    }


def test_exercise_pages_pass_the_automated_checks(
    live_server, transactional_db, region, exercise, version
):
    services_console.start(SYSTEM, exercise)
    dispatch.run_clock({"exercise": exercise.pk})
    services_console.record_observation(SYSTEM, exercise, criterion="Alerte rapide", rating=3)
    services_console.finish(SYSTEM, exercise)
    services_after.add_item(SYSTEM, exercise, kind="improvement", title="Annuaire absent")
    exercise.refresh_from_db()
    player = Participant.objects.get(exercise=exercise, name="Joueur Crise")
    observer = Participant.objects.get(exercise=exercise, role="observer")
    public = [
        f"/x/{services.issue_link(SYSTEM, player)}/",
        f"/x/{services.issue_link(SYSTEM, observer)}/",
        f"/x/{services.issue_retex_link(SYSTEM, exercise)}/",
    ]
    token = public[0].split("/")[2]
    public.append(f"/x/{token}/presse/")
    sessions = {
        role: login(Client(), region.users[role]).session.session_key
        for role in ("centre_analyst", "director", "ars_viewer")
    }
    paths = _paths(exercise, version, region)
    problems: list[str] = []
    checked = 0
    for role, role_paths in [*paths.items(), ("anonymous", public)]:
        with chromium_page() as page:
            if role != "anonymous":
                page.context.add_cookies([session_cookie(live_server.url, sessions[role])])
            for path in role_paths:
                response = page.goto(f"{live_server.url}{path}")
                if response is None or response.status != 200:
                    problems.append(f"{role} {path}: HTTP {response.status if response else '?'}")
                    continue
                problems += [f"{role} {path}: {p}" for p in a11y.check_page(page)]
                checked += 1
            seen = page.problems  # axe on the last page runs when the browser closes
        problems += seen
    assert checked == sum(len(v) for v in paths.values()) + len(public)
    assert problems == []

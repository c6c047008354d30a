"""Key pages of every role, checked for accessibility in headless Chromium (RGAA 4.1, issue 18).

On the demo region, for each role (analyst, director, referent, ARS, administrator, someone not
logged in), every page of ``KEY_PAGES`` and of the services' ``A11Y_PAGES`` (their walk seeds,
see tests/walk_seeds.py) must have:

- zero serious or critical axe-core violations (axe 4.14.1, WCAG 2.1 A/AA rules);
- no sideways scrolling at 320 CSS px wide (= 1280 px at 400 % zoom) nor at 640 px (200 %);
- a visible focus ring contrasting at least 3:1 with its background on everything the Tab key
  reaches;
- at most one ``aria-current`` link per navigation.

Users are logged in by a session cookie made by Django (second factor included) before the
browser opens: the login pages themselves are checked as "anonymous" and in the keyboard
journey (test_keyboard_journey.py).
"""

from __future__ import annotations

import pytest

from carbet.core.models import Structure
from carbet.findings.models import Finding
from tests.browser import a11y
from tests.browser.chromium import chromium_page, session_cookie
from tests.walk_seeds import a11y_pages

pytestmark = [pytest.mark.browser, pytest.mark.realserver]

ACCOUNTS = {
    "analyst": "analyste@centre-demo.test",
    "director": "direction@ch-anse-bleue.test",
    "referent": "rssi@ght-caraibe-sud.test",
    "ars": "ars@ars-demo.test",
    "admin": "admin@centre-demo.test",
}
DIRECTOR_STRUCTURE = "Centre hospitalier de l'Anse-Bleue"
KEY_PAGES: list[tuple[str, str]] = [
    ("anonymous", "/compte/connexion/"),
    ("anonymous", "/accessibilite/"),
    # The centre's analyst: the region, a structure, findings, dashboards, every service.
    ("analyst", "/registre/"),
    ("analyst", "/registre/structures/{structure}/"),
    ("analyst", "/registre/structures/{structure}/contacts/ajouter/"),
    ("analyst", "/registre/structures/{structure}/actifs/ajouter/"),
    ("analyst", "/vulnerabilites/"),
    ("analyst", "/vulnerabilites/{finding}/"),
    ("analyst", "/vulnerabilites/tableau-de-bord/region/"),
    ("analyst", "/vulnerabilites/plans/"),
    ("analyst", "/vulnerabilites/acceptations/"),
    ("analyst", "/exposition/"),
    ("analyst", "/exposition/structure/{structure}/"),
    ("analyst", "/annuaire/"),
    ("analyst", "/annuaire/structure/{structure}/"),
    ("analyst", "/sensibilisation/"),
    ("analyst", "/sensibilisation/structures/{structure}/"),
    ("analyst", "/taches/"),
    ("analyst", "/compte/profil/"),
    ("analyst", "/accessibilite/"),
    # A hospital's director: the landing page, the dashboard, findings, plans, acceptances.
    ("director", "/"),
    ("director", "/vulnerabilites/tableau-de-bord/structure/{structure}/"),
    ("director", "/vulnerabilites/"),
    ("director", "/vulnerabilites/{finding}/"),
    ("director", "/vulnerabilites/plans/"),
    ("director", "/vulnerabilites/acceptations/"),
    # The GHT's security officer asks for risk acceptances.
    ("referent", "/vulnerabilites/acceptations/demander/"),
    # The ARS: aggregates only.
    ("ars", "/indicateurs/"),
    ("ars", "/vulnerabilites/tableau-de-bord/regional/"),
    # The centre's administrator: accounts and settings.
    ("admin", "/compte/utilisateurs/"),
    ("admin", "/compte/utilisateurs/nouveau/"),
    ("admin", "/vulnerabilites/delais/"),
    ("admin", "/compte/droits/"),
]


@pytest.fixture
def demo_sessions(shared_demo) -> dict:
    """A logged-in session per role on the shared demo region; the ids the page list needs."""

    def ids() -> dict[str, int]:
        structure = Structure.objects.get(name=DIRECTOR_STRUCTURE)
        finding = Finding.objects.filter(structure=structure).order_by("-severity", "pk").first()
        return {"structure": structure.pk, "finding": finding.pk}

    return {
        "url": shared_demo.url,
        "sessions": {role: shared_demo.session(email) for role, email in ACCOUNTS.items()},
        "values": shared_demo.read(ids),
    }


def _pages() -> dict[str, list[str]]:
    by_role: dict[str, list[str]] = {}
    for role, path in [*KEY_PAGES, *a11y_pages()]:
        if path not in by_role.setdefault(role, []):
            by_role[role].append(path)
    return by_role


def test_key_pages_of_every_role_pass_the_automated_accessibility_checks(demo_sessions):
    problems: list[str] = []
    checked: list[str] = []
    values = demo_sessions["values"]
    url = demo_sessions["url"]
    for role, paths in _pages().items():
        with chromium_page() as page:
            if role != "anonymous":
                page.context.add_cookies([session_cookie(url, demo_sessions["sessions"][role])])
            for template in paths:
                path = template.format(**values)
                response = page.goto(f"{url}{path}")
                where = f"{role} {path}"
                if response is None or response.status != 200:
                    problems.append(f"{where}: HTTP {response.status if response else '?'}")
                    continue
                # axe already ran at goto's checkpoint (chromium.py); the manual checks now.
                problems += [f"{where}: {p}" for p in a11y.reflow_overflow(page, 320)]
                problems += [f"{where}: {p}" for p in a11y.reflow_overflow(page, 640)]
                problems += [f"{where}: {p}" for p in a11y.aria_current_problems(page)]
                problems += [f"{where}: {p}" for p in a11y.focus_problems(page, max_tabs=40)]
            problems += page.problems  # axe on every page, console errors, failed requests
            checked += page.a11y_checked
    assert not problems, "\n".join(problems)
    assert len(checked) >= len(KEY_PAGES), checked

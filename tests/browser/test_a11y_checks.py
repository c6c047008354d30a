"""The accessibility checks themselves catch what they claim to catch (a check that never fails
proves nothing): a page made of known faults, in headless Chromium, without a server."""

from __future__ import annotations

import pytest

from tests.browser import a11y
from tests.browser.chromium import chromium_page

pytestmark = [pytest.mark.browser]

FAULTY = """<!doctype html><html lang="fr"><head><title>Défauts</title><style>
  a:focus, button:focus { outline: 3px solid #ffbf47; outline-offset: 2px; }
  .wide { width: 900px; }
</style></head><body>
<nav aria-label="Menu"><a href="#a" aria-current="page">A</a>
<a href="#b" aria-current="page">B</a></nav>
<main><h1>Défauts</h1><p class="wide">Ce paragraphe est plus large qu'un petit écran.</p>
<label>Sans lien</label><input type="text"><button>Envoyer</button>
<img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=">
</main></body></html>"""

FINE = """<!doctype html><html lang="fr"><head><title>Correct</title><style>
  :focus-visible { outline: 3px solid #0d1b2a; outline-offset: 2px; box-shadow: 0 0 0 2px #fff; }
  .box { overflow-x: auto; } .wide { width: 900px; }
</style></head><body>
<nav aria-label="Menu"><a href="#a" aria-current="page">A</a> <a href="#b">B</a></nav>
<main><h1>Correct</h1><div class="box" tabindex="0" role="region" aria-label="Tableau">
<p class="wide">Large, mais dans son propre cadre.</p></div>
<label for="f">Nom</label><input id="f" type="text"><button>Envoyer</button></main></body></html>"""


def test_the_checks_find_the_faults_and_pass_a_correct_page():
    with chromium_page(check=False) as page:
        page.set_content(FAULTY)
        ids = {v["id"] for v in a11y.axe_violations(page)}
        reflow = a11y.reflow_overflow(page, 320)
        current = a11y.aria_current_problems(page)
        focus = a11y.focus_problems(page)

        page.set_content(FINE)
        fine = (
            a11y.axe_violations(page),
            a11y.reflow_overflow(page, 320),
            a11y.aria_current_problems(page),
            a11y.focus_problems(page),
        )
    assert {"label", "image-alt"} <= ids
    assert reflow and "p.wide" in " ".join(reflow)
    assert current == ["Menu: 2 links carry aria-current"]
    assert 'button "Envoyer": focus ring contrast 1.64:1' in focus, focus  # #ffbf47 on white
    assert fine == ([], [], [], [])

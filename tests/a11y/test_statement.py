"""The accessibility statement: one source (docs/accessibility.md), shipped in the package,
served publicly, linked from every page's footer with its conformity status (RGAA 4.1)."""

from __future__ import annotations

import collections
import re
from pathlib import Path

from django.test import Client
from hypothesis import given, settings
from hypothesis import strategies as st

from carbet.web import statement
from tests.conftest import login, make_user

DOC = Path(__file__).resolve().parents[2] / "docs" / "accessibility.md"


def test_the_package_ships_exactly_the_documented_statement():
    assert statement.SOURCE.read_text(encoding="utf-8") == DOC.read_text(encoding="utf-8"), (
        "docs/accessibility.md changed: cp docs/accessibility.md "
        "carbet/templates/web/accessibility.md"
    )


def test_the_results_summary_counts_the_grid():
    text = DOC.read_text(encoding="utf-8")
    states = collections.Counter(
        re.findall(r"^\| \d+\.\d+ \| [^|]+ \| (C|NC|NA|NV) \|", text, re.MULTILINE)
    )
    total = re.search(r"a porté sur (\d+) critères", text)
    assert total and int(total.group(1)) == sum(states.values())
    for state, words in (
        ("C", "respectés"),
        ("NC", "non respectés"),
        ("NA", "non applicables"),
        ("NV", "non vérifiés"),
    ):
        found = re.search(rf"- (\d+) critères? {words}", text)
        assert found and int(found.group(1)) == states[state], (state, states)
    # The status follows the RGAA's rule: without a complete audit, "non conforme".
    assert statement.load().status in statement.STATUSES


def test_the_statement_page_is_public_and_has_the_required_parts(db):
    response = Client().get("/accessibilite/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "<h1>Déclaration d&#x27;accessibilité</h1>" in html or "Déclaration d" in html
    for part in (
        "État de conformité",
        "non conforme",
        "Contenus non accessibles",
        "Dérogations pour charge disproportionnée",
        "Retour d&#x27;information et contact",
        "Voies de recours",
        "Défenseur des droits",
        "Libre réponse 71120",
        'href="https://formulaire.defenseurdesdroits.fr/"',
    ):
        assert part in html, part
    assert "<table>" in html and 'scope="row"' in html  # the grid, as a real table


def test_every_page_links_to_the_statement_with_its_status(db):
    expected = 'href="/accessibilite/">Accessibilité : non conforme</a>'
    assert expected in Client().get("/compte/connexion/").content.decode()
    client = login(Client(), make_user("analyste@centre.test", "centre_analyst"))
    assert expected in client.get("/registre/").content.decode()


def test_the_footer_follows_the_document(monkeypatch, tmp_path):
    source = tmp_path / "accessibility.md"
    source.write_text("# Déclaration\n\nÉtat de conformité : **partiellement conforme**\n")
    monkeypatch.setattr(statement, "SOURCE", source)
    statement.load.cache_clear()
    try:
        assert statement.footer_label() == "Accessibilité : partiellement conforme"
    finally:
        monkeypatch.undo()
        statement.load.cache_clear()


def test_markdown_tables_lists_links_and_code():
    html = statement.to_html(
        "## Titre\n\nDu **gras**, du `code` et [un lien](https://exemple.test/a?b=1&c=2).\n\n"
        "- un\n- deux\n  suite\n\n| a | b |\n| --- | --- |\n| x | y |\n\n"
        "[dépôt](../tests/x.py) [piège](javascript:alert(1))\n"
    )
    assert '<h2 id="titre">Titre</h2>' in html
    assert "<strong>gras</strong>" in html and "<code>code</code>" in html
    assert '<a href="https://exemple.test/a?b=1&amp;c=2">un lien</a>' in html
    assert "<li>deux suite</li>" in html
    assert '<th scope="col">a</th>' in html and '<th scope="row">x</th><td>y</td>' in html
    assert "javascript:" not in html.split("<code>")[0] and 'href="javascript' not in html
    assert "<code>../tests/x.py</code>" in html


ALLOWED_TAGS = {
    "p", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "li", "table", "thead", "tbody",
    "tr", "th", "td", "strong", "code", "a",
}  # fmt: skip


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_any_text_gives_only_the_subsets_tags(text):
    """Whatever the file holds, the page only gets the tags of the subset: text is escaped."""
    html = statement.to_html(text)
    for tag in re.findall(r"<\s*/?\s*([a-zA-Z0-9]+)", html):
        assert tag in ALLOWED_TAGS, (tag, html)
    for href in re.findall(r'href="([^"]*)"', html):
        assert re.match(r"(https?://|mailto:|tel:|/|#)", href, re.IGNORECASE), href

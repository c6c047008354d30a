"""Page-level accessibility rules checked without a browser: one "you are here" link, a
language menu that waits for its button, required fields explained (RGAA 7.4, 11.10, 12)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.test import Client

from carbet.web.context import current_item
from tests.conftest import login, make_user

TEMPLATES = Path(__file__).resolve().parents[2] / "carbet" / "templates"


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/vulnerabilites/", 1),
        ("/vulnerabilites/12/", 1),
        ("/vulnerabilites/plans/3/", 2),
        ("/vulnerabilites/tableau-de-bord/region/", 0),
        ("/vulnerabilites/delais/", 3),
        ("/registre/structures/2/", None),
        ("/ailleurs/", None),
    ],
)
def test_the_menu_entry_of_a_page_is_its_longest_parent(path, expected):
    urls = ["/vulnerabilites/tableau-de-bord/", "/vulnerabilites/", "/vulnerabilites/plans/",
            "/vulnerabilites/delais/", "/registre/mes-structures/"]  # fmt: skip
    assert current_item(path, urls) == expected


@pytest.mark.parametrize(
    "path", ["/vulnerabilites/", "/vulnerabilites/plans/", "/vulnerabilites/delais/", "/registre/"]
)
def test_one_aria_current_in_the_menu(db, path):
    client = login(Client(), make_user("admin@centre.test", "centre_admin"))
    html = client.get(path).content.decode()
    menu = html.split('<nav aria-label="Navigation principale">')[1].split("</nav>")[0]
    assert len(re.findall(r"aria-current=", menu)) == 1, menu
    assert f'<a href="{path}" aria-current="page">' in menu


def test_no_menu_changes_the_page_when_an_option_is_chosen():
    """Choosing with the arrow keys must not submit (RGAA 7.4): a button confirms instead."""
    offenders = [str(p) for p in TEMPLATES.rglob("*.html") if "data-autosubmit" in p.read_text()]
    assert offenders == []
    assert "autosubmit" not in (TEMPLATES.parent / "static/carbet/carbet.js").read_text()


def test_the_language_menu_has_its_button(db):
    html = Client().get("/compte/connexion/").content.decode()
    form = html.split('class="lang inline"')[1].split("</form>")[0]
    assert '<select id="lang-select" name="language">' in form
    assert '<button type="submit">Changer de langue</button>' in form
    assert '<option value="en" lang="en"' in form


def test_required_fields_are_marked_and_explained(db):
    html = Client().get("/compte/connexion/").content.decode()
    assert "Les champs suivis d'un astérisque" in html
    assert len(re.findall(r"<input[^>]+ required", html)) == 2  # e-mail and password
    css = (TEMPLATES.parent / "static/carbet/carbet.css").read_text()
    assert 'content: " *" / ""' in css  # the mark, hidden from screen readers (they get required)


def test_a_form_without_required_field_has_no_note(db):
    from django import forms
    from django.template.loader import render_to_string

    class Optional(forms.Form):
        note = forms.CharField(required=False)

    class Needed(forms.Form):
        name = forms.CharField()

    assert "astérisque" not in render_to_string("_required_note.html", {"form": Optional()})
    assert "astérisque" in render_to_string("_required_note.html", {"form": Needed()})

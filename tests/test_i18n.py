"""The English translation of the interface (French is the source language).

Checks that ``carbet/locale/en/LC_MESSAGES/django.po`` translates every message, keeps the
placeholders and HTML tags of each message, matches the compiled ``django.mo`` shipped next to
it, is up to date with the sources, and that Django really serves English pages when asked.
"""

from __future__ import annotations

import os
import re
import shutil
from collections import Counter
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

CARBET_DIR = Path(__file__).resolve().parent.parent / "carbet"
LOCALE_DIR = CARBET_DIR / "locale"
PO_PATH = LOCALE_DIR / "en" / "LC_MESSAGES" / "django.po"
MO_PATH = PO_PATH.with_suffix(".mo")

# printf-style conversions as Python's % operator reads them: %(name)s, %s, %d, %.1f, %%.
PERCENT_PLACEHOLDER = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(?:\d+|\*)?(?:\.\d+)?[diouxXeEfFgGcrsa%]")
# str.format fields: {}, {0}, {name}, {name.attr}, {name!r:>10}. A lone "{" is plain text.
BRACE_PLACEHOLDER = re.compile(r"\{[A-Za-z0-9_.\[\]]*(?:![rsa])?(?::[^{}]*)?\}")
HTML_TAG = re.compile(r"</?[A-Za-z][^<>]*>")


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in {"", "0", "false", "no"}


@pytest.fixture(scope="module")
def catalogue() -> polib.POFile:
    assert PO_PATH.is_file(), f"missing {PO_PATH}: run `carbet makemessages -l en` in carbet/"
    return polib.pofile(str(PO_PATH))


def _live(po: polib.POFile) -> list[polib.POEntry]:
    return [entry for entry in po if not entry.obsolete]


def _pairs(entry: polib.POEntry) -> list[tuple[str, str]]:
    """(source, translation) pairs: one for a simple message, one per form for a plural."""
    if not entry.msgid_plural:
        return [(entry.msgid, entry.msgstr)]
    forms = entry.msgstr_plural
    # English has two forms: [0] is the singular, every other form follows the plural msgid.
    return [(entry.msgid if n == 0 else entry.msgid_plural, forms[n]) for n in sorted(forms)]


def _label(entry: polib.POEntry) -> str:
    where = f" ({entry.occurrences[0][0]})" if entry.occurrences else ""
    return f"{entry.msgid[:70]!r}{where}"


def test_catalogue_is_english_with_two_plural_forms(catalogue):
    assert catalogue.metadata.get("Language") == "en"
    assert "nplurals=2" in catalogue.metadata.get("Plural-Forms", "")
    assert "charset=UTF-8" in catalogue.metadata.get("Content-Type", "")
    assert len(_live(catalogue)) > 1000  # the whole interface, not a sample


def test_every_entry_is_translated_and_none_is_fuzzy(catalogue):
    problems = []
    for entry in _live(catalogue):
        if "fuzzy" in entry.flags:
            problems.append(f"fuzzy: {_label(entry)}")
        if entry.msgid_plural and sorted(entry.msgstr_plural) != [0, 1]:
            problems.append(f"needs msgstr[0] and msgstr[1]: {_label(entry)}")
        if any(not translation.strip() for _, translation in _pairs(entry)):
            problems.append(f"untranslated: {_label(entry)}")
    assert not problems, "\n".join(problems)


def test_placeholders_and_tags_are_kept(catalogue):
    problems = []
    for entry in _live(catalogue):
        checks = [("HTML tags", HTML_TAG)]
        if "python-format" in entry.flags:
            checks.append(("%-placeholders", PERCENT_PLACEHOLDER))
        if "python-brace-format" in entry.flags:
            checks.append(("{}-placeholders", BRACE_PLACEHOLDER))
        for source, translation in _pairs(entry):
            for what, pattern in checks:
                expected = Counter(pattern.findall(source))
                found = Counter(pattern.findall(translation))
                if expected != found:
                    problems.append(
                        f"{what} differ in {_label(entry)}: "
                        f"{sorted(expected.elements())} vs {sorted(found.elements())}"
                    )
            # Leading/trailing spaces and newlines matter when messages are joined or printed.
            if source.startswith((" ", "\n")) != translation.startswith((" ", "\n")):
                problems.append(f"leading whitespace differs in {_label(entry)}")
            if source.endswith((" ", "\n")) != translation.endswith((" ", "\n")):
                problems.append(f"trailing whitespace differs in {_label(entry)}")
    assert not problems, "\n".join(problems)


def test_python_format_flags_mark_every_named_placeholder(catalogue):
    """A translation with a named placeholder is checked above only if xgettext flagged it."""
    named = re.compile(r"%\([A-Za-z_][A-Za-z0-9_]*\)[sdif]")
    unflagged = [
        _label(entry)
        for entry in _live(catalogue)
        if named.search(entry.msgid) and "python-format" not in entry.flags
    ]
    assert not unflagged, "\n".join(unflagged)


def _catalogue_of(entries) -> dict[tuple[str | None, str, str], tuple[str, ...]]:
    table = {}
    for entry in entries:
        if entry.obsolete or "fuzzy" in entry.flags or not entry.msgid:
            continue
        key = (entry.msgctxt, entry.msgid, entry.msgid_plural or "")
        if entry.msgid_plural:
            table[key] = tuple(entry.msgstr_plural[n] for n in sorted(entry.msgstr_plural))
        else:
            table[key] = (entry.msgstr,)
    return table


def test_compiled_mo_matches_the_po(catalogue):
    """The shipped .mo (for installs without gettext) says exactly what the .po says."""
    assert MO_PATH.is_file(), f"missing {MO_PATH}: run `carbet compilemessages` and commit it"
    compiled = polib.mofile(str(MO_PATH))
    assert _catalogue_of(compiled) == _catalogue_of(catalogue), (
        "django.mo is out of date: run `carbet compilemessages` in carbet/ and commit it"
    )
    assert "nplurals=2" in compiled.metadata.get("Plural-Forms", "")


@pytest.mark.skipif(shutil.which("msgfmt") is None, reason="msgfmt (gettext) is not installed")
def test_msgfmt_accepts_the_po(tmp_path):
    """msgfmt --check also validates each python-format string against its msgid."""
    import subprocess

    result = subprocess.run(
        ["msgfmt", "--check", "-o", str(tmp_path / "django.mo"), str(PO_PATH)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr


def test_po_is_up_to_date_with_the_sources(catalogue, tmp_path, settings, monkeypatch):
    """Extract the messages again, in a copy of the sources, and find each one in the .po."""
    if shutil.which("xgettext") is None or shutil.which("msgmerge") is None:
        if _in_ci():
            pytest.fail("xgettext is needed in CI (scripts/test installs the gettext package)")
        pytest.skip("xgettext (gettext) is not installed")
    copy = tmp_path / "carbet"
    shutil.copytree(
        CARBET_DIR, copy, ignore=shutil.ignore_patterns("__pycache__", "locale", "*.pyc")
    )
    (copy / "locale").mkdir()
    settings.LOCALE_PATHS = [copy / "locale"]
    monkeypatch.chdir(copy)
    call_command("makemessages", locale=["en"], ignore_patterns=["*/migrations/*"], verbosity=0)

    fresh = polib.pofile(str(copy / "locale" / "en" / "LC_MESSAGES" / "django.po"))
    assert len(_live(fresh)) > 1000, "makemessages found almost nothing: wrong directory?"
    committed = {(e.msgctxt, e.msgid, e.msgid_plural) for e in _live(catalogue)}
    missing = [
        f"{e.msgid[:70]!r} ({e.occurrences[0][0] if e.occurrences else '?'})"
        for e in _live(fresh)
        if (e.msgctxt, e.msgid, e.msgid_plural) not in committed
    ]
    assert not missing, (
        "messages missing from the English .po: run `carbet makemessages -l en "
        '--ignore "*/migrations/*"` in carbet/, translate them, then `carbet compilemessages`:\n'
        + "\n".join(missing)
    )


# --- Django serves the catalogue -----------------------------------------------------------


@pytest.mark.django_db
def test_login_page_in_english_from_accept_language():
    response = Client(HTTP_ACCEPT_LANGUAGE="en").get(reverse("accounts:login"))
    body = response.content.decode()
    assert response.status_code == 200
    assert '<html lang="en"' in body
    assert "Sign in to Carbet" in body
    assert "Connexion à Carbet" not in body


@pytest.mark.django_db
def test_login_page_in_french_by_default_and_on_request():
    for headers in ({}, {"HTTP_ACCEPT_LANGUAGE": "fr-FR,fr;q=0.9"}):
        body = Client(**headers).get(reverse("accounts:login")).content.decode()
        assert '<html lang="fr"' in body
        assert "Connexion à Carbet" in body
        assert "Sign in to Carbet" not in body


@pytest.mark.django_db
def test_language_cookie_wins_over_the_browser():
    english = Client(HTTP_ACCEPT_LANGUAGE="fr")
    english.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    assert "Sign in to Carbet" in english.get(reverse("accounts:login")).content.decode()

    french = Client(HTTP_ACCEPT_LANGUAGE="en")
    french.cookies[settings.LANGUAGE_COOKIE_NAME] = "fr"
    assert "Connexion à Carbet" in french.get(reverse("accounts:login")).content.decode()


@pytest.mark.django_db
def test_signed_in_pages_follow_the_language(region):
    client = region.client("director")
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    body = client.get(reverse("accounts:profile")).content.decode()
    assert "My account" in body
    assert "Two-factor authentication" in body
    assert "Mon compte" not in body

    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "fr"
    body = client.get(reverse("accounts:profile")).content.decode()
    assert "Mon compte" in body
    assert "My account" not in body


@pytest.mark.django_db
def test_python_messages_and_plurals_are_translated():
    from django.utils import translation
    from django.utils.translation import gettext, ngettext

    with translation.override("en"):
        assert gettext("Mot de passe incorrect.") == "Incorrect password."
        assert ngettext("%(n)s compte", "%(n)s comptes", 1) % {"n": 1} == "1 account"
        assert ngettext("%(n)s compte", "%(n)s comptes", 3) % {"n": 3} == "3 accounts"
    with translation.override("fr"):
        assert gettext("Mot de passe incorrect.") == "Mot de passe incorrect."

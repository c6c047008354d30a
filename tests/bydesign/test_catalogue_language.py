"""The measures catalogue speaks the reader's language: French first, English complete (the
pages, the plain-words explanation and the API carry the English texts)."""

from __future__ import annotations

import pytest
from django.utils import translation

from carbet.bydesign import catalogue, selectors
from tests.api.conftest import token_client

pytestmark = pytest.mark.django_db
P = "/services-numeriques"
HDS_FR = "Un hébergeur certifié HDS pour les données de santé"
HDS_EN = "An HDS-certified host for health data"


def test_every_measure_has_its_english_texts_and_keeps_its_french():
    for measure in catalogue.measures():
        for name in ("title", "why", "how"):
            with translation.override("en"):
                english = catalogue.text(measure, name)
            with translation.override("fr"):
                french = catalogue.text(measure, name)
            assert english.strip() and english == getattr(measure, f"{name}_en"), measure.code
            assert french == getattr(measure, name), measure.code


def test_the_service_page_shows_the_measures_in_the_readers_language(bd):
    client = bd.client("director_a2")
    url = f"{P}/service/{bd.care.pk}/"
    french = client.get(url).content.decode()
    assert HDS_FR in french and HDS_EN not in french
    english = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert HDS_EN in english and HDS_FR not in english
    owner = catalogue.by_code()["gov.owner"]
    page = client.get(f"{P}/service/{bd.care.pk}/mesure/gov.owner/", HTTP_ACCEPT_LANGUAGE="en")
    body = page.content.decode()
    assert page.status_code == 200
    assert "A named person in charge of this service" in body
    assert owner.how_en.split("(")[0].strip() in body and owner.how not in body


def test_the_explanation_names_the_next_measures_in_the_readers_language(bd):
    titles = {m.title: m.title_en for m in catalogue.measures()}
    with translation.override("en"):
        page = selectors.service_page(bd.care, bd.care.created_at.date())
    named = [line for line in page.explanation if "«" in line]
    assert named, page.explanation
    assert any(english in named[-1] for english in titles.values())
    assert not any(french in named[-1] for french in titles)


def test_the_api_gives_both_languages(bd):
    client = token_client(bd.users["director_a2"])
    response = client.get(f"/bydesign/digital-services/{bd.care.pk}")
    assert response.status_code == 200, response.content
    hds = next(m for m in response.json()["measures"] if m["code"] == "gov.hds")
    assert (hds["title"], hds["title_en"]) == (HDS_FR, HDS_EN)
    assert hds["why_en"] and hds["how_en"]

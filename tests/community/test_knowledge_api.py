"""The knowledge base through the API: search, read, write for the centre; a draft is a 404
for structures; the ARS and account-less tokens get nothing."""

from __future__ import annotations

import pytest

from carbet.community import services_knowledge as services
from carbet.community.models import Article
from tests.api.conftest import assert_error, token_client

BASE = "/community/knowledge"


@pytest.fixture
def api(region):
    """``api("director")``: an API client holding that region user's token."""
    return lambda role: token_client(region.users[role])


@pytest.fixture
def kb(region):
    analyst = region.users["centre_analyst"]
    region.draft = services.create_article(
        analyst, {"title": "CH Alpha-Secret", "category": "Incidents", "body": "Brouillon secret."}
    )
    region.sheet = services.publish(
        analyst,
        services.create_article(
            analyst,
            {
                "title": "Fiche réflexe rançongiciel",
                "kind": "reflex",
                "category": "Incidents",
                "tags": ["rançongiciel"],
                "body": "Ne payez pas la **rançon**. <script>x</script>",
            },
        ),
    )
    return region


def test_search_and_read(kb, api):
    client = api("director_b")
    body = client.get(f"{BASE}/search", q="rancon").json()
    assert body["count"] == 1
    hit = body["results"][0]
    assert hit["article"]["slug"] == "fiche-reflexe-rancongiciel"
    assert hit["article"]["url"] == "/communaute/savoir/fiche-reflexe-rancongiciel/"
    assert "<mark>rançon</mark>" in hit["snippet_html"] and "<script>" not in hit["snippet_html"]
    assert client.get(f"{BASE}/search", q='NEAR("(" *').json()["count"] == 0
    assert client.get(f"{BASE}/search", q="secret").json()["count"] == 0
    assert client.get(f"{BASE}/search", q="rancon", kind="procedure").json()["count"] == 0
    article = client.get(f"{BASE}/articles/{kb.sheet.pk}").json()
    assert article["body_html"].count("<strong>rançon</strong>") == 1
    assert "&lt;script&gt;" in article["body_html"]
    listing = client.get(f"{BASE}/articles").json()
    assert [a["slug"] for a in listing["results"]] == ["fiche-reflexe-rancongiciel"]


def test_drafts_are_404_for_structures(kb, api):
    for role in ("director", "director_b", "it_provider"):
        client = api(role)
        assert_error(client.get(f"{BASE}/articles/{kb.draft.pk}"), 404)
        assert_error(client.patch(f"{BASE}/articles/{kb.draft.pk}", {"body": "x"}), 404)
        assert_error(client.post(f"{BASE}/articles/{kb.draft.pk}/publish"), 404)
        assert_error(client.get(f"{BASE}/articles/{kb.draft.pk}/versions"), 404)
    # A published article: readable, not writable.
    client = api("director_b")
    assert_error(client.patch(f"{BASE}/articles/{kb.sheet.pk}", {"body": "x"}), 403)
    assert_error(client.post(f"{BASE}/articles/{kb.sheet.pk}/archive"), 403)
    assert_error(client.post(f"{BASE}/articles", {"title": "t", "category": "c", "body": "b"}), 403)
    for route in ("/search?q=x", "/articles", f"/articles/{kb.sheet.pk}"):
        assert_error(api("ars_viewer").get(BASE + route), 403)
    assert Article.objects.get(pk=kb.draft.pk).status == "draft"


def test_the_centre_writes(kb, api):
    client = api("centre_analyst")
    created = client.post(
        f"{BASE}/articles",
        {
            "title": "Tester ses sauvegardes",
            "kind": "procedure",
            "category": "Sauvegardes",
            "tags": ["sauvegarde"],
            "body": "Restaurez un fichier.",
            "note": "Première version",
        },
    )
    assert created.status_code == 201, created.content
    pk = created.json()["id"]
    assert created.json()["status"] == "draft"
    patched = client.patch(
        f"{BASE}/articles/{pk}", {"body": "Restaurez un serveur.", "note": "Plus ambitieux"}
    ).json()
    assert patched["version"] == 2
    assert client.post(f"{BASE}/articles/{pk}/publish").json()["status"] == "published"
    versions = client.get(f"{BASE}/articles/{pk}/versions").json()
    assert [(v["number"], v["note"]) for v in versions] == [
        (2, "Plus ambitieux"),
        (1, "Première version"),
    ]
    assert_error(client.post(f"{BASE}/articles", {"title": "", "category": "c", "body": "b"}), 422)
    assert client.get(f"{BASE}/articles", status="draft").json()["count"] == 1
    assert client.get(f"{BASE}/search", q="sauvegardes").json()["count"] == 1

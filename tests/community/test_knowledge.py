"""The knowledge base: versions, publishing and archiving, who reads what (drafts are the
centre's: a 404 for structures, by address and by search), the pages and their Markdown,
the history and the diff, the stable links for the crisis kit, the demo."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404

from carbet.audit.models import AuditEntry
from carbet.community import demo_knowledge
from carbet.community import selectors_knowledge as selectors
from carbet.community import services_knowledge as services
from carbet.community.models import Article, ArticleVersion
from carbet.core.tenancy import SYSTEM

BODY = "# Isoler\n\n- Débranchez le câble réseau.\n- N'éteignez pas le poste.\n"


@pytest.fixture
def kb(region):
    analyst = region.users["centre_analyst"]
    region.draft = services.create_article(
        analyst,
        {
            "title": "CH Alpha-Secret : brouillon",
            "category": "Incidents",
            "body": "Texte secret du brouillon rançongiciel.",
        },
    )
    region.sheet = services.create_article(
        analyst,
        {
            "title": "Fiche réflexe rançongiciel",
            "kind": "reflex",
            "category": "Incidents",
            "tags": "rançongiciel, crise",
            "summary": "Les premières minutes.",
            "body": BODY,
        },
        note="Première rédaction",
    )
    services.publish(analyst, region.sheet)
    return region


def test_every_save_keeps_a_version_with_its_note_and_author(kb):
    analyst = kb.users["centre_analyst"]
    sheet = kb.sheet
    assert sheet.version == 1 and sheet.tags == ["rançongiciel", "crise"]
    assert services.update_article(
        analyst, sheet, {"body": BODY + "- Alertez le centre.\n"}, note="Ajout de l'alerte"
    )
    assert services.update_article(analyst, sheet, {"title": "Fiche : rançongiciel"}, note="Titre")
    assert not services.update_article(analyst, sheet, {"title": "Fiche : rançongiciel"})
    sheet.refresh_from_db()
    assert sheet.version == 3 and sheet.slug == "fiche-reflexe-rancongiciel"  # stable address
    rows = list(selectors.versions(sheet))
    assert [v.number for v in rows] == [3, 2, 1]
    assert [v.note for v in rows] == ["Titre", "Ajout de l'alerte", "Première rédaction"]
    assert all(v.author_id == analyst.pk for v in rows)
    assert rows[2].body == BODY
    actions = set(AuditEntry.objects.values_list("action", flat=True))
    assert {"community.article.create", "community.article.update"} <= actions
    assert "community.article.publish" in actions


def test_only_the_centre_writes(kb):
    for role in ("director", "referent", "it_provider", "ars_viewer", "nobody"):
        with pytest.raises(PermissionDenied):
            services.create_article(kb.users[role], {"title": "x", "category": "y", "body": "z"})
        with pytest.raises(PermissionDenied):
            services.update_article(kb.users[role], kb.sheet, {"body": "piraté"})
        with pytest.raises(PermissionDenied):
            services.publish(kb.users[role], kb.draft)
    assert Article.objects.get(pk=kb.sheet.pk).body == BODY


def test_validation_and_slugs(kb):
    with pytest.raises(ValidationError) as caught:
        services.create_article(SYSTEM, {"title": " ", "category": "", "body": ""})
    assert set(caught.value.message_dict) == {"title", "category", "body"}
    with pytest.raises(ValidationError):
        services.create_article(
            SYSTEM, {"title": "t", "category": "c", "body": "b", "tags": ["x" * 41]}
        )
    again = services.create_article(
        SYSTEM, {"title": "Fiche réflexe rançongiciel", "category": "c", "body": "b"}
    )
    assert again.slug == "fiche-reflexe-rancongiciel-2"
    reserved = services.create_article(SYSTEM, {"title": "Nouveau", "category": "c", "body": "b"})
    assert reserved.slug == "article-nouveau"


def test_drafts_are_the_centres_only(kb):
    director_b = kb.users["director_b"]
    assert selectors.article_for(kb.users["centre_admin"], kb.draft.slug) == kb.draft
    for role in ("director", "director_b", "it_provider"):
        with pytest.raises(Http404):
            selectors.article_for(kb.users[role], kb.draft.slug)
    assert selectors.article_for(director_b, kb.sheet.slug) == kb.sheet
    assert selectors.run_search(director_b, "brouillon secret").hits == []
    assert [h.article for h in selectors.run_search(kb.users["centre_analyst"], "secret").hits] == [
        kb.draft
    ]
    assert kb.draft not in selectors.latest(director_b)
    assert selectors.categories(director_b) == [("Incidents", 1)]
    with pytest.raises(PermissionDenied):
        selectors.article_for(kb.users["ars_viewer"], kb.sheet.slug)


def test_archive_keeps_the_address_but_leaves_the_lists(kb):
    analyst, director_b = kb.users["centre_analyst"], kb.users["director_b"]
    with pytest.raises(ValidationError):
        services.archive(analyst, kb.draft)
    services.archive(analyst, kb.sheet)
    assert selectors.article_for(director_b, kb.sheet.slug) == kb.sheet
    assert selectors.run_search(director_b, "rançongiciel").hits == []
    assert selectors.reflex_sheets() == []
    page = kb.client("director_b").get(f"/communaute/savoir/{kb.sheet.slug}/")
    assert "archivé" in page.content.decode()
    with pytest.raises(ValidationError):
        services.delete_draft(analyst, kb.sheet)
    services.delete_draft(analyst, kb.draft)
    assert not ArticleVersion.objects.filter(article_id=kb.draft.pk).exists()


def test_reflex_sheets_for_the_crisis_kit(kb):
    sheets = selectors.reflex_sheets()
    assert [(s.title, s.url) for s in sheets] == [
        ("Fiche réflexe rançongiciel", "/communaute/savoir/fiche-reflexe-rancongiciel/")
    ]


def test_pages_for_a_structure(kb):
    client = kb.client("director_b")
    home = client.get("/communaute/savoir/")
    assert home.status_code == 200
    text = home.content.decode()
    assert "Fiche réflexe rançongiciel" in text and "CH Alpha-Secret" not in text
    assert "Écrire un article" not in text
    page = client.get("/communaute/savoir/fiche-reflexe-rancongiciel/").content.decode()
    assert "<h2>Isoler</h2>" in page and "<li>Débranchez le câble réseau.</li>" in page
    assert client.get("/communaute/savoir/?q=secret").content.decode().count("CH Alpha-Secret") == 0
    for suffix in ("", "modifier/", "historique/", "versions/1/", "comparer/"):
        assert client.get(f"/communaute/savoir/{kb.draft.slug}/{suffix}").status_code == 404
    for suffix in ("publier/", "archiver/", "supprimer/", "modifier/"):
        assert client.post(f"/communaute/savoir/{kb.draft.slug}/{suffix}").status_code == 404
    # A published article: readable, never writable by a structure.
    for suffix in ("modifier/", "historique/", "comparer/"):
        assert client.get(f"/communaute/savoir/{kb.sheet.slug}/{suffix}").status_code == 403
    assert client.post(f"/communaute/savoir/{kb.sheet.slug}/archiver/").status_code == 403
    assert client.get("/communaute/savoir/nouveau/").status_code == 403
    assert kb.client("ars_viewer").get("/communaute/savoir/").status_code == 403
    assert kb.client("nobody").get("/communaute/savoir/").status_code == 403
    assert Article.objects.get(pk=kb.sheet.pk).status == "published"


def test_markdown_is_rendered_safely(kb):
    services.update_article(
        SYSTEM,
        kb.sheet,
        {"body": "<script>alert(1)</script>\n\n[clic](javascript:alert(1)) <img src=x>"},
        note="test",
    )
    page = kb.client("director").get(f"/communaute/savoir/{kb.sheet.slug}/").content.decode()
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page
    assert 'href="javascript' not in page and "<img src=x>" not in page


def test_the_centre_writes_publishes_and_compares(kb):
    client = kb.client("centre_analyst")
    response = client.post(
        "/communaute/savoir/nouveau/",
        {
            "title": "Tester ses sauvegardes",
            "kind": "procedure",
            "category": "Sauvegardes",
            "tags": "sauvegarde, CaRE",
            "summary": "Une fois par trimestre.",
            "body": "Restaurez un fichier.\nVérifiez-le.\n",
        },
    )
    assert response.status_code == 302
    article = Article.objects.get(slug="tester-ses-sauvegardes")
    assert article.status == "draft" and article.tags == ["sauvegarde", "CaRE"]
    edit = f"/communaute/savoir/{article.slug}/modifier/"
    assert "Ce qui change" in client.get(edit).content.decode()
    fields = {
        "title": "Tester ses sauvegardes",
        "kind": "procedure",
        "category": "Sauvegardes",
        "tags": "sauvegarde, CaRE",
        "summary": "Une fois par trimestre.",
        "body": "Restaurez un fichier <b>réel</b>.\nVérifiez-le.\nNotez la durée.\n",
    }
    refused = client.post(edit, fields)  # the note is required on an edit
    assert refused.status_code == 200 and "Ce champ est obligatoire" in refused.content.decode()
    assert client.post(edit, {**fields, "note": "Ajout de la durée"}).status_code == 302
    assert client.post(f"/communaute/savoir/{article.slug}/publier/").status_code == 302
    article.refresh_from_db()
    assert article.status == "published" and article.version == 2
    history = client.get(f"/communaute/savoir/{article.slug}/historique/").content.decode()
    assert "Ajout de la durée" in history and "<caption>" in history
    diff = client.get(f"/communaute/savoir/{article.slug}/comparer/?a=1&b=2").content.decode()
    assert "Ajouté" in diff and "Retiré" in diff
    assert "<ins>+ Notez la durée.</ins>" in diff
    assert "<del>− Restaurez un fichier.</del>" in diff
    assert "&lt;b&gt;réel&lt;/b&gt;" in diff  # escaped in the diff too
    old = client.get(f"/communaute/savoir/{article.slug}/versions/1/").content.decode()
    assert "version 1" in old.lower()
    assert client.get(f"/communaute/savoir/{article.slug}/versions/9/").status_code == 404
    assert client.get(f"/communaute/savoir/{article.slug}/comparer/?a=x&b=-4").status_code == 200


def test_headings_start_below_the_page_title():
    for text in ("# Un\n\n## Deux", "### Un\n\n#### Deux", "Un\n===\n\nDeux\n---"):
        html = str(selectors.body_html(text))
        assert "<h2>Un</h2>" in html and "<h3>Deux</h3>" in html, html
    assert "<h" not in str(selectors.body_html("Texte seul."))


def test_diff_lines_groups_changes_with_context():
    before = "\n".join(f"ligne {i}" for i in range(20))
    after = before.replace("ligne 3", "ligne trois").replace("ligne 17", "ligne dix-sept")
    hunks = selectors.diff_lines(before, after)
    assert len(hunks) == 2
    first = hunks[0]
    assert [(d.kind, d.before, d.after) for d in first if d.kind != "same"] == [
        ("removed", 4, None),
        ("added", None, 4),
    ]
    assert sum(1 for d in first if d.kind == "same") == 6
    assert selectors.diff_lines("a\nb", "a\nb") == []


def test_demo_articles_are_loaded_once(db, region):
    made = demo_knowledge.load({}, [region.users["centre_analyst"]], date(2026, 12, 1))
    assert made == len(demo_knowledge.ARTICLES) and 6 <= made <= 8
    assert demo_knowledge.load({}, [region.users["centre_analyst"]], date(2026, 12, 1)) == 0
    sheet = Article.objects.get(slug="fiche-reflexe-rancongiciel")
    assert sheet.version == 2 and sheet.status == "published"
    assert {s.slug for s in selectors.reflex_sheets()} >= {
        "fiche-reflexe-rancongiciel",
        "declarer-un-incident",
        "tester-ses-sauvegardes",
    }
    result = selectors.run_search(region.users["director"], "rancon")
    assert result.hits[0].article.title == "Fiche réflexe : attaque par rançongiciel"

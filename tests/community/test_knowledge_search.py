"""Full-text search of the knowledge base on SQLite (FTS5): French words and accents, ranking,
filters, escaped snippets, and hostile queries that never raise (hypothesis, against the real
FTS5 engine). PostgreSQL: test_knowledge_postgres.py."""

from __future__ import annotations

import pytest
from django.db import connection
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from carbet.community import search
from carbet.community import selectors_knowledge as selectors
from carbet.community import services_knowledge as services
from carbet.community.models import Article
from carbet.core.tenancy import SYSTEM

HOSTILE = [
    '"',
    '""',
    "'",
    "sauvegarde OR",
    "NEAR(rançon sauvegarde, 2)",
    "title:rançon",
    "*",
    "rançon*",
    "(((",
    "rançon )",
    "AND NOT OR",
    "^rançon",
    "-rançon +sauvegarde",
    "rançon & | ! :*",
    "\x00\x02\x03",
    "ǅ ½ ¹ ⅷ",
    "a" * 5000,
    "<script>alert(1)</script>",
    "'; DROP TABLE community_article; --",
]


def _article(title: str, body: str, **extra) -> Article:
    values = {"title": title, "body": body, "category": extra.pop("category", "Incidents")}
    values.update(extra)
    article = services.create_article(SYSTEM, values)
    return services.publish(SYSTEM, article)


@pytest.fixture
def articles(db):
    return {
        "ransom": _article(
            "Fiche réflexe : rançongiciel",
            "Débranchez le câble réseau. Ne payez pas la rançon. Vérifiez les sauvegardes.",
            kind="reflex",
            tags=["rançongiciel", "crise"],
            summary="Les premières minutes d'une attaque par rançongiciel.",
        ),
        "backup": _article(
            "Tester ses sauvegardes",
            "Une sauvegarde jamais restaurée n'est pas une sauvegarde. Restaurez un fichier.",
            kind="procedure",
            category="Sauvegardes",
            tags=["sauvegarde"],
        ),
        "mail": _article(
            "Boîte aux lettres compromise",
            "Changez le mot de passe, fermez les sessions, cherchez les règles de transfert.",
            category="Messagerie",
            tags=["messagerie", "accès"],
        ),
    }


def _titles(rows) -> list[str]:
    return [a.title for a in rows]


def test_the_migration_made_the_fts5_table_and_its_triggers(db):
    assert connection.vendor == "sqlite"
    with connection.cursor() as cursor:
        cursor.execute("SELECT name, type FROM sqlite_master WHERE name LIKE 'community_art%'")
        names = dict(cursor.fetchall())
    assert names[search.FTS_TABLE] == "table"
    for trigger in ("insert", "update", "delete"):
        assert names[f"{search.FTS_TABLE}_{trigger}"] == "trigger"


def test_french_plurals_and_accents(articles):
    rows = search.ranked(Article.objects.all(), "sauvegarde")
    assert set(_titles(rows)) == {"Tester ses sauvegardes", "Fiche réflexe : rançongiciel"}
    # The title weighs most: the article about backups comes first.
    assert _titles(rows)[0] == "Tester ses sauvegardes"
    assert "Tester ses sauvegardes" in _titles(search.ranked(Article.objects.all(), "sauvegardes"))
    assert _titles(search.ranked(Article.objects.all(), "rancon")) == [
        "Fiche réflexe : rançongiciel"
    ]
    assert _titles(search.ranked(Article.objects.all(), "RANÇONGICIEL")) == [
        "Fiche réflexe : rançongiciel"
    ]
    # Tags are searched as words, accents included ("acces" finds the tag "accès").
    assert _titles(search.ranked(Article.objects.all(), "acces messagerie")) == [
        "Boîte aux lettres compromise"
    ]
    assert list(search.ranked(Article.objects.all(), "télémédecine")) == []


def test_every_word_is_required_and_stop_words_are_ignored(articles):
    assert _titles(search.ranked(Article.objects.all(), "la rançon et les sauvegardes")) == [
        "Fiche réflexe : rançongiciel"
    ]
    assert list(search.ranked(Article.objects.all(), "le la les")) == []


def test_the_index_follows_updates_and_deletes(articles):
    backup = articles["backup"]
    services.update_article(SYSTEM, backup, {"body": "Restaurez un serveur entier."}, note="x")
    assert _titles(search.ranked(Article.objects.all(), "serveur")) == ["Tester ses sauvegardes"]
    assert "Tester ses sauvegardes" not in _titles(
        search.ranked(Article.objects.all(), "jamais restaurée")
    )
    draft = services.create_article(SYSTEM, {"title": "Brouillon", "category": "X", "body": "zz"})
    assert _titles(search.ranked(Article.objects.all(), "brouillon")) == ["Brouillon"]
    services.delete_draft(SYSTEM, draft)
    assert list(search.ranked(Article.objects.all(), "brouillon")) == []
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {search.FTS_TABLE}")
        assert cursor.fetchone()[0] == Article.objects.count()


def test_filters_by_kind_category_and_tag(articles, region):
    user = region.users["director"]
    assert _hits(selectors.run_search(user, "sauvegarde", kind="procedure")) == [
        "Tester ses sauvegardes"
    ]
    assert _hits(selectors.run_search(user, "sauvegarde", category="Incidents")) == [
        "Fiche réflexe : rançongiciel"
    ]
    assert _hits(selectors.run_search(user, "sauvegarde", tag="CRISE")) == [
        "Fiche réflexe : rançongiciel"
    ]


def _hits(result) -> list[str]:
    return [hit.article.title for hit in result.hits]


def test_snippets_highlight_the_words_and_escape_everything(db, region):
    _article(
        "Hameçonnage",
        "Un courriel piégé <script>alert('x')</script> demande de **sauvegarder** vos codes.",
    )
    result = selectors.run_search(region.users["director"], "sauvegarde script")
    snippet = str(result.hits[0].snippet)
    assert "<mark>sauvegarder</mark>" in snippet
    assert "<script>" not in snippet and "&lt;<mark>script</mark>&gt;" in snippet
    assert "**" not in snippet  # the Markdown marks are not shown


def test_highlight_keeps_the_original_accents_and_cuts_long_texts():
    text = "Début. " + "mot " * 200 + "La rançon est demandée. " + "fin " * 200
    out = str(search.highlight(text, ["rancon"]))
    assert "<mark>rançon</mark>" in out
    assert out.startswith("… ") and out.endswith(" …")
    assert len(out) < 400
    assert str(search.highlight("<b>&</b>", [])) == "&lt;b&gt;&amp;&lt;/b&gt;"


@pytest.mark.parametrize("query", HOSTILE)
def test_hostile_queries_never_raise(articles, region, query):
    result = selectors.run_search(region.users["centre_analyst"], query)
    assert result.total == len(result.hits)
    rows = list(search.ranked(Article.objects.all(), query))
    assert all(isinstance(a.rank, float) for a in rows)


def test_hostile_queries_through_the_page(articles, region):
    client = region.client("director")
    for query in HOSTILE:
        response = client.get("/communaute/savoir/", {"q": query[:200].replace("\x00", "")})
        assert response.status_code == 200, query
        assert b"<script>alert(1)</script>" not in response.content


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(query=st.text(max_size=120))
def test_query_builder_is_always_valid_fts5(articles, query):
    """Whatever is typed, the words are letters and digits only, the MATCH expression is valid
    FTS5 syntax (run by the real engine) and the tsquery text holds only quoted words."""
    words = search.terms(query)
    assert len(words) <= search.MAX_TERMS
    for word in words:
        assert word and all(c.isalnum() for c in word) and len(word) <= search.MAX_TERM_LENGTH
    expression = search.fts5_query(words)
    assert expression.count('"') == 2 * len(words)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT count(*) FROM {search.FTS_TABLE} WHERE {search.FTS_TABLE} MATCH %s",
            [expression or '""'],
        )
    tsquery = search.pg_tsquery(words)
    assert tsquery.count("'") == 2 * len(words)
    list(search.ranked(Article.objects.all(), query))


@given(text=st.text(max_size=300), words=st.lists(st.text(max_size=10), max_size=4))
def test_highlight_always_escapes(text, words):
    out = str(search.highlight(text, words))
    stripped = out.replace("<mark>", "").replace("</mark>", "")
    assert "<" not in stripped and ">" not in stripped
    assert out.count("<mark>") == out.count("</mark>")

"""The knowledge base's search on PostgreSQL (real server on loopback, a throw-away database,
migrated by ``carbet migrate`` in a subprocess like the other PostgreSQL tests): the GIN
expression index of the migration exists and serves the query, the French stemmer, accents
(through ``unaccent`` when the server has it), ranking, filters, drafts hidden, and hostile
queries that never raise."""

from __future__ import annotations

import pytest

from tests.community.test_knowledge_search import HOSTILE
from tests.ops.realservers import carbet_env, django_script, postgres_database, run_carbet

pytestmark = pytest.mark.realserver

SCRIPT = """
import json
from django.db import connection
from carbet.community import search
from carbet.community import selectors_knowledge as selectors
from carbet.community import services_knowledge as services
from carbet.community.models import Article
from carbet.core.tenancy import SYSTEM
from carbet.accounts.models import User, Membership
from carbet.core.models import Organisation, Structure

def article(title, body, **extra):
    values = {"title": title, "body": body, "category": extra.pop("category", "Incidents"), **extra}
    return services.publish(SYSTEM, services.create_article(SYSTEM, values))

article("Fiche réflexe : rançongiciel", "Ne payez pas la rançon. Vérifiez les sauvegardes.",
        kind="reflex", tags=["crise"])
article("Tester ses sauvegardes", "Une sauvegarde jamais restaurée n'est pas une sauvegarde.",
        kind="procedure", category="Sauvegardes")
article("Boîte aux lettres compromise", "Changez le mot de passe, cherchez les transferts.",
        category="Messagerie", tags=["accès"])
services.create_article(SYSTEM, {"title": "Brouillon secret", "category": "X",
                                 "body": "rançon secrète"})
org = Organisation.objects.create(finess_ej="750100125", name="B", legal_status="public")
b = Structure.objects.create(finess_et="970200036", name="B", organisation=org,
                             category="ehpad", departement="971")
director = User.objects.create_user(username="d@b.test", email="d@b.test", password="x" * 20)
Membership.objects.create(user=director, role="director", structure=b)

def titles(query, **filters):
    return [h.article.title for h in selectors.run_search(director, query, **filters).hits]

def hostile_ok(query):
    selectors.run_search(director, query)
    list(search.ranked(Article.objects.all(), query))
    return True

with connection.cursor() as cursor:
    cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = %s", [search.PG_INDEX])
    index = cursor.fetchone()[0]
    cursor.execute("SET enable_seqscan = off")
    plan = search.ranked(Article.objects.all(), "sauvegarde").explain()
    cursor.execute("SET enable_seqscan = on")

result = {
    "vendor": connection.vendor,
    "config": search.pg_config(),
    "index": index,
    "plan": plan,
    "sauvegarde": titles("sauvegarde"),
    "sauvegardes": titles("sauvegardes"),
    "restaurer": titles("restaurées"),
    "rancon": titles("rancon"),
    "rançon": titles("rançon"),
    "acces": titles("acces"),
    "kind": titles("sauvegarde", kind="procedure"),
    "tag": titles("sauvegarde", tag="Crise"),
    "secret": titles("secret"),
    "centre_secret": [h.article.title for h in selectors.run_search(SYSTEM, "secret").hits],
    "snippet": str(selectors.run_search(director, "payez").hits[0].snippet),
    "hostile": [hostile_ok(q) for q in HOSTILE_QUERIES],
}
print(json.dumps(result))
"""


def test_search_on_postgresql(tmp_path):
    with postgres_database("carbet_kb") as url:
        env = carbet_env(tmp_path / "data", DATABASE_URL=url)
        migrated = run_carbet(env, "migrate", "--no-input", timeout=600)
        assert migrated.returncode == 0, migrated.stderr[-3000:]
        hostile = [q.replace("\x00", "") for q in HOSTILE]
        code = f"HOSTILE_QUERIES = {hostile!r}\n" + SCRIPT
        result = django_script(env, code, timeout=300)
    assert result["vendor"] == "postgresql"
    # The server of this machine has the unaccent extension: the accent-blind configuration.
    assert result["config"] == "carbet_french"
    assert "USING gin" in result["index"] and "carbet_french" in result["index"]
    assert "community_article_search" in result["plan"], result["plan"]
    assert result["sauvegarde"][0] == "Tester ses sauvegardes"
    assert set(result["sauvegarde"]) == {"Tester ses sauvegardes", "Fiche réflexe : rançongiciel"}
    assert set(result["sauvegardes"]) == set(result["sauvegarde"])
    assert result["restaurer"] == ["Tester ses sauvegardes"]
    assert result["rancon"] == result["rançon"] == ["Fiche réflexe : rançongiciel"]
    assert result["acces"] == ["Boîte aux lettres compromise"]
    assert result["kind"] == ["Tester ses sauvegardes"]
    assert result["tag"] == ["Fiche réflexe : rançongiciel"]
    assert result["secret"] == [] and result["centre_secret"] == ["Brouillon secret"]
    assert "<mark>payez</mark>" in result["snippet"]
    assert all(result["hostile"])

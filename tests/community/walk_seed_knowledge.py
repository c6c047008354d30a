"""Cross-tenant walk hooks of the community service: knowledge (joined by walk_seed.py).

Articles belong to the region; a DRAFT is the centre's only. The seed writes a draft carrying
the marker, so the walks prove that structure B's users neither list it, nor find it by
search, nor open it by id (API) — the slug routes are covered by
tests/community/test_knowledge.py (the walk fills slugs with ids, which match no article)."""

from __future__ import annotations

from typing import Any

A11Y_PAGES: list[tuple[str, str]] = [
    ("director", "/communaute/savoir/"),
    ("director", "/communaute/savoir/?q=sauvegarde"),
    ("director", "/communaute/savoir/fiche-reflexe-rancongiciel/"),
    ("analyst", "/communaute/savoir/nouveau/"),
    ("analyst", "/communaute/savoir/fiche-reflexe-rancongiciel/historique/"),
    ("analyst", "/communaute/savoir/fiche-reflexe-rancongiciel/comparer/"),
]


def _draft(region: Any = None) -> Any:
    from carbet.community import services_knowledge as services
    from carbet.community.models import Article
    from carbet.core.tenancy import SYSTEM

    found = Article.objects.filter(slug="ch-alpha-secret-brouillon").first()
    if found is not None:
        return found
    return services.create_article(
        SYSTEM,
        {
            "title": "CH Alpha-Secret : retour d'expérience (brouillon)",
            "category": "CH Alpha-Secret",
            "tags": ["CH Alpha-Secret"],
            "summary": "CH Alpha-Secret",
            "body": "CH Alpha-Secret : sauvegardes restaurées en 36 heures.",
        },
        slug="ch-alpha-secret-brouillon",
    )


API_OBJECT_PARAMETERS: dict[tuple[str, str], Any] = {("articles", "id"): _draft}


def seed(structure_a: Any) -> None:
    _draft()

"""The knowledge base through the API: search, read, and (for the centre) write, publish and
archive articles.

Articles belong to the region: every member of the community (``CommunityPerm.VIEW``) reads the
published ones; drafts are the centre's (``CommunityPerm.PUBLISH``) and a 404 for anyone else,
exactly like an id that does not exist. Writes call ``services_knowledge`` (rights, validation
as 422, audit, a version per save).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from django.urls import reverse
from ninja import Query, Router, Schema
from ninja import Status as HttpStatus
from pydantic import Field

from carbet.api.auth import actor
from carbet.api.pagination import Page, PageQuery, paginate
from carbet.api.schemas import InputSchema
from carbet.audit.services import client_ip
from carbet.community import search
from carbet.community import selectors_knowledge as selectors
from carbet.community import services_knowledge as services
from carbet.community.choices import ArticleKind, ArticleStatus
from carbet.community.models import Article
from carbet.community.service import CommunityPerm
from carbet.core import access

router = Router(tags=["base de connaissances"])
API_PREFIX = "/community/knowledge"


class CommunityArticleSummaryOut(Schema):
    id: int
    slug: str
    url: str = Field(description="Adresse stable de la page de l'article.")
    title: str
    kind: str = Field(description="article, reflex (fiche réflexe) ou procedure.")
    category: str
    tags: list[str]
    summary: str
    status: str = Field(description="draft (centre seulement), published ou archived.")
    version: int
    updated_at: dt.datetime


class CommunityArticleOut(CommunityArticleSummaryOut):
    body: str = Field(description="Texte en Markdown.")
    body_html: str = Field(description="Texte rendu en HTML sûr (tout HTML tapé est échappé).")
    created_at: dt.datetime


class CommunityArticleHitOut(Schema):
    article: CommunityArticleSummaryOut
    rank: float = Field(description="Pertinence (plus haut : plus pertinent).")
    snippet_html: str = Field(description="Extrait échappé, mots trouvés entre <mark> et </mark>.")


class CommunityArticleVersionOut(Schema):
    number: int
    title: str
    body: str
    note: str
    author: str | None
    created_at: dt.datetime


class CommunityKnowledgeSearchQuery(Schema):
    q: str = Field(
        default="",
        max_length=500,
        description="Mots à chercher (opérateurs ignorés ; vide : aucun résultat).",
    )
    kind: ArticleKind | None = None
    category: str | None = Field(default=None, max_length=80)
    tag: str | None = Field(default=None, max_length=40)


class CommunityArticleFilter(Schema):
    kind: ArticleKind | None = None
    category: str | None = Field(default=None, max_length=80)
    tag: str | None = Field(default=None, max_length=40)
    status: ArticleStatus | None = None


class CommunityArticleIn(InputSchema):
    title: str = Field(min_length=1, max_length=200)
    kind: ArticleKind = ArticleKind.ARTICLE
    category: str = Field(min_length=1, max_length=80)
    tags: list[str] = Field(default_factory=list, max_length=services.MAX_TAGS)
    summary: str = Field(default="", max_length=300)
    body: str = Field(min_length=1, max_length=100000)
    note: str = Field(default="", max_length=services.MAX_NOTE)
    slug: str = Field(default="", max_length=100, description="Adresse voulue (sinon le titre).")


class CommunityArticlePatch(InputSchema):
    title: str = Field(default=None, min_length=1, max_length=200)
    kind: ArticleKind = Field(default=None)
    category: str = Field(default=None, min_length=1, max_length=80)
    tags: list[str] = Field(default=None, max_length=services.MAX_TAGS)
    summary: str = Field(default=None, max_length=300)
    body: str = Field(default=None, min_length=1, max_length=100000)
    note: str = Field(default="", max_length=services.MAX_NOTE)


def _summary(article: Article) -> dict[str, Any]:
    fields = [name for name in CommunityArticleSummaryOut.model_fields if name != "url"]
    return {
        **{name: getattr(article, name) for name in fields},
        "url": reverse("community:knowledge_article", args=[article.slug]),
    }


def _detail(article: Article) -> dict[str, Any]:
    return {
        **_summary(article),
        "body": article.body,
        "body_html": str(selectors.body_html(article.body)),
        "created_at": article.created_at,
    }


@router.get("/search", response=Page[CommunityArticleHitOut], summary="Chercher un article")
def search_articles(
    request: HttpRequest, query: Query[CommunityKnowledgeSearchQuery], page: Query[PageQuery]
):
    who = actor(request)
    access.require(who, CommunityPerm.VIEW)
    words = search.terms(query.q)
    rows = search.ranked(
        selectors.filtered(
            selectors.listed(who),
            kind=query.kind or "",
            category=query.category or "",
            tag=query.tag or "",
        ),
        query.q,
    )
    result = paginate(request, rows, page, ("-rank",))
    result["results"] = [
        {
            "article": _summary(a),
            "rank": float(a.rank or 0),
            "snippet_html": str(selectors.snippet(a, words)),
        }
        for a in result["results"]
    ]
    return result


@router.get("/articles", response=Page[CommunityArticleSummaryOut], summary="Articles")
def list_articles(
    request: HttpRequest, filters: Query[CommunityArticleFilter], page: Query[PageQuery]
):
    who = actor(request)
    access.require(who, CommunityPerm.VIEW)
    rows = selectors.filtered(
        selectors.listed(who),
        kind=filters.kind or "",
        category=filters.category or "",
        tag=filters.tag or "",
        status=filters.status or "",
    )
    result = paginate(request, rows, page, ("category", "title"))
    result["results"] = [_summary(a) for a in result["results"]]
    return result


@router.post("/articles", response={201: CommunityArticleOut}, summary="Écrire un article")
def create_article(request: HttpRequest, payload: CommunityArticleIn):
    values = payload.model_dump()
    note, slug = values.pop("note"), values.pop("slug")
    article = services.create_article(
        actor(request), values, note=note, slug=slug, ip=client_ip(request)
    )
    return HttpStatus(201, _detail(article))


@router.get("/articles/{id}", response=CommunityArticleOut, summary="Un article")
def get_article(request: HttpRequest, id: int):
    return _detail(selectors.article_by_id(actor(request), id))


@router.patch("/articles/{id}", response=CommunityArticleOut, summary="Modifier un article")
def patch_article(request: HttpRequest, id: int, payload: CommunityArticlePatch):
    who = actor(request)
    article = selectors.article_by_id(who, id, CommunityPerm.PUBLISH)
    values = payload.model_dump(exclude_unset=True)
    note = values.pop("note", "")
    services.update_article(who, article, values, note=note, ip=client_ip(request))
    return _detail(article)


@router.post("/articles/{id}/publish", response=CommunityArticleOut, summary="Publier")
def publish_article(request: HttpRequest, id: int):
    who = actor(request)
    article = selectors.article_by_id(who, id, CommunityPerm.PUBLISH)
    return _detail(services.publish(who, article, ip=client_ip(request)))


@router.post("/articles/{id}/archive", response=CommunityArticleOut, summary="Archiver")
def archive_article(request: HttpRequest, id: int):
    who = actor(request)
    article = selectors.article_by_id(who, id, CommunityPerm.PUBLISH)
    return _detail(services.archive(who, article, ip=client_ip(request)))


@router.get(
    "/articles/{id}/versions",
    response=list[CommunityArticleVersionOut],
    summary="Versions d'un article (centre)",
)
def article_versions(request: HttpRequest, id: int):
    article = selectors.article_by_id(actor(request), id, CommunityPerm.PUBLISH)
    return [
        {
            "number": v.number,
            "title": v.title,
            "body": v.body,
            "note": v.note,
            "author": (v.author.full_name or None) if v.author else None,
            "created_at": v.created_at,
        }
        for v in selectors.versions(article)
    ]

"""Reading the knowledge base: who sees which article, the search, the lists, the history and the
differences between two versions, and the reflex sheets other services link to.

Articles belong to the region, not to a structure. The centre (``CommunityPerm.PUBLISH``) sees
every article, drafts included; any other member of the community (``CommunityPerm.VIEW``) reads
published articles, and archived ones by their address only (links from a crisis kit keep
working); a draft is a 404 for them, exactly like an article that does not exist.
"""

from __future__ import annotations

import difflib
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from django.db.models import QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.safestring import SafeString
from markdown_it import MarkdownIt

from carbet.community import markdown, search
from carbet.community.choices import ArticleKind, ArticleStatus
from carbet.community.models import Article, ArticleVersion
from carbet.community.service import CommunityPerm
from carbet.core.access import require
from carbet.core.tenancy import Actor, can

MAX_RESULTS = 50
DIFF_CONTEXT = 3
_HEADINGS = MarkdownIt("commonmark")


def body_html(text: str) -> SafeString:
    """The safe HTML of an article's text, its highest heading made an ``<h2>`` (the page's
    title is the ``<h1>``) whether the author started with ``#`` or ``###``."""
    levels = [int(t.tag[1:]) for t in _HEADINGS.parse(text or "") if t.type == "heading_open"]
    return markdown.render(text, heading_offset=2 - min(levels) if levels else 1)


def can_write(actor: Actor | None) -> bool:
    return can(actor, CommunityPerm.PUBLISH)


def readable(actor: Actor | None) -> QuerySet[Article]:
    """Every article ``actor`` may open by its address."""
    if can_write(actor):
        return Article.objects.all()
    if not can(actor, CommunityPerm.VIEW):
        return Article.objects.none()
    return Article.objects.filter(status__in=[ArticleStatus.PUBLISHED, ArticleStatus.ARCHIVED])


def listed(actor: Actor | None) -> QuerySet[Article]:
    """The articles ``actor`` finds in the lists and the search (no archive for structures)."""
    if can_write(actor):
        return Article.objects.all()
    return readable(actor).filter(status=ArticleStatus.PUBLISHED)


def article_for(actor: Actor | None, slug: str, perm: Any = CommunityPerm.VIEW) -> Article:
    """The article at ``slug`` (403 without the right, 404 if ``actor`` may not see it)."""
    require(actor, CommunityPerm.VIEW)
    article = get_object_or_404(readable(actor).select_related("author"), slug=slug)
    require(actor, perm)
    return article


def article_by_id(actor: Actor | None, pk: int, perm: Any = CommunityPerm.VIEW) -> Article:
    require(actor, CommunityPerm.VIEW)
    article = get_object_or_404(readable(actor).select_related("author"), pk=pk)
    require(actor, perm)
    return article


def filtered(
    rows: QuerySet[Article],
    *,
    kind: str = "",
    category: str = "",
    tag: str = "",
    status: str = "",
) -> QuerySet[Article]:
    if kind:
        rows = rows.filter(kind=kind)
    if category:
        rows = rows.filter(category=category)
    if status:
        rows = rows.filter(status=status)
    if tag:
        # Tags are a JSON list; matched here (case-insensitive) so that every database agrees.
        wanted = tag.casefold()
        ids = [
            pk
            for pk, tags in rows.values_list("pk", "tags")
            if any(str(t).casefold() == wanted for t in tags or [])
        ]
        rows = rows.filter(pk__in=ids)
    return rows


@dataclass(frozen=True)
class Hit:
    article: Article
    rank: float
    snippet: SafeString


@dataclass
class SearchResult:
    query: str
    words: list[str]
    hits: list[Hit] = field(default_factory=list)
    total: int = 0
    accents_ignored: bool = True


def snippet(article: Article, words: list[str]) -> SafeString:
    return search.highlight(markdown.plain(article.body) or article.summary, words)


def run_search(
    actor: Actor | None,
    query: str,
    *,
    kind: str = "",
    category: str = "",
    tag: str = "",
    status: str = "",
    limit: int = MAX_RESULTS,
) -> SearchResult:
    """The articles matching ``query`` that ``actor`` may find, best first, with snippets."""
    words = search.terms(query)
    result = SearchResult(query=query, words=words, accents_ignored=search.accents_ignored())
    if not words:
        return result
    rows = search.ranked(
        filtered(listed(actor), kind=kind, category=category, tag=tag, status=status), query
    )
    result.total = rows.count()
    result.hits = [
        Hit(article=a, rank=float(a.rank or 0), snippet=snippet(a, words)) for a in rows[:limit]
    ]
    return result


def categories(actor: Actor | None) -> list[tuple[str, int]]:
    """The categories of the articles ``actor`` finds, with how many articles each."""
    counts = Counter(listed(actor).values_list("category", flat=True))
    return sorted(counts.items(), key=lambda item: item[0].casefold())


def tags(actor: Actor | None) -> list[str]:
    found: dict[str, str] = {}
    for row in listed(actor).values_list("tags", flat=True):
        for tag in row or []:
            found.setdefault(str(tag).casefold(), str(tag))
    return sorted(found.values(), key=str.casefold)


def latest(actor: Actor | None, count: int = 8) -> list[Article]:
    rows = listed(actor).filter(status=ArticleStatus.PUBLISHED)
    return list(rows.order_by("-updated_at", "pk")[:count])


def drafts(actor: Actor | None) -> list[Article]:
    if not can_write(actor):
        return []
    return list(Article.objects.filter(status=ArticleStatus.DRAFT).order_by("-updated_at")[:50])


@dataclass(frozen=True)
class ReflexSheet:
    title: str
    url: str
    slug: str
    kind: str
    summary: str


def reflex_sheets() -> list[ReflexSheet]:
    """The published reflex sheets and procedures, for the crisis kit and the exercises to
    link to (``url`` is the stable address ``/communaute/savoir/<slug>/``)."""
    rows = Article.objects.filter(
        status=ArticleStatus.PUBLISHED, kind__in=[ArticleKind.REFLEX, ArticleKind.PROCEDURE]
    ).order_by("title")
    return [
        ReflexSheet(
            title=a.title,
            url=reverse("community:knowledge_article", args=[a.slug]),
            slug=a.slug,
            kind=a.kind,
            summary=a.summary,
        )
        for a in rows
    ]


# --- History --------------------------------------------------------------------------------


def versions(article: Article) -> QuerySet[ArticleVersion]:
    return article.versions.select_related("author").order_by("-number")


def version_of(article: Article, number: int) -> ArticleVersion:
    found = versions(article).filter(number=number).first()
    if found is None:
        raise Http404
    return found


@dataclass(frozen=True)
class DiffLine:
    kind: str  # "same", "added" or "removed"
    before: int | None  # line number in the older version
    after: int | None  # line number in the newer version
    text: str


@dataclass
class VersionDiff:
    older: ArticleVersion
    newer: ArticleVersion
    title_changed: bool
    hunks: list[list[DiffLine]]
    added: int
    removed: int


def diff_lines(before: str, after: str, context: int = DIFF_CONTEXT) -> list[list[DiffLine]]:
    """The changed lines between two texts, grouped with ``context`` unchanged lines around."""
    old, new = before.splitlines(), after.splitlines()
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    hunks: list[list[DiffLine]] = []
    for group in matcher.get_grouped_opcodes(context):
        hunk: list[DiffLine] = []
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                hunk += [
                    DiffLine("same", i + 1, j + 1, old[i])
                    for i, j in zip(range(i1, i2), range(j1, j2), strict=True)
                ]
                continue
            hunk += [DiffLine("removed", i + 1, None, old[i]) for i in range(i1, i2)]
            hunk += [DiffLine("added", None, j + 1, new[j]) for j in range(j1, j2)]
        hunks.append(hunk)
    return hunks


def version_diff(article: Article, first: int, second: int) -> VersionDiff:
    """What changed from version ``first`` to version ``second`` (in either order)."""
    older = version_of(article, min(first, second))
    newer = version_of(article, max(first, second))
    hunks = diff_lines(older.body, newer.body)
    lines = [line for hunk in hunks for line in hunk]
    return VersionDiff(
        older=older,
        newer=newer,
        title_changed=older.title != newer.title,
        hunks=hunks,
        added=sum(1 for line in lines if line.kind == "added"),
        removed=sum(1 for line in lines if line.kind == "removed"),
    )

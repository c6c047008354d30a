"""The knowledge base: the centre writes articles, reflex sheets and procedures; every save keeps
a version (what changed, who, when); publishing makes an article readable by every member of the
community, archiving takes it out of the lists while its address keeps working.

Every write checks ``CommunityPerm.PUBLISH`` (the centre) and is audited. The search index
follows the table by itself (triggers on SQLite, an expression index on PostgreSQL: see
``carbet/community/search.py``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from carbet.audit import services as audit
from carbet.community.choices import ArticleKind, ArticleStatus
from carbet.community.models import Article, ArticleVersion
from carbet.community.service import CommunityPerm
from carbet.core.access import require
from carbet.core.tenancy import Actor
from carbet.core.validators import one_line

EDITABLE = ("title", "kind", "category", "tags", "summary", "body")
# Slugs the pages use for themselves (``savoir/nouveau/``…): never an article's address.
RESERVED_SLUGS = frozenset({"nouveau", "recherche", "rubrique", "api"})
MAX_TAGS = 12
MAX_TAG_LENGTH = 40
MAX_NOTE = 300
_TAG_SPLIT = re.compile(r"[,;\n]")


def clean_tags(value: str | Iterable[str] | None) -> list[str]:
    """Tags from a list or a comma-separated text: trimmed, each once (case-insensitive)."""
    if value is None:
        return []
    items = _TAG_SPLIT.split(value) if isinstance(value, str) else [str(v) for v in value]
    tags: list[str] = []
    for item in items:
        tag = one_line(item)
        if not tag or tag.casefold() in {t.casefold() for t in tags}:
            continue
        if len(tag) > MAX_TAG_LENGTH:
            raise ValidationError(
                {"tags": _("Un mot-clé fait au plus %(n)d caractères.") % {"n": MAX_TAG_LENGTH}}
            )
        tags.append(tag)
    if len(tags) > MAX_TAGS:
        raise ValidationError({"tags": _("Au plus %(n)d mots-clés.") % {"n": MAX_TAGS}})
    return tags


def _clean(values: dict[str, Any]) -> dict[str, Any]:
    cleaned = {name: values[name] for name in EDITABLE if name in values}
    for name in ("title", "category", "summary"):
        if name in cleaned:
            cleaned[name] = one_line(cleaned[name] or "")
    errors: dict[str, str] = {}
    if not cleaned.get("title"):
        errors["title"] = _("Donnez un titre à l'article.")
    if not cleaned.get("category"):
        errors["category"] = _("Choisissez une rubrique (par exemple « Sauvegardes »).")
    if not str(cleaned.get("body") or "").strip():
        errors["body"] = _("Écrivez le texte de l'article.")
    if cleaned.get("kind") not in ArticleKind.values:
        errors["kind"] = _("Type d'article inconnu.")
    if errors:
        raise ValidationError(errors)
    cleaned["tags"] = clean_tags(cleaned.get("tags"))
    cleaned["body"] = str(cleaned["body"]).replace("\r\n", "\n")
    return cleaned


def _slug_for(wanted: str, title: str) -> str:
    base = slugify(wanted or title)[:100].strip("-") or "article"
    if base in RESERVED_SLUGS or base.isdigit():
        base = f"article-{base}"
    slug, counter = base, 2
    while Article.objects.filter(slug=slug).exists():
        slug, counter = f"{base}-{counter}", counter + 1
    return slug


def _author_id(actor: Actor) -> int | None:
    return getattr(actor, "pk", None)


def _note(note: str, default: str) -> str:
    return one_line(note or "")[:MAX_NOTE] or default


def _insert(wanted: str, cleaned: dict[str, Any], author_id: int | None, now: Any) -> Article:
    """The new row, under a free address (two writers racing for one: the second gets "-2")."""
    for attempt in range(3):
        try:
            with transaction.atomic():
                return Article.objects.create(
                    slug=_slug_for(wanted, cleaned["title"]),
                    status=ArticleStatus.DRAFT,
                    version=1,
                    author_id=author_id,
                    created_at=now,
                    updated_at=now,
                    **cleaned,
                )
        except IntegrityError:
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def create_article(
    actor: Actor,
    values: dict[str, Any],
    *,
    note: str = "",
    slug: str = "",
    ip: str | None = None,
) -> Article:
    """A new draft (version 1), visible to the centre only until it is published."""
    require(actor, CommunityPerm.PUBLISH)
    cleaned = _clean({"kind": ArticleKind.ARTICLE, **values})
    now = timezone.now()
    with transaction.atomic():
        article = _insert(slug, cleaned, _author_id(actor), now)
        ArticleVersion.objects.create(
            article=article,
            number=1,
            title=article.title,
            body=article.body,
            note=_note(note, _("Première version")),
            author_id=_author_id(actor),
            created_at=now,
        )
        audit.record(
            actor,
            "community.article.create",
            article,
            ip=ip,
            changes={"slug": article.slug, "kind": article.kind, "category": article.category},
        )
    return article


def update_article(
    actor: Actor,
    article: Article,
    values: dict[str, Any],
    *,
    note: str = "",
    ip: str | None = None,
) -> bool:
    """Save a new version of ``article`` (``values`` may hold some fields only); returns
    whether anything changed (nothing changed: no version is added)."""
    require(actor, CommunityPerm.PUBLISH)
    with transaction.atomic():
        current = Article.objects.select_for_update().get(pk=article.pk)
        merged = {name: getattr(current, name) for name in EDITABLE}
        merged.update({k: v for k, v in values.items() if k in EDITABLE})
        cleaned = _clean(merged)
        changed = [name for name in EDITABLE if getattr(current, name) != cleaned[name]]
        if not changed:
            return False
        now = timezone.now()
        for name in EDITABLE:
            setattr(current, name, cleaned[name])
        current.version += 1
        current.updated_at = now
        current.save(update_fields=[*EDITABLE, "version", "updated_at"])
        ArticleVersion.objects.create(
            article=current,
            number=current.version,
            title=current.title,
            body=current.body,
            note=_note(note, _("Mise à jour")),
            author_id=_author_id(actor),
            created_at=now,
        )
        audit.record(
            actor,
            "community.article.update",
            current,
            ip=ip,
            changes={"version": current.version, "fields": changed},
        )
    for name in (*EDITABLE, "version", "updated_at"):
        setattr(article, name, getattr(current, name))
    return True


def _set_status(
    actor: Actor, article: Article, status: str, action: str, ip: str | None
) -> Article:
    require(actor, CommunityPerm.PUBLISH)
    if article.status == status:
        return article
    before = article.status
    with transaction.atomic():
        article.status = status
        article.updated_at = timezone.now()
        article.save(update_fields=["status", "updated_at"])
        audit.record(actor, action, article, ip=ip, changes={"status": [before, status]})
    return article


def publish(actor: Actor, article: Article, ip: str | None = None) -> Article:
    """Readable by every member of the community (also brings an archived article back)."""
    return _set_status(actor, article, ArticleStatus.PUBLISHED, "community.article.publish", ip)


def archive(actor: Actor, article: Article, ip: str | None = None) -> Article:
    """Out of the lists and the search of the structures; its address keeps working, with a
    notice, so that links from a crisis kit or an exercise never break."""
    if article.status == ArticleStatus.DRAFT:
        raise ValidationError(_("Un brouillon se supprime ; seul un article publié s'archive."))
    return _set_status(actor, article, ArticleStatus.ARCHIVED, "community.article.archive", ip)


def delete_draft(actor: Actor, article: Article, ip: str | None = None) -> None:
    """Delete a draft that was never published (a published article is archived instead)."""
    require(actor, CommunityPerm.PUBLISH)
    if article.status != ArticleStatus.DRAFT:
        raise ValidationError(_("Seul un brouillon peut être supprimé ; archivez cet article."))
    with transaction.atomic():
        audit.record(
            actor,
            "community.article.delete",
            article,
            ip=ip,
            changes={"slug": article.slug, "versions": article.version},
        )
        article.delete()

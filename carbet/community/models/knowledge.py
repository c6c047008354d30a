"""The knowledge base: articles, reflex sheets and procedures, versioned."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from carbet.community.choices import ArticleKind, ArticleStatus


class Article(models.Model):
    """The current version of an article; every saved version is kept in ArticleVersion."""

    slug = models.SlugField(_("adresse"), max_length=120, unique=True)
    title = models.CharField(_("titre"), max_length=200)
    kind = models.CharField(
        _("type"), max_length=10, choices=ArticleKind.choices, default=ArticleKind.ARTICLE
    )
    category = models.CharField(_("rubrique"), max_length=80)
    tags = models.JSONField(_("mots-clés"), default=list, blank=True)
    summary = models.CharField(_("résumé"), max_length=300, blank=True)
    body = models.TextField(_("texte (Markdown)"), max_length=100000)
    status = models.CharField(
        max_length=10, choices=ArticleStatus.choices, default=ArticleStatus.DRAFT
    )
    version = models.PositiveIntegerField(default=1)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("article")
        ordering = ["category", "title"]

    def __str__(self) -> str:
        return self.title


class ArticleVersion(models.Model):
    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    title = models.CharField(max_length=200)
    body = models.TextField()
    note = models.CharField(_("ce qui change"), max_length=300, blank=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["article", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["article", "number"], name="community_version_once")
        ]

    def __str__(self) -> str:
        return f"{self.title} (v{self.number})"

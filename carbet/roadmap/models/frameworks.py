"""Frameworks loaded from the versioned files of ``carbet/roadmap/frameworks/``.

These rows are a copy of the files (the files are the truth): ``carbet frameworks load``
upserts them by code; a requirement that disappears from a new version is ``retired`` rather
than deleted, so the answers and evidence given against it are kept.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Framework(models.Model):
    code = models.SlugField(_("code"), max_length=60, unique=True)
    version = models.CharField(_("version"), max_length=30)
    kind = models.CharField(_("type"), max_length=20)
    scale = models.CharField(_("échelle"), max_length=10)
    title = models.CharField(_("titre"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    source = models.CharField(_("source"), max_length=500, blank=True)
    themes = models.JSONField(_("thèmes"), default=list)
    filename = models.CharField(max_length=255, blank=True)
    file_sha256 = models.CharField(max_length=64, blank=True)
    loaded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("référentiel")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.title

    @property
    def is_diagnostic(self) -> bool:
        return self.kind == "diagnostic"

    def theme_title(self, code: str) -> str:
        return next((t["title"] for t in self.themes if t["code"] == code), code)


class Requirement(models.Model):
    # A natural key, "framework:code" (e.g. "care-d2:d2.o4"): stable across reloads of a new
    # version, readable in the API and in exports.
    key = models.CharField(primary_key=True, max_length=121, editable=False)
    framework = models.ForeignKey(Framework, on_delete=models.CASCADE, related_name="requirements")
    code = models.CharField(_("code"), max_length=60)
    theme = models.CharField(_("thème"), max_length=60)
    title = models.CharField(_("intitulé"), max_length=300)
    description = models.TextField(_("description"), blank=True)
    how = models.TextField(_("comment faire"), blank=True)
    official_id = models.CharField(_("référence officielle"), max_length=60, blank=True)
    level = models.CharField(_("niveau"), max_length=10, blank=True)
    priority = models.PositiveSmallIntegerField(_("priorité"), default=2)
    prerequisite = models.BooleanField(_("prérequis"), default=False)
    requires = models.JSONField(default=list, blank=True)
    scored = models.BooleanField(default=True)
    answers = models.JSONField(default=list, blank=True)
    evidence_hint = models.TextField(_("justificatif attendu"), blank=True)
    care_domain = models.CharField(max_length=5, blank=True)
    min_activity_share = models.FloatField(null=True, blank=True)
    exposure = models.BooleanField(default=False)
    auto = models.JSONField(default=list, blank=True)
    maps_to = models.JSONField(default=list, blank=True)
    order = models.PositiveIntegerField(default=0)
    retired = models.BooleanField(_("retirée"), default=False)

    class Meta:
        verbose_name = _("exigence")
        ordering = ["framework", "order"]
        constraints = [
            models.UniqueConstraint(fields=["framework", "code"], name="requirement_unique_code")
        ]

    def __str__(self) -> str:
        return f"{self.official_id or self.code} — {self.title}"

    @property
    def label(self) -> str:
        return self.official_id or self.code

    @staticmethod
    def make_key(framework_code: str, code: str) -> str:
        return f"{framework_code}:{code}"

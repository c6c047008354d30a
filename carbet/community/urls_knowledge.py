"""Pages of the community service: knowledge (included by carbet.community.urls).

``savoir/<slug>/`` (``community:knowledge_article``) is the stable address the crisis kit and
the exercises link to (see ``selectors_knowledge.reflex_sheets``); a slug never changes when the
title does."""

from django.urls import URLPattern, path

from carbet.community import views_knowledge as views

A = "savoir/<slug:slug>/"

urlpatterns: list[URLPattern] = [
    path("savoir/", views.home, name="knowledge"),
    path("savoir/nouveau/", views.new, name="knowledge_new"),
    path(A, views.article, name="knowledge_article"),
    path(A + "modifier/", views.edit, name="knowledge_edit"),
    path(A + "historique/", views.history, name="knowledge_history"),
    path(A + "versions/<int:number>/", views.version, name="knowledge_version"),
    path(A + "comparer/", views.diff, name="knowledge_diff"),
    path(A + "publier/", views.publish, name="knowledge_publish"),
    path(A + "archiver/", views.archive, name="knowledge_archive"),
    path(A + "supprimer/", views.delete, name="knowledge_delete"),
]

"""The private calendar feeds (no session: calendar programs fetch them by secret address)."""

from django.urls import URLPattern

app_name = "community_public"

urlpatterns: list[URLPattern] = []

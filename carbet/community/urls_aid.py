"""Pages of the community service: aid (included by carbet.community.urls)."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []

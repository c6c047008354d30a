"""Pages of the community service: solutions (included by carbet.community.urls)."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []

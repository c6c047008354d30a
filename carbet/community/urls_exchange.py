"""Pages of the community service: exchange (included by carbet.community.urls)."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []

"""Pages of the community service: alerts (included by carbet.community.urls)."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []

"""Pages of the community service: bulletins (included by carbet.community.urls)."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []

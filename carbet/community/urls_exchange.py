"""Pages of the community service: exchange (included by carbet.community.urls)."""

from django.urls import URLPattern, path

from carbet.community import views_exchange as views

urlpatterns: list[URLPattern] = [
    path("echanges/", views.exchange, name="exchange"),
    path("echanges/exporter/", views.exchange_export, name="exchange_export"),
    path("echanges/importer/", views.exchange_import, name="exchange_import"),
    path("echanges/evenements/", views.exchange_events, name="exchange_events"),
    path("echanges/evenements/<int:pk>/", views.exchange_event, name="exchange_event"),
]

"""Pages of the community service: events (included by carbet.community.urls)."""

from django.urls import path

from carbet.community import views_events as views

urlpatterns = [
    path("agenda/", views.events, name="events"),
    path("agenda/nouveau/", views.events_create, name="events_create"),
    path("agenda/mon-agenda/", views.events_feed, name="events_feed"),
    path("agenda/<int:pk>/", views.events_detail, name="events_detail"),
    path("agenda/<int:pk>/evenement.ics", views.events_ics, name="events_ics"),
    path("agenda/<int:pk>/inscription/", views.events_register, name="events_register"),
    path("agenda/<int:pk>/modifier/", views.events_edit, name="events_edit"),
    path("agenda/<int:pk>/annuler/", views.events_cancel, name="events_cancel"),
    path("agenda/<int:pk>/inscriptions/", views.events_registrations, name="events_registrations"),
    path(
        "agenda/<int:pk>/inscriptions.csv",
        views.events_registrations_csv,
        name="events_registrations_csv",
    ),
    path(
        "agenda/inscription/<int:pk>/annuler/",
        views.events_unregister,
        name="events_unregister",
    ),
]

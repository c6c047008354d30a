"""The public space of the exercises (``/x/``): signed links, no account, no session."""

from django.urls import path

from carbet.exercises import public_views as views

app_name = "exercises_public"
urlpatterns = [
    path("<str:token>/", views.space, name="space"),
    path("<str:token>/presse/", views.press, name="press"),
    path("<str:token>/messages/<int:pk>/", views.message, name="message"),
]

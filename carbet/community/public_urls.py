"""The private calendar feeds (no session: calendar programs fetch them by secret address)."""

from django.urls import path

from carbet.community import public_views

app_name = "community_public"

urlpatterns = [path("<str:token>.ics", public_views.feed, name="feed")]

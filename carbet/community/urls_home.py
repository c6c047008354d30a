"""Pages of the community service: its home (included by carbet.community.urls)."""

from django.urls import path

from carbet.community import views_home

urlpatterns = [path("", views_home.home, name="home")]

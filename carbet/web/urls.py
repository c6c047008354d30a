from django.urls import path

from carbet.web import views

app_name = "web"
urlpatterns = [
    path("", views.home, name="home"),
    path("sante/", views.health, name="health"),
    path("indicateurs/", views.aggregates, name="aggregates"),
    path("accessibilite/", views.accessibility, name="accessibility"),
]

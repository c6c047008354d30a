"""Pages of the community service: bulletins (included by carbet.community.urls)."""

from django.urls import URLPattern, path

from carbet.community import views_bulletins as views

urlpatterns: list[URLPattern] = [
    path("bulletins/", views.bulletin_list, name="bulletins"),
    path("bulletins/nouveau/", views.bulletin_create, name="bulletin_create"),
    path("bulletins/audience/", views.bulletin_audience, name="bulletin_audience"),
    path("bulletins/<int:pk>/", views.bulletin_detail, name="bulletin_detail"),
    path("bulletins/<int:pk>/modifier/", views.bulletin_edit, name="bulletin_edit"),
    path("bulletins/<int:pk>/publier/", views.bulletin_publish, name="bulletin_publish"),
    path("bulletins/<int:pk>/retirer/", views.bulletin_withdraw, name="bulletin_withdraw"),
    path("bulletins/<int:pk>/suivi/", views.bulletin_followup, name="bulletin_followup"),
    path("bulletins/<int:pk>/suivi.csv", views.bulletin_followup_csv, name="bulletin_followup_csv"),
    path("bulletins/<int:pk>/relancer/", views.bulletin_remind, name="bulletin_remind"),
    path(
        "bulletins/recu/<int:pk>/reponse/",
        views.bulletin_acknowledge,
        name="bulletin_acknowledge",
    ),
]

"""Dashboards, reports and posture exports (namespace ``findings``, joined by ``../urls.py``)."""

from django.urls import path

from carbet.findings.posture import views

urlpatterns = [
    path("tableau-de-bord/", views.dashboard, name="dashboard"),
    path("tableau-de-bord/region/", views.centre_dashboard, name="centre_dashboard"),
    path(
        "tableau-de-bord/structure/<int:pk>/",
        views.structure_dashboard,
        name="structure_dashboard",
    ),
    path("tableau-de-bord/regional/", views.ars_dashboard, name="ars_dashboard"),
    path("tableau-de-bord/export/", views.posture_export, name="posture_export"),
    path("rapports/structure/<int:pk>/", views.structure_report, name="structure_report"),
    path("rapports/regional/", views.regional_report, name="regional_report"),
]

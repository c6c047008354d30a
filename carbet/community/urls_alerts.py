"""Pages of the community service: matched alerts (included by carbet.community.urls)."""

from django.urls import URLPattern, path

from carbet.community import views_alerts as views

urlpatterns: list[URLPattern] = [
    path(
        "structure/<int:structure_id>/alertes/",
        views.structure_alerts,
        name="alerts_structure",
    ),
    path("alerte/<int:pk>/", views.alert_detail, name="alert_detail"),
    path("alertes/region/", views.region, name="alerts_region"),
    path("alertes/vuln/<int:pk>/", views.vulnerability, name="alerts_vuln"),
    path("alertes/passes/", views.runs, name="alerts_runs"),
    path("alertes/passes/lancer/", views.start_run, name="alerts_run_start"),
]

"""URLs of the findings app, namespace ``findings`` (under /vulnerabilites/).

The findings store's own pages are listed here; action plans (``plans/urls.py``, under
``plans/``) and posture dashboards and reports (``posture/urls.py``) keep their routes in their
part and are joined here, so every name stays ``findings:<name>``.
"""

from django.urls import path

from carbet.findings import views, views_acceptance, views_settings
from carbet.findings.plans.urls import urlpatterns as plan_patterns
from carbet.findings.posture.urls import urlpatterns as posture_patterns

app_name = "findings"

store_patterns = [
    path("", views.finding_list, name="list"),
    path("<int:pk>/", views.finding_detail, name="detail"),
    path("<int:pk>/etat/", views.finding_status, name="status"),
    path("etat/", views.bulk_status, name="bulk_status"),
    path("en-retard/", views.overdue, name="overdue"),
    path("delais/", views_settings.sla_settings, name="sla_settings"),
    path("nouvelle/", views.manual_create, name="manual_create"),
    path("nouvelle/actifs/", views.manual_assets, name="manual_assets"),
    path("importer/", views.import_upload, name="import"),
    path("exporter/", views.export, name="export"),
    path("acceptations/", views_acceptance.acceptance_list, name="acceptance_list"),
    path("acceptations/demander/", views_acceptance.acceptance_request, name="acceptance_request"),
    path("acceptations/<int:pk>/", views_acceptance.acceptance_detail, name="acceptance_detail"),
    path(
        "acceptations/<int:pk>/decision/",
        views_acceptance.acceptance_decide,
        name="acceptance_decide",
    ),
]

urlpatterns = [*store_patterns, *plan_patterns, *posture_patterns]

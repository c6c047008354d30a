"""URLs of the findings store (list, one finding, imports/exports) and of risk acceptance."""

from django.urls import path

from carbet.findings import views_acceptance as acceptance
from carbet.findings import views_findings as views
from carbet.findings import views_settings

urlpatterns = [
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
    path("acceptations/", acceptance.acceptance_list, name="acceptance_list"),
    path("acceptations/demander/", acceptance.acceptance_request, name="acceptance_request"),
    path("acceptations/<int:pk>/", acceptance.acceptance_detail, name="acceptance_detail"),
    path(
        "acceptations/<int:pk>/decision/",
        acceptance.acceptance_decide,
        name="acceptance_decide",
    ),
]

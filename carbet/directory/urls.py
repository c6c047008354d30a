"""Pages of the directory (Active Directory audit) service."""

from django.urls import path

from carbet.directory import views

app_name = "directory"
urlpatterns = [
    path("", views.index, name="index"),
    path("region/", views.region, name="region"),
    path("structure/<int:pk>/", views.structure_page, name="structure"),
    path("structure/<int:pk>/connexion/", views.connection_add, name="connection_add"),
    path("structure/<int:pk>/depot/", views.upload, name="upload"),
    path("connexion/<int:pk>/", views.connection_edit, name="connection_edit"),
    path("connexion/<int:pk>/supprimer/", views.connection_delete, name="connection_delete"),
    path("connexion/<int:pk>/lancer/", views.connection_run, name="connection_run"),
    path("audit/<int:pk>/", views.audit_detail, name="audit"),
    path("audit/<int:pk>/etat/", views.audit_status, name="audit_status"),
    path("audit/<int:pk>/regle/<str:rule>/", views.rule_objects, name="rule_objects"),
    path("audit/<int:pk>/reanalyser/", views.reanalyse, name="reanalyse"),
    path("audit/<int:pk>/exception/", views.exception_add, name="exception_add"),
    path("exception/<int:pk>/lever/", views.exception_revoke, name="exception_revoke"),
]

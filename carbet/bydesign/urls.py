"""Pages of the security-by-design service (mounted at /services-numeriques/)."""

from django.urls import path

from carbet.bydesign import views, views_decision, views_track, views_vendor

app_name = "bydesign"
S = "structure/<int:structure_id>/"

urlpatterns = [
    path("", views.home, name="home"),
    path(S, views.structure, name="structure"),
    path(S + "recalculer/", views.recompute, name="recompute"),
    path(S + "parcours/", views_track.track, name="track"),
    path("parcours/region/", views_track.region, name="region"),
    path("parcours/pousser/", views_track.push, name="push"),
    path("service/<int:pk>/", views.service, name="service"),
    path("service/<int:pk>/modifier/", views.service_edit, name="service_edit"),
    path("service/<int:pk>/supprimer/", views.service_delete, name="service_delete"),
    path("service/<int:pk>/mesure/<str:code>/", views.measure, name="measure"),
    path("service/<int:pk>/decision/", views_decision.decision, name="decision"),
    path("service/<int:pk>/dossier.pdf", views_decision.dossier_pdf, name="dossier_pdf"),
    path("decision/<int:pk>/pdf/", views_decision.signed_pdf, name="signed_pdf"),
    path("service/<int:pk>/fournisseur/", views_vendor.vendor, name="vendor"),
    path("fournisseur/<int:pk>/revoquer/", views_vendor.vendor_revoke, name="vendor_revoke"),
    path("fournisseur/fichier/<int:pk>/", views_vendor.vendor_file, name="vendor_file"),
]

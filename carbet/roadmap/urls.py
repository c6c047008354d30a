"""Pages of the roadmap service (mounted at /feuille-de-route/)."""

from django.urls import path

from carbet.roadmap import views, views_backups, views_evidence, views_indicators, views_plan

app_name = "roadmap"
S = "structure/<int:structure_id>/"

urlpatterns = [
    path("", views.home, name="home"),
    path(S, views.structure, name="structure"),
    path(S + "diagnostic/", views.diagnostic, name="diagnostic"),
    path(S + "referentiel/<slug:framework>/", views.assessment, name="assessment"),
    path(S + "justificatifs/", views_evidence.evidence_list, name="evidence"),
    path("justificatif/<int:pk>/", views_evidence.evidence_download, name="evidence_download"),
    path("justificatif/<int:pk>/partage/", views_evidence.evidence_share, name="evidence_share"),
    path(
        "justificatif/<int:pk>/supprimer/", views_evidence.evidence_delete, name="evidence_delete"
    ),
    path(S + "plan/", views_plan.plan, name="plan"),
    path(S + "plan/proposer/", views_plan.plan_propose, name="plan_propose"),
    path(S + "plan/valider/", views_plan.plan_validate, name="plan_validate"),
    path(S + "plan/pdf/", views_plan.plan_pdf, name="plan_pdf"),
    path(S + "care/", views_plan.care_checklist, name="care_checklist"),
    path("chantier/<int:pk>/", views_plan.item, name="item"),
    path("chantier/<int:pk>/supprimer/", views_plan.item_delete, name="item_delete"),
    path("chantier/<int:pk>/jalon/", views_plan.milestone_add, name="milestone_add"),
    path("jalon/<int:pk>/", views_plan.milestone_toggle, name="milestone_toggle"),
    path(S + "sauvegardes/", views_backups.backups, name="backups"),
    path("sauvegarde/<int:pk>/", views_backups.backup, name="backup"),
    path("sauvegarde/<int:pk>/test/", views_backups.restore_test, name="restore_test"),
    path("sauvegarde/<int:pk>/supprimer/", views_backups.backup_delete, name="backup_delete"),
    path(S + "indicateurs/", views_indicators.structure_indicators, name="indicators"),
    path("indicateurs/region/", views_indicators.regional, name="regional"),
    path("referentiels/", views.framework_list, name="frameworks"),
    path("referentiels/<slug:code>/", views.framework_detail, name="framework"),
]

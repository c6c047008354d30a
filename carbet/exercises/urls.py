"""Pages of the exercises service (mounted at ``exercices/``)."""

from django.urls import path

from carbet.exercises import views, views_after, views_console, views_regional

app_name = "exercises"
urlpatterns = [
    path("", views.index, name="index"),
    path("structures/<int:pk>/", views.structure_detail, name="structure"),
    path("bibliotheque/", views.library, name="library"),
    path("bibliotheque/import/", views.scenario_import, name="scenario_import"),
    path("bibliotheque/<int:pk>/", views.scenario_detail, name="scenario"),
    path("bibliotheque/<int:pk>/export.json", views.scenario_export, name="scenario_export"),
    path("bibliotheque/<int:version_pk>/exercice/", views.exercise_new, name="exercise_new"),
    path(
        "bibliotheque/<int:version_pk>/regional/",
        views_regional.regional_new,
        name="regional_new",
    ),
    path("<int:pk>/", views.exercise_detail, name="exercise"),
    path("<int:pk>/modifier/", views.exercise_edit, name="exercise_edit"),
    path("<int:pk>/scenario.json", views.scenario_copy_export, name="exercise_export"),
    path("<int:pk>/etat/<slug:action>/", views.exercise_state, name="exercise_state"),
    path("<int:pk>/participants/", views.participant_add, name="participant_add"),
    path("participants/<int:pk>/retirer/", views.participant_remove, name="participant_remove"),
    path("participants/<int:pk>/lien/", views.link_issue, name="link_issue"),
    path("liens/<int:pk>/revoquer/", views.link_revoke, name="link_revoke"),
    path("<int:pk>/retex/lien/", views.retex_link, name="retex_link"),
    # Live console
    path("<int:pk>/console/", views_console.console, name="console"),
    path("<int:pk>/console/direct/", views_console.console_live, name="console_live"),
    path("<int:pk>/console/<slug:action>/", views_console.clock, name="clock"),
    path("<int:pk>/ajout/", views_console.adhoc, name="adhoc"),
    path("<int:pk>/observation/", views_console.observe, name="observe"),
    path("injects/<int:pk>/<slug:action>/", views_console.inject_action, name="inject_action"),
    path("attendus/<int:pk>/", views_console.expectation_validate, name="expectation"),
    path("appels/<int:pk>/fait/", views_console.call_done, name="call_done"),
    # After
    path("<int:pk>/evaluation/", views_after.evaluation, name="evaluation"),
    path("<int:pk>/evaluation/<slug:objective>/", views_after.evaluate, name="evaluate"),
    path("<int:pk>/enseignements/", views_after.item_add, name="item_add"),
    path("enseignements/<int:pk>/supprimer/", views_after.item_delete, name="item_delete"),
    path("<int:pk>/plan-action/", views_after.ingest, name="ingest"),
    path("<int:pk>/rapport.pdf", views_after.report_pdf, name="report_pdf"),
    path("couverture/", views_after.coverage, name="coverage"),
    path("ars/", views_after.ars_summary, name="ars"),
    # Regional
    path("regional/", views_regional.regional_list, name="regional_list"),
    path("regional/<int:pk>/", views_regional.regional_console, name="regional"),
    path("regional/<int:pk>/direct/", views_regional.regional_live, name="regional_live"),
    path("regional/<int:pk>/ajout/", views_regional.regional_adhoc, name="regional_adhoc"),
    path("regional/<int:pk>/<slug:action>/", views_regional.regional_clock, name="regional_clock"),
]

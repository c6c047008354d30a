"""Pages of the crisis service."""

from django.urls import path

from carbet.crisis import views, views_board, views_case, views_work

app_name = "crisis"
C = "dossiers/<int:pk>/"
urlpatterns = [
    path("", views.index, name="index"),
    path("signaler/", views.report_new, name="report"),
    path("signalements/<int:pk>/", views.report_done, name="report_done"),
    path("signalements/<int:pk>/qualifier/", views.report_qualify, name="qualify"),
    path("structures/<int:pk>/", views.structure_page, name="structure"),
    path("structures/<int:pk>/kit-de-crise.pdf", views.kit_pdf, name="kit_pdf"),
    path("region/", views.ars, name="ars"),
    # One case.
    path(C, views_case.case_detail, name="case"),
    path(C + "phase/", views_case.phase_change, name="phase"),
    path(C + "cellule/", views_case.member_add, name="member_add"),
    path(C + "direction/", views_case.director, name="director"),
    path(C + "main-courante/", views_case.log, name="log"),
    path(C + "main-courante/<int:entry>/corriger/", views_case.correct, name="correct"),
    path(C + "main-courante/imprimer/", views_case.log_print, name="log_print"),
    path(C + "main-courante.csv", views_case.log_csv, name="log_csv"),
    path(C + "main-courante.pdf", views_case.log_pdf, name="log_pdf"),
    path(C + "rapport.pdf", views_case.report_pdf, name="report_pdf"),
    path(C + "decisions/", views_work.decisions, name="decisions"),
    path(C + "taches/", views_work.tasks, name="tasks"),
    path(C + "taches/<int:task>/", views_work.task_update, name="task_update"),
    path(C + "points/", views_work.sitreps, name="sitreps"),
    path(C + "points/<int:sitrep>/", views_work.sitrep, name="sitrep"),
    path(C + "declarations/", views_work.clock, name="clock"),
    path(C + "declarations/<int:obligation>/", views_work.declaration, name="declaration"),
    path(
        C + "declarations/<int:obligation>/envoyee/",
        views_work.obligation_sent,
        name="obligation_sent",
    ),
    path(
        C + "declarations/<int:obligation>/applicable/",
        views_work.obligation_applicable,
        name="obligation_applicable",
    ),
    path(C + "parties-prenantes/", views_work.stakeholders, name="stakeholders"),
    path(C + "parties-prenantes/<int:stakeholder>/appel/", views_work.call, name="call"),
    path(
        C + "parties-prenantes/<int:stakeholder>/acces/",
        views_work.access_grant,
        name="access_grant",
    ),
    path(C + "acces/<int:access>/revoquer/", views_work.access_revoke, name="access_revoke"),
    path(C + "continuite/", views_board.board, name="board"),
    path(C + "continuite/activites/", views_board.activity_add, name="activity_add"),
    path(C + "continuite/activites/<int:activity>/", views_board.activity_update, name="activity"),
    path(C + "continuite/systemes/", views_board.asset_add, name="asset_add"),
    path(C + "continuite/systemes/<int:asset>/", views_board.asset_state, name="asset_state"),
    path(C + "preuves/", views_board.evidence, name="evidence"),
    path(C + "preuves/<int:evidence>/garde/", views_board.custody_add, name="custody"),
    path(
        C + "preuves/<int:evidence>/fichier/", views_board.evidence_download, name="evidence_file"
    ),
    path(C + "indicateurs.stix.json", views_board.stix, name="stix"),
    path(C + "sortie/", views_board.exit_page, name="exit"),
    path(C + "sortie/<int:item>/", views_board.checklist_tick, name="checklist_tick"),
    path(C + "sortie/publier/", views_board.lessons_publish, name="lessons_publish"),
]

"""Pages of the awareness service."""

from django.urls import path

from carbet.awareness import views, views_library

app_name = "awareness"
urlpatterns = [
    path("", views.index, name="index"),
    path("campagnes/nouvelle/", views.campaign_new, name="campaign_new"),
    path("campagnes/<int:pk>/", views.campaign_detail, name="campaign"),
    path("campagnes/<int:pk>/lancer/", views.campaign_launch, name="campaign_launch"),
    path("campagnes/<int:pk>/annuler/", views.campaign_cancel, name="campaign_cancel"),
    path("campagnes/<int:pk>/purger/", views.campaign_purge, name="campaign_purge"),
    path("campagnes/<int:pk>/relacher/", views.campaign_release, name="campaign_release"),
    path("campagnes/<int:pk>/signalement/", views.campaign_manual_report, name="manual_report"),
    path("campagnes/<int:pk>/rapport.pdf", views.campaign_pdf, name="campaign_pdf"),
    path("structures/<int:pk>/", views.structure_detail, name="structure"),
    path("structures/<int:pk>/import/", views.structure_import, name="structure_import"),
    path(
        "structures/<int:pk>/formation/",
        views.structure_assign_training,
        name="structure_training",
    ),
    path("bibliotheque/", views_library.library, name="library"),
    path("bibliotheque/modeles/nouveau/", views_library.template_edit, name="template_new"),
    path("bibliotheque/modeles/<int:pk>/", views_library.template_edit, name="template_edit"),
    path("bibliotheque/modeles/import/", views_library.template_import, name="template_import"),
    path("bibliotheque/pages/nouvelle/", views_library.landing_edit, name="landing_new"),
    path("bibliotheque/pages/<int:pk>/", views_library.landing_edit, name="landing_edit"),
    path("envoi/", views_library.smtp_list, name="sending"),
    path("envoi/profils/nouveau/", views_library.smtp_edit, name="smtp_new"),
    path("envoi/profils/<int:pk>/", views_library.smtp_edit, name="smtp_edit"),
    path("envoi/profils/<int:pk>/test/", views_library.smtp_test, name="smtp_test"),
    path("envoi/signalement/nouvelle/", views_library.mailbox_edit, name="mailbox_new"),
    path("envoi/signalement/<int:pk>/", views_library.mailbox_edit, name="mailbox_edit"),
    path("envoi/signalement/<int:pk>/relever/", views_library.mailbox_poll, name="mailbox_poll"),
    path("reglages/", views_library.settings_edit, name="settings"),
]

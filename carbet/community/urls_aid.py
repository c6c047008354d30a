"""Pages of the community service: mutual aid (included by carbet.community.urls)."""

from django.urls import URLPattern, path

from carbet.community import views_aid

urlpatterns: list[URLPattern] = [
    path("entraide/", views_aid.board, name="aid"),
    path("entraide/nouvelle/", views_aid.post_new, name="aid_post_new"),
    path("entraide/<int:pk>/", views_aid.post_detail, name="aid_post"),
    path("entraide/<int:pk>/modifier/", views_aid.post_edit, name="aid_post_edit"),
    path("entraide/<int:pk>/etat/", views_aid.post_status, name="aid_post_status"),
    path("entraide/<int:pk>/masquer/", views_aid.post_hide, name="aid_post_hide"),
    path("entraide/<int:pk>/repondre/", views_aid.post_answer, name="aid_post_answer"),
    path("entraide/conversations/", views_aid.threads, name="aid_threads"),
    path("entraide/conversations/<int:pk>/", views_aid.thread, name="aid_thread"),
    path("entraide/competences/", views_aid.skills, name="aid_skills"),
    path("entraide/competences/ma-fiche/", views_aid.skills_edit, name="aid_skills_edit"),
    path(
        "entraide/competences/<int:pk>/contacter/",
        views_aid.skill_contact,
        name="aid_skill_contact",
    ),
]

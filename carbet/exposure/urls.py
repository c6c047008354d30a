"""Pages of the exposure service, mounted at /exposition/."""

from django.urls import path

from carbet.exposure import views, views_manage

app_name = "exposure"
urlpatterns = [
    path("", views.overview, name="overview"),
    path("region/lancer/", views.launch_regional, name="launch_regional"),
    path("structure/<int:pk>/", views.structure, name="structure"),
    path("structure/<int:pk>/lancer/", views.launch, name="launch"),
    path("analyses/<int:pk>/", views.scan_detail, name="scan"),
    path("analyses/<int:pk>/avancement/", views.scan_progress, name="scan_progress"),
    path("analyses/<int:pk>/differences/", views.scan_diff, name="scan_diff"),
    path("profils/", views_manage.profiles, name="profiles"),
    path("profils/nouveau/", views_manage.profile_edit, name="profile_create"),
    path("profils/<int:pk>/", views_manage.profile_edit, name="profile_edit"),
    path("calendrier/", views_manage.schedule_list, name="schedules"),
    path("calendrier/repartir/", views_manage.schedule_spread, name="schedule_spread"),
    path("calendrier/<int:pk>/", views_manage.schedule_edit, name="schedule_edit"),
]

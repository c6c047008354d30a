"""Background jobs pages, mounted at /taches/."""

from django.urls import path

from carbet.jobs import views

app_name = "jobs"
urlpatterns = [
    path("", views.job_list, name="list"),
    path("<uuid:pk>/", views.job_detail, name="detail"),
    path("<uuid:pk>/avancement/", views.job_progress, name="progress"),
]

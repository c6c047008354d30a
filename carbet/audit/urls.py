"""Audit trail pages, mounted at /journal/."""

from django.urls import path

from carbet.audit import views

app_name = "audit"
urlpatterns = [
    path("", views.entry_list, name="list"),
    path("integrite/", views.integrity, name="integrity"),
]

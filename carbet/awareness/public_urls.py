"""The public URL space of phishing simulations (tracking, landing, debrief, training):
separate from the staff interface, no session, no tenant data beyond one recipient's token."""

from django.urls import path

from carbet.awareness import public_views as views

app_name = "awareness_public"
urlpatterns = [
    path("formation/<str:signed>/", views.training_module, name="training"),
    path("formation/<str:signed>/attestation.pdf", views.certificate, name="certificate"),
    path("<str:token>/o.gif", views.open_pixel, name="open"),
    path("<str:token>/c", views.click, name="click"),
    path("<str:token>/p", views.page, name="page"),
    path("<str:token>/b", views.beacon, name="beacon"),
    path("<str:token>/submit", views.submit, name="submit"),
    path("<str:token>/debrief", views.debrief, name="debrief"),
    path("<str:token>/r", views.report, name="report"),
]

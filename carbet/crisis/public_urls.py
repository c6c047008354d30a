"""The PRIS provider's narrow space: one case's main courante and indicators, through an
expiring link (``carbet.crisis.tokens``), without an account."""

from django.urls import path

from carbet.crisis import public_views as views

app_name = "crisis_public"
urlpatterns = [
    path("<str:token>/", views.provider, name="provider"),
]

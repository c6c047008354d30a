"""The vendor questionnaire's public space (/q/): a signed link, no account, no session."""

from django.urls import path

from carbet.bydesign import public_views

app_name = "bydesign_public"
urlpatterns = [path("<str:token>/", public_views.form, name="form")]

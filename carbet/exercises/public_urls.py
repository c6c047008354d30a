"""Public space of the exercises (signed links; owned by the pages helper from now on)."""

app_name = "exercises_public"
urlpatterns: list = []

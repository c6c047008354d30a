"""Pages of the exercises service (owned by the pages helper from now on)."""

app_name = "exercises"
urlpatterns: list = []

"""Pages of the exposure service."""

app_name = "exposure"
urlpatterns: list = []

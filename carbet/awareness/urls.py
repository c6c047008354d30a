"""Pages of the awareness service."""

app_name = "awareness"
urlpatterns: list = []

"""Pages of the directory service."""

app_name = "directory"
urlpatterns: list = []

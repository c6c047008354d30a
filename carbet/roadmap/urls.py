"""Pages of the roadmap service."""

app_name = "roadmap"
urlpatterns: list = []

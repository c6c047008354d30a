"""Pages of the crisis service (written by the pages side; empty until then)."""

app_name = "crisis"
urlpatterns: list = []

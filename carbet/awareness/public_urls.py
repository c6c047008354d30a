"""The public URL space of phishing simulations (tracking, landing, debrief, training):
separate from the staff interface, no session, no tenant data beyond one recipient's token."""

app_name = "awareness_public"
urlpatterns: list = []

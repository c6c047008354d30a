from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "carbet.web"
    label = "web"

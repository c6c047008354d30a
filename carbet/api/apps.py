from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "carbet.api"
    label = "api"

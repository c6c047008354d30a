from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "carbet.core"
    label = "core"

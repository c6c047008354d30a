from django.apps import AppConfig


class FindingsConfig(AppConfig):
    name = "carbet.findings"
    label = "findings"
    verbose_name = "Vulnérabilités et plans d'action"

from django.apps import AppConfig


class AwarenessConfig(AppConfig):
    name = "carbet.awareness"
    label = "awareness"
    verbose_name = "Sensibilisation et hameçonnage simulé"

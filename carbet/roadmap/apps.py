from django.apps import AppConfig


class RoadmapConfig(AppConfig):
    name = "carbet.roadmap"
    label = "roadmap"
    verbose_name = "Feuille de route et indicateurs"

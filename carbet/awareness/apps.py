from django.apps import AppConfig


class AwarenessConfig(AppConfig):
    name = "carbet.awareness"
    label = "awareness"
    verbose_name = "Sensibilisation et hameçonnage simulé"

    def ready(self) -> None:
        from carbet.awareness.results import structure_scores
        from carbet.findings.dashboards.snapshots import register_score

        register_score("awareness", structure_scores)

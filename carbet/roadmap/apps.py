from django.apps import AppConfig
from django.db.models.signals import post_migrate


class RoadmapConfig(AppConfig):
    name = "carbet.roadmap"
    label = "roadmap"
    verbose_name = "Feuille de route et indicateurs"

    def ready(self) -> None:
        from carbet.findings.dashboards.snapshots import register_score
        from carbet.roadmap import frameworks, indicators

        # A fresh or upgraded installation gets the bundled framework files.
        post_migrate.connect(
            frameworks.load_bundled_after_migrate, sender=self, dispatch_uid="roadmap-frameworks"
        )
        register_score("roadmap", indicators.roadmap_score)

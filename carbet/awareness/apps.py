from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _install_library(**_kwargs) -> None:
    """The regional library (lures, landing pages, training) after every migrate, and after a
    database flush, which empties what the data migration installed. Idempotent."""
    from carbet.awareness import library
    from carbet.awareness.models import EmailTemplate, LandingPage, TrainingModule

    library.install(
        {
            "LandingPage": LandingPage,
            "EmailTemplate": EmailTemplate,
            "TrainingModule": TrainingModule,
        }
    )


class AwarenessConfig(AppConfig):
    name = "carbet.awareness"
    label = "awareness"
    verbose_name = "Sensibilisation et hameçonnage simulé"

    def ready(self) -> None:
        from carbet.awareness.results import structure_scores
        from carbet.findings.dashboards.snapshots import register_score

        post_migrate.connect(_install_library, sender=self, dispatch_uid="awareness-library")
        register_score("awareness", structure_scores)
